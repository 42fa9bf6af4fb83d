-- lesson.lua - what the lessons in scripts/lessons share (ringlab.lesson).
--
-- A lesson is a Lua script that teaches on the screen, not in its comments:
-- a student reads what it prints. Its shape:
--
--   local L = require "ringlab.lesson"
--   local A = L.args(...)             -- engine, --check, part M, key=value
--   L.title("Lesson 1: a UMEM and its four rings")
--   local e = L.open(A, { name = "umem", step = true })
--   if not e then return end          -- it said why (never falls back to sim)
--   L.part("the fill ring", [[
--     Two to six lines: what happens next, why, and what to look at on the
--     dashboard.]])
--   ... the action ...
--   L.eq(e:owners().fill, 8, "owner fill")   -- a claim, checked every run
--   L.result("8 frames lent to the NIC; the program owns the other 56")
--   L.done()
--
-- Checks (L.eq, L.check, L.conserved) always run and a failed one ends the
-- lesson with one line; their "ok:" lines print only in check mode
-- (`lesson 1 --check`, `ringlab 01-umem.lua --check`, or the environment
-- variable RINGLAB_LESSON_CHECK=1: the tests use it).
--
-- Parts are numbered from 1 in every lesson. `lesson N part M` (or part=M)
-- starts at part M: the parts before it still run, so that the state they
-- build is there, but silently and without pauses. On a terminal the
-- lesson pauses before each part after the first shown, so that a class
-- can look at the live view.
--
-- Output goes through L.say / L.print / L.result, which the quiet parts
-- silence and which cut text between words at the terminal's width.
-- L.lessons(dir) lists the lesson files with their title and one line.
--
-- More (all optional, added for issue 12; nothing above changed):
--   L.open(A, { name = "receiver", ring_size = 16, peer = other,
--               sim = { step = true } })   -- sim/afxdp/dpdk = that kind only;
--       step= is dropped off the simulator, ring_size= becomes afxdp's
--       fill/comp/rx/tx_size and dpdk's rx_desc/tx_desc; a taken name gets -2
--   L.show(e1, e2)     the dashboard's engines, the most important first
--                      (default: the engines L.open opened, in that order)
--   L.pause("next: step 2")   a pause inside a part (terminal only, not in
--                      the silent parts before part M)
--   L.skip(fmt, ...)   "SKIP: why" cut at the width, for a lesson that
--                      cannot run on the engine asked for (then return)
--   L.say(text, "   step 1: ")  a first-line prefix; the lines after it
--                      are indented under it (or L.say(text, first, cont))

local term = require "ringlab.term"

local L = {}

-- What each engine needs to open for a lesson, unless the caller says.
L.defaults = {
  sim = {},
  afxdp = { ifname = os.getenv("RINGLAB_IFNAME") or "rl0", mode = "auto" },
  dpdk = { vdev = "net_ring0", log = "emergency" },
}

local state = { part = 0, start = 1, check = false, quiet = false, opened = {} }

local function width()
  local w = term.width and term.width() or 80
  if not w or w < 40 then w = 80 end
  return math.min(w, 100) - 1
end

local function wrap(text, first, cont)
  local ok, V = pcall(require, "ringlab.views")
  if ok and V.wrap then return V.wrap(text, width(), first, cont) end
  return { first .. text }
end

local function env_check()
  local v = os.getenv("RINGLAB_LESSON_CHECK")
  return v ~= nil and v ~= "" and v ~= "0"
end

