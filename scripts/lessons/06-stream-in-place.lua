-- Lesson 6: reading a stream in place
-- a chained packet is read where it landed: segments, touched vs copied
--
-- A 60 KB message arrives as one packet spread over many frames (a chain
-- of descriptors). A zero-copy reader does not glue it together: it walks
-- the segments where the NIC wrote them and hands the frames back when
-- done. Checking the checksum reads every byte in place (touched); only
-- asking for the payload as one string copies it (copied).
-- Run: ringlab scripts/lessons/06-stream-in-place.lua   (or: lesson 6)
local L = require "ringlab.lesson"

L.title("Lesson 6: reading a stream in place")
local sender = lab.open("sim", { mode = "zerocopy" })
local reader = lab.open("sim", { mode = "zerocopy", peer = sender })
local rs, rr = sender:region { frames = 64 }, reader:region { frames = 64 }
local LEN = 60000

L.part("the sender produces 60000 bytes in its region and sends them as one chain")
local b = rs:alloc(LEN)
b:fill("0123456789")
sender:tx(lab.packet.udp { dst = "198.18.0.2:7000", payload = b })
reader:fill(40)
sender:kick()

L.part("the reader receives one packet of many segments")
local p = reader:rx()[1]
L.check(p ~= nil, "a packet arrived")
local segs = p:segments()
print(string.format("   %d segments:", #segs))
for i, s in ipairs(segs) do
  if i <= 3 or i == #segs then
    print(string.format("   segment %2d  frame %2d  addr %6d  len %4d%s", i, s.frame, s.addr, s.len, s.contd and "  CONTD" or ""))
  elseif i == 4 then print("   ...") end
end
L.check(#segs > 1, "the message spans several frames")

L.part("read in place: walk the segments, check the checksum")
local before = reader:stats().ledger
local d = p:dissect()
local after = reader:stats().ledger
L.check(d.udp.csum_ok, "the UDP checksum over every segment holds")
L.eq(after.copied - before.copied, 0, "bytes copied to check it")
L.check(after.touched - before.touched >= LEN, "every payload byte was touched in place")

L.part("peek at one spot without copying the rest: r:read of 10 bytes")
local s2 = segs[2]
L.eq(rr:read(s2.addr, 10), "0123456789", "10 bytes at the start of segment 2")
L.eq(reader:stats().ledger.copied - after.copied, 10, "bytes copied for that peek")

L.part("the copy a non-zero-copy reader makes: p:payload()")
local whole = p:payload()
L.eq(#whole, LEN, "payload length")
L.eq(reader:stats().ledger.copied - after.copied, 10 + LEN, "copied now (the peek + the whole payload)")

L.part("done reading: the frames go back to the pool")
p:release()
L.eq(reader:owners().free + reader:owners().fill, 64, "frames free or lent to the NIC")
L.done("6")
