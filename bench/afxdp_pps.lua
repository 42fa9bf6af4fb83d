-- afxdp_pps.lua - packets per second through the AF_XDP engine from a Lua
-- loop that works in batches of 64, as a script would.
--
--   ringlab --netns rlb-lab bench/afxdp_pps.lua txonly|rxdrop IFNAME SECONDS [key=value...]
--
-- txonly builds 64 64-byte UDP packets per round with lab.packet.udp (22
-- payload bytes copied, headers written, checksum computed), queues them
-- in one e:tx, kicks and completes. rxdrop keeps the fill ring topped up
-- and receives and releases 64 at a time. key=value: dst_mac= for txonly,
-- the rest are engine options. bench/afxdp.sh runs it next to the C
-- program and dpdk-testpmd.
local what, ifname, secs = arg[1], arg[2], tonumber(arg[3]) or 3
local opts, dst_mac = { ifname = ifname }, "02:00:00:00:00:02"
for i = 4, #arg do
  local k, v = arg[i]:match("^([%w_]+)=(.*)$")
  if k == "dst_mac" then dst_mac = v else opts[k] = v end
end
local e = lab.open("afxdp", opts)
local r = e:region { frames = 4096, frame_size = 2048, headroom = 256 }
local now, n = lab.now, 0

local spec = { src = "198.18.0.1:9000", dst = "198.18.0.2:9", payload = string.rep("x", 22),
  region = r, dst_mac = dst_mac }
local udp, pkts = lab.packet.udp, {}
local function tx_round()
  for i = 1, 64 do pkts[i] = udp(spec) end
  local sent = e:tx(pkts)
  for i = sent + 1, 64 do pkts[i]:release() end
  e:kick()
  n = n + e:complete()
end

local function rx_round()
  local got = e:rx(64)
  if #got == 0 then e:kick() return end
  for i = 1, #got do got[i]:release() end
  n = n + #got
  e:fill(#got)
end

if what == "rxdrop" then e:fill(2048) end
local round = what == "txonly" and tx_round or rx_round
local t0 = now()
repeat
  for _ = 1, 64 do round() end
until now() - t0 >= secs
local t = now() - t0
local o = e:owners()
assert(o.app + o.fill + o.nic + o.rx + o.tx + o.comp == o.frames, "owners not conserved")
print(string.format("afxdp Lua %s: %.3f Mpps (%d packets in %.2f s)", what, n / t / 1e6, n, t))
e:close()
