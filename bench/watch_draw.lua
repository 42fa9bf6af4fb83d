-- watch_draw.lua - what one frame of the live dashboard costs, measured
-- inside the process: the workload of bench/watch.sh runs under the
-- dashboard (watch.lua's W.live, its own redraws held off), and between
-- its rounds the dashboard is drawn N times by hand (W.redraw: sample
-- every engine, lay the frame out, write it); the CPU time of the draws
-- alone (os.clock around each) over N.
--
--   ringlab bench/watch_draw.lua out=PATH sim
--   ringlab --netns NS bench/watch_draw.lua out=PATH afxdp IFNAME
--
-- Runs in a terminal (bench/watch.sh starts it in tmux); writes two lines
-- to PATH: "draw SIZE: X ms per frame (CPU), Y% of one CPU at 5 frames a
-- second" and "interleaved SIZE: ... lost Z%" (below).
local W = require "ringlab.watch"
local term = require "ringlab.term"
local out_path = arg[1] and arg[1]:match("^out=(.+)$")
local kind = arg[2] or "sim"
assert(out_path, "usage: ringlab bench/watch_draw.lua out=PATH sim|afxdp [IFNAME]")
local N, spec = 200, { src = "198.18.0.1:9000", dst = "198.18.0.2:9", payload = string.rep("x", 22),
  dst_mac = "02:00:00:00:00:02" }
local round
if kind == "sim" then
  local a = lab.open("sim", { mode = "copy" })
  local b = lab.open("sim", { mode = "copy", peer = a })
  a:region { frames = 4096, frame_size = 2048, headroom = 256 }
  b:region { frames = 4096, frame_size = 2048, headroom = 256 }
  local o, i = lab.batch(a, 64), lab.batch(b, 64)
  o:udp(spec, 0)
  round = function()
    o:udp() o:tx() a:kick() a:complete() b:fill()
    local got = i:rx()
    i:release()
    return got
  end
else
  local e = lab.open("afxdp", { ifname = arg[3], mode = "copy", steer = "all" })
  e:region { frames = 4096, frame_size = 2048, headroom = 256 }
  local o = lab.batch(e, 256)
  o:udp(spec, 0)
  round = function() o:udp() o:tx() e:kick() return e:complete() end
end
local spent = 0
-- Then the same loop in slices of 0.25 s, every other one with the
-- dashboard redrawn five times a second by the count hook (as W.live does:
-- term.hook, W.redraw) and every other one with no hook at all: slices
-- this short, interleaved, see the same load from the rest of the
-- machine, so their packets per second compare where two separate runs
-- do not. arg[4] pairs (default 24); the median of the pairs' ratios.
local SLICE, pairs_n = 0.25, tonumber(arg[4]) or 24
local RATE = 0.2 -- W.live's interval: five frames a second
local rate, crate, ratio, cratio = {}, {}, {}, {}
W.live(function()
  for _ = 1, 200 do round() end
  for _ = 1, N do
    for _ = 1, 20 do round() end
    local c0 = os.clock()
    W.redraw()
    spent = spent + os.clock() - c0
  end
  for k = 1, 2 * pairs_n do
    local drawing = k % 2 == 0
    if drawing then term.hook(W.redraw, RATE) else term.unhook() end
    local n, t0, c0 = 0, lab.now(), os.clock()
    repeat
      for _ = 1, 16 do n = n + round() end
    until lab.now() - t0 >= SLICE
    rate[drawing], crate[drawing] = n / (lab.now() - t0), n / math.max(os.clock() - c0, 1e-6)
    if drawing then
      ratio[#ratio + 1], cratio[#cratio + 1] = rate[true] / rate[false], crate[true] / crate[false]
    end
  end
  term.unhook()
end, { interval = 60, what = "watch_draw" })
local rows, cols = term.size()
local f = assert(io.open(out_path, "w"))
f:write(string.format("draw %dx%d: %.3f ms per frame (CPU), %.1f%% of one CPU at 5 frames a second\n",
  cols, rows, spent / N * 1e3, spent / N / RATE * 100))
-- the median pair: a pair that other work hit harder on one side is an outlier
local function median(t)
  table.sort(t)
  return #t % 2 == 1 and t[(#t + 1) // 2] or (t[#t // 2] + t[#t // 2 + 1]) / 2
end
local r, cr = median(ratio), median(cratio)
f:write(string.format("interleaved %dx%d: with/without %.3f, lost %.1f%% (per CPU-second %.1f%%), the median of %d pairs of %.2f s slices\n",
  cols, rows, r, 100 * (1 - r), 100 * (1 - cr), pairs_n, SLICE))
f:close()
for _, e in ipairs(lab.opened()) do e:close() end
