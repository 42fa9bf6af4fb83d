-- Lesson 11: jumbo frames and multi-buffer
-- a 9000-byte packet in 2048-byte frames: one packet, six descriptors, XDP_PKT_CONTD
--
-- A UMEM frame is at most a page (2048 or 4096 bytes); a jumbo Ethernet
-- frame carries 9000 bytes of IP. AF_XDP's multi-buffer mode (sg=true,
-- XDP_USE_SG, Linux 6.6 and later) lets one packet span several frames,
-- each with its own descriptor, all but the last marked XDP_PKT_CONTD.
-- On afxdp (root, over `ringlab testbed up mtu=9000`) the lab pings the
-- peer's Linux with a 9000-byte echo request and receives its reply; on
-- the simulator (no root needed) a sender sends a receiver a 9000-byte UDP
-- datagram, with the same frames and the same marks.
-- Run: ringlab scripts/lessons/11-jumbo-multibuffer.lua [afxdp]   (or: lesson 11)
local L = require "ringlab.lesson"
local A = L.args(...)

L.title("Lesson 11: jumbo frames and multi-buffer")
if A.engine == "dpdk" then
  L.say("lesson 11 shows AF_XDP's multi-buffer descriptors (XDP_PKT_CONTD): it runs on afxdp or the "
    .. "simulator, not on dpdk - DPDK chains mbufs instead, lesson 8 shows them.")
  return
end
local real = A.engine == "afxdp"
local IP_LEN = 9000                -- the jumbo MTU: the largest IP packet
local PAYLOAD = IP_LEN - 20 - 8    -- IPv4 header 20, ICMP or UDP header 8
local RING = 16

local sender, receiver, ifname
if real then
  local o = {}
  for k, v in pairs(L.defaults.afxdp) do o[k] = v end
  for _, kv in ipairs(A.extra) do
    local k, v = kv:match("^([%w_]+)=(.*)$")
    o[k] = v
  end
  ifname = o.ifname
  local ok, nif = pcall(lab.netif, ifname)
  if not ok or not nif then
    L.say(string.format("there is no interface %s here - as root: ringlab testbed up mtu=9000, then "
      .. "ringlab --netns rl-lab and lesson 11 afxdp", ifname))
    return
  end
  if nif.mtu < IP_LEN then
    L.say(string.format("%s has MTU %d: a 9000-byte packet would not pass - as root: ringlab testbed "
      .. "up mtu=9000 (name= as you made it), then lesson 11 afxdp again", ifname, nif.mtu))
    return
  end
  sender = L.open(A, { name = "jumbo", sg = true, fill_size = RING, comp_size = RING, rx_size = RING,
    tx_size = RING })
  if not sender then return end
  receiver = sender -- the peer's Linux answers: this socket sends and receives
else
  sender = L.open(A, { name = "sender", ring_size = RING })
  if not sender then return end
  receiver = L.open(A, { name = "receiver", ring_size = RING, peer = sender })
end
local rs = sender:region { frames = 64, frame_size = 2048, headroom = 256 }
local rr = receiver == sender and rs or receiver:region { frames = 64, frame_size = 2048, headroom = 256 }

