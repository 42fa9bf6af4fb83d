-- Lesson 8: DPDK chains, external buffers and GSO
-- an mbuf chain over a buffer born in the region, on DPDK's net_ring0
--
-- DPDK describes a packet as a chain of mbufs. ringlab's region is the
-- mempool's memory, so a buffer born there (r:alloc) goes out as a chain
-- whose data pointers are the buffer itself: nothing is copied. On
-- net_ring0 (a port that receives what it sends, in memory) the packet
-- comes back at the very same addresses, and the PMD's copies are
-- measured: zero. Then application memory outside the mempool sent as
-- external buffers, and one large packet cut by DPDK's GSO.
-- Run: ringlab scripts/lessons/08-dpdk-chains.lua dpdk   (or: lesson 8 dpdk)
local L = require "ringlab.lesson"
local which = L.args(...).engine

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

L.part("external buffers: application memory sent where it lies")
-- A second port wired to the first (peer=): what e sends, rx receives.
-- The data is a Lua string - application memory, not in any mempool.
-- strategy="extbuf" registers it with DPDK (rte_extmem_register) and
-- attaches each MSS slice to an mbuf (rte_pktmbuf_attach_extbuf) chained
-- behind a header mbuf from the region: the payload is never copied. When
-- the PMD is done, DPDK's free callback hands each slice back.
local rx = lab.open("dpdk", { peer = e, log = "emergency" })
if not rx then return end
rx:region { frames = 64, frame_size = 2048, headroom = 256 }
local N = 16384
local body = string.rep("external ", N // 9 + 1):sub(1, N)
local segs = lab.segment(body, { strategy = "extbuf", engine = e, dst = "198.18.0.2:8080" })
L.eq(#segs, 12, "TCP segments for 16384 bytes at MSS 1448")
local function move(s)
  local got = {}
  for _ = 1, 200 do
    s:tx(e)
    e:kick()
    for _, q in ipairs(rx:rx(64)) do
      local d = q:dissect()
      got[#got + 1] = { seq = d.tcp.seq, data = q:payload() }
      q:release()
    end
    e:complete()
    local i = s:info()
    if i.next == i.count and (i.extbuf_out or 0) == 0 and e:owners().nic == 0 then break end
  end
  table.sort(got, function(x, y) return x.seq < y.seq end)
  local parts = {}
  for i, g in ipairs(got) do parts[i] = g.data end
  return table.concat(parts), #got
end
local data, n = move(segs)
L.eq(n, 12, "segments received by the peer port")
L.check(data == body, "the body arrived intact")
local l, info = segs:ledger(), segs:info()
L.eq(l.copied, 0, "bytes the lab copied to send it")
L.eq(l.referenced, N, "bytes sent where the application keeps them")
L.eq(info.extbuf_back, 12, "slices handed back by DPDK's free callback")
segs:free()

L.part("GSO: one large packet in, MSS-sized packets out")
-- rte_gso_segment cuts a large TCP packet into wire-sized ones: it writes
-- a fresh header per piece (copied headers) and points indirect mbufs at
-- the original payload (no payload copy).
local big = r:alloc(N)
big:write(0, body)
segs = lab.segment(big, { strategy = "gso", engine = e, dst = "198.18.0.2:8080", max = 12 * 1448 })
L.eq(#segs, 1, "large packets handed to the engine")
data, n = move(segs)
L.eq(n, 12, "wire packets after GSO")
L.check(data == body, "the body arrived intact")
l = segs:ledger()
L.eq(l.copied, 0, "payload bytes copied")
L.eq(l.headers, 13 * 54, "header bytes: the lab's 1 and GSO's 12")
segs:free()
big:free()
L.conserved(rx)
rx:close()
L.conserved(e)

L.part("not every port can chain: ask it first (show caps)")
-- Chains need RTE_ETH_TX_OFFLOAD_MULTI_SEGS, and not every PMD offers it:
-- net_null does not. e:info().caps is what this port can do as it is
-- open, and caps_why says why not; lab.segment asks it before building
-- anything. A plain one-frame packet still goes, and without its chain
-- machinery DPDK's free is cheaper still: the mbuf goes marked direct
-- (tx_direct_mbufs), so the free skips the path for external buffers.
local null = lab.open("dpdk", { vdev = "net_null0", log = "emergency" })
if not null then return end
local nr = null:region { frames = 64, frame_size = 2048, headroom = 256 }
local ci = null:info()
print("   net_null: sg " .. tostring(ci.caps.sg) .. ", extbuf " .. tostring(ci.caps.extbuf)
  .. ", gso " .. tostring(ci.caps.gso))
print("   why: " .. ci.caps_why)
L.check(not ci.caps.sg and ci.caps_why:find("MULTI_SEGS", 1, true), "net_null says it cannot chain, and why")
L.check(e:info().caps.sg, "net_ring can")
local ok, err = pcall(lab.segment, body, { strategy = "extbuf", engine = null, dst = "198.18.0.2:8080" })
L.check(not ok and tostring(err):find("MULTI_SEGS", 1, true), "extbuf refused before anything was built")
local one = lab.packet.udp { src = "198.18.0.1:9000", dst = "198.18.0.2:9999", payload = "one frame", region = nr }
L.eq(null:tx(one), 1, "a plain packet goes")
null:complete()
L.eq(null:stats().tx_direct_mbufs, 1, "its mbuf went marked direct")
L.conserved(null)
null:close()
L.done("8")
