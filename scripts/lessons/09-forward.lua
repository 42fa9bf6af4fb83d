-- Lesson 9: forwarding between two ports without a copy
-- two regions need a copy per packet; one shared region forwards the frames
--
-- The teaching is on the screen (L.part); this header only says how to run.
-- Engines on sim: "sender" -> "in" ... "out" -> "receiver" (two pairs wired
-- back to back, each with its own region), then "forwarder" and its
-- neighbour "host"; rings of 32; then netmap's model (the simulator's
-- personality=netmap): "nm-sender" -> "nm-in" ... "nm-out" -> "nm-receiver",
-- nm-in and nm-out ports of one buffer pool. On dpdk: "in" (net_ring0), "out"
-- (net_ring1) and "forwarder" (net_ring2), each port receiving what it
-- sends; queues of 32 descriptors.
-- Run: ringlab scripts/lessons/09-forward.lua [dpdk]   (or: lesson 9 [dpdk])
local L = require "ringlab.lesson"
local A = L.args(...)
local N = 20

L.title("Lesson 9: forwarding between two ports without a copy")
local kind = A.engine or "sim"
if kind ~= "sim" and kind ~= "dpdk" then
  L.say(kind .. ": lesson 9 runs on sim or dpdk (ports wired in memory) - run: lesson 9")
  return
end
local dpdk = kind == "dpdk"

-- A port of the lesson by its role. The user's key=value words go to the
-- first one only (the others are wired to it or have devices of their own).
local first = true
local function port(name, sim_opts, vdev)
  local o
  if dpdk then
    o = { name = name, vdev = vdev, rx_desc = 32, tx_desc = 32 }
  else
    o = { name = name, mode = "zerocopy", ring_size = 32 }
    for k, v in pairs(sim_opts or {}) do o[k] = v end
  end
  local e = L.open(A, o, first and A.extra or {})
  first = false
  if not e then return nil end
  e:region { frames = 64 }
  if e:rings().fill then e:fill(32) end
  return e
end

