-- afxdp_pps.lua - packets per second through the AF_XDP engine from a Lua
-- loop that works in batches, as a script would.
--
--   ringlab --netns rlb-lab bench/afxdp_pps.lua txonly|rxdrop IFNAME SECONDS [key=value...]
--
-- The loop drives a lab.batch (shell/lab/batch.c): one handle for `batch`
-- packets, no userdata per packet. txonly: bt:udp() fills the batch with
-- 64-byte UDP packets (the packet is built once - headers, 22 payload
-- bytes, checksum - and copied into each frame), bt:tx() queues them, then
-- e:kick() and e:complete(). rxdrop keeps the fill ring topped up, and
-- receives into the batch and releases it. key=value: dst_mac= and
-- batch=N (default 256) for the loop, style=packets for the old loop over
-- one lab.packet.udp handle per packet, out=PATH to write the result line
-- to that file too (bench/watch.sh runs it in tmux, under the dashboard);
-- the rest are engine options.
-- bench/afxdp.sh runs it next to the C program and dpdk-testpmd.
local what, ifname, secs = arg[1], arg[2], tonumber(arg[3]) or 3
local opts, dst_mac, size, style, out_path = { ifname = ifname }, "02:00:00:00:00:02", 256, "batch", nil
for i = 4, #arg do
  local k, v = arg[i]:match("^([%w_]+)=(.*)$")
  if k == "dst_mac" then dst_mac = v
  elseif k == "batch" then size = tonumber(v)
  elseif k == "style" then style = v
  elseif k == "out" then out_path = v
  else opts[k] = v end
end
local e = lab.open("afxdp", opts)
local r = e:region { frames = 4096, frame_size = 2048, headroom = 256 }
local now, n = lab.now, 0
local spec = { src = "198.18.0.1:9000", dst = "198.18.0.2:9", payload = string.rep("x", 22),
  dst_mac = dst_mac }
local bt = lab.batch(e, size)

local function tx_round()
  bt:udp() -- the same packet again, into as many free frames as fit
  bt:tx()
  e:kick()
  n = n + e:complete()
end

-- e:fill() with no count offers as many free frames as the fill ring has
-- room for: the kernel publishes its fill consumer index lazily, so right
-- after a receive the ring may not show room for all of them yet.
local function rx_round()
  local got = bt:rx()
  if got == 0 then e:kick() return end
  bt:release()
  n = n + got
  e:fill()
end

-- The loop before lab.batch: one packet handle per packet.
local udp, pkts = lab.packet.udp, {}
spec.region = r
local function tx_round_packets()
  for i = 1, size do pkts[i] = udp(spec) end
  local sent = e:tx(pkts)
  for i = sent + 1, size do pkts[i]:release() end
  e:kick()
  n = n + e:complete()
end

local function rx_round_packets()
  local got = e:rx(size)
  if #got == 0 then e:kick() return end
  for i = 1, #got do got[i]:release() end
  n = n + #got
  e:fill()
end

if what == "txonly" then
  spec.region = nil
  bt:udp(spec, 0) -- remember the packet, build none yet
  spec.region = r
else
  e:fill(2048)
end
local round
if style == "packets" then
  round = what == "txonly" and tx_round_packets or rx_round_packets
else
  round = what == "txonly" and tx_round or rx_round
end
local t0, c0 = now(), os.clock()
repeat
  for _ = 1, 64 do round() end
until now() - t0 >= secs
local t, cpu = now() - t0, os.clock() - c0
bt:release()
local o = e:owners()
assert(o.app + o.fill + o.nic + o.rx + o.tx + o.comp == o.frames, "owners not conserved")
local line = string.format("afxdp Lua %s: %.3f Mpps (%d packets in %.2f s; %.3f Mpps per CPU-second)",
  what, n / t / 1e6, n, t, cpu > 0 and n / cpu / 1e6 or 0)
print(line)
if out_path then
  local f = assert(io.open(out_path, "w"))
  f:write(line, "\n")
  f:close()
end
e:close()
