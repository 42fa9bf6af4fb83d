-- Engines by name (README "Engines by name"): name= at lab.open and at the
-- prompt, the default KIND#ID, lab.get / lab.use / lab.opened, `use`,
-- `close`, `engines`, and the one-line errors for a duplicate or bad name.
-- usage: ringlab engine_names.lua CASE
local T = require "common"
local C = require "ringlab.commands"

-- Run prompt commands as the prompt does; return what they printed (and
-- the error line, if one failed).
local run = T.prompt

local function has(text, want, what)
  T.check(text:find(want, 1, true), string.format("%s: '%s' not in:\n%s", what, want, text))
end

local function one_line(err, what)
  T.check(err, what .. ": no error")
  T.check(not err:find("\n"), what .. ": the error is one line: " .. err)
end

local cases = {}

function cases.default_and_given()
  local a = lab.open("sim")
  local b = lab.open("sim", { name = "copy" })
  local ia, ib = a:info(), b:info()
  T.eq(ia.name, "sim#" .. ia.id, "default name is KIND#ID")
  T.eq(ia.kind, "sim", "kind")
  T.eq(ib.name, "copy", "given name")
  T.eq(ib.kind, "sim", "kind of a named engine")
  T.eq(ib.id, ia.id + 1, "ids count on")
  T.eq(tostring(a), "engine sim#" .. ia.id .. " (copy, no region yet)", "tostring with the default name")
  T.eq(tostring(b), "engine copy (sim#" .. ib.id .. ", copy, no region yet)", "tostring says what a named one is")
  b:region { frames = 8 }
  T.check(tostring(b:region()):find("region of copy: 8 frames", 1, true), "the region names its engine: "
    .. tostring(b:region()))
  b:close()
  T.eq(tostring(b), "engine copy (sim#" .. ib.id .. ", closed)", "tostring once closed")
  T.eq(b:info().name, "copy", "a closed engine keeps its name")
  a:close()
  T.done("default_and_given")
end

