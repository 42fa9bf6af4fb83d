-- The prompt against odd input and closed engines (reviewer R3): every
-- command answers in one line or prints its screen, never a Lua traceback;
-- one lookup (C.find_engine) serves use, close, compare, open peer=, watch
-- and send to=; size= cannot wrap to a small number.
-- usage: ringlab hostile_prompt.lua CASE
local T = require "common"
local C = require "ringlab.commands"

-- Run prompt lines as the prompt does (T.prompt), each even after an
-- error; what they printed, and every error.
local function run(...)
  local out, errs = {}, {}
  for _, line in ipairs({ ... }) do
    local text, err = T.prompt(line)
    out[#out + 1] = text
    errs[#errs + 1] = err
  end
  return table.concat(out, "\n"), errs
end

local function one_line(err, what)
  T.check(err, what .. ": no error")
  T.check(not err:find("\n"), what .. ": the error is one line: " .. err)
  T.check(not err:find("traceback", 1, true), what .. ": no traceback: " .. err)
end

local cases = {}

-- size= with so many digits that n * 1 MiB wrapped around to 1 MiB.
function cases.size_cannot_wrap()
  local S = require "ringlab.cmd_send"
  T.eq(S.size("17592186044417m"), nil, "2^44+1 MiB is not taken for 1 MiB")
  T.eq(S.size("9223372036854775807k"), nil, "maxinteger KiB")
  T.eq(S.size("0064k"), 65536, "leading zeros")
  T.eq(S.size("000"), nil, "zero")
  T.eq(S.size("1m"), 1048576, "1m")
  local _, errs = run("open sim name=wrap", "send udp 198.18.0.2:9 size=17592186044417m",
    "send tcp 198.18.0.2:80 size=99999999999999999999", "send udp 198.18.0.2:9 size=0")
  T.eq(#errs, 3, "three refusals")
  for i, e in ipairs(errs) do
    one_line(e, "size " .. i)
    T.check(e:find("is not a size", 1, true), "says it is not a size: " .. e)
  end
  run("close all")
  T.done("size_cannot_wrap")
end

-- One lookup: a name, "#ID", or a global holding an open engine, the same
-- for every command; a closed one is found by none of them.
function cases.one_engine_lookup()
  run("open sim name=left")
  _G.held = lab.open("sim", { name = "right", peer = lab.get("left") })
  T.eq(C.find_engine("left"), lab.get("left"), "by name")
  T.eq(C.find_engine("held"), lab.get("right"), "by a global holding it")
  T.eq(C.find_engine("#" .. lab.get("left"):info().id), lab.get("left"), "by #ID")
  T.eq(C.find_engine("print"), nil, "a global that is no engine")
  T.eq(C.find_engine(42), nil, "not a string")
  local out, errs = run("watch held count=1 interval=0", "compare left held", "use held")
  T.eq(#errs, 0, "watch, compare and use take the global: " .. table.concat(errs, " | "))
  T.check(out:find("right is now the current engine", 1, true) or out:find("engine right", 1, true),
    "use held made right current:\n" .. out)
  _G.held:close()
  T.eq(C.find_engine("held"), nil, "a global holding a closed engine")
  out, errs = run("use held", "close held", "compare held", "watch held", "open sim peer=held",
    "send tcp 198.18.0.2:80 size=1k to=held")
  T.eq(#errs, 6, "each refuses the closed engine: " .. table.concat(errs, " | ") .. "\n" .. out)
  for i, e in ipairs(errs) do
    one_line(e, "closed " .. i)
    T.check(e:find("left", 1, true), "names the open one: " .. e)
  end
  run("close all")
  _G.held = nil
  T.done("one_engine_lookup")
end

-- The current engine closed from Lua, then every command that looks at
-- engines: a screen or one line, and the prompt falls back.
function cases.closed_current_engine()
  local out, errs = run("open sim name=a", "region frames=64", "open sim name=b peer=a", "region frames=64",
    "fill 8")
  T.eq(#errs, 0, "setup: " .. table.concat(errs, " | "))
  lab.get("b"):close()
  out, errs = run("compare", "engines", "show ledger", "show rings", "show owners", "show caps",
    "show engines json", "watch count=1 interval=0", "send udp 198.18.0.2:9 size=4k to=b",
    "send tcp 198.18.0.2:80 size=1k")
  for i, e in ipairs(errs) do one_line(e, "after close " .. i) end
  T.check(out:find("b is closed - the current engine is now a", 1, true), "falls back to a:\n" .. out)
  T.check(#errs >= 2, "to=b and a TCP send with no listener are refused: " .. table.concat(errs, " | "))
  lab.get("a"):close()
  out, errs = run("compare", "engines", "show ledger", "watch count=1 interval=0", "use a", "close",
    "send udp 198.18.0.2:9 size=1k", "fill 4")
  for i, e in ipairs(errs) do one_line(e, "none open " .. i) end
  T.eq(#errs, 6, "show ledger, use, close, send, fill refuse; compare/engines/watch say so: "
    .. table.concat(errs, " | "))
  local _, n = out:gsub("no engine is open", "")
  T.check(n >= 2, "engines and watch say none is open (once each):\n" .. out)
  T.done("closed_current_engine")
end

-- `open sim name=` with words that cannot be names, and the Lua side.
function cases.odd_names()
  local _, errs = run("open sim name=", "open sim name=%", "open sim name=a'b", "open sim name=#1",
    "open sim name=all", "open sim name=" .. string.rep("n", 40), "open sim name==")
  T.eq(#errs, 7, "every odd name refused")
  for i, e in ipairs(errs) do one_line(e, "name " .. i) end
  for _, v in ipairs({ 1, true, {}, setmetatable({}, { __tostring = function() return "copy" end }) }) do
    local ok, err = pcall(lab.open, "sim", { name = v })
    T.check(not ok and not tostring(err):find("\n"), "name= a " .. type(v) .. ": " .. tostring(err))
  end
  for _, v in ipairs({ 1, true, {}, setmetatable({}, { __tostring = function() return "x" end }) }) do
    T.check(not pcall(lab.get, v), "lab.get(" .. type(v) .. ") raises")
    local ok, err = pcall(lab.use, v)
    T.check(not ok and not tostring(err):find("\n"), "lab.use(" .. type(v) .. "): " .. tostring(err))
  end
  T.eq(lab.get("#"), nil, "#")
  T.eq(lab.get("#99999999999999999999"), nil, "a huge #ID")
  T.eq(#lab.opened(), 0, "nothing was opened")
  _, errs = run("open sim peer=ra")
  T.eq(errs[1] and errs[1]:gsub("^.-: open:", "open:"), "open: no engine is open to be peer=ra - open it first: "
    .. "open sim name=ra", "peer= with none open says what to open (was 'open ones: none is open')")
  T.done("odd_names")
end

-- m:fill(65.0) is the byte 65 (was: 'not a number'), 65.5 is refused.
function cases.appmem_fill_whole_float()
  local m = lab.appmem(64)
  T.eq(m:fill(65.0, 0, 4), 4, "fill 65.0")
  T.eq(m:string(0, 4), "AAAA", "the byte 65")
  local ok, err = pcall(m.fill, m, 65.5)
  T.check(not ok and err:find("65.5 is not a byte", 1, true), "65.5 refused: " .. tostring(err))
  T.done("appmem_fill_whole_float")
end

-- The one word wrapper (views.wrap) that C.say, help, engines available,
-- a lesson's pause and the drawn step use: lines within the width, cut
-- between words, the first after `first`, the rest after `cont`.
function cases.wrap_one_helper()
  local wrap = require("ringlab.views").wrap
  local function same(got, want, what)
    T.eq(table.concat(got, "|"), table.concat(want, "|"), what)
  end
  same(wrap("a bb ccc dddd", 6), { "a bb", "ccc", "dddd" }, "plain")
  same(wrap("a bb ccc dddd", 7, "> ", "  "), { "> a bb", "  ccc", "  dddd" }, "first and cont")
  same(wrap("averyveryverylongword x", 5), { "avery", "veryv", "erylo", "ngwor", "d x" }, "a long word in pieces")
  -- a path too long for the line (a deep build tree) is cut after a '/'
  same(wrap("from /check/work/main/build/engines/ringlab-engine-afxdp.so", 40, "      "),
    { "      from", "      /check/work/main/build/engines/", "      ringlab-engine-afxdp.so" }, "a path")
  same(wrap("from /a/b.so", 40, "  "), { "  from /a/b.so" }, "a short path stays")
  same(wrap("   ", 10, "x "), {}, "no words")
  for _, width in ipairs({ 20, 40, 80 }) do
    for _, l in ipairs(wrap(string.rep("word ", 50), width, "      ")) do
      T.check(#l <= width, "within " .. width .. ": " .. l)
    end
  end
  T.done("wrap_one_helper")
end

local name = arg[1]
T.check(cases[name], "unknown case " .. tostring(name))
cases[name]()
