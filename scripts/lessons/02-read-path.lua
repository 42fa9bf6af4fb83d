-- Lesson 2: the read path, step by step
-- fill -> NIC -> rx -> program -> back to fill, one hardware action at a time
--
-- Two simulators wired back to back: `peer` sends, `nic` receives. Each
-- step of the receiving NIC is drawn: which descriptor moved, which frame,
-- from which ring to which. Then the one thing a receiver must never
-- forget: a frame it does not give back is a frame the NIC cannot use, and
-- with an empty fill ring packets are dropped.
-- Run: ringlab scripts/lessons/02-read-path.lua   (or: lesson 2)
local L = require "ringlab.lesson"
local W = require "ringlab.watch"
local which = L.args(...).engine

L.title("Lesson 2: the read path, step by step")
if which and which ~= "sim" then
  print("SKIP: stepping one hardware action at a time needs the simulator - run lesson 2 without an engine name")
  return
end
local peer = lab.open("sim", { step = true, mode = "zerocopy" })
local nic = lab.open("sim", { step = true, peer = peer, mode = "zerocopy" })
local rp, rn = peer:region { frames = 16 }, nic:region { frames = 8 }

local function step(e)
  local before = e:rings()
  local s = e:step()
  print(W.step_view(before, e:rings(), s))
  return s
end

L.part("lend the NIC two frames (the fill ring)")
L.eq(nic:fill(2), 2, "frames on the fill ring")

L.part("the peer sends three packets")
for i = 1, 3 do peer:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = "packet " .. i, region = rp }) end
local sent = 0
repeat
  local s = peer:step()
  if s.kind == "tx" then sent = sent + 1 end
until s.kind == "idle"
L.eq(sent, 3, "packets the peer's NIC put on the wire")

L.part("the NIC receives: a fill frame becomes an rx entry")
L.eq(step(nic).kind, "rx", "step 1")
L.eq(step(nic).kind, "rx", "step 2")
L.say [[
  Two frames were lent, two packets landed. The third has nowhere to go:
  the fill ring is empty, and the NIC drops it - exactly what a real NIC
  does when the program is too slow to give frames back.]]
L.eq(step(nic).kind, "drop", "step 3")
L.eq(nic:stats().drops, 1, "drops")

L.part("the program takes the packets off the rx ring")
local got = nic:rx()
L.eq(#got, 2, "packets received")
L.eq(nic:owners().app - nic:owners().free, 2, "frames held by the program")
L.say [[
  p:dissect() walks the headers and checks the UDP checksum by reading the
  payload where it lies (touched), p:payload() copies it out (copied).]]
local before = nic:stats().ledger
for _, p in ipairs(got) do L.check(p:dissect().udp.csum_ok, "checksum of " .. tostring(p)) end
L.eq(nic:stats().ledger.copied, before.copied, "copied by dissect")
L.check(nic:stats().ledger.touched > before.touched, "dissect touched the payload in place")
L.eq(got[1]:payload(), "packet 1", "first payload")

L.part("give the frames back: release, then fill again")
for _, p in ipairs(got) do p:release() end
L.eq(nic:fill(2), 2, "frames lent again")
L.conserved(nic)
L.done("2")
