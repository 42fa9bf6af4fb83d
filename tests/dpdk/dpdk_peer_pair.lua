-- Two DPDK engines back to back (peer=): a is net_ring0, b is wired to it
-- over two rte_rings and shares its region. What a sends, b receives at
-- the very addresses a sent from (measured: no copy), and a no longer
-- hears itself. Owners are conserved in the one region.
local T = require "common"

local a <close> = lab.open("dpdk", { vdev = "net_ring0", log = "emergency" })
local r = a:region { frames = 64, frame_size = 2048, headroom = 256 }
local b <close> = lab.open("dpdk", { peer = a, log = "emergency" })
b:region { frames = 64, frame_size = 2048, headroom = 256 } -- a's region

local p = lab.packet.udp { src = "198.18.0.1:9000", dst = "198.18.0.2:9999", payload = r:alloc(1000) }
local sent = p:segments()
T.eq(a:tx(p), 1, "a:tx")
T.eq(#a:rx(16), 0, "a does not hear itself any more")
local got = b:rx(16)
T.eq(#got, 1, "b received")
local back = got[1]:segments()
T.eq(#back, #sent, "segments")
for i, s in ipairs(sent) do
  T.eq(back[i].addr, s.addr, "segment " .. i .. " at a's address (no copy)")
end
T.check(got[1]:dissect().udp_csum_ok ~= false, "the UDP checksum holds")
T.conserved(a, "a after the exchange")
T.conserved(b, "b after the exchange")
local s = b:stats()
T.eq(s.ledger.driver_copied, 0, "driver_copied")
T.check(s.ledger.driver_why:find("measured") and s.ledger.driver_why:find("peer"),
  "driver_why: " .. s.ledger.driver_why)
T.eq(b:rings().wire.size > 0, true, "b shows its wire ring")
print("ok")
