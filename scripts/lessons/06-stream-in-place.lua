-- Lesson 6: reading a stream in place
-- a chained packet is read where it landed: segments, touched vs copied
--
-- A 60 KB message arrives as one packet spread over many frames (a chain
-- of descriptors). A zero-copy reader does not glue it together: it walks
-- the segments where the NIC wrote them and hands the frames back when
-- done. Checking the checksum reads every byte in place (touched); only
-- asking for the payload as one string copies it (copied). Then a stream
-- of several packets read with lab.reader: views, find, release.
-- Run: ringlab scripts/lessons/06-stream-in-place.lua   (or: lesson 6)
local L = require "ringlab.lesson"
L.args(...)

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

L.part("a stream of many packets: lab.reader reads across them in place")
-- A byte stream (here 6000 bytes of numbered lines) arrives as several
-- packets. lab.reader strings their payloads together without copying:
-- read(n) gives a view of the bytes where they lie, find() looks across
-- packet boundaries, release() hands back every frame the reader has
-- moved past, so the fill ring can offer it to the NIC again.
local lines = {}
for i = 1, 60 do lines[i] = string.format("line %02d %s\n", i, string.rep("-", 91)) end
local text = table.concat(lines) -- 6000 bytes
local segs = lab.segment(text, { proto = "udp", strategy = "copy", mss = 1400,
  dst = "198.18.0.2:7000", region = rs })
reader:fill(reader:owners().free)
L.eq(segs:send(sender), 5, "packets sent for 6000 bytes at 1400 per packet")
local rd = lab.reader(reader)
for _, pkt in ipairs(reader:rx(16)) do rd:push(pkt) end
L.eq(rd:avail(), #text, "bytes the reader can see")
L.eq(rd:frames(), 5, "frames the reader holds")
local at = rd:find("line 15")
L.eq(at, 14 * 100, "find() across packet boundaries: offset of line 15")
local l0 = reader:stats().ledger
local v = rd:read(3000)
L.eq(#v:pieces(), 3, "a 3000-byte view made of pieces in 3 frames")
L.check(v:equals(text:sub(1, 3000)), "the view holds the first 3000 bytes")
L.eq(reader:stats().ledger.copied - l0.copied, 0, "bytes copied to read them")
L.eq(rd:release(), 2, "frames wholly read go back to the pool")
L.eq(rd:frames(), 3, "frames the reader still holds")
rd:close()
segs:free()
L.eq(reader:owners().free + reader:owners().fill, 64, "every frame is free or lent to the NIC")
L.done("6")
