-- A lesson run at the prompt in a real terminal (tmux), as a class sees it:
--   lesson1_80x24   lesson 1 at 80x24: each part's teaching and its result
--                   line on screen, no ok: line, the dashboard names the
--                   lesson's engine (umem), the text gets at least half the
--                   rows, no line wider than 80; every part through to the end
--   part3           lesson 1 part 3: the first part shown is Part 3
--   check           lesson 1 --check: the ok: lines, every check held
--   bogus           lesson 1 bogus: one line, no file:line, no live view
--   engine_refused  lesson 2 dpdk: one line saying why, nothing run on sim
--   lesson2_160x48  lesson 2 at 160x48: receiver and sender side by side,
--                   the text still half the screen
-- usage: ringlab lesson_in_tmux.lua RINGLAB CASE (77: no tmux)
local T = require "common"
local X = require "tmux"

local ringlab, case = arg[1], arg[2]
X.skip_without_tmux()

local function lines_of(s)
  local out = {}
  for l in (s .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

local function fits(s, width, what)
  for _, l in ipairs(lines_of(s)) do
    T.check(#l <= width, string.format("%s: a line of %d columns: %s", what, #l, l))
  end
end

-- the row of the live view's bar (the lesson's title and "stops it")
local function bar_row(s)
  for i, l in ipairs(lines_of(s)) do
    if l:find("q or Ctrl-C stops it", 1, true) then return i end
  end
end

local function no_ok(s, what)
  T.check(not s:find("\n%s*ok: "), what .. ": an ok: line without --check:\n" .. s)
end

-- the lesson waits at a pause: its line is the last on the screen (an
-- Enter typed before it is read by the live view's key check, not the pause)
local function at_pause(s)
  local last
  for _, l in ipairs(lines_of(s)) do if l:match("%S") then last = l end end
  return last and last:find("stops%)%s*$") ~= nil
end

local cases = {}

function cases.lesson1_80x24()
  local t = X.start(ringlab, 80, 24, { join = true })
  t.wait("the prompt", X.has("ringlab>"))
  t.keys("lesson 1", "Enter")
  local s = t.wait("part 1 and the pause", at_pause)
  T.check(s:find("Part 1. the UMEM: one region of 32 frames", 1, true), "part 1's heading:\n" .. s)
  T.check(s:find("AF_XDP gives a program one block of packet memory", 1, true), "part 1's teaching:\n" .. s)
  T.check(s:find("=> 32 frames of 2048 bytes, all owned by the program", 1, true), "part 1's result:\n" .. s)
  T.check(s:find("-- umem (sim)", 1, true), "the dashboard names the lesson's engine:\n" .. s)
  T.check(not s:find("no engine is open", 1, true), "not 'no engine is open':\n" .. s)
  T.check(s:find("fill    [|...............] prod 0 cons 0 pending 0/16", 1, true), "a ring of 16 drawn whole:\n" .. s)
  local bar = bar_row(s)
  T.check(bar and 24 - bar >= 12, "the text gets at least half of 24 rows (the bar at row " .. tostring(bar) .. "):\n" .. s)
  no_ok(s, "part 1")
  fits(s, 80, "part 1")
  -- every part: its heading, its teaching, its result, within 80 columns
  local heads = { "Part 2. the fill ring", "Part 3. the tx ring", "Part 4. the NIC sends it",
    "step 1: TX:", "step 2: COMPLETE:", "step 3: RX:", "Part 5. the comp ring", "Part 6. the rx ring" }
  local results = { "=> 8 frames on the fill ring", "=> one 64-byte packet queued", nil, nil, nil,
    "=> sent (TX), its frame posted on comp", "=> 1 frame back from comp", "=> received \"one packet, four rings\"" }
  for i, h in ipairs(heads) do
    t.keys("Enter")
    s = t.wait(h, X.has(h))
    if results[i] then s = t.wait(results[i], X.has(results[i])) end
    no_ok(s, h)
    fits(s, 80, h)
    if i < #heads then t.wait("the pause after " .. h, at_pause) end
  end
  -- the last pause keeps the dashboard on screen at the end of the lesson
  s = t.wait("the pause at the end", X.has("end of lesson 1 - press Enter"))
  T.check(s:find("-- umem (sim)", 1, true), "the dashboard still there at the end:\n" .. s)
  t.keys("Enter")
  s = t.wait("the end of the lesson", X.has("the lesson left umem open"))
  T.check(s:find("end of lesson 1 (lesson 1 --check shows what it checked)", 1, true), "the end:\n" .. s)
  no_ok(s, "the end")
  fits(s, 80, "the end")
  t.finish()
end

function cases.part3()
  local t = X.start(ringlab, 80, 24, { join = true })
  t.wait("the prompt", X.has("ringlab>"))
  t.keys("lesson 1 part 3", "Enter")
  local s = t.wait("part 3", at_pause)
  T.check(s:find("Part 3. the tx ring", 1, true), "starts with part 3:\n" .. s)
  T.check(not s:find("Part 1.", 1, true) and not s:find("Part 2.", 1, true), "parts 1 and 2 silent:\n" .. s)
  -- parts 1 and 2 ran: their state is on the dashboard (8 frames lent)
  T.check(s:find("fill 8", 1, true), "the fill ring part 2 filled:\n" .. s)
  t.keys("q", "Enter")
  t.wait("stopped", X.has("stopped with q"))
  t.finish()
end

function cases.check()
  local t = X.start(ringlab, 80, 24, { join = true })
  t.wait("the prompt", X.has("ringlab>"))
  t.keys("lesson 1 --check", "Enter")
  local s = t.wait("part 1 and the pause", at_pause)
  T.check(s:find("   ok: owners sum to frames (32)", 1, true), "ok: lines with --check:\n" .. s)
  -- (a part's heading may scroll away under its ok: lines: wait for those)
  for i, h in ipairs({ "ok: frames offered = 8", "ok: packets queued = 1", "Part 4.", "step 1:", "step 2:",
    "step 3:", "ok: the sent frame came back through comp", "ok: payload = one packet, four rings" }) do
    t.keys("Enter")
    t.wait(h, X.has(h))
    if i < 8 then t.wait("the pause after " .. h, at_pause) end
  end
  s = t.wait("the pause at the end", X.has("end of lesson 1 - press Enter"))
  T.check(s:find("ok: payload = one packet, four rings", 1, true), "the last checks:\n" .. s)
  t.keys("Enter")
  t.wait("every check held", X.has("lesson 1: every check held"))
  t.finish()
end

function cases.bogus()
  local t = X.start(ringlab, 80, 24, { join = true })
  t.wait("the prompt", X.has("ringlab>"))
  local s = t.command("lesson 1 bogus")
  local msg = "lesson 1: 'bogus'? - it takes sim|afxdp|dpdk, part M, --check, key=value"
  T.check(s:find(msg, 1, true), "the one line:\n" .. s)
  T.check(not s:find("%.lua:%d+"), "no file:line:\n" .. s)
  T.check(not s:find("traceback", 1, true), "no traceback:\n" .. s)
  T.check(not s:find("stops it", 1, true), "no live view for a bad word:\n" .. s)
  -- the prompt line, the message, the prompt: nothing else
  local n, typed = 0, false
  for _, l in ipairs(lines_of(s)) do
    typed = typed or l:find("> lesson 1 bogus", 1, true) ~= nil
    if typed and l:match("%S") then n = n + 1 end
  end
  T.eq(n, 3, "the typed line, one message, the prompt:\n" .. s)
  t.finish()
end

function cases.engine_refused()
  local t = X.start(ringlab, 80, 24, { join = true })
  t.wait("the prompt", X.has("ringlab>"))
  t.keys("lesson 2 dpdk", "Enter")
  local s = t.wait("the refusal", X.has("run lesson 2 without an engine name"))
  T.check(s:find("SKIP: lesson 2 stops the NIC between two hardware actions", 1, true), "why:\n" .. s)
  T.check(not s:find("Part 1.", 1, true), "nothing ran on sim instead:\n" .. s)
  t.wait("the prompt after it", function(x) return x:find("ringlab>%s*$") ~= nil end)
  t.finish()
end

function cases.lesson2_160x48()
  local t = X.start(ringlab, 160, 48, { join = true })
  t.wait("the prompt", X.has("ringlab>"))
  t.keys("lesson 2", "Enter")
  local s = t.wait("part 1 and the pause", at_pause)
  local row = s:match("[^\n]*%-%- receiver %(sim%)[^\n]*")
  T.check(row and row:find("-- sender (sim)", 1, true), "receiver and sender side by side:\n" .. s)
  T.check(s:find("=> 2 frames on the receiver's fill ring", 1, true), "part 1's result:\n" .. s)
  local bar = bar_row(s)
  T.check(bar and 48 - bar >= 24, "the text gets half of 48 rows (bar at " .. tostring(bar) .. "):\n" .. s)
  no_ok(s, "lesson 2")
  fits(s, 160, "lesson 2")
  t.keys("q", "Enter")
  t.wait("stopped", X.has("stopped with q"))
  t.finish()
end

local fn = cases[case] or error("usage: lesson_in_tmux.lua RINGLAB lesson1_80x24|part3|check|bogus|engine_refused|lesson2_160x48")
fn()
T.done("lesson_in_tmux " .. case)
