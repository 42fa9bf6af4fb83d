-- Lesson 10: where did my packet go?
-- five drops made on purpose, each explained by `explain` and then fixed
--
-- What users of AF_XDP ask most is why packets vanish. Almost always one
-- of five things: no frame on the fill ring, a full rx ring, a full tx
-- ring, completions never collected, a forgotten wakeup. Each part makes
-- one happen between a sender and a receiver (two simulated NICs wired
-- back to back, rings of 8), shows the line `explain` gives for it, and
-- fixes it. The simulator is deterministic: the same drops every run.
-- Run: ringlab scripts/lessons/10-where-did-it-go.lua   (or: lesson 10)
local L = require "ringlab.lesson"
local A = L.args(...)

L.title("Lesson 10: where did my packet go?")
if A.engine and A.engine ~= "sim" then
  L.say(string.format("lesson 10 runs on the simulator only: its drops are made on purpose and must repeat "
    .. "exactly, which a real NIC does not promise - run it without '%s'. On %s, explain shows the "
    .. "same causes from %s.", A.engine, A.engine,
    A.engine == "afxdp" and "the kernel's XDP_STATISTICS" or "rte_eth_stats"))
  return
end

local sender, receiver, rs, rr

-- A fresh pair for each part, so that explain shows only this part's drop.
local function pair(sopts, ropts, sframes)
  if receiver then receiver:close() end
  if sender then sender:close() end
  local so = { name = "sender", ring_size = 8 }
  for k, v in pairs(sopts or {}) do so[k] = v end
  sender = L.open(A, so)
  if not sender then os.exit(1) end
  local ro = { name = "receiver", ring_size = 8, peer = sender }
  for k, v in pairs(ropts or {}) do ro[k] = v end
  receiver = L.open(A, ro)
  if not receiver then os.exit(1) end
  rs = sender:region { frames = sframes or 32, frame_size = 2048 }
  rr = receiver:region { frames = 32, frame_size = 2048 }
  if L.show then L.show(sender, receiver) end -- the dashboard: this pair, not the closed ones
end

local sent_no = 0
local function packets(n)
  local list = {}
  for _ = 1, n do
    sent_no = sent_no + 1
    list[#list + 1] = lab.packet.udp { dst = "198.18.0.2:9999", payload = string.format("packet %03d", sent_no),
      region = rs }
  end
  return list
end

-- Send n packets, kick (unless told not to) and take the completions
-- back. Returns the packets queued.
local function send(n, opts)
  opts = opts or {}
  local q = sender:tx(packets(n))
  if not opts.nokick then sender:kick() end
  if not opts.nocomplete then sender:complete() end
  return q
end

-- Receive what waits, count it, give the frames back to the fill ring.
local function recv(refill)
  local got = receiver:rx(64)
  for _, p in ipairs(got) do p:release() end
  if refill and #got > 0 then receiver:fill(#got) end
  return #got
end

-- What `explain NAME` prints (its first line names the engine).
local function explain(e)
  L.print(lab.explain(e))
end

local function count(e, counter)
  for _, r in ipairs(lab.drops(e)) do
    if r.counter == counter then return r.count end
  end
  return 0
end

---------------------------------------------------------------------------
L.part("fill ring empty: RX has nowhere to write", [[
  A program lends the NIC empty frames on the fill ring to receive into. A
  packet arriving while it is empty has nowhere to go: dropped, and counted
  (AF_XDP: rx_fill_ring_empty_descs). The receiver lent nothing; 4 come.]])
pair()
send(4)
local got = recv()
L.printf("  the receiver got %d of 4 packets; explain receiver:", got)
explain(receiver)
L.eq(count(receiver, "rx_fill_ring_empty_descs"), 4, "fill ring empty drops")
receiver:fill(8)
send(4)
got = recv(true)
L.eq(got, 4, "packets received after fill 8")
L.result("4 dropped on an empty fill ring; after fill 8, 4 of 4 arrived")

