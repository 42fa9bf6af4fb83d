-- Lesson 8: DPDK chains, external buffers and GSO
-- an mbuf chain over a buffer born in the region, on DPDK's net_ring0
--
-- The teaching is on the screen (L.part); this header only says how to run.
-- DPDK only (its mbuf chains, extbuf and GSO are DPDK's own). Engines:
-- "sender" (net_ring0, which also receives what it sends), "receiver" (a
-- second port wired to it, peer=) and "null" (net_null0, which cannot
-- chain); RX/TX queues of 32 descriptors.
-- Run: ringlab scripts/lessons/08-dpdk-chains.lua dpdk   (or: lesson 8 dpdk)
local L = require "ringlab.lesson"
local A = L.args(...)

L.title("Lesson 8: DPDK chains, external buffers and GSO")
if A.engine ~= "dpdk" then
  L.say((A.engine or "sim") .. ": lesson 8 needs DPDK (mbuf chains, extbuf, GSO)"
    .. " - run: lesson 8 dpdk")
  return
end

-- A DPDK port for the lesson: the lesson's options, then (the first port
-- only) the user's key=value words. One line and nil when DPDK cannot open here (there is
-- no simulator to fall back to: the lesson is DPDK's).
local function open(opts, user)
  local o = {}
  for k, v in pairs(L.defaults.dpdk) do
    if not (opts.peer and k == "vdev") then o[k] = v end -- peer= makes its own port
  end
  for k, v in pairs(opts) do o[k] = v end
  for _, kv in ipairs(A.extra) do
    local k, v = kv:match("^([%w_]+)=(.*)$")
    if k and user then o[k] = v end
  end
  if lab.get(o.name) then -- the lesson run again at the prompt: sender-2, ...
    local n = 2
    while lab.get(o.name .. "-" .. n) do n = n + 1 end
    o.name = o.name .. "-" .. n
  end
  local ok, e = pcall(lab.open, "dpdk", o)
  if not ok and user then
    print("SKIP: lesson 8 needs DPDK, which cannot open here: "
      .. tostring(e):gsub("^[^:]*:%d+: ", ""))
    return nil
  elseif not ok then -- the first port opened: this one must too
    error(string.format("lesson 8: the %s port did not open: %s", opts.name,
      tostring(e):gsub("^[^:]*:%d+: ", "")), 0)
  end
  return e
end

