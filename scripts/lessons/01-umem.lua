-- Lesson 1: a UMEM and its four rings
-- the region of frames, fill/rx/tx/comp, and the owner of every frame at each move
--
-- The teaching is on the screen (L.part, L.result); this header only says
-- how to run it: ringlab scripts/lessons/01-umem.lua [sim|afxdp|dpdk]
-- [part M] [--check], or at the prompt: lesson 1 [ENGINE] [part M] [--check].
-- On the simulator the NIC is stepped one hardware action at a time.
local L = require "ringlab.lesson"
local A = L.args(...)

L.title("Lesson 1: a UMEM and its four rings")
local e = L.open(A, { name = "umem", ring_size = 16, sim = { step = true, wire_capacity = 16 } })
if not e then return end
local stepping = e:info().caps.step
local kind = e:info().kind

L.part("the UMEM: one region of 32 frames", [[
  AF_XDP gives a program one block of packet memory, the UMEM, cut into
  frames of equal size. Program and NIC pass frame addresses to each other
  on four rings; the bytes stay where they are.

  Every frame has exactly one owner. Look at the owners line on the
  dashboard: app 32 (free 32) - the program owns them all.]])
local r = e:region { frames = 32, frame_size = 2048, headroom = 256 }
local o = L.conserved(e)
L.eq(o.free, 32, "free frames")
L.result("32 frames of 2048 bytes, all owned by the program (app). An address "
  .. "is a byte offset into the region: frame 3 starts at 3 x 2048 = 6144.")

L.part("the fill ring: lend 8 empty frames to the NIC", [[
  To receive, the program first lends the NIC empty frames: it writes their
  addresses on the fill ring. The NIC takes one for each packet that
  arrives; with none left, it drops what arrives (lesson 2).

  Look at the fill ring (8 entries waiting, #) and the owners: fill 8.]])
if e:rings().fill then
  L.eq(e:fill(8), 8, "frames offered")
  L.eq(e:rings().fill.pending, 8, "fill.pending")
  L.eq(e:owners().fill, 8, "owner fill")
  L.result("8 frames on the fill ring, lent to the NIC until a packet lands in "
    .. "one; the program keeps the other 24.")
else
  L.result("%s has no fill ring: its driver refills the receive queue from the "
    .. "mempool by itself.", kind)
end

L.part("the tx ring: build a packet in a frame and queue it", [[
  lab.packet.udp takes a free frame, writes 42 bytes of Ethernet, IP and UDP
  headers into it and copies the payload behind them: that copy is counted
  in the ledger. e:tx() then puts the frame's address on the tx ring, and
  the frame belongs to the NIC until the NIC says it is done.

  Look at the tx ring (1 waiting), the owners (tx 1) and the ledger.]])
local p = lab.packet.udp { dst = "198.18.0.2:9999", payload = "one packet, four rings", region = r }
L.eq(e:stats().ledger.copied, 22, "ledger copied (the payload)")
L.eq(e:tx(p), 1, "packets queued")
if stepping then
  L.eq(e:owners().tx, 1, "owner tx")
else -- a real driver may take it from the tx ring at once
  local o2 = e:owners()
  L.eq(o2.tx + o2.nic + o2.comp, 1, "owner tx, nic or comp")
end
local ot = e:owners()
L.result("one 64-byte packet queued: 42 bytes of headers written, the 22-byte "
  .. "payload copied once (ledger: copied 22 B)%s.", ot.tx == 1 and "" or string.format(
    "; the %s driver took it off the tx ring at once (owner nic %d, comp %d)", kind, ot.nic, ot.comp))

L.part("the NIC sends it, completes it and receives it back", [[
  The simulator and DPDK's net_ring are wired to themselves: what they send
  arrives on their own rx ring. (On afxdp the packet crosses the testbed's
  veth and the peer's Linux answers it.) On the simulator each e:step() is
  one hardware action, printed below; look at tx, comp, rx and fill after
  each.]])
if stepping then
  for i = 1, 3 do
    L.pause(string.format("next: step %d of 3", i))
    L.say(e:step().what, string.format("   step %d: ", i))
  end
  L.result("sent (TX), its frame posted on comp (COMPLETE), and received into a "
    .. "fill frame now on rx (RX): both frames wait for the program.")
else
  e:kick()
  for _ = 1, 100 do if e:rings().rx and e:rings().rx.pending > 0 then break end lab.sleep(0.01) end
  L.result("the %s driver sent the packet and %s came back on rx; the steps "
    .. "happened inside the driver, all at once.", kind, kind == "afxdp" and "the peer's answer" or "it")
end
L.conserved(e)

L.part("the comp ring: take the sent frame back", [[
  A sent frame is not free until the program reads its address from the
  completion ring: e:complete() does that. A program that forgets runs out
  of frames (lesson 3). Look at comp: empty again, and free one higher.]])
e:kick()
local n = e:complete()
if e:rings().fill then
  L.check(n >= 1, "the sent frame came back through comp")
  L.result("%d frame back from comp: the program owns it again (free %d).", n, e:owners().free)
else -- DPDK net_ring0: the sent mbuf itself arrives on rx, nothing to complete
  L.result("%s: nothing to complete here - the sent mbuf itself comes back on rx.", kind)
end

L.part("the rx ring: take the received packet", [[
  The packet landed in a frame that was on the fill ring; its address is
  now on the rx ring. e:rx() hands it to the program where the NIC wrote
  it, without a copy; p:release() gives the frame back to the program (a
  receiver puts it on the fill ring again).

  Look at rx (empty) and the owners: nothing left in tx, comp or rx.]])
local got = {}
for _ = 1, 100 do
  got = e:rx()
  if #got > 0 then break end
  lab.sleep(0.01)
end
L.eq(#got, 1, "packets received")
local d, payload = got[1]:dissect(), got[1]:payload()
local what
if d.icmp then -- afxdp: the peer's Linux answers (nobody listens on 9999), quoting our packet
  L.check(d.icmp.type == 3 and payload:find("one packet, four rings", 1, true),
    "the peer's ICMP port unreachable quotes our packet")
  what = string.format("the peer's answer, ICMP port unreachable (%d bytes, quoting our packet)", d.len)
else
  L.eq(payload, "one packet, four rings", "payload")
  what = string.format("\"%s\" (%d bytes)", payload, #payload)
end
got[1]:release()
o = L.conserved(e)
L.eq(o.tx + o.comp + o.rx + o.nic, 0, "frames in tx, comp, rx or the NIC")
L.result("received %s. All %d frames accounted for: app %d, fill %d - every "
  .. "frame has exactly one owner at every step.", what, o.frames, o.app, o.fill)
L.done("1")
