-- Several queues on the live dashboard, in a real terminal (tmux), issue 14.3:
--   dpdk    open dpdk vdev=net_ring0 queues=2 at 80x24: watch shows one line
--           per queue (q0, q1, with each queue's packets) and the rings no
--           queue owns; every line fits 80 columns; at 160x48 each queue's
--           rings are drawn as bars with a queues line under them
--   afxdp   (root) a testbed made with queues=2, open afxdp queues=2 at 80x24:
--           both queues on the dashboard, the packet sent on queue 1 counted
--           on q1; the testbed is removed at the end
-- usage: ringlab queues_in_tmux.lua RINGLAB CASE (77 = skipped)
local T = require "common"
local X = require "tmux"

local ringlab, case = arg[1], arg[2]
X.skip_without_tmux()

local function lines_of(s)
  local out = {}
  for l in (s:gsub("\n$", "") .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

local function fits(s, cols, what)
  for _, l in ipairs(lines_of(s)) do
    T.check(#l <= cols, what .. ": a line of " .. #l .. " columns: " .. l)
  end
end

-- the dashboard at 80x24 with the engine's two queues, one line each
local function watch80(t, q1_tx)
  t.keys("watch", "Enter")
  local s = t.wait("both queues on the dashboard", function(s)
    return s:find("\n q0 ", 1, true) and s:find("\n q1 ", 1, true)
  end)
  T.check(s:find("\n q1 [^\n]* tx " .. q1_tx .. " pkts"), "q1 counts what was sent on queue 1:\n" .. s)
  T.check(s:find("\n q0 [^\n]* tx 0 pkts"), "q0 sent nothing:\n" .. s)
  T.check(#lines_of(s) <= 24, "the dashboard fits 24 rows")
  fits(s, 80, "watch at 80x24")
  t.keys("q")
  t.wait("the prompt back", function(s) return s:find("\nringlab%[[^\n]*>%s*$") ~= nil end)
  return s
end

local cases = {}

function cases.dpdk()
  local t = X.start(ringlab, 80, 24)
  t.wait("the prompt", X.has("ringlab>"))
  t.command("open dpdk vdev=net_ring0 queues=2 log=emergency")
  t.command("region frames=512")
  t.command("fill 64")
  t.command("send udp 198.18.0.2:9999 hello queue=1")
  local s = watch80(t, 1)
  T.check(s:find("\n all mempool", 1, true), "the rings no queue owns, on one line:\n" .. s)
  -- wider: the bars, and the queues line
  t.tmux("resize-window -t " .. t.sess .. " -x 160 -y 48")
  t.keys("watch", "Enter")
  s = t.wait("bars of both queues", function(s)
    return s:find("\n rxq0 ", 1, true) and s:find("\n txq1 ", 1, true) and s:find("\n queues  q0", 1, true)
  end)
  T.check(s:find("q1 rx 1 tx 1 pkts", 1, true), "the queues line counts queue 1's packet:\n" .. s)
  fits(s, 160, "watch at 160x48")
  t.keys("q")
  t.finish()
end

function cases.afxdp()
  if io.open("/proc/self/status"):read("a"):match("\nUid:%s+(%d+)") ~= "0" then
    print("SKIP: needs root")
    os.exit(77)
  end
  local tb = lab.testbed
  tb.down { name = "rlQ3", force = true }
  local st = tb.up { name = "rlQ3", queues = 2 }
  T.eq(st.queues, 2, "the testbed has 2 queues")
  local ok, err = pcall(function()
    local t = X.start(ringlab .. " --netns rlQ3-lab", 80, 24)
    t.wait("the prompt", X.has("ringlab>"))
    t.command("open afxdp ifname=rlQ30 queues=2 mode=copy steer=9000")
    t.command("region")
    local s = t.command("fill 64")
    T.check(s:find("offered 64 frames to the NIC (fill0 32 of 2048, fill1 32 of 2048)", 1, true),
      "fill spreads over both fill rings:\n" .. s)
    t.command("send udp 198.18.0.2:9999 hello queue=1")
    watch80(t, 1)
    t.finish()
  end)
  tb.down { name = "rlQ3", force = true }
  if not ok then error(err, 0) end
end

T.check(cases[case], "no case " .. tostring(case))
cases[case]()
T.done("queues_in_tmux " .. case)