-- The lesson's arguments (the script's `...`): an engine name (sim, afxdp,
-- dpdk), --check, part M or part=M, and key=value options for the engine.
-- Returns { engine=, check=, part=, extra={ "k=v", ... } } and sets the
-- lesson's mode. A word it does not know ends the lesson with one line.
function L.args(...)
  local a = { check = env_check(), part = 1, extra = {} }
  local list = table.pack(...)
  local i = 1
  while i <= list.n do
    local w = list[i]
    if w == nil then
      -- nothing
    elseif w == "--check" or w == "check" then
      a.check = true
    elseif w == "part" or w:match("^part=") then
      local v = w == "part" and list[i + 1] or w:match("^part=(.*)$")
      if w == "part" then i = i + 1 end
      local m = math.tointeger(tonumber(v or ""))
      if not m or m < 1 then
        error(string.format("lesson: part %s? - give a part number, e.g. part 2", v or "which"), 0)
      end
      a.part = m
    elseif w:match("^[%w_]+=") then
      a.extra[#a.extra + 1] = w
    elseif L.defaults[w] then
      if a.engine then
        error(string.format("lesson: two engines, %s and %s - name one (sim, afxdp or dpdk)", a.engine, w), 0)
      end
      a.engine = w
    else
      error(string.format("lesson: '%s'? - it takes sim|afxdp|dpdk, part M, --check, key=value", w), 0)
    end
    i = i + 1
  end
  state.check, state.start, state.part, state.quiet = a.check, a.part, 0, a.part > 1
  state.args, state.opened, state.shown = a, {}, nil
  return a
end

-- The engine the lesson runs on. which: the table L.args returned, or an
-- engine kind ("sim", "afxdp", "dpdk"; nil: sim); opts: the lesson's own
-- options (name=, step=, ...), overridden by key=value words the user gave
-- (extra). opts.sim / opts.afxdp / opts.dpdk (tables) apply to that kind
-- only; step= is the simulator's only; ring_size=N (small rings show their
-- marks on the dashboard) becomes afxdp's fill_size/comp_size/rx_size/
-- tx_size and dpdk's rx_desc/tx_desc. A name= already taken (the same
-- lesson run twice) gets -2, -3, ... An engine that cannot open here: one
-- line saying why and how to run the lesson instead, and nil - the lesson
-- stops, it never falls back to another engine on its own.
local kinds = { sim = true, afxdp = true, dpdk = true }
local ring_keys = {
  afxdp = { "fill_size", "comp_size", "rx_size", "tx_size" },
  dpdk = { "rx_desc", "tx_desc" },
}

