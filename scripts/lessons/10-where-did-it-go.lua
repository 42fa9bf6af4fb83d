-- Lesson 10: where did my packet go?
-- five drops made on purpose, each explained by `explain` and then fixed
--
-- What users of AF_XDP ask most is why packets vanish. Almost always one
-- of five things: no frame on the fill ring, a full rx ring, a full tx
-- ring, completions never collected, a forgotten wakeup. Each part makes
-- one happen between a sender and a receiver (two simulated NICs wired
-- back to back, rings of 8), shows the line `explain` gives for it, and
-- fixes it. The simulator is deterministic: the same drops every run.
-- On afxdp (root, `ringlab testbed up`, then `ringlab --netns rl-lab`) one
-- socket, "pinger", sends echo requests to the peer's Linux and receives
-- its replies: the same five, counted by the kernel's XDP_STATISTICS.
-- Run: ringlab scripts/lessons/10-where-did-it-go.lua [afxdp]   (or: lesson 10)
local L = require "ringlab.lesson"
local A = L.args(...)

L.title("Lesson 10: where did my packet go?")
if A.engine == "dpdk" then
  L.say("lesson 10 runs on the simulator and on afxdp - on dpdk, explain shows the same kinds of causes "
    .. "from rte_eth_stats (imissed, rx_nombuf, ...): run it without 'dpdk'.")
  return
end
local real = A.engine == "afxdp" -- one AF_XDP socket; the peer's Linux answers

local sender, receiver, rs, rr

-- A fresh pair (afxdp: a fresh socket) for each part, so that explain
-- shows only this part's drop. False when the engine cannot open (it said
-- why).
local function pair(sopts, ropts, sframes)
  if receiver and receiver ~= sender then receiver:close() end
  if sender then sender:close() end
  if real then
    local o = { name = "pinger", fill_size = 8, comp_size = 8, rx_size = 8, tx_size = 8 }
    for k, v in pairs(ropts or {}) do if k:match("_size$") then o[k] = v end end
    sender = L.open(A, o)
    if not sender then return false end
    receiver = sender
    rs = sender:region { frames = (sframes or 24) + 8, frame_size = 2048 }
    rr = rs
    if L.show then L.show(sender) end
    return true
  end
  local so = { name = "sender", ring_size = 8 }
  for k, v in pairs(sopts or {}) do so[k] = v end
  sender = L.open(A, so)
  if not sender then return false end
  local ro = { name = "receiver", ring_size = 8, peer = sender }
  for k, v in pairs(ropts or {}) do ro[k] = v end
  receiver = L.open(A, ro)
  if not receiver then return false end
  rs = sender:region { frames = sframes or 32, frame_size = 2048 }
  rr = receiver:region { frames = 32, frame_size = 2048 }
  if L.show then L.show(sender, receiver) end -- the dashboard: this pair, not the closed ones
  return true
end

local sent_no = 0
local function packets(n)
  local list = {}
  for _ = 1, n do
    sent_no = sent_no + 1
    local payload = string.format("packet %03d", sent_no)
    list[#list + 1] = real and lab.packet.icmp { type = 8, dst = "198.18.0.2", payload = payload, region = rs }
      or lab.packet.udp { dst = "198.18.0.2:9999", payload = payload, region = rs }
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
-- afxdp: the peer's replies first need a moment on the wire (want: how
-- many to wait for, at most half a second).
local function recv(refill, want)
  if real then lab.sleep(0.05) end
  local n = 0
  for _ = 1, real and 50 or 1 do
    local got = receiver:rx(64)
    for _, p in ipairs(got) do p:release() end
    if refill and #got > 0 then receiver:fill(#got) end
    n = n + #got
    if n >= (want or 0) then break end
    lab.sleep(0.01)
  end
  return n
end

-- At least want (afxdp: other packets may arrive too), exactly on sim.
local function atleast(got, want, what)
  if real then return L.check(got >= want, string.format("%s: %d, at least %d", what, got, want)) end
  return L.eq(got, want, what)
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
if not pair() then return end
local rname, sname = receiver:info().name, sender:info().name
send(4)
local got = recv()
L.printf("  %s got %d of 4 packets; explain %s:", rname, got, rname)
explain(receiver)
atleast(count(receiver, "rx_fill_ring_empty_descs"), 4, "fill ring empty drops")
receiver:fill(8)
send(4)
got = recv(true, 4)
atleast(got, 4, "packets received after fill 8")
L.result("4 dropped on an empty fill ring; after fill 8, %d of 4 arrived", got)

