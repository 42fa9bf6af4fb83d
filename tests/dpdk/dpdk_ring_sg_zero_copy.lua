-- The DPDK engine from Lua, over net_ring0 (a port that receives what it
-- sends): a UDP packet over a buffer born in the region goes out as an
-- mbuf chain and comes back at the very same addresses, owners conserved,
-- and the PMD copies nothing (measured).
local T = require "common"

local e <close> = lab.open("dpdk", { vdev = "net_ring0", log = "emergency" })
local r = e:region { frames = 64, frame_size = 2048, headroom = 256 }
local b = r:alloc(3000)
local p = lab.packet.udp { src = "198.18.0.1:9000", dst = "198.18.0.2:9999", payload = b }
local sent = p:segments()
T.check(#sent >= 2, "a 3000-byte payload in 2048-byte frames is a chain")

T.eq(e:tx(p), 1, "tx")
T.owners(e, { nic = #sent }, "in net_ring's rte_ring")
T.eq(e:rings().ring.pending, 1, "ring.pending")

local got = e:rx(16)
T.eq(#got, 1, "packets received")
local back = got[1]:segments()
T.eq(#back, #sent, "segments")
for i, s in ipairs(sent) do
  T.eq(back[i].addr, s.addr, "segment " .. i .. " addr (the same buffer: no copy)")
  T.eq(back[i].len, s.len, "segment " .. i .. " len")
end
local d = got[1]:dissect()
T.check(d.udp_csum_ok ~= false, "the UDP checksum holds")
T.owners(e, {}, "all back with the app")

local s = e:stats()
T.eq(s.mode, "zerocopy", "mode")
T.eq(s.ledger.driver_copied, 0, "driver_copied")
T.check(s.ledger.driver_why:find("measured"), "driver_why says measured: " .. s.ledger.driver_why)
print("ok")
