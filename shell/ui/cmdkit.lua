-- cmdkit.lua - what every prompt command is made with (ringlab.cmdkit).
--
-- The command table C: the list of commands (C.def adds one), the current
-- engine (C.cur, also the globals `cur` and `e`; its region is `r`; the
-- packets of the last `recv` are `last`), and the small helpers every
-- command uses to read its words. A command raises error("what - what to
-- do", 0) through C.fail; the REPL prints it as one line and carries on.
-- The commands themselves live in cmd_*.lua and livecmds.lua;
-- commands.lua puts them together.

local lab = require "ringlab"

local C = { list = {}, byname = {}, opened = {}, hosts = {} }

local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

local function def(name, usage, line, fn)
  local c = { name = name, usage = usage, line = line, fn = fn }
  C.list[#C.list + 1] = c
  C.byname[name] = c
end

function C.is_command(word)
  return C.byname[word] ~= nil
end

local function is_engine(v)
  local mt = getmetatable(v)
  return type(v) == "userdata" and type(mt) == "table" and mt.__name == "ringlab.engine"
end

-- Print a command's answer. On a terminal a line wider than the screen is
-- cut between words, its rest indented under it, so that a projector never
-- shows a word broken in two; elsewhere (pipes, tests) lines stay whole.
local function say(fmt, ...)
  local text = string.format(fmt, ...)
  local term = require "ringlab.term"
  local width = term.isatty(1) and term.width() or 0
  if width < 40 or #text < width then return print(text) end
  local out = {}
  for line in (text .. "\n"):gmatch("(.-)\n") do
    if #line < width or line:find("\27", 1, true) then
      out[#out + 1] = line
    else
      local indent = line:match("^%s*")
      for _, l in ipairs(require("ringlab.views").wrap(line, width - 1, indent, indent .. "  ")) do
        out[#out + 1] = l
      end
    end
  end
  print(table.concat(out, "\n"))
end

-- The names of the open engines, for messages: "copy, zc, sim#3".
function C.open_names()
  local names = {}
  for _, e in ipairs(lab.opened()) do names[#names + 1] = e:info().name end
  return #names > 0 and table.concat(names, ", ") or "none is open"
end

-- The open engine called name: its lab name ("copy", "sim#1", "#1"), or a
-- Lua global holding one (a = lab.open("sim") then watch a); else nil.
-- The one lookup of use, close, compare, open peer=, watch and send to=.
function C.find_engine(name)
  if type(name) ~= "string" then return nil end
  local e = lab.get(name)
  if e then return e end
  local v = rawget(_G, name)
  if is_engine(v) then return lab.get(v) end
end

-- The open engine called name (C.find_engine), or one line saying which
-- are open.
function C.engine_named(what, name)
  local e = C.find_engine(name)
  if e then return e end
  if #lab.opened() == 0 then
    fail("%s: no engine is called '%s' - none is open: open sim name=%s", what, name,
      name:match("^%a[%w_.-]*$") and #name <= 23 and name or "copy")
  end
  fail("%s: no open engine is called '%s' - open ones: %s", what, name, C.open_names())
end

-- lab.use(e | name): e becomes the prompt's current engine (the globals
-- cur and e, its region r).
function C.use(e)
  if type(e) == "string" then e = C.engine_named("use", e) end
  if not is_engine(e) then fail("use: give an engine or its name, e.g. use sim#1, not a %s", type(e)) end
  local info = e:info()
  if info.closed then fail("use: %s is closed - open a new one: open %s", info.name, info.kind) end
  C.cur, _G.cur, _G.e = e, e, e
  _G.r = info.has_region and e:region() or nil
  return e
end

-- The current engine was closed (close, e:close(), the end of watch run):
-- the last one opened of those still open takes its place, and says so.
function C.refresh()
  local was = C.cur
  if not was or not was:info().closed then return end
  local open = lab.opened()
  local name = was:info().name
  if _G.r ~= nil and _G.cur == was then _G.r = nil end
  if _G.cur == was then _G.cur = nil end
  if _G.e == was then _G.e = nil end
  C.cur = nil
  if #open == 0 then
    say("%s is closed - no engine is open now (open sim)", name)
    return
  end
  C.use(open[#open])
  say("%s is closed - the current engine is now %s", name, open[#open]:info().name)
end

local function current()
  C.refresh()
  if not C.cur and #lab.opened() > 0 then
    -- open (by a lesson, a script, lab.open in Lua) but none made current
    fail("no engine is the current one - pick one: use %s (open ones: %s)", lab.opened()[1]:info().name,
      C.open_names())
  end
  if not C.cur then fail("no engine is open - open one first: open sim") end
  return C.cur
end

-- The frame size `region` gives an engine when none is said: 2048, but a
-- DPDK net_af_packet port's mbufs must hold a 1500-byte MTU (2016 bytes),
-- which only 4096-byte frames do.
function C.frame_size_for(e)
  local vdev = (C.opened[e] or {}).vdev
  if type(vdev) == "string" and vdev:find("net_af_packet", 1, true) then return 4096 end
  return 2048
end

-- What to type to give e a region that works on its driver.
function C.region_hint(e)
  return string.format("region frames=4096 size=%d", C.frame_size_for(e))
end

-- The testbed's peer namespace, for a command to run on the other end:
-- ringlab runs in X-lab (lab.netns, however it got there) -> X-peer; nil
-- when it runs in no testbed's lab namespace.
function C.peer_ns()
  local base = type(lab.netns) == "string" and lab.netns:match("^(.+)%-lab$")
  return base and (base .. "-peer") or nil
end

-- `CMD` as typed in the peer namespace, or said generically outside one.
function C.on_peer(cmd)
  local ns = C.peer_ns()
  if ns then return "ip netns exec " .. ns .. " " .. cmd end
  return "on the other end of the wire: " .. cmd
end

local function region_of(e, what)
  if not e:info().has_region then
    fail("%s: %s has no region - make one: %s", what, e:info().name, C.region_hint(e))
  end
  return e:region()
end

local function number(what, s, default)
  if s == nil then return default end
  local n = math.tointeger(tonumber(s))
  if not n then fail("%s: '%s' is not a whole number - e.g. %s 64", what, s, what) end
  return n
end

-- key=value words from args[first..]; values stay strings.
local function keyvalues(what, args, first)
  local kv = {}
  for i = first, #args do
    local k, v = args[i]:match("^([%a_][%w_]*)=(.*)$")
    if not k then fail("%s: '%s' is not key=value - e.g. %s mode=copy", what, args[i], what) end
    kv[k] = v
  end
  return kv
end

-- Edit distance (insert, delete, change, swap two neighbours) of a and b:
-- what "did you mean" measures (C.nearest here, help WORD in commands.lua).
local function distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      d[i][j] = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:sub(i, i) == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == b:sub(j, j) then
        d[i][j] = math.min(d[i][j], d[i - 2][j - 2] + 1)
      end
    end
  end
  return d[#a][#b]
end
C.distance = distance

-- The line for a word that is not a command: the nearest command (at most
-- two edits away, one for short words), or where the list is.
function C.unknown(word)
  if word == "ringlab" then
    return "'ringlab ...' is for your shell - here drop the word: testbed up"
  end
  local names = {}
  for _, c in ipairs(C.list) do names[#names + 1] = c.name end
  local best = C.nearest(word, names)
  if best then return string.format("unknown command '%s' - did you mean %s?", word, best) end
  return string.format("unknown command '%s' - type help for the list", word)
end

-- The name in names nearest to word, when it is close enough to be a typo
-- of it (at most two edits, one for words of three letters or less).
function C.nearest(word, names)
  local best, bestd
  for _, n in ipairs(names) do
    local d = distance(word:lower(), n)
    if not bestd or d < bestd then best, bestd = n, d end
  end
  if best and bestd <= (#word <= 3 and 1 or 2) then return best end
end

-- A command line -> its words, and what follows the command's name.
function C.run(line)
  -- ` # ...` after a command is a comment, as in the docs' examples (`use #2`
  -- is no comment: the # must stand alone); `lua CODE` keeps Lua's own #.
  if not (line:match("^%s*lua%s") or line:match("^%s*lua$")) then
    line = line:gsub("%s+#%s.*$", ""):gsub("%s+#$", "")
  end
  local args = {}
  for w in line:gmatch("%S+") do args[#args + 1] = w end
  local name = table.remove(args, 1)
  local rest = line:match("^%s*%S+(.*)$") or ""
  local c = C.byname[name or ""]
  if not name then fail("give a command - type help for the list") end
  if not c then fail("%s", C.unknown(name)) end
  return c.fn(args, rest)
end

C.fail, C.def, C.current, C.region_of, C.number = fail, def, current, region_of, number
C.keyvalues, C.is_engine, C.say = keyvalues, is_engine, say

return C
