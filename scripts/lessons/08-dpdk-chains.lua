-- Lesson 8: DPDK chains, external buffers and GSO
-- an mbuf chain over a buffer born in the region, on DPDK's net_ring0
--
-- DPDK describes a packet as a chain of mbufs. ringlab's region is the
-- mempool's memory, so a buffer born there (r:alloc) goes out as a chain
-- whose data pointers are the buffer itself: nothing is copied. On
-- net_ring0 (a port that receives what it sends, in memory) the packet
-- comes back at the very same addresses, and the PMD's copies are
-- measured: zero.
-- Run: ringlab scripts/lessons/08-dpdk-chains.lua dpdk   (or: lesson 8 dpdk)
local L = require "ringlab.lesson"
local which = ...

L.title("Lesson 8: DPDK chains, external buffers and GSO")
if which ~= "dpdk" then
  L.say [[
    This lesson needs DPDK: its mbuf chains, extbuf and GSO are DPDK's own.
    The simulator's chains are shown in lessons 5 and 6. Run it with:
      lesson 8 dpdk      (or: ringlab scripts/lessons/08-dpdk-chains.lua dpdk)]]
  print("SKIP: lesson 8 runs on dpdk only")
  return
end
local e = L.open("dpdk")
if not e then return end
local r = e:region { frames = 64, frame_size = 2048, headroom = 256 }

L.part("a 3000-byte buffer born in the mempool's memory, sent as a chain")
local b = r:alloc(3000)
b:fill("dpdk ")
local p = lab.packet.udp { src = "198.18.0.1:9000", dst = "198.18.0.2:9999", payload = b }
local sent = p:segments()
for i, s in ipairs(sent) do print(string.format("   mbuf %d: addr %d len %d%s", i, s.addr, s.len, s.contd and " (next ->)" or "")) end
L.check(#sent >= 2, "3000 bytes in 2048-byte mbufs are a chain")
local copied = e:stats().ledger.copied
L.eq(e:tx(p), 1, "packets handed to rte_eth_tx_burst")

L.part("net_ring0 gives it back: the same mbufs, the same addresses")
local got = e:rx(16)
L.eq(#got, 1, "packets received")
local back = got[1]:segments()
for i, s in ipairs(sent) do L.eq(back[i].addr, s.addr, "segment " .. i .. " address") end
local st = e:stats()
L.eq(st.ledger.copied, copied, "bytes the lab copied to send it")
L.eq(st.ledger.driver_copied, 0, "bytes the PMD copied (" .. st.ledger.driver_how .. ")")
got[1]:release()

L.part("external buffers and GSO")
L.say [[
  extbuf: memory outside the mempool attached to an mbuf
  (rte_pktmbuf_attach_extbuf) behind a header mbuf - the data is sent
  where the application keeps it. GSO: rte_gso_segment cuts one large TCP
  packet into MSS pieces whose payload mbufs are indirect (referencing the
  original), so only headers are written. The dpdk engine implements
  both (engines/dpdk/ext.c, tested by tests/dpdk); they are not bound to
  Lua yet, so this lesson shows the chain they are built from.]]
L.conserved(e)
L.done("8")