-- the engines the dashboard draws in full first (the framework's L.show)
-- (nil ones left out: on dpdk there is no sender, receiver or host)
local function show(...)
  if not L.show then return end
  local list = {}
  for i = 1, select("#", ...) do list[#list + 1] = select(i, ...) end
  L.show(table.unpack(list))
end

local function payload(i) return string.format("packet %03d", i) end

-- N small packets built in e's region and sent; they arrive at e's peer
-- (sim) or back at e itself (dpdk's net_ring)
local function send_from(e)
  for i = 1, N do
    e:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = payload(i), region = e:region() })
  end
  e:kick()
  e:complete()
end

local src, port_in, port_out, dst
if dpdk then
  port_in = port("in", nil, "net_ring0")
  if not port_in then return end
  port_out = port("out", nil, "net_ring1")
  if not port_out then return end
  dst = port_out -- net_ring1 receives what it sends: the far end
else
  src = port("sender")
  if not src then return end
  port_in = port("in", { peer = src })
  port_out = port("out")
  dst = port("receiver", { peer = port_out })
  if not (port_in and port_out and dst) then return end
end

L.part("two ports, two regions: the forwarder must copy", [[
  A forwarder receives on one port ("in") and transmits on another
  ("out"). Here each port has packet memory of its own (two AF_XDP
  sockets with their own UMEMs, two DPDK mempools): "out" cannot send a
  frame that lives in "in"'s region, so every packet is copied out of one
  and into the other.

  Dashboard: the copied column of "in" and "out".]])
show(port_in, port_out, src, dst ~= port_out and dst or nil)
send_from(dpdk and port_in or src)
local c0 = port_out:stats().ledger.copied + port_in:stats().ledger.copied
local fwd, refused, first_line = 0, 0, nil
for _, p in ipairs(port_in:rx(64)) do
  local ok = pcall(port_out.tx, port_out, p)
  if not ok then refused = refused + 1 end
  local bytes = p:payload() -- the copy out of in's frame
  local copy = lab.packet.udp { dst = "198.18.0.3:9999", payload = bytes, region = port_out:region() }
  if not first_line then
    first_line = string.format("   %s: in's frame at %d -> 10 bytes copied -> out's frame at %d",
      bytes, p:segments()[1].addr, copy:segments()[1].addr)
  end
  port_out:tx(copy)
  p:release()
  fwd = fwd + 1
end
L.print(first_line)
L.printf("   (and %d more packets the same way)", fwd - 1)
L.eq(refused, N, "out refused every packet that lives in in's region")
port_out:kick()
port_out:complete()
local got = dst:rx(64)
L.eq(#got, N, "packets at the far end")
local copied = port_out:stats().ledger.copied + port_in:stats().ledger.copied - c0
L.eq(copied, 2 * 10 * N, "copied (10-byte payloads, out and in)")
for _, p in ipairs(got) do p:release() end
L.result("%d packets forwarded, %d bytes copied: each payload out of in's frame and "
  .. "into out's (%d per packet)", #got, copied, copied // N)

L.part("one region for both directions: forward the frames themselves", [[
  When receiving and sending share one region (AF_XDP's shared UMEM or
  XDP_TX, one DPDK mempool for both ports), the received frame itself is
  queued for transmit: its descriptor moves from the rx ring to the tx
  ring and no byte moves.

  Dashboard: forwarder's copied stays 0 while its sent grows.]])
local fw, host
if dpdk then
  fw = port("forwarder", nil, "net_ring2")
  if not fw then return end
  send_from(fw) -- net_ring2 gives them back: they arrive on fw
else
  host = port("host")
  if not host then return end
  fw = port("forwarder", { peer = host })
  if not fw then return end
  send_from(host)
end
show(fw, host, port_in, port_out)
local c1 = fw:stats().ledger.copied
local pkts = fw:rx(64)
L.eq(#pkts, N, "packets received on the forwarder")
local addrs = {}
for i, p in ipairs(pkts) do addrs[i] = p:segments()[1].addr end
L.eq(fw:tx(pkts), N, "the same packets queued for transmit")
fw:kick()
L.eq(fw:stats().ledger.copied - c1, 0, "bytes copied to forward them")
local far
if dpdk then
  far = fw:rx(64) -- net_ring loops them back: the same frames again
  L.eq(far[1] and far[1]:segments()[1].addr, addrs[1], "the forwarded frame is the received frame")
else
  fw:complete()
  far = host:rx(64)
end
L.eq(#far, N, "packets at the far end")
L.eq(far[1]:payload(), payload(1), "first payload")
L.printf("   %s: received in the forwarder's frame at %d, sent from that frame",
  payload(1), addrs[1])
for _, p in ipairs(far) do p:release() end
L.conserved(fw)
L.result("%d packets forwarded, 0 bytes copied: the frames that arrived are the "
  .. "frames that left", #far)

-- netmap's model is the simulator's (personality=netmap): not on dpdk
if dpdk then return L.done("9") end

-- a pool name no open port uses (the lesson may run again at one prompt)
local pool, used, k = "lesson9", {}, 1
for _, e in ipairs(lab.opened()) do
  local nm = e:netmap()
  if nm then used[nm.pool] = true end
end
while used[pool] do k = k + 1; pool = "lesson9-" .. k end

L.part("netmap: one buffer pool, forward by swapping buf_idx", [[
  netmap gives each port a tx and an rx ring of slots; every slot holds a
  buffer (buf_idx) of one pool the ports share, and the program owns the
  slots from head to tail. To forward, it swaps the buf_idx of a received
  rx slot with a free tx slot's (NS_BUF_CHANGED on both), moves head on
  and calls TXSYNC. (The simulator plays netmap's model here.)

  Dashboard: nm-in's rx slots R turn F, nm-out sends; copied stays 0.]])
-- the ports of parts 1 and 2 are done: closed, so that the dashboard has
-- room for netmap's rings
for _, e in ipairs({ src, port_in, port_out, dst, fw, host }) do e:close() end
local nsrc = port("nm-sender")
if not nsrc then return end
local nin = L.open(A, { name = "nm-in", personality = "netmap", pool = pool, ring_size = 32, peer = nsrc })
if not nin then return end
local nout = L.open(A, { name = "nm-out", personality = "netmap", pool = pool, ring_size = 32 })
if not nout then return end
local ndst = port("nm-receiver", { peer = nout })
if not ndst then return end
show(nin, nout, nsrc, ndst)
send_from(nsrc)
L.eq(nin:rxsync().received, N, "packets on nm-in's rx ring after rxsync")
L.printf("   rxsync: %d packets in nm-in's rx slots 0..%d (R): head 0, tail %d", N, N - 1, N)
L.pause("next: swap their buffers into nm-out's tx slots")
local rx, tx = nin:ring("rx"), nout:ring("tx")
local c2 = nin:stats().ledger.copied + nout:stats().ledger.copied
local swapped = {}
while rx.head ~= rx.tail do
  local s, t = rx:slot(rx.head), tx:slot(tx.head)
  if #swapped == 0 then
    L.printf("   rx slot %d (buf_idx %d) <-> tx slot %d (buf_idx %d): the packet's buffer",
      rx.head, s.buf_idx, tx.head, t.buf_idx)
  end
  swapped[#swapped + 1] = s.buf_idx
  lab.netmap.swap(s, t)
  rx.head = rx:next(rx.head)
  tx.head = tx:next(tx.head)
end
L.printf("   (and %d more swaps; tx head is now %d)", #swapped - 1, tx.head)
L.eq(nout:txsync().sent, N, "packets nm-out sent at TXSYNC")
nin:rxsync() -- nm-in's rx slots go back to the kernel, with the buffers they got
L.eq(tx:slot(0).buf_idx, swapped[1], "the buffer that arrived is the buffer that left")
local fwd = ndst:rx(64)
L.eq(#fwd, N, "packets at the far end")
L.eq(fwd[1]:payload(), payload(1), "first payload")
for _, p in ipairs(fwd) do p:release() end
local copied = nin:stats().ledger.copied + nout:stats().ledger.copied - c2
L.eq(copied, 0, "bytes copied to forward them")
L.conserved(nin)
L.result("%d packets forwarded by swapping buf_idx, %d bytes copied", #fwd, copied)
L.done("9")
