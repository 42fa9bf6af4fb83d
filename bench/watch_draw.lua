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
-- Runs in a terminal (bench/watch.sh starts it in tmux); writes one line
-- to PATH: "draw SIZE: X ms per frame (CPU), Y% of one CPU at 10 frames a
-- second".
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
  round = function() o:udp() o:tx() a:kick() a:complete() b:fill() i:rx() i:release() end
else
  local e = lab.open("afxdp", { ifname = arg[3], mode = "copy", steer = "all" })
  e:region { frames = 4096, frame_size = 2048, headroom = 256 }
  local o = lab.batch(e, 256)
  o:udp(spec, 0)
  round = function() o:udp() o:tx() e:kick() e:complete() end
end
local spent = 0
W.live(function()
  for _ = 1, 200 do round() end
  for _ = 1, N do
    for _ = 1, 20 do round() end
    local c0 = os.clock()
    W.redraw()
    spent = spent + os.clock() - c0
  end
end, { interval = 60, what = "watch_draw" })
local rows, cols = term.size()
local f = assert(io.open(out_path, "w"))
f:write(string.format("draw %dx%d: %.3f ms per frame (CPU), %.1f%% of one CPU at 10 frames a second\n",
  cols, rows, spent / N * 1e3, spent / N * 10 * 100))
f:close()
for _, e in ipairs(lab.opened()) do e:close() end
