-- Lessons 10 and 11 as a class sees them at 80x24: `lesson N` typed at the
-- prompt of a ringlab in a real terminal (tests/lua/tmux.lua), Enter at
-- each pause. At every pause the part just run is whole on the screen: its
-- heading, its teaching and its result line (=>), under the dashboard with
-- the lesson's engines by role; no line wider than 80 columns, no "ok:".
-- usage: ringlab lessons_10_11_in_tmux.lua RINGLAB CASE   (CASE: 10 | 11)
-- Exits 77 (skipped) when tmux is not installed.
local T = require "common"
local X = require "tmux"

local ringlab, case = arg[1], arg[2]
X.skip_without_tmux()

-- What must be on the screen at the pause after each part (plain text).
local want = {
  ["10"] = {
    { "Part 1. fill ring empty", "fill ring empty 4: packets arrived when the NIC had no frame",
      "=> 4 dropped on an empty fill ring; after fill 8, 4 of 4 arrived" },
    { "Part 2. rx ring full", "rx ring full 4: packets arrived with the rx ring full",
      "=> 4 of 12 dropped on a full rx ring" },
    { "Part 3. tx ring full", "tx ring full 4: packets a send could not queue",
      "tx waits 8: queued, but the ring says NEED_WAKEUP", "=> 8 of 12 fitted" },
    { "Part 4. completions not collected", "comp ring full 1: times the NIC stopped",
      "frames: 8 on comp, 8 in the NIC, 0 free", "=> 16 sent, 0 frames free until complete" },
    { "Part 5. a forgotten wakeup", "tx waits 4: queued, but the ring says NEED_WAKEUP",
      "=> 4 waited on the tx ring until the kick", "end of lesson 10" },
  },
  ["11"] = {
    { "Part 1. MTU and frame size", "so 1792", "=> 9014 bytes / 1792 bytes per frame" },
    { "Part 2. sending: one packet", "XDP_PKT_CONTD", "3        2   4352  1792  CONTD  | 6        5  10496    54  0 end",
      "=> one 9014-byte packet queued as 6 descriptors, 5 marked CONTD" },
    { "Part 3. receiving", "1        0    256  1792  CONTD  | 4        3   6400  1792  CONTD",
      "=> the datagram: 6 frames, 5 CONTD; payload intact" },
    { "Part 4. a chain needs a frame", "fill ring empty 1:", "=> 4 frames lent: the 6-frame packet dropped",
      "end of lesson 11" },
  },
}
local parts = want[case] or error("which lesson? - 10 or 11")

local t = X.start(ringlab, 80, 24, {})
t.wait("the prompt", X.has("ringlab>"))
t.keys("lesson " .. case, "Enter")
-- the lesson's text: the screen below the live view's title bar, whose
-- clock (and the dashboard above it) change every second at the same pause
local function text_of(s)
  local below = s:match("q or Ctrl%-C stops it[^\n]*\n(.*)$")
  return below or s
end
local seen, last, deadline = 0, nil, lab.now() + 30
while seen < #parts do
  local s = t.screen()
  local flat = s:gsub("%s+", " ")
  local paused = flat:match("%(q Enter stops%)%s*$")
  local ended = flat:find("end of lesson " .. case, 1, true) and s:gsub("%s+$", ""):match("ringlab%S*>$")
  if (paused or ended) and text_of(s) ~= last then
    last = text_of(s)
    seen = seen + 1
    for line in s:gmatch("[^\n]+") do
      T.check(#line <= 80, "a line of " .. #line .. " columns: " .. line)
      T.check(not line:match("^%s*ok:"), "an ok: line without --check: " .. line)
    end
    -- after the last part the live view has gone and the end lines have
    -- pushed its heading up: its text and result are still there
    for _, text in ipairs(parts[seen]) do
      local at_end = flat:find("end of lesson " .. case, 1, true)
      if (paused and not at_end) or not text:match("^Part ") then
        T.check(s:find(text, 1, true), string.format("part %d: '%s' is not on the screen:\n%s", seen, text, s))
      end
    end
    -- the lesson's engines by role on the dashboard
    for _, r in ipairs(paused and { "sender", "receiver" } or {}) do
      T.check(s:find("\n%-%- " .. r .. " %(") or s:find("\n " .. r .. " +%a") or s:find("^%-%- " .. r .. " %("),
        string.format("part %d: engine %s is not on the dashboard:\n%s", seen, r, s))
    end
    if paused then t.keys("Enter") end
  else
    lab.sleep(0.1)
  end
  if lab.now() > deadline then
    t.finish()
    error("lesson " .. case .. " did not reach part " .. seen + 1 .. " in 30 s; the screen was:\n" .. s)
  end
end
t.finish()
print("lesson " .. case .. " at 80x24: every part whole on its screen")
