-- The lessons as a class sees them: `lesson N` typed at the prompt of a
-- ringlab in a real terminal (tests/lua/tmux.lua: a private tmux server),
-- Enter pressed at each pause, every screen read back. Nothing is checked
-- through the script's own output: only what was on the screen.
-- usage: ringlab lessons_in_tmux.lua RINGLAB CASE
--   lesson7_80   lesson 7 at 80x24: no line wider than 80 columns (wrapped
--                rows joined), no "ok:" line, the body's and each client's
--                digest line (first bytes, crc32), result lines (=>), the
--                engines http and https on the dashboard, the end line
--   lesson6_part3_80      lesson 6 part 3: parts 1-2 silent, part 3's result
--                         over their packet, the last part's result
--   lesson8_sim_one_line  lesson 8 without dpdk: its one line, no part run
--   lesson5_80, lesson5_160  lesson 5: its result lines, the six-ledger table
--                whole on one screen, part 8 whole at the last pause
-- Exits 77 (skipped) when tmux is not installed.
local T = require "common"
local X = require "tmux"

local ringlab, case = arg[1], arg[2]
X.skip_without_tmux()

-- Run `lesson ARGS` at cols x rows; press Enter at each pause until the
-- prompt is back after the lesson's last line (ends: a text it ends with;
-- nil: "end of lesson" or "every check held"). Returns every distinct
-- screen seen, in order.
-- the lesson's text: the screen below the live view's title bar, whose
-- clock (and the dashboard above it) change every second at the same pause
local function text_of(s)
  local below = s:match("q or Ctrl%-C stops it[^\n]*\n(.*)$")
  return below or s
end

