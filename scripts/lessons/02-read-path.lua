-- Lesson 2: the read path, step by step
-- fill -> NIC -> rx -> program -> back to fill, one hardware action at a time
--
-- The teaching is on the screen (L.part, L.result); this header only says
-- how to run it: ringlab scripts/lessons/02-read-path.lua [part M] [--check],
-- or at the prompt: lesson 2 [part M] [--check]. Simulator only: no real
-- NIC can be stopped between two hardware actions.
local L = require "ringlab.lesson"
local W = require "ringlab.watch"
local A = L.args(...)

L.title("Lesson 2: the read path, step by step")
if A.engine and A.engine ~= "sim" then
  L.skip("lesson 2 stops the NIC between two hardware actions, which only the simulator can - %s cannot; run lesson 2 without an engine name",
    A.engine)
  return
end
local function small(o) -- stepped, zero-copy, rings of 8 entries
  o.step, o.mode, o.ring_size, o.wire_capacity = true, "zerocopy", 8, 8
  return o
end
local sender = L.open(A, small { name = "sender" })
if not sender then return end
local receiver = L.open(A, small { name = "receiver", peer = sender })
if not receiver then return end
L.show(receiver, sender)
local rs, rr = sender:region { frames = 16 }, receiver:region { frames = 8 }

local function step(e)
  local before = e:rings()
  local s = e:step()
  L.print(W.step_view(before, e:rings(), s, 8))
  return s
end

L.part("lend the receiver two frames (the fill ring)", [[
  Two simulated NICs are wired back to back: sender and receiver (the
  receiver is drawn first on the dashboard). The receiving program lends its
  NIC empty frames on the fill ring - only two, on purpose.

  Look at the receiver's fill ring: 2 entries waiting (#).]])
L.eq(receiver:fill(2), 2, "frames on the fill ring")
L.result("2 frames on the receiver's fill ring: room for two packets, no more.")

L.part("the sender puts three packets on the wire", [[
  The sender queues three small UDP packets and its NIC sends them. They
  wait on the wire, which the dashboard draws as the receiver's wire ring:
  the receiver's NIC has not acted yet.]])
for i = 1, 3 do sender:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = "packet " .. i, region = rs }) end
local sent = 0
repeat
  local s = sender:step()
  if s.kind == "tx" then sent = sent + 1 end
until s.kind == "idle"
L.eq(sent, 3, "packets the sender's NIC put on the wire")
L.eq(receiver:rings().wire.pending, 3, "packets on the wire")
L.result("3 packets on the wire (receiver's wire 3/8), none received yet.")

L.part("the receiver's NIC takes them, one step at a time", [[
  Each e:step() is one hardware action, drawn as the four rings before and
  after it: @ marks the descriptor that moved. A packet that arrives takes
  the frame at the head of the fill ring; the NIC writes the bytes into it
  and posts its address on the rx ring.]])
L.pause("next: the first packet arrives")
L.eq(step(receiver).kind, "rx", "step 1")
L.pause("next: the second packet")
L.eq(step(receiver).kind, "rx", "step 2")
L.pause("next: the third packet - the fill ring is empty now")
L.eq(step(receiver).kind, "drop", "step 3")
L.eq(receiver:stats().drops, 1, "drops")
L.result("2 packets landed in the 2 lent frames; the third found the fill ring "
  .. "empty and was dropped (drops 1) - what a real NIC does when the program "
  .. "gives frames back too slowly.")

L.part("the program takes the packets off the rx ring", [[
  e:rx() hands the program the packets where the NIC wrote them. p:dissect()
  walks the headers and checks the UDP checksum by reading the payload in
  place (the ledger's touched); nothing is copied until p:payload() asks
  for a copy. Look at the owners: app 8 (free 6) - the program holds the
  two packets' frames.]])
local got = receiver:rx()
L.eq(#got, 2, "packets received")
L.eq(receiver:owners().app - receiver:owners().free, 2, "frames held by the program")
local before = receiver:stats().ledger
for _, p in ipairs(got) do L.check(p:dissect().udp.csum_ok, "checksum of " .. tostring(p)) end
local after = receiver:stats().ledger
L.eq(after.copied, before.copied, "copied by dissect")
L.check(after.touched > before.touched, "dissect touched the payload in place")
local first = got[1]:payload() -- the one copy: the ledger's copied goes up by 8
L.eq(first, "packet 1", "first payload")
L.eq(receiver:stats().ledger.copied, after.copied + #first, "copied by payload()")
L.result("2 packets, both checksums good: %d bytes read in place to check them, "
  .. "0 copied; then \"%s\" copied out by p:payload() (%d bytes).", after.touched - before.touched,
  first, #first)

L.part("give the frames back: release, then fill again", [[
  A frame the program keeps is a frame the NIC cannot use. p:release()
  returns it to the program's pool and e:fill() lends it to the NIC again.
  Look at the receiver's fill ring: 2 waiting again.]])
for _, p in ipairs(got) do p:release() end
L.eq(receiver:fill(2), 2, "frames lent again")
local o = L.conserved(receiver)
L.result("2 frames back on the fill ring (fill %d, free %d): the receiver is ready "
  .. "for two more packets. A receiver that forgets this step drops everything.", o.fill, o.free)
L.done("2")
