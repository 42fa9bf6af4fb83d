-- repl.lua - what a line typed at the prompt means (ringlab.repl).
--
-- A line whose first word is a command (help, open, fill, send, show ...)
-- runs that command; `lua CODE` and everything else is Lua, tried first as
-- "return <line>" so that an expression's value is printed, as in `lua`.
-- An unfinished Lua chunk answers "more" and the C side reads on with the
-- `>>` prompt. Errors print as one line, "error: message", without the
-- chunk name and line (ringlab.errors: the traceback only with --debug or
-- lab.debug = true); Ctrl-C prints "interrupted"; a first word that is
-- neither a command, a Lua name nor the start of valid Lua gets "unknown
-- command 'sned' - did you mean send?". The prompt carries on.

local commands = require "ringlab.commands"

local R = {}

local function strip(msg)
  if type(msg) ~= "string" then return tostring(msg) end
  return (msg:gsub("^[%w%._/%-]+:%d+: ", ""))
end

function R.banner()
  print(string.format("ringlab %s - an interactive packet lab. Type help, or Lua. Ctrl-D leaves.",
    lab.version))
end

function R.prompt()
  pcall(commands.refresh) -- the current engine was closed: say which follows
  local e = commands.cur
  if e then
    local info = e:info()
    return string.format("ringlab[%s]> ", info.closed and "closed" or info.name)
  end
  return "ringlab> "
end

