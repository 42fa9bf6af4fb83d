-- Lesson 1: a UMEM and its four rings
-- the region of frames, fill/rx/tx/comp, and the owner of every frame at each move
--
-- AF_XDP gives a program one block of packet memory, the UMEM, cut into
-- frames, and four rings to pass frame addresses to and from the kernel.
-- This lesson makes a small one and moves one packet around all four
-- rings, checking after every move who owns each frame.
-- Run: ringlab scripts/lessons/01-umem.lua [sim|afxdp|dpdk]   (or: lesson 1)
local L = require "ringlab.lesson"
local which = L.args(...).engine

L.title("Lesson 1: a UMEM and its four rings")
local e = L.open(which, which == nil and { step = true } or nil)
if not e then return end
local stepping = e:info().caps.step

L.part("the region: 64 frames of 2048 bytes")
local r = e:region { frames = 64, frame_size = 2048, headroom = 256 }
L.say [[
  Every frame has exactly one owner. Right now the program (app) owns all
  64 and they sit free in its pool. Addresses are byte offsets into the
  region: frame 3 starts at 3 * 2048 = 6144.]]
local o = L.conserved(e)
L.eq(o.free, 64, "free frames")

if e:rings().fill then
  L.part("the fill ring: lend 8 empty frames to the NIC for receiving")
  L.eq(e:fill(8), 8, "frames offered")
  L.eq(e:rings().fill.pending, 8, "fill.pending")
  L.eq(e:owners().fill, 8, "owner fill")
end

L.part("the tx ring: build a packet in a frame and queue it")
local p = lab.packet.udp { dst = "198.18.0.2:9999", payload = "one packet, four rings", region = r }
L.say [[
  The packet was written into a free frame: 42 bytes of headers, then the
  22-byte payload copied in behind them (the ledger says so).]]
L.eq(e:stats().ledger.copied, 22, "ledger copied (the payload)")
L.eq(e:tx(p), 1, "packets queued")
if stepping then
  L.eq(e:owners().tx, 1, "owner tx")
else -- a real driver may take it from the tx ring at once
  local o2 = e:owners()
  L.eq(o2.tx + o2.nic + o2.comp, 1, "owner tx, nic or comp")
end

L.part("the NIC sends it, completes it and receives it back (loopback)")
if stepping then
  for _ = 1, 3 do print("   " .. e:step().what) end
else
  e:kick()
  for _ = 1, 100 do if e:rings().rx and e:rings().rx.pending > 0 then break end lab.sleep(0.01) end
end
L.conserved(e)

L.part("the comp ring: take the sent frame back")
e:kick()
local n = e:complete()
if e:rings().fill then
  L.check(n >= 1, "the sent frame came back through comp")
else -- DPDK net_ring0: the sent mbuf itself arrives on rx, nothing to complete
  print("   (" .. e:info().kind .. ": no completion ring here - the sent mbuf comes back on rx)")
end
L.part("the rx ring: take the received packet")
local got = {}
for _ = 1, 100 do
  got = e:rx()
  if #got > 0 then break end
  lab.sleep(0.01)
end
L.eq(#got, 1, "packets received")
L.eq(got[1]:payload(), "one packet, four rings", "payload")
got[1]:release()
o = L.conserved(e)
L.eq(o.tx + o.comp + o.rx + o.nic, 0, "frames in tx, comp, rx or the NIC")
L.done("1")
