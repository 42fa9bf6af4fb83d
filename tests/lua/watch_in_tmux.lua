-- The live view in a real terminal: ringlab runs inside a detached tmux
-- session of a fixed size (a private tmux server, killed at the end), keys
-- are sent with send-keys and the screen is read with capture-pane.
-- usage: ringlab watch_in_tmux.lua RINGLAB CASE
--   dashboard_numbers  the numbers on the `watch` screen are the ones
--                      e:rings(), e:stats() and e:owners() report; the
--                      per-packet line divides each path's part of the
--                      ledger by that path's packets
--   q_restores         q leaves: the prompt is back, no alternate screen,
--                      the cursor visible, and the shell still works
--   live_script        ringlab --watch script.lua: the dashboard is redrawn
--                      while the script's loop runs, its output below
-- Exits 77 (skipped) when tmux is not installed.
local T = require "common"

local ringlab, case = arg[1], arg[2]
if os.execute("command -v tmux >/dev/null 2>&1") ~= true then
  print("SKIP: needs tmux")
  os.exit(77)
end
local pid = io.open("/proc/self/stat"):read("l"):match("^(%d+)")
-- a directory of this run's own (mkdtemp): the tmux socket and the files
local dir = lab.tempdir()
local sock, sess = dir .. "/tmux", "w" .. pid

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  return out
end
local function tmux(args) return sh("tmux -S " .. sock .. " " .. args) end
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function keys(...)
  local t = {}
  for i, k in ipairs({ ... }) do t[i] = q(k) end
  tmux("send-keys -t " .. sess .. " " .. table.concat(t, " "))
end
local function screen() return tmux("capture-pane -p -t " .. sess) end

-- Poll the screen until ok(screen) is true, for up to secs seconds.
local function wait(what, ok, secs)
  local deadline, s = lab.now() + (secs or 10), ""
  repeat
    s = screen()
    if ok(s) then return s end
    lab.sleep(0.1)
  until lab.now() > deadline
  tmux("kill-server")
  error("timed out waiting for " .. what .. "; the screen was:\n" .. s, 2)
end
local function has(p) return function(s) return s:find(p, 1, true) ~= nil end end

local function start(cmd)
  tmux(string.format("new-session -d -s %s -x 120 -y 45 %s", sess, q(cmd)))
end

local function finish()
  tmux("kill-server")
  os.execute("rm -rf " .. dir)
end

-- A ringlab at the prompt with a simulator that has moved a few packets.
local function prompt_with_traffic()
  start(ringlab)
  wait("the prompt", has("ringlab>"))
  keys("open sim step=true", "Enter", "region frames=64 size=2048", "Enter", "fill 8", "Enter")
  for i = 1, 3 do keys("send udp 198.18.0.2:9999 packet-" .. i, "Enter") end
  keys("step 5", "Enter", "recv", "Enter")
  wait("the packets received", has("in `last`"))
end

local cases = {}

function cases.dashboard_numbers()
  prompt_with_traffic()
  local dump = dir .. "/dump.lua"
  local f = assert(io.open(dump, "w"))
  f:write(string.format([[
local f = assert(io.open(%q, "w"))
f:write("return ", require("ringlab.json").encode({ rings = e:rings(), stats = e:stats(), owners = e:owners() }))
f:close()
]], dir .. "/want.json"))
  f:close()
  keys(string.format("lua dofile(%q)", dump), "Enter")
  wait("the dump", function() return io.open(dir .. "/want.json") ~= nil end)
  lab.sleep(0.2)
  local json = io.open(dir .. "/want.json"):read("a")
  -- JSON objects read as Lua tables once ":" becomes "=" and keys lose quotes
  local want = load(json:gsub('"([%w_]+)":', "%1="):gsub("%[", "{"):gsub("%]", "}"))()
  keys("watch", "Enter")
  local s = wait("the dashboard", has("ringlab watch"))
  for name, r in pairs(want.rings) do
    local prod, cons, pend, size = s:match("\n " .. name .. "%s+%[[^%]]*%] prod (%d+) cons (%d+) pending (%d+)/(%d+)")
    T.check(prod, "ring " .. name .. " is on the screen:\n" .. s)
    T.eq(tonumber(prod), r.prod, name .. ".prod on screen")
    T.eq(tonumber(cons), r.cons, name .. ".cons on screen")
    T.eq(tonumber(pend), r.pending, name .. ".pending on screen")
    T.eq(tonumber(size), r.size, name .. ".size on screen")
  end
  for _, k in ipairs({ "copied", "referenced", "headers", "kernel_copied", "driver_copied", "touched" }) do
    local v = s:match("%f[%w_]" .. k .. " (%d+) B")
    T.check(v, "ledger " .. k .. " is on the screen:\n" .. s)
    T.eq(tonumber(v), want.stats.ledger[k], "ledger " .. k .. " on screen")
  end
  T.check(want.stats.ledger.kernel_copied > 0, "the copy-mode sim counted kernel copies")
  -- per packet, each path on its own: every packet is 42 header bytes and
  -- "packet-N" (50 bytes a frame). Three were built (126 header bytes, all
  -- on the send path) and the NIC took two in five steps, so 63 header
  -- bytes per packet sent and none per packet received; the kernel copied
  -- each frame once out and once in; the sim has no driver
  local per = s:match("B/pkt sent/recv:[^\n]*")
  T.check(per, "the per-packet line is on the screen:\n" .. s)
  T.eq(want.stats.tx_pkts .. " " .. want.stats.rx_pkts, "2 1", "the NIC sent two and one arrived in 5 steps")
  T.eq(want.stats.ledger.tx.headers .. " " .. want.stats.ledger.rx.headers, "126 0", "headers: 3 x 42, sent")
  T.check(per:find("hdrs 63/0 ", 1, true), "headers 126 / 2 sent, 0 / 1 received: " .. per)
  T.check(per:find("kern 50/50 ", 1, true), "kernel copies 50 per sent, 50 per received: " .. per)
  T.eq(want.stats.ledger.tx.kernel_copied, 50 * want.stats.tx_pkts, "kernel copies out: one frame a packet sent")
  T.eq(want.stats.ledger.rx.kernel_copied, 50 * want.stats.rx_pkts, "kernel copies in: one frame a packet received")
  T.check(not per:find("drv", 1, true), "no driver layer, no driver figure: " .. per)
  local o = want.owners
  T.check(s:find(string.format("fill %d  nic %d  rx %d  tx %d  comp %d  = %d", o.fill, o.nic, o.rx, o.tx, o.comp,
    o.frames), 1, true), "owner counts on screen:\n" .. s)
  local tx = s:match("totals tx (%d+) pkts")
  T.eq(tonumber(tx), want.stats.tx_pkts, "tx_pkts on screen")
  T.eq(tonumber(s:match("kicks (%d+)")), want.stats.kicks, "kicks on screen")
  T.eq(tonumber(s:match("steps (%d+)")), want.stats.steps, "the engine counter steps on screen")
  keys("q")
  wait("the prompt again", has("ringlab[sim#1]>"))
  finish()