-- Text is valid UTF-8 with no control characters but newline, tab and
-- colour (ESC [ ... m, as the views paint); anything else (p:bytes()) is
-- shown escaped with its length, never raw.
local function is_text(s)
  return utf8.len(s) ~= nil and not s:gsub("\27%[[%d;]*m", ""):find("[\0-\8\11-\31\127]")
end

local ESCAPES = { ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ['"'] = '\\"', ["\\"] = "\\\\" }

local function quoted(s, max)
  local text = is_text(s)
  local cut = max and #s > max
  local q = (cut and s:sub(1, max) or s):gsub(text and "[\0-\31\"\\\127]" or "[\0-\31\"\\\127-\255]",
    function(c) return ESCAPES[c] or string.format("\\x%02x", c:byte()) end)
  q = '"' .. q .. (cut and '"...' or '"')
  if cut then return q .. string.format(" (%d bytes, the first %d shown)", #s, max) end
  if not text then return q .. string.format(" (%d bytes)", #s) end
  return q
end
R.quoted = quoted

-- Values, printed the way a projector can read them.
local function show(v, indent, seen)
  if type(v) == "string" then return quoted(v, 256) end
  if type(v) ~= "table" then return tostring(v) end
  if seen[v] then return "{...}" end
  seen[v] = true
  local keys, n = {}, #v
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for i = 1, n do parts[#parts + 1] = show(v[i], indent .. "  ", seen) end
  for _, k in ipairs(keys) do
    local key = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k or "[" .. show(k, "", seen) .. "]"
    parts[#parts + 1] = key .. "=" .. show(v[k], indent .. "  ", seen)
  end
  seen[v] = nil
  local one = "{" .. table.concat(parts, ", ") .. "}"
  if #one + #indent <= 78 then return one end
  return "{\n" .. indent .. "  " .. table.concat(parts, ",\n" .. indent .. "  ") .. "\n" .. indent .. "}"
end

function R.format(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    out[i] = (type(v) == "string" and is_text(v)) and v or show(v, "", {})
  end
  return table.concat(out, "\t")
end

-- The error as one line (or with its traceback under lab.debug).
local ok_errors, errors = pcall(require, "ringlab.errors")
local handler = ok_errors and errors.handler or strip

local function report(text)
  text = tostring(text)
  if text ~= "interrupted" then -- one line; on a terminal cut between words
    require("ringlab.cmdkit").say("%s", "error: " .. text)
    return
  end
  -- on a terminal, over the ^C it echoed (and what was on that line)
  local tty = require("ringlab.term").isatty(1)
  print((tty and "\r" or "") .. text .. (tty and "\27[K" or ""))
end

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat return then true until while"):gmatch("%a+") do
  KEYWORDS[w] = true
end

-- A line starting with a word that is no command, no keyword and no Lua
-- name: the user meant a command.
local function unknown_word(chunk)
  if chunk:find("\n") then return nil end
  local word = chunk:match("^%s*([%a_][%w_]*)")
  if not word or KEYWORDS[word] or commands.is_command(word) or _G[word] ~= nil then return nil end
  return word
end

-- The prompt's own globals, while they are still nil: what sets them.
local UNSET = {
  cur = "no engine is open yet - open sim",
  e = "no engine is open yet - open sim",
  r = "no region yet - open sim, then region",
  last = "nothing received yet - recv",
}

local function run_lua(chunk)
  local f, err = load("return " .. chunk, "=stdin", "t")
  if not f then f, err = load(chunk, "=stdin", "t") end
  if not f then
    if err:match("<eof>$") then return "more" end
    local word = unknown_word(chunk)
    print("error: " .. ((word and not UNSET[word]) and commands.unknown(word) or strip(err)))
    return "ok"
  end
  local word = chunk:match("^%s*([%a_][%w_]*)%s*$") and unknown_word(chunk)
  if word and UNSET[word] then
    print(string.format("nil (%s)", UNSET[word]))
    return "ok"
  end
  if word then -- a bare name that means nothing: `sned`
    print("error: " .. commands.unknown(word))
    return "ok"
  end
  local res = table.pack(xpcall(f, handler))
  if not res[1] then
    report(res[2])
  elseif res.n > 1 then
    print(R.format(table.unpack(res, 2, res.n)))
  end
  return "ok"
end

function R.eval(chunk)
  if chunk:match("^%s*$") then return "ok" end
  if not chunk:find("\n") then
    local word, after = chunk:match("^%s*([%a_][%w_]*)(.?)")
    if word == "lua" and (after == "" or after:match("%s")) then
      return run_lua(chunk:match("^%s*lua%s*(.*)$"))
    end
    if word and commands.is_command(word) and (after == "" or after:match("%s")) then
      local ok, r = xpcall(commands.run, handler, chunk)
      if not ok then report(r) end
      return r == "quit" and "quit" or "ok"
    end
  end
  return run_lua(chunk)
end

-- Between keystrokes at the prompt (every 50 ms): hosts answer.
function R.idle()
  commands.idle()
end

---------------------------------------------------------------------------
-- completion

local function starting(list, prefix, out)
  out = out or {}
  for _, s in ipairs(list) do
    if s:sub(1, #prefix) == prefix then out[#out + 1] = s end
  end
  table.sort(out)
  return out
end

local function keys_of(v, methods_only)
  local names, seen = {}, {}
  local function add(t, only_fn)
    if type(t) ~= "table" then return end
    for k, x in pairs(t) do
      if type(k) == "string" and not seen[k] and (not only_fn or type(x) == "function")
        and not k:match("^__") then
        seen[k] = true
        names[#names + 1] = k
      end
    end
  end
  if type(v) == "table" then add(v, methods_only) end
  local mt = getmetatable(v)
  if type(mt) == "table" then
    add(type(mt.__index) == "table" and mt.__index or mt.methods, methods_only)
  end
  return names
end

-- "lab.packet.u" -> candidates like "lab.packet.udp".
local function complete_lua(text)
  local path, sep, partial = text:match("^([%a_][%w_%.]*)([%.:])([%w_]*)$")
  if not path then
    local names = {}
    for k in pairs(_G) do if type(k) == "string" then names[#names + 1] = k end end
    return starting(names, text)
  end
  local v = _G
  for name in path:gmatch("[^%.]+") do
    local ok, x = pcall(function() return v[name] end)
    if not ok or x == nil then return {} end
    v = x
  end
  local out = {}
  for _, k in ipairs(starting(keys_of(v, sep == ":"), partial)) do
    out[#out + 1] = path .. sep .. k
  end
  return out
end

-- The key= words of open KIND (as the README lists them), for Tab.
local OPEN_KEYS = {
  sim = { "name=", "mode=", "step=", "peer=", "need_wakeup=", "ring_size=", "fill_size=", "comp_size=",
    "rx_size=", "tx_size=", "wire_capacity=", "loss=", "reorder=", "tso=", "gso=", "csum=" },
  afxdp = { "name=", "ifname=", "queue=", "mode=", "sg=", "need_wakeup=", "steer=", "xdp=", "fill_size=",
    "comp_size=", "rx_size=", "tx_size=" },
  dpdk = { "name=", "vdev=", "port=", "peer=", "rx_desc=", "tx_desc=", "mem=", "lcores=", "log=", "layout=" },
}

function R.complete(text, line, start)
  local words = {}
  for w in line:sub(1, start):gmatch("%S+") do words[#words + 1] = w end
  local first = words[1]
  if #words == 0 then
    local names = {}
    for _, c in ipairs(commands.list) do names[#names + 1] = c.name end
    return starting(names, text, complete_lua(text))
  end
  if first == "open" and #words == 1 then
    local names = {}
    for _, en in ipairs(lab.engines()) do names[#names + 1] = en.name end
    return starting(names, text)
  end
  if first == "open" or first == "region" then
    -- after peer=: the open engines; else the key= words (README, Engines).
    -- readline breaks words at "=": after "peer=" the text is what follows
    local key = #words > 1 and words[#words]:match("^([%a_]+)=$")
    if key then text = key .. "=" .. text end
    if key == "peer" and first == "open" then
      local names = {}
      for _, e in ipairs(lab.opened()) do names[#names + 1] = e:info().name end
      return starting(names, text:sub(6))
    end
    if key then return {} end -- a value: nothing to offer
    return starting(first == "region" and { "frames=", "size=", "headroom=" } or OPEN_KEYS[words[2]] or { "name=" },
      text)
  end
  if first == "use" or first == "close" or first == "compare" or first == "explain"
      or (first == "watch" and words[2] ~= "run") then
    local names = (first == "close" or first == "explain") and { "all" }
      or first == "watch" and #words == 1 and { "run" } or {}
    for _, e in ipairs(lab.opened()) do names[#names + 1] = e:info().name end
    return starting(names, text)
  end
  if first == "show" and #words == 1 then
    return starting(commands.show_topics and commands.show_topics() or commands.shows, text)
  end
  if first == "show" and words[2] == "packet" and #words == 3 then return starting({ "hex", "json" }, text) end
  if first == "show" then return starting({ "json" }, text) end
  if first == "send" then return require("ringlab.cmd_send").complete(words, text) end
  if first == "help" and #words == 1 then
    local names = { "all" }
    for k in pairs(commands.topics) do names[#names + 1] = k end
    for _, c in ipairs(commands.list) do names[#names + 1] = c.name end
    return starting(names, text)
  end
  return complete_lua(text)
end

return R
