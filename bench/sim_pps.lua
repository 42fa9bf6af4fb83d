-- sim_pps.lua - packets per second through two simulator engines back to
-- back, driven by a Lua loop that works in batches, as a script would.
--
--   ringlab bench/sim_pps.lua [seconds] [batch] [mode] [style] [out=PATH]
--
-- style=batch (default): one lab.batch handle holds `batch` packets; each
-- round bt:udp() builds the same 64-byte UDP packet into every free frame
-- of the batch (payload copied, headers written), bt:tx() queues them, the
-- sender kicks and collects completions, and the receiver's batch takes
-- them off its rx ring (bt:rx) and releases them; e:fill() keeps its fill
-- ring stocked. style=packets: the same with one packet handle per packet
-- (lab.packet.udp, e:tx({...}), e:rx()), to show what the handles cost.
-- bench/sim.sh runs this next to the C benchmark and prints the ratios;
-- bench/watch.sh runs it in tmux with and without the dashboard (out=PATH:
-- the result line goes to that file too, as the screen is the dashboard's).

local secs = tonumber(arg[1]) or 2
local size = math.tointeger(tonumber(arg[2])) or 64
local mode = arg[3] or "copy"
local style = arg[4] or "batch"
-- out=PATH (bench/watch.sh): the result line goes to that file too, for a
-- run inside a terminal (tmux) whose screen is the dashboard's
local out_path = arg[5] and arg[5]:match("^out=(.+)$")

local a = lab.open("sim", { mode = mode })
local b = lab.open("sim", { mode = mode, peer = a })
local ra = a:region { frames = 4096, frame_size = 2048, headroom = 256 }
b:region { frames = 4096, frame_size = 2048, headroom = 256 }

local spec = { src = "198.18.0.1:9000", dst = "198.18.0.2:9999", payload = string.rep("x", 64 - 42) }
local got = 0
local round

if style == "batch" then
  local out, inb = lab.batch(a, size), lab.batch(b, size)
  out:udp(spec, 0) -- remember the packet; build none yet
  round = function()
    out:udp()
    out:tx()
    a:kick()
    a:complete()
    b:fill()
    got = got + inb:rx()
    inb:release()
  end
elseif style == "packets" then
  local udp, pkts = lab.packet.udp, {}
  spec.region = ra
  round = function()
    for i = 1, size do pkts[i] = udp(spec) end
    a:tx(pkts)
    a:kick()
    a:complete()
    b:fill()
    local rx = b:rx(size)
    for i = 1, #rx do rx[i]:release() end
    got = got + #rx
  end
else
  error("style must be batch or packets, not " .. style, 0)
end

local t0, c0, t = lab.now(), os.clock()
repeat
  for _ = 1, 16 do round() end
  t = lab.now() - t0
until t >= secs
local cpu = os.clock() - c0

for _, e in ipairs { a, b } do
  local o = e:owners()
  assert(o.app + o.fill + o.nic + o.rx + o.tx + o.comp == o.frames, "owners not conserved")
end
local line = string.format("lua %s loop, sim %s mode, batch %d: %.3f Mpps (%d packets in %.2f s; %.3f Mpps per CPU-second)",
  style, mode, size, got / t / 1e6, got, t, cpu > 0 and got / cpu / 1e6 or 0)
print(line)
if out_path then
  local f = assert(io.open(out_path, "w"))
  f:write(line, "\n")
  f:close()
end
b:close()
a:close()