local function run_lesson(args, cols, rows, ends)
  local t = X.start(ringlab, cols, rows, { join = true })
  t.wait("the prompt", X.has("ringlab>"))
  t.keys("lesson " .. args, "Enter")
  local screens, last = {}, nil
  local deadline = lab.now() + 30
  while true do
    local s = t.screen()
    if s ~= last then screens[#screens + 1], last = s, s end
    local tail = s:gsub("%s+$", "")
    local ended = ends and tail:find(ends, 1, true)
      or not ends and (tail:find("end of lesson", 1, true) or tail:find("every check held", 1, true))
    if ended and tail:match("\nringlab%S*>$") then break end
    if tail:gsub("%s+", " "):match("%(q Enter stops%)$") then -- a pause (maybe cut)
      t.keys("Enter")
      -- wait for the screen to move on before looking again
      t.wait("the next part", function(n) return text_of(n) ~= text_of(s) end)
    else
      lab.sleep(0.1)
    end
    if lab.now() > deadline then
      t.finish()
      error("lesson " .. args .. " did not end in 30 s; the screen was:\n" .. s)
    end
  end
  t.finish()
  return screens
end

local cases = {}

function cases.lesson7_80()
  local screens = run_lesson("7", 80, 24)
  local all = table.concat(screens, "\n")
  for _, s in ipairs(screens) do
    for line in s:gmatch("[^\n]+") do
      T.check(#line <= 80, "a line of " .. #line .. " columns: " .. line)
      T.check(not line:match("^%s*ok:"), "an ok: line without --check: " .. line)
    end
  end
  T.check(all:find("the body: 1400 bytes 'secret! secret! ...' crc32 %x%x%x%x%x%x%x%x"),
    "the body's digest line:\n" .. all)
  for c = 1, 3 do
    T.check(all:find("client " .. c .. ": 1416 bytes  %x%x %x%x .-crc32 %x%x%x%x%x%x%x%x"),
      "client " .. c .. "'s digest line (first bytes, crc32):\n" .. all)
  end
  T.check(all:find("=> 1400 bytes copied once, 4200 referenced", 1, true), "part 1's result line")
  T.check(all:find("=> 4200 bytes copied by the cipher", 1, true), "part 2's result line")
  T.check(all:find("=> 3 different ciphertexts", 1, true), "part 3's result line")
  -- an engine on the dashboard: drawn in full ("-- http (sim) ...") or on
  -- one line (" http      zerocopy ...")
  local function shown(name)
    return all:find("\n%-%- " .. name .. " %(") or all:find("\n " .. name .. " +%a")
  end
  T.check(shown("http"), "the http engine by its name on the dashboard:\n" .. all)
  T.check(shown("https"), "the https engine by its name on the dashboard")
  T.check(all:find("end of lesson 7", 1, true), "the end line")
end

-- lesson 6 part 3: parts 1 and 2 run silently (their state is there: the
-- checksum is over the packet they received), the screen starts at part 3
function cases.lesson6_part3_80()
  local screens = run_lesson("6 part 3", 80, 24)
  local all = table.concat(screens, "\n")
  T.check(not all:find("Part 1.", 1, true) and not all:find("Part 2.", 1, true),
    "parts 1 and 2 silent:\n" .. all)
  T.check(all:find("Part 3. read in place", 1, true), "part 3's heading")
  T.check(all:find("=> checksum good: 20000 bytes touched, 0 bytes copied", 1, true),
    "part 3's result over the packet parts 1 and 2 received:\n" .. all)
  T.check(all:find("=> 2 frames went back, 3 stayed held", 1, true), "part 8's result")
  for _, s in ipairs(screens) do
    for line in s:gmatch("[^\n]+") do
      T.check(#line <= 80, "a line of " .. #line .. " columns: " .. line)
    end
  end
end

-- lesson 8 without dpdk: one line saying what it needs and how to run it,
-- nothing run on the simulator, the prompt back
function cases.lesson8_sim_one_line()
  local screens = run_lesson("8", 80, 24, "run: lesson 8 dpdk")
  local last = screens[#screens]
  T.check(last:find("sim: lesson 8 needs DPDK (mbuf chains, extbuf, GSO) - run: lesson 8 dpdk", 1, true),
    "the one line:\n" .. last)
  T.check(not last:find("Part 1.", 1, true), "no part ran:\n" .. last)
end

-- lesson 5 at 80x24 and 160x48: the six strategies' result lines, the
-- six-ledger table whole on one screen under its heading (the pause before
-- part 8 keeps it there), the closing paragraph whole at the last pause,
-- the engines by strategy on the dashboard, no ok: line, nothing too wide
local function lesson5(cols, rows)
  local screens = run_lesson("5", cols, rows)
  local all = table.concat(screens, "\n")
  for _, s in ipairs(screens) do
    for line in s:gmatch("[^\n]+") do
      T.check(#line <= cols, "a line of " .. #line .. " columns: " .. line)
      T.check(not line:match("^%s*ok:"), "an ok: line without --check: " .. line)
    end
  end
  for _, want in ipairs({ "=> 138 segments in 138 descriptors, 196608 bytes copied",
    "=> 138 segments, 65536 bytes copied (the staging, once), 131072 referenced",
    "0 bytes copied: the payload was sent where it lies", "(every one a chain), 0 bytes copied",
    "=> 9 large packets became 138 segments on the wire", "=> 9 large packets cut into 138 segments in software" }) do
    -- a result cut at the width goes on under "=> ": compare without the cuts
    T.check(all:gsub("%s+", " "):find(want, 1, true), "a result line: " .. want .. "\n" .. all)
  end
  local table_whole
  for _, s in ipairs(screens) do
    if s:find("Part 7. the six ledgers side by side", 1, true) and s:find("touched (csum)", 1, true) then
      table_whole = s
    end
  end
  T.check(table_whole, "part 7's heading and its table on one screen:\n" .. all)
  T.check(table_whole:find("\n +copy +reuse +born +sg +tso +gso\n"), "the columns:\n" .. table_whole)
  T.check(table_whole:find("\ncopied +196608 +65536 +0 +0 +0 +0\n"), "copied per strategy:\n" .. table_whole)
  T.check(table_whole:find("\nheaders: NIC/sw +0 +0 +0 +0 +9108 +9108\n"), "the NIC's and gso's headers")
  local last_pause
  for _, s in ipairs(screens) do
    if not last_pause and s:find("end of lesson 5 - press Enter", 1, true) then last_pause = s end
  end
  T.check(last_pause and last_pause:find("Part 8. what each costs", 1, true)
    and last_pause:find("AF_XDP%s+multi%-buffer") and last_pause:find("unless the NIC fills them", 1, true),
    "part 8 whole at the last pause:\n" .. tostring(last_pause))
  for _, name in ipairs({ "copy", "reuse", "born", "sg", "tso", "gso" }) do
    -- drawn in full or on one line, maybe in the second column (160 wide)
    T.check(all:find("%-%- " .. name .. " %(sim%)") or all:find("%f[%w]" .. name .. " +zerocopy "),
      name .. " by its name on the dashboard")
  end
end
function cases.lesson5_80() lesson5(80, 24) end
function cases.lesson5_160() lesson5(160, 48) end

-- every_N: lesson N at 80x24 as a class sees it: every part's heading
-- (as many as the lesson prints when run as a script) and at least one
-- result line (=>) per part on the screens, no line past 80 columns, no
-- ok: line, and the end pause with the dashboard still on screen.
local function every(n)
  local L = require "ringlab.lesson"
  local path
  for _, l in ipairs(L.lessons()) do if l.n == n then path = l.path end end
  T.check(path, "lesson " .. n .. " exists")
  local p = assert(io.popen(string.format("NO_COLOR=1 '%s' '%s' 2>&1", ringlab, path)))
  local script = p:read("a")
  p:close()
  local parts = 0
  for k in script:gmatch("\nPart (%d+)%. ") do parts = math.max(parts, tonumber(k)) end
  T.check(parts >= 2, "lesson " .. n .. " has parts:\n" .. script)
  local screens = run_lesson(tostring(n), 80, 24)
  local heads, results = {}, {}
  for _, s in ipairs(screens) do
    for line in s:gmatch("[^\n]+") do
      T.check(#line <= 80, "lesson " .. n .. ": a line of " .. #line .. " columns: " .. line)
      T.check(not line:match("^%s*ok:"), "lesson " .. n .. ": an ok: line without --check: " .. line)
      local k = line:match("^Part (%d+)%. ")
      if k then heads[tonumber(k)] = true end
      if line:match("^%s*=> ") then results[line] = true end
    end
  end
  for k = 1, parts do
    T.check(heads[k], string.format("lesson %d: Part %d's heading never on screen:\n%s", n, k,
      table.concat(screens, "\n----\n")))
  end
  local nres = 0
  for _ in pairs(results) do nres = nres + 1 end
  T.check(nres >= parts, string.format("lesson %d: %d result lines for %d parts", n, nres, parts))
  local at_end
  for _, s in ipairs(screens) do
    -- the first such screen: after Enter the view's end scrolls it
    if not at_end and s:find("end of lesson " .. n .. " - press Enter", 1, true) then at_end = s end
  end
  T.check(at_end and (at_end:find("%-%- %S+ %(sim%)") or at_end:find(" engine +mode ")),
    "lesson " .. n .. ": the end pause with the dashboard:\n" .. tostring(at_end))
end
for _, n in ipairs({ 1, 2, 3, 4, 5, 6, 7, 9, 10, 11 }) do
  cases["every_" .. n] = function() every(n) end
end

-- lesson 12 (the kernel's own paths; root, its own testbed rlK3, made and
-- taken down by the lesson) at 80x24: every part's heading and result on
-- the screens, the measured sizes on the wire, nothing past 80 columns, no
-- ok: line, the end pause with the simulator's engine, no testbed left.
function cases.kernel12_80()
  local f = io.open("/proc/self/status")
  local st = f and f:read("a") or ""
  if f then f:close() end
  if not st:match("\nUid:%s+0%s") then
    print("SKIP: lesson 12 needs root")
    os.exit(77)
  end
  local L = require "ringlab.lesson"
  local path
  for _, l in ipairs(L.lessons()) do if l.n == 12 then path = l.path end end
  T.check(path, "lesson 12 exists")
  local p = assert(io.popen(string.format("NO_COLOR=1 '%s' '%s' testbed=rlK3 2>&1", ringlab, path)))
  local script = p:read("a")
  p:close()
  local parts = 0
  for k in script:gmatch("\nPart (%d+)%. ") do parts = math.max(parts, tonumber(k)) end
  T.check(parts >= 8, "lesson 12 has its parts:\n" .. script)
  local screens = run_lesson("12 testbed=rlK3", 80, 24)
  local heads, results = {}, 0
  local seen = {}
  for _, s in ipairs(screens) do
    for line in s:gmatch("[^\n]+") do
      T.check(#line <= 80, "lesson 12: a line of " .. #line .. " columns: " .. line)
      T.check(not line:match("^%s*ok:"), "lesson 12: an ok: line without --check: " .. line)
      local k = line:match("^Part (%d+)%. ")
      if k then heads[tonumber(k)] = true end
      if line:match("^%s*=> ") and not seen[line] then seen[line], results = true, results + 1 end
    end
  end
  for k = 1, parts do
    T.check(heads[k], string.format("lesson 12: Part %d's heading never on screen:\n%s", k,
      table.concat(screens, "\n----\n")))
  end
  T.check(results >= parts, string.format("lesson 12: %d result lines for %d parts", results, parts))
  -- results cut at the width go on under "=> ": compare without the cuts
  local all = table.concat(screens, "\n"):gsub("%s+", " ")
  for _, want in ipairs({ "=> write: 64 KiB in 2 calls, the kernel copied 64 KiB",
    "=> sendfile: 64 KiB in 2 calls, the kernel copied 0 B", "the probe says the pipe holds the program's pages",
    "=> 4 KiB sends: 64 sends,", "64 of 64 and 4 of 4 said COPIED",
    "Off: 44 UDP packets of 1472 B + 1 of 768 B. On: 1 UDP packet of 64768 B + 1 of 768 B",
    "=> TCP, TSO/GSO off: 45 TCP segments of 1448 B + 1 of 376 B",
    "TCP_ZEROCOPY_RECEIVE: 0 B mapped, 64 KiB copied by the kernel (its own report)",
    "=> kTLS: ", "=> the same 64 KiB: ringlab's sg on sim copied 0 bytes and referenced 65536" }) do
    T.check(all:find(want, 1, true), "lesson 12: on screen: " .. want .. "\n" .. table.concat(screens, "\n----\n"))
  end
  local at_end
  for _, s in ipairs(screens) do
    if not at_end and s:find("end of lesson 12 - press Enter", 1, true) then at_end = s end
  end
  T.check(at_end and at_end:find("%-%- sg %(sim%)"), "lesson 12: the end pause with sg on the dashboard:\n"
    .. tostring(at_end))
  local left = io.open("/var/run/netns/rlK3-lab")
  if left then left:close() end
  T.check(not left, "lesson 12 took its testbed rlK3 down")
end

local f = cases[case] or error("no case " .. tostring(case))
f()
T.done("lessons_in_tmux " .. case)