function cases.get_use_opened()
  local a = lab.open("sim", { name = "left" })
  local b = lab.open("sim", { name = "right", peer = a })
  T.eq(lab.get("left"), a, "lab.get by name")
  T.eq(lab.get("right"), b, "lab.get the other")
  T.eq(lab.get("#" .. a:info().id), a, "lab.get(\"#ID\")")
  T.eq(lab.get("nobody"), nil, "lab.get of an unknown name is nil")
  T.eq(lab.get("#999"), nil, "lab.get of an unknown id is nil")
  T.eq(lab.get("#"), nil, "lab.get(\"#\") is nil")
  T.eq(lab.get(a), a, "lab.get(engine) is the engine while open")
  T.raises({ "lab.get", "name" }, lab.get, 42)
  local list = lab.opened()
  T.eq(#list, 2, "lab.opened() lists both")
  T.eq(list[1], a, "in the order of opening")
  T.eq(list[2], b, "in the order of opening (2)")
  T.eq(lab.use("left"), a, "lab.use(name) returns the engine")
  T.eq(C.cur, a, "lab.use makes it the prompt's current engine")
  T.eq(_G.e, a, "the global e follows")
  lab.use(b)
  T.eq(C.cur, b, "lab.use(engine)")
  T.raises({ "use", "'nobody'", "left, right" }, lab.use, "nobody")
  local out = run("use left")
  has(out, "engine left (sim#", "use prints the engine")
  T.eq(C.cur, a, "use NAME at the prompt")
  out = run("use #" .. b:info().id)
  T.eq(C.cur, b, "use #N at the prompt")
  require("ringlab.repl").prompt()
  T.eq(require("ringlab.repl").prompt(), "ringlab[right]> ", "the prompt shows the current engine's name")
  a:close()
  T.eq(lab.get("left"), nil, "a closed engine is not found by name")
  T.eq(lab.get(a), nil, "lab.get(closed engine) is nil")
  T.eq(#lab.opened(), 1, "lab.opened() drops the closed one")
  -- the name is free again
  local a2 = lab.open("sim", { name = "left" })
  T.eq(lab.get("left"), a2, "a name is free again once its engine closed")
  a2:close()
  b:close()
  T.done("get_use_opened")
end

function cases.duplicate_and_bad()
  local a = lab.open("sim", { name = "copy" })
  local err = T.raises({ "open:", "'copy'", "open already", "close copy" }, lab.open, "sim", { name = "copy" })
  one_line(err, "duplicate")
  T.eq(#lab.opened(), 1, "the duplicate opened nothing")
  for _, bad in ipairs({ "9lives", "a b", "sim#3", "", string.rep("x", 24), "all", "run" }) do
    one_line(T.raises({ "open:", "name" }, lab.open, "sim", { name = bad }), "bad name " .. bad)
  end
  one_line(T.raises({ "name= must be a word" }, lab.open, "sim", { name = 7 }), "number name")
  T.eq(#lab.opened(), 1, "bad names opened nothing")
  local _, perr = run("open sim name=copy")
  one_line(perr, "duplicate at the prompt")
  has(perr, "an engine called 'copy' is open already", "duplicate at the prompt")
  local _, uerr = run("use nobody")
  one_line(uerr, "use of an unknown name")
  has(uerr, "use: no open engine is called 'nobody' - open ones: copy", "use unknown")
  local _, cerr = run("close nobody")
  has(cerr, "close: no open engine is called 'nobody'", "close unknown")
  -- hostile options: reading one opens an engine of the same name first;
  -- the name is checked after every option was read, so one of them wins
  local sneaky = setmetatable({}, { __len = function() return 1 end, __index = function()
    if not lab.get("twin") then lab.open("sim", { name = "twin" }) end
    return "1"
  end })
  one_line(T.raises({ "'twin' is open already" }, lab.open, "sim", { name = "twin", ring_size = sneaky }),
    "a name taken while the options were read")
  local twins = 0
  for _, x in ipairs(lab.opened()) do if x:info().name == "twin" then twins = twins + 1 end end
  T.eq(twins, 1, "one engine called twin")
  lab.get("twin"):close()
  -- name= is the lab's: the engine never sees it (sim refuses unknown options)
  local b = lab.open("sim", { name = "plain", step = true })
  T.eq(b:info().caps.step, true, "other options still reach the engine")
  b:close()
  a:close()
  T.done("duplicate_and_bad")
end

function cases.prompt_close_and_fallback()
  local out = run("open sim name=a", "region frames=16", "open sim name=b peer=a", "region frames=16",
    "open sim name=c")
  has(out, "engine b (sim#", "peer= takes an engine name at the prompt")
  T.eq(C.cur:info().name, "c", "the last opened is current")
  T.eq(#lab.opened(), 3, "three open")
  out = run("engines")
  has(out, "* c ", "engines marks the current one")
  has(out, "  a          sim   copy     16x2048", "engines: name, kind, mode, region")
  has(out, "can open here: sim", "engines still says what can open here")
  local shown = run("show engines")
  T.eq(shown, (out:gsub("\ncan open here:[^\n]*$", "")), "show engines is the open part of engines")
  out = run("show engines json")
  has(out, '"name":"a"', "show engines json names a")
  has(out, '"current":true', "show engines json marks the current one")
  out = run("engines available")
  has(out, "sim      available", "engines available: the kinds and why")
  out = run("close")
  has(out, "closed c", "close with no argument closes the current one")
  has(out, "c is closed - the current engine is now b", "the prompt falls back to the last opened")
  T.eq(C.cur:info().name, "b", "b is current")
  -- closed behind the prompt's back (Lua): the next prompt says so
  lab.get("b"):close()
  out = run("use a")
  T.eq(C.cur:info().name, "a", "use after a Lua close")
  lab.use("a")
  lab.get("a"):close()
  local r = require "ringlab.repl"
  local shown = {}
  local real = print
  print = function(s) shown[#shown + 1] = s end
  local p = r.prompt()
  print = real
  T.eq(p, "ringlab> ", "no engine left: the plain prompt")
  T.eq(shown[1], "a is closed - no engine is open now (open sim)", "the prompt says the current one closed")
  out = run("open sim name=x", "open sim name=y", "open sim", "close all")
  has(out, "closed x, y, sim#", "close all names each")
  has(out, "no engine is open now", "close all: none left")
  T.eq(#lab.opened(), 0, "close all closed every one")
  T.eq(C.cur, nil, "no current engine")
  local _, err = run("close all")
  one_line(err, "close all with none open")
  T.done("prompt_close_and_fallback")
end

function cases.watch_run_closes()
  run("open sim name=mine", "region frames=16")
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
local a = lab.open("sim", { name = "from_script" })
local b = lab.open("sim")
a:region { frames = 8 }
lab.use(a)
print("script ran with " .. #lab.opened() .. " engines")
]])
  f:close()
  local out, err = run("watch run " .. script)
  os.remove(script)
  T.eq(err, nil, "watch run")
  has(out, "script ran with 3 engines", "the script ran")
  T.check(out:find("watch run: closed the engines the script opened: from_script, sim#%d+"),
    "watch run says which it closed:\n" .. out)
  T.eq(#lab.opened(), 1, "only the prompt's engine is left")
  T.eq(lab.get("from_script"), nil, "the script's engine is closed")
  out = run("use mine")
  T.eq(C.cur:info().name, "mine", "the prompt's engine is still there")
  T.conserved(C.cur, "mine")
  -- a script that fails: its engines are closed all the same
  script = os.tmpname()
  f = assert(io.open(script, "w"))
  f:write('lab.open("sim", { name = "doomed" })\nerror("the script broke", 0)\n')
  f:close()
  out, err = run("watch run " .. script)
  os.remove(script)
  T.check(err and err:find("the script broke", 1, true), "the script's error comes back: " .. tostring(err))
  has(out, "closed the engines the script opened: doomed", "closed after an error too")
  T.eq(lab.get("doomed"), nil, "doomed is closed")
  -- a lesson's engines stay (to look at), and it says so
  out, err = run("lesson 1")
  T.eq(err, nil, "lesson 1")
  T.check(out:find("the lesson left umem open: use umem, then show owners; close all closes it", 1, true),
    "lesson 1 says which engine it left (by its role name):\n" .. out)
  T.check(lab.get("umem"), "and that engine is open")
  run("close all")
  T.done("watch_run_closes")
end

local case = arg[1] or error("usage: engine_names.lua CASE")
assert(cases[case], "no case " .. case)()
