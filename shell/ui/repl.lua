-- repl.lua - what a line typed at the prompt means (ringlab.repl).
--
-- A line whose first word is a command (help, open, fill, send, show ...)
-- runs that command; `lua CODE` and everything else is Lua, tried first as
-- "return <line>" so that an expression's value is printed, as in `lua`.
-- An unfinished Lua chunk answers "more" and the C side reads on with the
-- `>>` prompt. Errors print as "error: message" without the chunk name and
-- line (there is only one line), and the prompt carries on.

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

-- Values, printed the way a projector can read them.
local function show(v, indent, seen)
  if type(v) == "string" then return string.format("%q", v) end
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
    out[i] = type(v) == "string" and v or show(v, "", {})
  end
  return table.concat(out, "\t")
end

local function handler(msg)
  return strip(msg)
end

local function run_lua(chunk)
  local f, err = load("return " .. chunk, "=stdin", "t")
  if not f then f, err = load(chunk, "=stdin", "t") end
  if not f then
    if err:match("<eof>$") then return "more" end
    print("error: " .. strip(err))
    return "ok"
  end
  local res = table.pack(xpcall(f, handler))
  if not res[1] then
    print("error: " .. tostring(res[2]))
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
      if not ok then print("error: " .. tostring(r)) end
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
  if first == "show" and #words == 1 then return starting(commands.shows, text) end
  if first == "show" then return starting({ "json" }, text) end
  if first == "help" and #words == 1 then
    local names = {}
    for k in pairs(commands.topics) do names[#names + 1] = k end
    for _, c in ipairs(commands.list) do names[#names + 1] = c.name end
    return starting(names, text)
  end
  return complete_lua(text)
end

return R