-- The payload: a counting pattern, so a misplaced piece would show.
local body = {}
for i = 0, PAYLOAD - 1 do body[#body + 1] = string.char(65 + i % 26) end
body = table.concat(body)

local function jumbo()
  if real then
    return lab.packet.icmp { type = 8, dst = "198.18.0.2", payload = body, region = rs }
  end
  return lab.packet.udp { src = "198.18.0.1:9000", dst = "198.18.0.2:9999", payload = body, region = rs }
end

-- The descriptors of one packet, in two columns (desc 1-3 left, 4-6
-- right), so that a part fits the lesson's half of an 80x24 screen.
local function descriptors(p)
  local segs = p:segments()
  local function cell(i)
    local s = segs[i]
    if not s then return "" end
    return string.format("%-4d %5d %6d %5d  %-6s", i, s.frame, s.addr, s.len, s.contd and "CONTD" or "0 end")
  end
  local head = string.format("%-4s %5s %6s %5s  %-6s", "desc", "frame", "addr", "len", "opts")
  local rows = (#segs + 1) // 2
  local function line(a, b) L.print((string.format("  %s | %s", a, b):gsub("%s+$", ""))) end
  line(head, #segs > 1 and head or "")
  for i = 1, rows do line(cell(i), cell(i + rows)) end
  return segs
end

local function send(p)
  L.eq(sender:tx(p), 1, "packets queued")
  sender:kick()
end

-- The packet that arrives (afxdp: the echo reply may take a moment).
local function receive(tries)
  for _ = 1, tries or 200 do
    if real then sender:kick() sender:complete() end
    local got = receiver:rx(RING)
    if #got > 0 then return got end
    if not real then return got end
    lab.sleep(0.01)
  end
  return {}
end

---------------------------------------------------------------------------
local room = rs.frame_size - rs.headroom
local wire = IP_LEN + 14
local need = (wire + room - 1) // room
L.part("MTU and frame size: why one frame cannot hold it", string.format([[
  The MTU is the largest IP packet a link carries: 1500 bytes on most
  Ethernet, 9000 with jumbo frames (%s). A frame of the region is %d bytes,
  and the first %d are headroom kept free in front of the packet, so %d
  bytes of packet fit in one. A 9000-byte IP packet is %d bytes with its
  Ethernet header: it needs %d frames.]],
  real and ("testbed up mtu=9000 sets both ends; " .. ifname .. " has it") or
  "the simulated wire carries up to 64 KiB; this lesson keeps to 9000",
  rs.frame_size, rs.headroom, room, wire, need))
if real then
  L.printf("  %s: MTU %d; engine %s, sg=true (XDP_USE_SG)", ifname, lab.netif(ifname).mtu, sender:info().name)
else
  L.printf("  sender and receiver: simulated NICs that take chains (caps: sg %s)",
    sender:info().caps.sg and "yes" or "no")
end
L.eq(need, 6, "frames for one jumbo packet")
L.result("%d bytes / %d bytes per frame: one frame cannot hold it, %d frames can", wire, room, need)

---------------------------------------------------------------------------
L.part("sending: one packet, a chain of descriptors", [[
  With multi-buffer a packet is a chain, one descriptor per frame. All but
  the last carry XDP_PKT_CONTD (CONTD: "more of this packet follows"); the
  last ends it. Here is the 9000-byte]]
  .. (real and " echo request to the peer:" or " datagram for the receiver:"))
local p = jumbo()
local segs = descriptors(p)
L.eq(#segs, need, "descriptors in the chain")
local contd, marked = 0, true
for i, s in ipairs(segs) do
  if s.contd then contd = contd + 1 end
  marked = marked and s.contd == (i < #segs)
end
L.check(marked, "CONTD on every descriptor but the last")
L.eq(p:len(), wire, "packet length")
receiver:fill(RING) -- frames to receive into, before anything can arrive
send(p)
L.result("one %d-byte packet queued as %d descriptors, %d marked CONTD", wire, #segs, contd)

---------------------------------------------------------------------------
L.part("receiving: the frames of one packet", string.format([[
  The receiver lent %d frames (fill %d). The NIC wrote a piece into each of
  6 and posted 6 rx descriptors, CONTD on all but the last; e:rx() (recv)
  hands out whole packets only, never half a chain.]], RING, RING))
local got = receive()
L.eq(#got, 1, "packets received")
local q = got[1]
local rsegs = descriptors(q)
L.eq(#rsegs, need, "rx descriptors")
local rmarked = true
for i, s in ipairs(rsegs) do rmarked = rmarked and s.contd == (i < #rsegs) end
L.check(rmarked, "CONTD on every rx descriptor but the last")
L.eq(q:len(), wire, "received length")
L.check(q:payload() == body, "the 8972 payload bytes arrived intact, in order")
L.result("%s: %d frames, %d CONTD; payload intact", real and "the echo reply" or "the datagram", #rsegs,
  #rsegs - 1)
for _, x in ipairs(got) do x:release() end
if real then receiver:fill(#rsegs) end
sender:complete()
L.conserved(sender)

---------------------------------------------------------------------------
L.part("a chain needs a frame for every piece", string.format([[
  The NIC needs a frame for every piece before it writes the packet. The
  receiver starts afresh and lends only 4 for a %d-frame packet: dropped,
  and counted. explain says so; more frames fix it.]], need))
if real then
  -- take back what the fill ring holds: close and open the socket again
  sender:close()
  sender = L.open(A, { name = "jumbo", sg = true, fill_size = RING, comp_size = RING, rx_size = RING,
    tx_size = RING })
  if not sender then return end
  receiver = sender
  rs = sender:region { frames = 64, frame_size = 2048, headroom = 256 }
  rr = rs
else
  receiver:close()
  receiver = L.open(A, { name = "receiver", ring_size = RING, peer = sender })
  rr = receiver:region { frames = 64, frame_size = 2048, headroom = 256 }
end
if L.show then L.show(sender, receiver ~= sender and receiver or nil) end -- not the closed one
receiver:fill(4)
send(jumbo())
got = receive(30) -- a reply takes well under 0.3 s on the testbed
L.eq(#got, 0, "packets received with 4 frames lent")
L.print(lab.explain(receiver))
local dropped = 0
for _, r in ipairs(lab.drops(receiver)) do
  if r.kind == "drop" and (r.counter == "rx_dropped" or r.counter == "rx_fill_ring_empty_descs") then
    dropped = math.max(dropped, r.count)
  end
end
L.eq(dropped, 1, "the packet counted as dropped")
receiver:fill(RING - 4)
send(jumbo())
got = receive()
L.eq(#got, 1, "packets received with 16 frames lent")
for _, x in ipairs(got) do x:release() end
sender:complete()
L.conserved(receiver)
L.result("4 frames lent: the %d-frame packet dropped; %d lent: it arrived", need, RING)

L.done("11", real and "9000 bytes over AF_XDP: sg=true, a chain of 6 frames, XDP_PKT_CONTD on all but the last"
  or "a jumbo packet is a chain of frames: CONTD on all but the last, and a frame for every piece")
