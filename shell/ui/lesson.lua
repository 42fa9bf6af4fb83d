-- lesson.lua - what the lessons in scripts/lessons share (ringlab.lesson).
--
-- A lesson is a commented Lua script that runs on the simulator unless its
-- first argument names another engine (`ringlab 01-umem.lua dpdk`, or
-- `lesson 1 dpdk` at the prompt). L.open() opens that engine, or prints
-- "SKIP: ..." and returns nil when it cannot open here, so the lesson can
-- stop politely. L.part() starts a part of the lesson: it prints a heading
-- and pauses (only on a terminal) so a class can look at the live view;
-- L.eq()/L.check() are the lesson's claims, checked every time it runs.
-- L.lessons(dir) lists the lesson files with their title and one line.

local term = require "ringlab.term"

local L = {}

-- What each engine needs to open for a lesson, unless the caller says.
L.defaults = {
  sim = {},
  afxdp = { ifname = os.getenv("RINGLAB_IFNAME") or "rl0", mode = "auto" },
  dpdk = { vdev = "net_ring0", log = "emergency" },
}

-- which: "sim" (nil), "afxdp" or "dpdk"; opts: overrides (key=value
-- strings from the command line are accepted too, in extra).
function L.open(which, opts, extra)
  which = which or "sim"
  local o = {}
  for k, v in pairs(L.defaults[which] or {}) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  for _, kv in ipairs(extra or {}) do
    local k, v = kv:match("^([%w_]+)=(.*)$")
    if k then o[k] = v end
  end
  local ok, e = pcall(lab.open, which, o)
  if not ok then
    print(string.format("SKIP: the %s engine cannot open here (%s) - the lesson runs on the simulator: leave out the engine name",
      which, tostring(e)))
    return nil
  end
  return e
end

local part = 0

function L.title(s)
  print(s)
  print(string.rep("=", #s))
end

function L.part(s)
  part = part + 1
  if part > 1 and term.isatty(0) and term.isatty(1) then
    lab.pause(string.format("next, part %d: %s", part, s))
  end
  print(string.format("\n-- %d. %s", part, s))
end

-- Print a paragraph written with leading indentation in a [[...]] string.
function L.say(s)
  print((s:gsub("\n%s+", "\n"):gsub("^%s+", ""):gsub("%s+$", "")))
end

function L.eq(got, want, what)
  if got ~= want then
    error(string.format("lesson check failed: %s: expected %s, got %s", what, tostring(want), tostring(got)), 2)
  end
  print(string.format("   ok: %s = %s", what, tostring(got)))
end

function L.check(cond, what)
  if not cond then error("lesson check failed: " .. what, 2) end
  print("   ok: " .. what)
end

-- The owners must sum to the frames; returns e:owners().
function L.conserved(e)
  local o = e:owners()
  L.eq(o.app + o.fill + o.nic + o.rx + o.tx + o.comp, o.frames, "owners sum to frames")
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

function L.done(name)
  print(string.format("\nlesson %s: every check held", name))
end

return L
