-- Lesson 6: reading a stream in place
-- a chained packet is read where it landed: segments, touched vs copied
--
-- The teaching is on the screen (L.part); this header only says how to run.
-- Engines: "sender" and "reader", two simulators wired back to back, each
-- with its own region and rings of 32 slots.
-- Run: ringlab scripts/lessons/06-stream-in-place.lua   (or: lesson 6)
local L = require "ringlab.lesson"
local A = L.args(...)

L.title("Lesson 6: reading a stream in place")
if A.engine and A.engine ~= "sim" then
  L.say(A.engine .. ": lesson 6 is for the simulator (two wired back to back) - run: lesson 6")
  return
end

local LEN = 20000
local sender = L.open(A, { name = "sender", mode = "zerocopy", ring_size = 32 })
if not sender then return end
local reader = L.open(A, { name = "reader", mode = "zerocopy", ring_size = 32, peer = sender })
if not reader then return end
local rs, rr = sender:region { frames = 64 }, reader:region { frames = 64 }

local function ledger(e) return e:stats().ledger end
-- the engines the dashboard draws in full first (the framework's L.show)
local function show(...) if L.show then L.show(...) end end

L.part("one 20000-byte message, sent as one chain", [[
  The sender writes its message straight into its region (r:alloc, then
  b:fill): the data is born where the NIC reads it. A packet bigger than
  one frame is a chain of descriptors, one per frame. The reader lends 24
  empty frames to its NIC on the fill ring, then the sender kicks.

  Dashboard: sender's sent and copied, the reader's fill ring.]])
show(sender, reader)
local b = rs:alloc(LEN)
b:fill("0123456789")
local p_out = lab.packet.udp { dst = "198.18.0.2:7000", payload = b }
local nsent = #p_out:segments()
L.eq(sender:tx(p_out), 1, "packets queued")
reader:fill(24)
sender:kick()
L.result("1 packet of %d bytes left as a chain of %d descriptors; the only copy "
  .. "was b:fill writing the message", LEN, nsent)

L.part("the reader receives one packet of many segments", [[
  The reader's NIC wrote the packet into frames the fill ring offered and
  put one descriptor per frame on the rx ring: (frame, address, length),
  CONTD meaning "the packet continues in the next descriptor".]])
show(reader, sender) -- the reader is the one to watch from here
local p = reader:rx()[1]
L.check(p ~= nil, "a packet arrived")
local segs = p:segments()
for i, s in ipairs(segs) do
  if i <= 2 or i == #segs then
    L.printf("   segment %2d  frame %2d  addr %6d  len %4d%s", i, s.frame, s.addr, s.len,
      s.contd and "  CONTD" or "")
  elseif i == 3 then
    L.printf("   ... %d more like these ...", #segs - 3)
  end
end
L.check(#segs > 1, "the message spans several frames")
L.result("1 packet in %d segments (frames %d to %d): each still lies where the "
  .. "NIC wrote it", #segs, segs[1].frame, segs[#segs].frame)

L.part("read in place: check the checksum over every segment", [[
  To check the UDP checksum the reader must look at every payload byte -
  but it can do that where the bytes lie, walking segment after segment.
  The ledger tells the two apart: "touched" is a byte read in place,
  "copied" a byte moved into other memory.

  Dashboard: the reader's copied stays put.]])
local before = ledger(reader)
local d = p:dissect()
local after = ledger(reader)
L.check(d.udp.csum_ok, "the UDP checksum over every segment holds")
local touched = after.touched - before.touched
L.eq(after.copied - before.copied, 0, "bytes copied to check it")
L.check(touched >= LEN, "every payload byte was touched in place")
L.result("checksum good: %d bytes touched, 0 bytes copied - read where they lie",
  touched)

L.part("peek at one spot: 10 bytes out of segment 2", [[
  A program often needs only a few bytes (a header, a length). r:read
  copies exactly what it asks for out of the region - here 10 bytes at
  the start of segment 2 - and leaves the rest alone.]])
local s2 = segs[2]
local peek = rr:read(s2.addr, 10)
L.eq(peek, "0123456789", "10 bytes at the start of segment 2")
L.eq(ledger(reader).copied - after.copied, 10, "bytes copied for that peek")
L.result("read '%s' at address %d: 10 bytes copied, not %d", peek, s2.addr, LEN)

L.part("the copy a non-zero-copy reader makes: p:payload()", [[
  Asking for the payload as one string glues the segments together: every
  byte is copied into new memory. This is what a socket's read() does,
  and what reading in place avoids.

  Dashboard: the reader's copied jumps by 20.0k.]])
local whole = p:payload()
L.eq(#whole, LEN, "payload length")
L.eq(ledger(reader).copied - after.copied, 10 + LEN, "copied now (the peek + the whole payload)")
L.result("p:payload() copied all %d bytes into one string: the copy the first "
  .. "parts did without", #whole)

L.part("done reading: the frames go back", [[
  p:release() hands the packet's frames back to the reader's program, which
  can lend them to the NIC again. A reader that holds frames too long
  starves the fill ring, and the NIC drops what arrives.]])
local held = #segs
p:release()
local o = L.conserved(reader)
L.eq(o.free + o.fill, 64, "frames free or lent to the NIC")
L.result("%d frames released: %d free in the pool, %d lent to the NIC, none lost",
  held, o.free, o.fill)

L.part("a stream of five packets, read across them with lab.reader", [[
  A byte stream (6000 bytes: 60 numbered lines of 100 bytes) arrives as
  five packets of at most 1400 bytes. lab.reader strings their payloads
  together without copying: read(n) gives a view of the bytes where they
  lie, find() looks across packet boundaries.]])
local lines = {}
for i = 1, 60 do lines[i] = string.format("line %02d %s\n", i, string.rep("-", 91)) end
local text = table.concat(lines) -- 6000 bytes
local stream = lab.segment(text, { proto = "udp", strategy = "copy", mss = 1400,
  dst = "198.18.0.2:7000", region = rs })
reader:fill(16)
L.eq(stream:send(sender), 5, "packets sent for 6000 bytes at 1400 per packet")
local rd = lab.reader(reader)
for _, pkt in ipairs(reader:rx(16)) do rd:push(pkt) end
L.eq(rd:avail(), #text, "bytes the reader can see")
L.eq(rd:frames(), 5, "frames the reader holds")
local at = rd:find("line 15")
L.eq(at, 14 * 100, "find() across packet boundaries: offset of line 15")
local l0 = ledger(reader)
local v = rd:read(3000)
local pieces = #v:pieces()
L.eq(pieces, 3, "a 3000-byte view made of pieces in 3 frames")
L.check(v:equals(text:sub(1, 3000)), "the view holds the first 3000 bytes")
L.eq(ledger(reader).copied - l0.copied, 0, "bytes copied to read them")
L.result("'line 15' found at offset %d; read(3000) is a view over %d frames, "
  .. "0 bytes copied", at, pieces)

L.part("release what was read: frames back to the fill ring", [[
  release() hands back every frame the reader has wholly moved past, so the
  program can offer it to the NIC again; a frame it is still in the middle
  of stays held. This is how a zero-copy reader keeps the fill ring fed.]])
local back = rd:release()
L.eq(back, 2, "frames wholly read go back to the pool")
local still = rd:frames()
L.eq(still, 3, "frames the reader still holds")
rd:close()
stream:free()
o = L.conserved(reader)
L.eq(o.free + o.fill, 64, "every frame is free or lent to the NIC")
L.result("%d frames went back, %d stayed held (3000 of 6000 bytes read); closing "
  .. "the reader returned them too", back, still)
L.done("6")