end

function cases.q_restores()
  prompt_with_traffic()
  keys("clear", "Enter")
  keys("watch", "Enter")
  wait("the dashboard", has("ringlab watch"))
  T.eq(tmux("display -p -t " .. sess .. " '#{alternate_on}'"):match("%d"), "1", "watch uses the alternate screen")
  keys("q")
  local s = wait("the prompt after q", function(x) return not x:find("ringlab watch", 1, true) and x:find("ringlab[sim#1]> ", 1, true) end)
  T.eq(tmux("display -p -t " .. sess .. " '#{alternate_on} #{cursor_flag}'"):match("%d %d"), "0 1",
    "alternate screen off, cursor visible")
  keys("lua print(40 + 2)", "Enter")
  wait("the shell still answering", has("\n42"))
  -- Ctrl-C leaves too
  keys("watch", "Enter")
  wait("the dashboard again", has("ringlab watch"))
  keys("C-c")
  wait("the prompt after Ctrl-C", function(x) return not x:find("ringlab watch", 1, true) end)
  T.eq(tmux("display -p -t " .. sess .. " '#{alternate_on}'"):match("%d"), "0", "alternate screen off after Ctrl-C")
  finish()
end

function cases.live_script()
  local script = dir .. "/busy.lua"
  local f = assert(io.open(script, "w"))
  f:write([[
local e = lab.open("sim")
local r = e:region { frames = 256 }
e:fill(64)
local t0, n = lab.now(), 0
while lab.now() - t0 < 4 do   -- one long Lua loop: only the hook can redraw
  e:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = "busy", region = r })
  e:kick(); e:complete()
  local got = e:rx()
  for _, p in ipairs(got) do p:release() end
  e:fill(#got)
  n = n + 1
  if n % 20000 == 0 then print("script says: sent " .. n) end
end
print("script done after " .. n)
io.read("l")
]])
  f:close()
  start(ringlab .. " --watch " .. script)
  local first = wait("the dashboard while the script runs", has("running " .. script))
  local tx1 = tonumber(first:match("totals tx (%d+) pkts") or "0") -- then a later frame:
  local s = wait("a later frame with more packets", function(x)
    local tx = tonumber(x:match("totals tx (%d+) pkts") or "0")
    return tx > tx1 and x:find("rates   tx [%d%.]+[kMG]? pkt/s") and not x:find("script done", 1, true)
  end)
  s = wait("the script's output under the dashboard", has("script says: sent"))
  local dash_line, out_line
  local i = 0
  for line in s:gmatch("[^\n]*") do
    i = i + 1
    if line:find("running ", 1, true) then dash_line = dash_line or i end
    if line:find("script says", 1, true) then out_line = out_line or i end
  end
  T.check(dash_line and out_line and dash_line < out_line, "the dashboard is above the script's output:\n" .. s)
  wait("the script's end", has("script done"))
  keys("Enter")
  finish()
end

local fn = cases[case] or error("usage: ringlab watch_in_tmux.lua RINGLAB dashboard_numbers|q_restores|live_script")
local ok, err = pcall(fn)
if not ok then
  pcall(tmux, "kill-server")
  os.execute("rm -rf " .. dir)
  error(err, 0)
end
T.done("watch_in_tmux " .. case)
