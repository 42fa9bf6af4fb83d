-- cmdkit.lua - what every prompt command is made with (ringlab.cmdkit).
--
-- The command table C: the list of commands (C.def adds one), the current
-- engine (C.cur, also the globals `cur` and `e`; its region is `r`; the
-- packets of the last `recv` are `last`), and the small helpers every
-- command uses to read its words. A command raises error("what - what to
-- do", 0) through C.fail; the REPL prints it as one line and carries on.
-- The commands themselves live in cmd_*.lua and livecmds.lua;
-- commands.lua puts them together.

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

local function current()
  if not C.cur then fail("no engine is open - open one first: open sim") end
  return C.cur
end

local function region_of(e, what)
  if not e:info().has_region then
    fail("%s: this engine has no region yet - make one first: region frames=4096 size=2048", what)
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

local function is_engine(v)
  local mt = getmetatable(v)
  return type(v) == "userdata" and type(mt) == "table" and mt.__name == "ringlab.engine"
end

local function say(fmt, ...) print(string.format(fmt, ...)) end

-- A command line -> its words, and what follows the command's name.
function C.run(line)
  local args = {}
  for w in line:gmatch("%S+") do args[#args + 1] = w end
  local name = table.remove(args, 1)
  local rest = line:match("^%s*%S+(.*)$") or ""
  local c = C.byname[name or ""]
  if not c then fail("'%s' is not a command - type help for the list", tostring(name)) end
  return c.fn(args, rest)
end

C.fail, C.def, C.current, C.region_of, C.number = fail, def, current, region_of, number
C.keyvalues, C.is_engine, C.say = keyvalues, is_engine, say

return C
