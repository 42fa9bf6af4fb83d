-- Two simulators wired back to back: 10 000 UDP packets from a to b in
-- batches, each with its own payload, every byte checked on arrival; at
-- the end both regions conserve their frames and the counters agree.
local T = require "common"

local N, BATCH = 10000, 64
local a = lab.open("sim")
local b = lab.open("sim", { peer = a })
local ra = a:region { frames = 1024 }
b:region { frames = 4096 }
T.eq(b:fill(), 2048, "b:fill() fills the whole fill ring")

local function payload(i)
  return string.format("packet %05d|", i) .. string.rep(string.char(65 + i % 26), i % 300)
end

local sent, got = 0, 0
while got < N do
  local batch = {}
  for i = sent + 1, math.min(sent + BATCH, N) do
    batch[#batch + 1] = lab.packet.udp { src = "198.18.0.1:9000", dst = "198.18.0.2:9999",
      payload = payload(i), region = ra, id = i % 65536 }
  end
  if #batch > 0 then
    T.eq(a:tx(batch), #batch, "a:tx(batch)")
    sent = sent + #batch
    a:kick()
    T.eq(a:complete(), #batch, "a:complete()")
  end
  local pkts = b:rx(BATCH)
  T.check(#pkts > 0 or sent == N, "b received nothing after a batch")
  for _, p in ipairs(pkts) do
    got = got + 1
    local d = p:dissect()
    T.check(d.udp and d.udp.csum_ok and d.ip.csum_ok, "packet " .. got .. " checksums")
    T.eq(d.udp.dst_port, 9999, "dst port")
    local want = payload(got)
    local have = p:payload()
    if have ~= want then
      error(string.format("packet %d payload differs: %q vs %q", got, have:sub(1, 40), want:sub(1, 40)))
    end
    p:release()
  end
  if #pkts > 0 then b:fill(#pkts) end
end

T.eq(got, N, "packets received")
local sa, sb = a:stats(), b:stats()
T.eq(sa.tx_pkts, N, "a tx_pkts")
T.eq(sb.rx_pkts, N, "b rx_pkts")
T.eq(sa.drops + sb.drops, 0, "drops")
T.owners(a, { free = 1024 }, "a at the end")
T.owners(b, { fill = 2048, free = 2048 }, "b at the end")
a:close()
b:close()
T.done("sim_back_to_back_10000_udp")