-- the engines the dashboard draws in full first (the framework's L.show)
local function show(...) if L.show then L.show(...) end end

local Q = { rx_desc = 32, tx_desc = 32 }
local e = open({ name = "sender", rx_desc = Q.rx_desc, tx_desc = Q.tx_desc }, true)
if not e then return end
local r = e:region { frames = 64, frame_size = 2048, headroom = 256 }

L.part("a 3000-byte buffer born in the mempool, sent as a chain", [[
  ringlab's region is the mempool's memory, so a buffer born there
  (r:alloc) already lies inside mbufs. 3000 bytes do not fit one 2048-byte
  mbuf: the packet is a chain, each mbuf's data pointer aimed at the buffer
  itself, and rte_eth_tx_burst takes the chain as it is.

  Dashboard: sender's copied is b:fill writing the data; refd the send.]])
local b = r:alloc(3000)
b:fill("dpdk ")
local p = lab.packet.udp { src = "198.18.0.1:9000", dst = "198.18.0.2:9999", payload = b }
local sent = p:segments()
for i, s in ipairs(sent) do
  L.printf("   mbuf %d: addr %6d  len %4d%s", i, s.addr, s.len, s.contd and "  (next ->)" or "")
end
L.check(#sent >= 2, "3000 bytes in 2048-byte mbufs are a chain")
local copied = e:stats().ledger.copied
L.eq(e:tx(p), 1, "packets handed to rte_eth_tx_burst")
L.result("1 packet sent as a chain of %d mbufs over the buffer: 0 bytes copied "
  .. "to send it", #sent)

L.part("net_ring0 gives it back: the same mbufs, the same addresses", [[
  net_ring0 is a port whose wire is a ring in memory: what it sends, it
  receives. The packet comes back in the very mbufs that left, at the same
  addresses. The PMD's own copies are measured, not guessed.]])
local got = e:rx(16)
L.eq(#got, 1, "packets received")
local back = got[1]:segments()
for i, s in ipairs(sent) do L.eq(back[i].addr, s.addr, "segment " .. i .. " address") end
local st = e:stats()
L.eq(st.ledger.copied, copied, "bytes the lab copied to send it")
L.eq(st.ledger.driver_copied, 0, "bytes the PMD copied (" .. st.ledger.driver_how .. ")")
got[1]:release()
L.result("received at the same %d addresses; the PMD copied 0 bytes (%s)",
  #back, st.ledger.driver_how)

L.part("external buffers: application memory sent where it lies", [[
  Now the data is a Lua string: application memory, in no mempool.
  strategy="extbuf" registers it with DPDK and attaches each MSS slice to
  an mbuf chained behind a header mbuf; when the PMD is done, DPDK's free
  callback hands each slice back. A second port, "receiver", takes them.

  Dashboard: sender's refd grows by 16.4k, its copied does not.]])
local rx = open { peer = e, name = "receiver", rx_desc = Q.rx_desc, tx_desc = Q.tx_desc }
if not rx then return end
rx:region { frames = 64, frame_size = 2048, headroom = 256 }
show(e, rx)
local N = 16384
local body = string.rep("external ", N // 9 + 1):sub(1, N)
local segs = lab.segment(body, { strategy = "extbuf", engine = e, dst = "198.18.0.2:8080" })
L.eq(#segs, 12, "TCP segments for 16384 bytes at MSS 1448")
-- send s in bursts the queues take, collect what the receiver gets, in
-- sequence order, until every slice is back
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
local rc0 = rx:stats().ledger.copied
local data, n = move(segs)
local rcopied = rx:stats().ledger.copied - rc0
L.eq(n, 12, "segments received by the peer port")
L.eq(rcopied, 2 * N, "receiver copied: slices into its frames, then out")
L.check(data == body, "the body arrived intact")
local l, info = segs:ledger(), segs:info()
L.eq(l.copied, 0, "bytes the lab copied to send it")
L.eq(l.referenced, N, "bytes sent where the application keeps them")
L.eq(info.extbuf_back, 12, "slices handed back by DPDK's free callback")
segs:free()
L.result("%d segments, %d bytes referenced, 0 copied to send them; the body "
  .. "arrived intact and DPDK handed back all %d slices", n, l.referenced, info.extbuf_back)
L.say(string.format([[
  (receiver's copied +%d: net_ring hands it the sender's own memory, copied
  into its frames, and the lesson reads each payload out to check it)]],
  rcopied), "     ")

L.part("GSO: one large packet in, MSS-sized packets out", [[
  rte_gso_segment cuts one large TCP packet into wire-sized ones in
  software: it writes a fresh header for each piece (header bytes, copied)
  and points indirect mbufs at the original payload (no payload copy).
  The lab hands DPDK one 16384-byte packet.]])
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
L.result("1 packet in, %d on the wire: %d header bytes written (the lab's 1, "
  .. "GSO's 12), 0 payload bytes copied", n, l.headers)

L.part("not every port can chain: ask it first (show caps)", [[
  Chains need RTE_ETH_TX_OFFLOAD_MULTI_SEGS; net_null lacks it.
  e:info().caps says what a port can do and caps_why why not; lab.segment
  asks before building anything. A one-frame packet still goes, its mbuf freed
  the cheap way (marked direct).]])
local null = open { vdev = "net_null0", name = "null" }
if not null then return end
local nr = null:region { frames = 64, frame_size = 2048, headroom = 256 }
show(null, e)
local ci = null:info()
L.printf("   net_null: sg %s, extbuf %s, gso %s", tostring(ci.caps.sg),
  tostring(ci.caps.extbuf), tostring(ci.caps.gso))
L.say("why: " .. ci.caps_why, "   ")
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
L.result("net_null cannot chain, and says so: extbuf was refused before anything "
  .. "was built; a one-frame packet went, its mbuf marked direct")
L.done("8")