function L.open(which, opts, extra)
  if type(which) == "table" then
    extra = extra or which.extra
    which = which.engine
  end
  which = which or "sim"
  local o = {}
  for k, v in pairs(L.defaults[which] or {}) do o[k] = v end
  for k, v in pairs(opts or {}) do
    if not kinds[k] then o[k] = v end
  end
  if which ~= "sim" then
    o.step = nil
    if o.ring_size and ring_keys[which] then
      for _, k in ipairs(ring_keys[which]) do o[k] = o[k] or o.ring_size end
      o.ring_size = nil
    end
  end
  for k, v in pairs(type(opts) == "table" and type(opts[which]) == "table" and opts[which] or {}) do o[k] = v end
  for _, kv in ipairs(extra or {}) do
    local k, v = kv:match("^([%w_]+)=(.*)$")
    if k then o[k] = v end
  end
  if type(o.name) == "string" and lab.get(o.name) then
    local n = 2
    while lab.get(o.name .. "-" .. n) do n = n + 1 end
    o.name = o.name .. "-" .. n
  end
  local ok, e = pcall(lab.open, which, o)
  if not ok then
    local why = tostring(e):gsub("^[^:\n]*:%d+: ", ""):gsub("^open: ", "")
    if which == "sim" then -- an option given with key=value the simulator refused
      L.skip("the lesson's simulator did not open: %s", why)
    else
      L.skip("this lesson cannot run on %s here: %s - without an engine name it runs on the simulator",
        which, why)
    end
    return nil
  end
  state.opened[#state.opened + 1] = e
  return e
end

-- The engines the dashboard shows while the lesson runs, the most
-- important first (when they do not all fit, the first stay drawn in full
-- and the rest get one line each). Without L.show: every engine the
-- lesson opened, in the order it opened them.
function L.show(...)
  state.shown = { ... }
end

-- The engines of the running (or last) lesson for the dashboard.
function L.shown()
  if state.shown and #state.shown > 0 then return state.shown end
  return state.opened
end

-- Wait for Enter on a terminal (not in the silent parts before part M):
-- a moment for the class to look at the dashboard within a part.
function L.pause(what)
  if state.quiet then return end
  if term.isatty(0) and term.isatty(1) then lab.pause(what) end
end

-- The lesson cannot run as asked: "SKIP: " and why (printf-style), cut
-- between words at the screen width. The lesson then returns.
function L.skip(fmt, ...)
  local s = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  for _, l in ipairs(wrap(s, "SKIP: ", "  ")) do print(l) end
end

-- The kind the lesson was asked to run on (nil: sim).
function L.engine() return state.args and state.args.engine or nil end

function L.checking() return state.check end
function L.quiet() return state.quiet end

-- Print s (a paragraph, maybe written indented inside [[...]]): blank
-- lines separate paragraphs, each cut between words at the screen width.
-- indent: before the first line of each paragraph; cont: before the lines
-- after it (default: indent).
function L.say(s, indent, cont)
  if state.quiet then return end
  indent = indent or ""
  if not cont then -- "   step 1: " goes on under "     "
    local lead = #indent:match("^%s*")
    cont = lead == #indent and indent or string.rep(" ", lead + 2)
  end
  s = tostring(s):gsub("^%s*\n", ""):gsub("%s+$", "")
  local paras = {}
  for para in (s .. "\n\n"):gmatch("(.-)\n%s*\n") do
    if para:match("%S") then paras[#paras + 1] = para end
  end
  for _, para in ipairs(paras) do
    -- a line that starts with two or more spaces after the common indent,
    -- or a drawing (|, +, -), is printed as it is
    if para:match("\n%s*[|+]") or para:match("^%s*[|+]") then
      for line in para:gmatch("[^\n]+") do print(indent .. line:gsub("^%s%s", "")) end
    else
      for _, l in ipairs(wrap(para:gsub("%s+", " "):gsub("^ ", ""), indent, cont)) do print(l) end
    end
  end
end

-- print, silent in the parts before `part M`
function L.print(...)
  if state.quiet then return end
  print(...)
end

-- printf-style, silent in the parts before `part M`
function L.printf(fmt, ...)
  if state.quiet then return end
  print(string.format(fmt, ...))
end

function L.title(s)
  state.part = 0
  if state.start == nil then state.start = 1 end
  print(s)
  print(string.rep("=", #s))
end

-- A part of the lesson: its heading and its teaching (2-6 lines on what
-- happens and why, and what to look at), printed before it acts. Returns
-- the part's number.
function L.part(s, teaching)
  state.part = state.part + 1
  local n = state.part
  state.quiet = n < (state.start or 1)
  if state.quiet then return n end
  if n > (state.start or 1) and term.isatty(0) and term.isatty(1) then
    lab.pause(string.format("next, part %d: %s", n, s))
  end
  print(string.format("\nPart %d. %s", n, s))
  if teaching then L.say(teaching, "  ") end
  return n
end

-- The result of a part in words ("45 segments, 0 bytes copied: ...").
function L.result(fmt, ...)
  if state.quiet then return end
  local s = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  for _, l in ipairs(wrap(s, "  => ", "     ")) do print(l) end
end

local function claim(what, shown)
  if state.check and not state.quiet then print("   ok: " .. shown) end
end

function L.eq(got, want, what)
  if got ~= want then
    error(string.format("lesson check failed: %s: expected %s, got %s", what, tostring(want), tostring(got)), 2)
  end
  claim(what, string.format("%s = %s", what, tostring(got)))
  return got
end

function L.check(cond, what)
  if not cond then error("lesson check failed: " .. what, 2) end
  claim(what, what)
  return cond
end

-- The owners must sum to the frames; returns e:owners().
function L.conserved(e)
  local o = e:owners()
  local sum = o.app + o.fill + o.nic + o.rx + o.tx + o.comp
  if sum ~= o.frames then
    error(string.format("lesson check failed: owners sum to %d, the region has %d frames", sum, o.frames), 2)
  end
  claim("owners", "owners sum to frames (" .. o.frames .. ")")
  return o
end

-- Lesson files NN-name.lua in dir: {n=, file=, path=, title=, line=}.
function L.lessons(dir)
  dir = dir or lab.lessons_dir
  local out = {}
  for _, name in ipairs(lab.files(dir) or {}) do -- no shell (was `ls`)
    local n = name:match("^(%d+)%-[%w_%-]+%.lua$")
    if n then
      local f = io.open(dir .. "/" .. name)
      local title = f and f:read("l") or ""
      local line = f and f:read("l") or ""
      if f then f:close() end
      out[#out + 1] = { n = tonumber(n), file = name, path = dir .. "/" .. name,
        title = title:gsub("^%-%-%s*", ""), line = line:gsub("^%-%-%s*", "") }
    end
  end
  table.sort(out, function(a, b) return a.n < b.n end)
  return out
end

-- The end of the lesson. name: its number (optional); summary: one line.
function L.done(name, summary)
  state.quiet = false
  if state.start and state.start > state.part and state.part > 0 then
    error(string.format("lesson %s has %d parts: part %d does not exist - e.g. lesson %s part %d",
      tostring(name or ""), state.part, state.start, tostring(name or "N"), state.part), 0)
  end
  if summary then L.result(summary) end
  -- in the live view, a last pause, one short line: the dashboard keeps
  -- the last part's engines, and the last part its heading, until Enter
  -- (leaving the view scrolls its top away)
  local ok, W = pcall(require, "ringlab.watch")
  if ok and W.in_live and W.in_live() and term.isatty(0) and term.isatty(1) then
    lab.pause(string.format("end of lesson %s", tostring(name or "")))
  end
  if state.check then
    print(string.format("\nlesson %s: every check held", tostring(name or "")))
  else
    print(string.format("\nend of lesson %s (lesson %s --check shows what it checked)", tostring(name or ""), tostring(name or "N")))
  end
end

return L