---------------------------------------------------------------------------
L.part("rx ring full: the program did not take its packets", [[
  A packet waits on the rx ring (8 slots) until the program takes it. 12
  arriving between two recvs: the last 4 find it full and are dropped,
  though the fill ring has frames for them (AF_XDP: rx_ring_full).]])
pair(nil, { fill_size = 16 })
receiver:fill(16)
send(8)
send(4)
got = recv(true)
L.printf("  12 packets came, one recv took %d; explain receiver:", got)
explain(receiver)
L.eq(count(receiver, "rx_ring_full"), 4, "rx ring full drops")
send(8)
local got2 = recv(true)
send(4)
got2 = got2 + recv(true)
L.eq(got2, 12, "packets received with a recv after every 8")
L.result("4 of 12 dropped on a full rx ring; a recv after every 8: 12 of 12")

---------------------------------------------------------------------------
L.part("tx ring full: the send that did not fit", [[
  The tx ring has 8 slots: a send of 12 queues 8. e:tx() returns how many
  went; the rest stay with the program, unseen by the kernel (tx_ring_full).]])
pair(nil, { fill_size = 16 })
receiver:fill(16)
local list = packets(12)
local queued = sender:tx(list)
L.printf("  sender:tx(12 packets) returned %d; explain sender:", queued)
explain(sender)
L.eq(queued, 8, "packets queued of 12")
L.eq(count(sender, "tx_ring_full"), 4, "tx ring full")
sender:kick()
sender:complete()
got = recv(true)
local rest = {}
for i = queued + 1, #list do rest[#rest + 1] = list[i] end
L.eq(sender:tx(rest), 4, "the other 4 queued after kick + complete")
sender:kick()
sender:complete()
L.eq(got + recv(true), 12, "packets received")
L.result("8 of 12 fitted; after kick and complete the other 4 went: 12 of 12")

---------------------------------------------------------------------------
L.part("completions not collected: the frames never come back", [[
  Only complete gives a sent frame back. Never collect: the comp ring (8)
  fills, the NIC stops, no frame is left. The sender (16 frames) sends 8 twice.]])
pair(nil, { fill_size = 16 }, 16)
receiver:fill(16)
send(8, { nocomplete = true })
recv(true)
send(8, { nocomplete = true })
recv(true)
local o = L.conserved(sender)
local ok = pcall(packets, 1)
L.check(not ok, "no frame left to build a packet")
L.printf("  frames: %d on comp, %d in the NIC, %d free: the next packet is refused", o.comp, o.nic, o.free)
explain(sender)
L.eq(count(sender, "comp_ring_full"), 1, "times the NIC stopped on a full comp ring")
local back = sender:complete() + sender:complete()
L.eq(back, 16, "frames collected by complete")
o = L.conserved(sender)
L.eq(o.free, 16, "free frames after complete")
L.result("16 sent, 0 frames free until complete; two completes gave all 16 back")

---------------------------------------------------------------------------
L.part("a forgotten wakeup: need_wakeup and no kick", [[
  With need_wakeup (AF_XDP's default) the NIC does not watch the tx ring:
  it sets NEED_WAKEUP and sleeps until kicked (sendto). Queue packets and
  forget the kick: nothing is sent, and no counter moves.]])
pair()
receiver:fill(8)
send(4, { nokick = true })
got = recv(true)
L.printf("  the receiver got %d of 4; the sender's tx ring holds %d (NEED_WAKEUP %s):", got,
  sender:rings().tx.pending, sender:rings().tx.need_wakeup and "set" or "clear")
explain(sender)
L.eq(got, 0, "packets received without a kick")
sender:kick()
sender:complete()
L.eq(recv(true), 4, "packets received after the kick")
explain(receiver)
L.check(#lab.drops(receiver) == 0 and #lab.drops(sender) == 0, "nothing dropped, nothing waiting")
L.result("4 waited on the tx ring until the kick; then 4 of 4 arrived")

L.done("10", "fill before packets come, recv often, check what tx returns, complete after every kick, kick after every send")