---------------------------------------------------------------------------
L.part("rx ring full: the program did not take its packets", [[
  A packet waits on the rx ring (8 slots) until the program takes it. 12
  arriving between two recvs: the last 4 find it full and are dropped,
  though the fill ring has frames for them (AF_XDP: rx_ring_full).]])
if not pair(nil, { fill_size = 16 }) then return end
receiver:fill(16)
send(8)
send(4)
got = recv(true)
L.printf("  12 packets came, one recv took %d; explain %s:", got, rname)
explain(receiver)
atleast(count(receiver, "rx_ring_full"), 4, "rx ring full drops")
send(8)
local got2 = recv(true, 8)
send(4)
got2 = got2 + recv(true, 4)
atleast(got2, 12, "packets received with a recv after every 8")
L.result("4 of 12 dropped on a full rx ring; a recv after every 8: %d of 12", got2)

---------------------------------------------------------------------------
L.part("tx ring full: the send that did not fit", [[
  The tx ring has 8 slots: a send of 12 queues 8. e:tx() returns how many
  went; the rest stay with the program, unseen by the kernel (tx_ring_full).]])
if not pair(nil, { fill_size = 16 }) then return end
receiver:fill(16)
local list = packets(12)
local queued = sender:tx(list)
L.printf("  %s:tx(12 packets) returned %d; explain %s:", sname, queued, sname)
explain(sender)
L.eq(queued, 8, "packets queued of 12")
L.eq(count(sender, "tx_ring_full"), 4, "tx ring full")
sender:kick()
sender:complete()
got = recv(true, 8)
local rest = {}
for i = queued + 1, #list do rest[#rest + 1] = list[i] end
L.eq(sender:tx(rest), 4, "the other 4 queued after kick + complete")
sender:kick()
sender:complete()
got = got + recv(true, 4)
atleast(got, 12, "packets received")
L.result("8 of 12 fitted; after kick and complete the other 4 went: %d of 12", got)

---------------------------------------------------------------------------
L.part("completions not collected: the frames never come back", [[
  Only complete gives a sent frame back. Never collect: the comp ring (8)
  fills, the NIC stops, no frame is left. The sender (16 frames) sends 8 twice.]])
if not pair(nil, { fill_size = 16 }, 16) then return end
local lend = real and 8 or 16 -- afxdp: the replies need frames of the same region
receiver:fill(lend)
send(8, { nocomplete = true })
recv(true, 8)
send(8, { nocomplete = true })
recv(true)
local o = L.conserved(sender)
local ok = pcall(packets, 1)
L.check(not ok, "no frame left to build a packet")
L.printf("  frames: %d on comp, %d %s, %d free: the next packet is refused", o.comp, o.nic + o.tx,
  real and "still on the tx ring" or "in the NIC", o.free)
explain(sender)
L.eq(o.comp, 8, "frames on the comp ring")
if real then
  L.eq(o.tx, 8, "frames the kernel could not send") -- it counts no comp-ring stall
else
  L.eq(count(sender, "comp_ring_full"), 1, "times the NIC stopped on a full comp ring")
end
local back = sender:complete()
sender:kick()
back = back + sender:complete()
L.eq(back, 16, "frames collected by complete")
recv(true, real and 8 or 0)
o = L.conserved(sender)
L.eq(o.free, 16, "free frames after complete")
L.result("16 sent, 0 frames free until complete; complete, kick, complete: 16 back")

---------------------------------------------------------------------------
L.part("a forgotten wakeup: need_wakeup and no kick", [[
  With need_wakeup (AF_XDP's default) the NIC does not watch the tx ring:
  it sets NEED_WAKEUP and sleeps until kicked (sendto). Queue packets and
  forget the kick: nothing is sent, and no counter moves.]])
if not pair() then return end
receiver:fill(8)
send(4, { nokick = true })
got = recv(true)
L.printf("  %s got %d of 4; %s's tx ring holds %d (NEED_WAKEUP %s):", rname, got, sname,
  sender:rings().tx.pending, sender:rings().tx.need_wakeup and "set" or "clear")
explain(sender)
L.eq(got, 0, "packets received without a kick")
sender:kick()
sender:complete()
got = recv(true, 4)
atleast(got, 4, "packets received after the kick")
L.check(#lab.drops(receiver) == 0 and #lab.drops(sender) == 0, "nothing dropped, nothing waiting")
L.result("4 waited on the tx ring until the kick; then %d of 4 arrived", got)

L.done("10", "fill early, recv often, check what tx took, complete, kick every send")
