-- livecmds.lua - the prompt commands of the live view (ringlab.livecmds):
-- watch, watch run, lessons, lesson, the drawn step and show ledger --svg.
--
-- commands.lua calls install() once with its command table and its def();
-- the commands here are thin wrappers over ringlab.watch, ringlab.plot and
-- ringlab.lesson, the same code lab.watch(), lab.plot() and the lesson
-- scripts use. `step` keeps its one-line explanation and adds the four
-- rings before and after, the moved descriptor marked.

local M = {}

local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

-- `watch copy zc interval=0.5`: engines by their names (or Lua
-- variables holding one); none: all.
local function watch_args(args)
  local list, opts = {}, {}
  for _, w in ipairs(args) do
    local k, v = w:match("^(%a+)=(.*)$")
    if k then
      opts[k] = tonumber(v) or fail("watch: %s=%s is not a number - e.g. watch interval=0.5", k, v)
    else
      list[#list + 1] = require("ringlab.cmdkit").engine_named("watch", w)
    end
  end
  return #list > 0 and list or nil, opts
end

-- Close the engines opened after id (by the script watch run ran) and say
-- which, so they do not linger behind the prompt.
local function close_after(id)
  local names = {}
  for _, e in ipairs(lab.opened()) do
    if e:info().id > id then
      names[#names + 1] = e:info().name
      e:close()
    end
  end
  if #names > 0 then
    require("ringlab.cmdkit").say("watch run: closed the engines the script opened: %s", table.concat(names, ", "))
  end
end

local function engines_after(id)
  return function()
    local out = {}
    for _, e in ipairs(lab.opened()) do
      if e:info().id > id then out[#out + 1] = e end
    end
    return out
  end
end

local function last_id()
  local id = 0
  for _, e in ipairs(lab.opened()) do id = math.max(id, e:info().id) end
  return id
end

local function find_lesson(n)
  local L = require "ringlab.lesson"
  for _, l in ipairs(L.lessons()) do
    if l.n == n then return l end
  end
  fail("lesson: there is no lesson %s - list them with: lessons", tostring(n))
end

function M.install(C, def, current)
  local W = require "ringlab.watch"

  def("watch", "watch [NAME...] [interval=S] | watch run SCRIPT [ARGS...]",
    "a live dashboard of every open engine, or of the named ones (rings, owners, ledger, rates, drops; one line each when they do not fit; q leaves), or run a script under it (the engines it opens are closed when it ends)",
    function(args)
      if args[1] == "run" then
        local path = args[2] or fail("watch run: which script? - watch run scripts/lessons/01-umem.lua")
        local f = io.open(path)
        if not f then fail("watch run: cannot read %s - give the path of a Lua script", path) end
        f:close()
        local before = last_id()
        local ok, err = pcall(W.live, path, { what = "running " .. path }, table.unpack(args, 3))
        close_after(before)
        if not ok then error(err, 0) end
        return
      end
      local list, opts = watch_args(args)
      if not list and #lab.opened() == 0 then
        fail("watch: no engine is open - open one first: open sim (or watch run SCRIPT)")
      end
      opts.tick = C.idle
      W.watch(list, opts)
    end)

  def("lessons", "lessons", "list the lessons (scripts/lessons): run one with lesson N",
    function()
      local list = require("ringlab.lesson").lessons()
      local term = require "ringlab.term"
      local rows = term.isatty(1) and term.size() or nil
      if rows and rows < 2 * #list + 3 then
        -- a short window (11 lessons at 80x24): one line each, the whole
        -- list on one screen; their summaries need a taller one
        for _, l in ipairs(list) do
          C.say("%2d  %s", l.n, (l.title:gsub("^Lesson %d+:%s*", "")))
        end
        C.say("run one: lesson N [ENGINE] [part M] [--check]; a taller window also shows what each is about")
        return
      end
      for _, l in ipairs(list) do
        C.say("%2d  %s\n      %s", l.n, l.title, l.line) -- cut between words on a narrow terminal
      end
      C.say("run one: lesson N [sim|afxdp|dpdk] [part M] [--check] - it pauses between parts on a terminal")
    end)

  -- the engines the last lesson left open (closed when the next starts, so
  -- that a lesson run twice gets its role names again)
  local left_by_lesson = setmetatable({}, { __mode = "k" })

  def("lesson", "lesson N [ENGINE] [part M] [--check] [key=value...]",
    "run lesson N in the live view: on the simulator unless an engine is named (sim, afxdp, dpdk; it says why when that engine cannot open here); part M starts at part M; --check shows what it checks",
    function(args)
      local n = math.tointeger(tonumber(args[1] or "")) or fail("lesson: which one? - lesson 1 (list them: lessons)")
      local l = find_lesson(n)
      local L = require "ringlab.lesson"
      -- a word the lesson does not take: one line before the screen changes
      local ok, err = pcall(L.args, table.unpack(args, 2))
      if not ok then fail("%s", (tostring(err):gsub("^lesson:", "lesson " .. n .. ":"))) end
      local closed = {}
      for _, e in ipairs(lab.opened()) do
        if left_by_lesson[e] then
          closed[#closed + 1] = e:info().name
          e:close()
        end
      end
      local before = last_id()
      local after = engines_after(before)
      local function shown()
        local list = {}
        for _, e in ipairs(L.shown()) do
          if e:info().id > before then list[#list + 1] = e end
        end
        if #list == 0 then return after() end
        -- the lesson's own first, then any other engine it opened
        local seen = {}
        for _, e in ipairs(list) do seen[e:info().id] = true end
        for _, e in ipairs(after()) do
          if not seen[e:info().id] then list[#list + 1] = e end
        end
        return list
      end
      local ok, err = pcall(W.live, l.path, { what = l.title, engines = shown,
          empty = " no engine yet: the lesson opens its own" },
        table.unpack(args, 2))
      if #closed > 0 then -- said after the live view, which clears the screen
        C.say("closed %s, left open by the lesson before", table.concat(closed, ", "))
      end
      local left = {}
      for _, e in ipairs(shown()) do -- the lesson's order: the one it looks at first
        if not e:info().closed then
          left[#left + 1] = e:info().name
          left_by_lesson[e] = true
        end
      end
      if not ok then error(err, 0) end -- its engines are marked all the same
      if #left > 0 then
        C.say("the lesson left %s open: use %s, then show owners; close all closes %s",
          table.concat(left, ", "), left[1], #left > 1 and "them" or "it")
      end
    end)

  local step = C.byname.step
  step.line = step.line .. "; draws the four rings before and after, the moved descriptor marked"
  step.fn = function(args)
    local e = current()
    local n = math.tointeger(tonumber(args[1] or "1")) or fail("step: '%s' is not a whole number - e.g. step 3", args[1])
    for _ = 1, n do
      local before, nm = e:rings(), e:netmap()
      local s = e:step()
      if nm then -- a netmap port: its ring before and after, head/cur/tail marked
        print(require("ringlab.nmview").step_text(nm, e:netmap(), s, require("ringlab.term").width() - 1))
      else
        print(W.step_view(before, e:rings(), s))
      end
      if s.kind == "idle" then break end
    end
  end

  local show = C.byname.show
  local show_fn = show.fn
  show.usage = show.usage .. " | show ledger --svg FILE"
  show.fn = function(args, rest)
    if args[1] == "ledger" and args[2] == "--svg" then
      local file = args[3] or fail("show ledger --svg: which file? - show ledger --svg ledger.svg")
      require("ringlab.plot").plot { file = file }
      C.say("wrote %s: the ledger of every open engine (bars) and their rates over time", file)
      return
    end
    return show_fn(args, rest)
  end
end

return M
