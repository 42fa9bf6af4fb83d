-- Lesson 9: forwarding between two ports without a copy
-- two regions need a copy per packet; one shared region forwards the frames
--
-- A forwarder receives on one port and transmits on another. If the two
-- ports have separate packet memory (two simulators, two AF_XDP sockets
-- with their own UMEMs), each packet must be copied from one region to
-- the other. If they share one region (AF_XDP shared UMEM, one DPDK
-- mempool for both ports, XDP_TX), the received frame itself is
-- transmitted: zero copies. Both are run here, and the ledger is honest.
-- Run: ringlab scripts/lessons/09-forward.lua [dpdk]   (or: lesson 9)
local L = require "ringlab.lesson"
local which = L.args(...).engine
local N = 20

L.title("Lesson 9: forwarding between two ports without a copy")

-- src -> in ... forwarder ... out -> dst (two back-to-back pairs)
local src = lab.open("sim", { mode = "zerocopy" })
local port_in = lab.open("sim", { mode = "zerocopy", peer = src })
local port_out = lab.open("sim", { mode = "zerocopy" })
local dst = lab.open("sim", { mode = "zerocopy", peer = port_out })
local rsrc, rin, rout = src:region { frames = 64 }, port_in:region { frames = 64 }, port_out:region { frames = 64 }
dst:region { frames = 64 }
port_in:fill(32)
dst:fill(32)

local function send_from_src(n)
  for i = 1, n do src:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = string.format("packet %03d", i), region = rsrc }) end
  src:kick()
  src:complete()
end

L.part("two ports, two regions: the forwarder must copy")
send_from_src(N)
local c0 = port_out:stats().ledger.copied + port_in:stats().ledger.copied
local fwd = 0
for _, p in ipairs(port_in:rx(64)) do
  local ok = pcall(port_out.tx, port_out, p)
  L.check(not ok, "port_out refuses a packet that lives in port_in's region") 
  local copy = lab.packet.udp { dst = "198.18.0.3:9999", payload = p:payload(), region = rout }
  port_out:tx(copy)
  p:release()
  fwd = fwd + 1
  if fwd == 1 then print("   (the other packets the same way)") end
end
port_out:kick()
port_out:complete()
local got = dst:rx(64)
L.eq(#got, N, "packets at the far end")
local copied = port_out:stats().ledger.copied + port_in:stats().ledger.copied - c0
print(string.format("   copied %d bytes: out of port_in's frame and into port_out's (%d per packet)", copied, copied // N))
L.eq(copied, 2 * 10 * N, "copied (10-byte payloads, out and in)")
for _, p in ipairs(got) do p:release() end

L.part("one region for both directions: forward the received frames themselves")
local fw, fwpeer
if which == "dpdk" then
  fw = L.open("dpdk")
  if not fw then return end
  fw:region { frames = 64 }
else
  fwpeer = lab.open("sim", { mode = "zerocopy" })
  fw = lab.open("sim", { mode = "zerocopy", peer = fwpeer })
  fwpeer:region { frames = 64 }
  fw:region { frames = 64 }
  fw:fill(32)
  fwpeer:fill(32)
end
local rf = fw:region()
if which == "dpdk" then
  for i = 1, N do fw:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = string.format("packet %03d", i), region = rf }) end
else
  for i = 1, N do fwpeer:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = string.format("packet %03d", i), region = fwpeer:region() }) end
  fwpeer:kick()
  fwpeer:complete()
end
local c1 = fw:stats().ledger.copied
local pkts = fw:rx(64)
L.eq(#pkts, N, "packets received on the forwarder")
local addrs = {}
for i, p in ipairs(pkts) do addrs[i] = p:segments()[1].addr end
L.eq(fw:tx(pkts), N, "the same packets queued for transmit")
fw:kick()
L.eq(fw:stats().ledger.copied - c1, 0, "bytes copied to forward them")
if which == "dpdk" then
  local again = fw:rx(64) -- net_ring0 loops them back: the same frames again
  L.eq(again[1] and again[1]:segments()[1].addr, addrs[1], "the forwarded frame is the received frame")
  for _, p in ipairs(again) do p:release() end
else
  fw:complete()
  local far = fwpeer:rx(64)
  L.eq(#far, N, "packets at the far end")
  L.eq(far[1]:payload(), "packet 001", "first payload")
  for _, p in ipairs(far) do p:release() end
end
L.conserved(fw)
L.done("9")
