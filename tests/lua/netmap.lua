-- netmap.lua - netmap's model as a personality of the simulator (open sim
-- personality=netmap): the read path, the write path, packets over several
-- slots (NS_MOREFRAG), forwarding by swapping buf_idx between two ports of
-- one pool, head/cur/tail semantics, one-line errors, and conservation
-- after every step. arg[1] names the case.
local T = require "common"

local case = assert(arg[1], "give a case")
local NS_BUF_CHANGED, NS_MOREFRAG = lab.netmap.NS_BUF_CHANGED, lab.netmap.NS_MOREFRAG

local function count(map, ch)
  return select(2, map:gsub(ch, ""))
end

-- Owners sum to the buffers (rl_region_check runs inside e:owners()), and
-- for a port alone in its pool the owners are exactly its slots' letters.
local function conserved(e, label, alone)
  local o = T.conserved(e, label)
  if alone then
    local nm = e:netmap()
    local tx, rx = nm.tx.map, nm.rx.map
    T.eq(o.fill, count(rx, "F"), label .. ": fill = the empty rx slots")
    T.eq(o.nic, count(rx, "N"), label .. ": nic = rx slots arrived, not synced")
    T.eq(o.rx, count(rx, "R") + count(rx, "r"), label .. ": rx = the received rx slots")
    T.eq(o.tx, count(tx, "T"), label .. ": tx = tx slots at the NIC")
    T.eq(o.comp, count(tx, "C"), label .. ": comp = tx slots sent, tail not past")
  end
  return o
end

-- A plain sim engine (AF_XDP's rings) to send from or receive on.
local function plain(opts)
  local o = { mode = "zerocopy" }
  for k, v in pairs(opts or {}) do o[k] = v end
  local e = lab.open("sim", o)
  e:region { frames = 128 }
  return e
end

local function udp(e, i, size)
  local payload = size and string.rep(string.char(65 + i % 26), size) or string.format("packet %03d", i)
  return lab.packet.udp { dst = "198.18.0.2:9999", payload = payload, region = e:region() }, payload
end

local function send_from(src, n, size)
  local sent = {}
  for i = 1, n do
    local p, payload = udp(src, i, size)
    sent[i] = payload
    src:tx(p)
  end
  src:kick()
  src:complete()
  return sent
end

-- The bytes of a UDP packet (built in e's region, then released).
local function packet_bytes(e, i, size)
  local p, payload = udp(e, i, size)
  local b = p:bytes()
  p:release()
  return b, payload
end

local cases = {}

function cases.read()
  local src = plain()
  local a = lab.open("sim", { personality = "netmap", ring_size = 8, peer = src })
  local rx = a:ring("rx")
  T.eq(rx.num_slots, 8, "rx slots")
  T.eq(rx.head, 0, "rx head") T.eq(rx.tail, 0, "rx tail")
  conserved(a, "open", true)
  local sent = send_from(src, 3)
  T.eq(rx.tail, 0, "tail stays until rxsync (the packets wait on the wire)")
  local r = a:rxsync()
  T.eq(r.received, 3, "rxsync received") T.eq(r.reported, 3, "tail moved over 3 slots")
  T.eq(rx.tail, 3, "tail after rxsync") T.eq(rx.head, 0, "head is the program's: unchanged")
  T.eq(a:netmap().rx.map, "RRRFFFFF", "the slots: 3 received, 5 empty")
  conserved(a, "after rxsync", true)
  for i = 0, 2 do
    local s = rx:slot(i)
    T.eq(s.flags & NS_MOREFRAG, 0, "one slot per packet")
    local bytes = s:data()
    local d = lab.dissect(bytes)
    T.eq(bytes:sub(d.payload_off + 1, d.payload_off + d.payload_len), sent[i + 1], "payload of slot " .. i)
    T.check(s.mine, "slot " .. i .. " is the program's")
  end
  T.check(not rx:slot(3).mine, "slot 3 is the kernel's")
  -- the program gives two back: nothing moves until rxsync
  rx.head = 2
  T.eq(rx.cur, 2, "cur follows head")
  T.eq(a:netmap().rx.map, "rrRFFFFF", "given back, not yet synced")
  conserved(a, "head moved", true)
  r = a:rxsync()
  T.eq(r.released, 2, "rxsync took back 2 slots")
  T.eq(a:owners().rx, 1, "one received slot left")
  conserved(a, "after the second rxsync", true)
  -- the ring holds num_slots-1 packets: the 8th of 8 more is dropped
  rx.head = 3
  a:rxsync()
  send_from(src, 8)
  r = a:rxsync()
  T.eq(r.received, 7, "7 fit (one slot always stays empty)")
  T.eq(r.dropped, 1, "the 8th was dropped")
  T.eq(rx:space(), 7, "the program owns 7 slots")
  conserved(a, "full ring", true)
  -- recv (e:rx): the packets at head as packets, fresh buffers in the slots
  local pkts = a:rx(64)
  T.eq(#pkts, 7, "e:rx took the 7")
  T.eq(pkts[1]:payload(), "packet 001", "first payload")
  T.eq(rx.head, rx.tail, "head moved up to tail")
  T.check(rx:slot(pkts and (rx.tail + 7) % 8 or 0).buf_changed, "a fresh buffer: NS_BUF_CHANGED")
  conserved(a, "after e:rx", true)
  for _, p in ipairs(pkts) do p:release() end
  a:rxsync()
  T.eq(a:owners().fill, 8, "every rx slot empty again")
  conserved(a, "all given back", true)
  T.done("netmap_read")
end

function cases.write()
  local a = lab.open("sim", { personality = "netmap", ring_size = 8 })
  local dst = plain({ peer = a })
  dst:fill(32)
  local tx = a:ring("tx")
  T.eq(tx.head, 0, "tx head") T.eq(tx.cur, 0, "tx cur") T.eq(tx.tail, 7, "tx tail: one slot stays the kernel's")
  T.eq(tx:space(), 7, "7 slots to fill")
  T.eq(a:netmap().tx.map, "AAAAAAAC", "the slot at tail is the kernel's (C)")
  conserved(a, "open", true)
  local want = {}
  for i = 0, 2 do
    local b, payload = packet_bytes(dst, i)
    want[i + 1] = payload
    tx:slot(i):write(b)
    T.eq(tx:slot(i).len, #b, "len set by write")
  end
  local copied = a:stats().ledger.copied
  T.check(copied > 0, "writing into a slot is a copy, counted")
  tx.head = 3
  T.eq(a:owners().tx, 0, "head moved, nothing handed over until txsync")
  conserved(a, "head moved", true)
  local r = a:txsync()
  T.eq(r.taken, 3, "txsync took 3 slots") T.eq(r.sent, 3, "and the NIC sent 3 packets")
  T.eq(r.reported, 3, "tail moved over the 3 sent") T.eq(tx.tail, 2, "tail 7 -> 2")
  T.eq(a:netmap().tx.map, "AACAAAAA", "slot 2 (the last sent) is the slot at tail now")
  conserved(a, "after txsync", true)
  local got = dst:rx(64)
  T.eq(#got, 3, "the receiver got 3")
  for i, p in ipairs(got) do T.eq(p:payload(), want[i], "payload " .. i) p:release() end
  T.eq(a:stats().ledger.copied, copied, "sending copied nothing more")
  -- send (e:tx + kick): a packet's buffer goes into the slot at head
  local p = udp(a, 9)
  local buf = p:segments()[1].frame
  T.eq(a:tx(p), 1, "e:tx put it in a slot")
  T.eq(tx:slot(3).buf_idx, buf, "the packet's buffer is in slot 3")
  T.check(tx:slot(3).buf_changed, "NS_BUF_CHANGED on it")
  a:kick()
  T.eq(dst:rx(64)[1]:payload(), "packet 009", "sent through e:tx and kick (txsync)")
  conserved(a, "after e:tx", true)
  -- step mode: txsync only hands over; each step sends one; the next
  -- txsync moves tail
  local s = lab.open("sim", { personality = "netmap", ring_size = 8, step = true })
  plain({ peer = s }) -- what s sends leaves it (alone it would receive it back)
  local stx = s:ring("tx")
  for i = 0, 1 do stx:slot(i):write((packet_bytes(dst, i))) end
  stx.head = 2
  r = s:txsync()
  T.eq(r.taken, 2, "step: handed over 2") T.eq(r.sent, 0, "step: nothing sent yet")
  T.eq(stx.tail, 7, "tail unchanged")
  T.eq(s:netmap().tx.map, "TTAAAAAC", "two at the NIC")
  conserved(s, "step: after txsync", true)
  T.eq(s:step().kind, "tx", "step 1 sends")
  T.eq(s:netmap().tx.map, "CTAAAAAC", "one sent")
  conserved(s, "step: one sent", true)
  s:step()
  T.eq(s:owners().comp, 3, "two sent, tail not past them, and the slot at tail")
  conserved(s, "step: two sent", true)
  r = s:txsync()
  T.eq(r.reported, 2, "txsync gave the 2 sent back") T.eq(stx.tail, 1, "tail 7 -> 1")
  conserved(s, "step: reclaimed", true)
  T.done("netmap_write")
end

function cases.morefrag()
  -- rx: a 1200-byte packet in buffers of 512 takes 3 slots
  local src = plain()
  local a = lab.open("sim", { personality = "netmap", ring_size = 8, buf_size = 512, peer = src })
  local sent = send_from(src, 1, 1200)
  local r = a:rxsync()
  T.eq(r.received, 1, "one packet") T.eq(r.reported, 3, "over 3 slots")
  local rx = a:ring("rx")
  local lens, total = {}, 0
  for i = 0, 2 do
    local s = rx:slot(i)
    lens[#lens + 1] = s.len
    total = total + s.len
    T.eq(s.morefrag, i < 2, "NS_MOREFRAG on slot " .. i)
  end
  T.eq(lens[1], 512, "first slot full") T.eq(lens[2], 512, "second full")
  T.eq(total, 1200 + 42, "the three lengths add up to the packet")
  conserved(a, "rx morefrag", true)
  local pkts = a:rx(64)
  T.eq(#pkts, 1, "e:rx: one packet") T.eq(#pkts[1]:segments(), 3, "of three segments")
  T.eq(pkts[1]:payload(), sent[1], "payload intact across the slots")
  pkts[1]:release()
  T.raises({ "the next packet has 3 slots" }, function()
    send_from(src, 1, 1200)
    return a:rx(2)
  end)
  conserved(a, "rx morefrag after e:rx", true)
  -- tx: the program cuts one packet over 3 slots
  local b = lab.open("sim", { personality = "netmap", ring_size = 8, buf_size = 512 })
  local dst = plain({ peer = b })
  dst:fill(16)
  local bytes, payload = packet_bytes(dst, 5, 1000)
  local tx = b:ring("tx")
  for i = 0, 2 do
    local piece = bytes:sub(i * 512 + 1, (i + 1) * 512)
    tx:slot(i):write(piece)
    if i < 2 then tx:slot(i).flags = NS_MOREFRAG end
  end
  tx.head = 2 -- the packet cut short: refused, nothing moves
  local err = T.raises({ "tx slot 1 (just before head) has NS_MOREFRAG" }, b.txsync, b)
  T.check(not err:find("\n"), "one line")
  T.eq(b:owners().tx, 0, "nothing handed over")
  tx.head = 3
  r = b:txsync()
  T.eq(r.taken, 3, "3 slots") T.eq(r.sent, 1, "one packet")
  local got = dst:rx(64)
  T.eq(#got, 1, "the receiver got one packet")
  T.eq(got[1]:payload(), payload, "intact")
  conserved(b, "tx morefrag", true)
  T.done("netmap_morefrag")
end

function cases.forward()
  local N = 32
  local src = plain()
  local pin = lab.open("sim", { personality = "netmap", pool = "fw", ring_size = 64, peer = src, name = "in" })
  local pout = lab.open("sim", { personality = "netmap", pool = "fw", ring_size = 64, name = "out" })
  local dst = plain({ peer = pout })
  dst:fill(64)
  T.eq(pin:netmap().ports, 2, "two ports in pool fw")
  T.eq(pin:region().frames, pout:region().frames, "one pool: the same buffers")
  local sent = send_from(src, N)
  pin:rxsync()
  local rx, tx = pin:ring("rx"), pout:ring("tx")
  T.eq(rx:space(), N, "32 received")
  local copied0 = pin:stats().ledger.copied + pout:stats().ledger.copied
  local bufs, bytes = {}, 0
  while rx.head ~= rx.tail do
    local s = rx:slot(rx.head)
    local t = tx:slot(tx.head)
    local b, len = s.buf_idx, s.len
    bufs[#bufs + 1] = b
    bytes = bytes + len
    lab.netmap.swap(s, t)
    T.eq(t.buf_idx, b, "the tx slot holds the received buffer")
    T.eq(t.len, len, "with its length")
    T.check(t.buf_changed and s.buf_changed, "NS_BUF_CHANGED on both")
    tx.head = tx:next(tx.head)
    rx.head = rx:next(rx.head)
    T.conserved(pin, "during the swaps")
  end
  local r = pout:txsync()
  T.eq(r.sent, N, "out sent 32")
  pin:rxsync()
  T.conserved(pin, "after txsync")
  local got = dst:rx(64)
  T.eq(#got, N, "32 at the far end")
  for i, p in ipairs(got) do T.eq(p:payload(), sent[i], "payload " .. i) p:release() end
  local copied = pin:stats().ledger.copied + pout:stats().ledger.copied - copied0
  T.eq(copied, 0, "0 bytes copied")
  T.eq(pout:stats().ledger.referenced, bytes, "the forwarded bytes, referenced")
  T.eq(pout:netmap().swapped_bytes, bytes, "swapped_bytes")
  -- the buffers went out of out's tx slots: still there, the same numbers
  for i = 1, N do T.eq(tx:slot(i - 1).buf_idx, bufs[i], "buffer " .. i .. " left from out") end
  -- the prompt's forward does the same
  local C = require "ringlab.commands"
  send_from(src, 4)
  C.use(pin)
  local out = T.prompt("forward to=out")
  T.check(out:find("forward: 4 packets (4 slots, ", 1, true) and out:find("0 bytes copied", 1, true),
    "the prompt's forward:\n" .. out)
  T.eq(#dst:rx(64), 4, "and they arrived")
  -- pools of their own: refused
  local lone = lab.open("sim", { personality = "netmap" })
  T.raises({ "pools of their own", "pool=NAME" }, lab.netmap.swap, lone:ring("tx"):slot(0), tx:slot(tx.head))
  T.conserved(pin, "end") T.conserved(lone, "lone")
  T.done("netmap_forward")
end

function cases.semantics()
  local a = lab.open("sim", { personality = "netmap", ring_size = 8, step = true })
  local rx, tx = a:ring("rx"), a:ring("tx")
  -- rx: head can go up to tail, never past; cur between head and tail
  T.raises({ "head=1 is past tail=0", "rxsync" }, function() rx.head = 1 end)
  a:rxsync()
  -- loopback: what the port sends arrives on its own rx ring
  for i = 0, 2 do tx:slot(i):write((packet_bytes(a, i))) end
  tx.head = 3
  a:txsync()
  -- handed over, not sent: the program owns 3..6, head cannot pass tail=7
  T.raises({ "head=0 is past tail=7", "txsync gives sent slots back" }, function() tx.head = 0 end)
  T.raises({ "slot 0 is the kernel's" }, function() tx:slot(0).len = 10 end)
  tx.head = 7 -- up to tail: fine (the program gives all it owns)
  tx.head = 3 -- and back: the kernel has not seen it
  for _ = 1, 6 do a:step() T.conserved(a, "stepping") end -- 3 sent, 3 received
  T.eq(rx.tail, 0, "arrived, but tail moves only at rxsync")
  T.eq(a:netmap().rx.map, "NNNFFFFF", "arrived: N")
  a:rxsync()
  T.eq(rx.tail, 3, "rxsync moved tail over them")
  T.raises({ "head=4 is past tail=3" }, function() rx.head = 4 end)
  rx.head = 1
  T.raises({ "cur=0 is not between head=1 and tail=3" }, function() rx.cur = 0 end)
  T.raises({ "cur=5 is not between head=1 and tail=3" }, function() rx.cur = 5 end)
  rx.cur = 3
  T.eq(rx.cur, 3, "cur may be at tail")
  rx.head = 3
  T.eq(rx.cur, 3, "head caught up with cur")
  -- tx: head up to tail (one slot always the kernel's); txsync gives back
  -- the sent slots by moving tail
  T.eq(tx.tail, 7, "before txsync the sent slots are not back")
  local r = a:txsync()
  T.eq(r.reported, 3, "txsync: 3 completed") T.eq(tx.tail, 2, "tail moved 7 -> 2")
  T.eq(tx:space(), 7, "7 slots the program's again")
  tx.head = 2 -- all 7 handed over at once: head may reach tail
  T.eq(tx:space(), 0, "head at tail: the program owns none")
  tx.head = 3
  -- the program's slots only
  T.raises({ "slot 2 is the kernel's" }, function() tx:slot(2).len = 10 end)
  T.raises({ "slot 5 is the kernel's" }, lab.netmap.swap, rx:slot(5), tx:slot(4))
  T.done("netmap_semantics")
end

function cases.errors()
  local function one_line(words, f, ...)
    local err = T.raises(words, f, ...)
    T.check(not err:find("\n"), "one line: " .. err)
    T.check(err:find(" %- ") or err:find("; "), "says what to do: " .. err)
  end
  local a = lab.open("sim", { personality = "netmap", ring_size = 8, buf_size = 512 })
  local p = plain()
  one_line({ "not a netmap port", "personality=netmap" }, p.ring, p, "tx")
  T.eq(p:netmap(), nil, "e:netmap() of a plain sim is nil")
  one_line({ "which ring?" }, a.ring, a, "fill")
  one_line({ "slot 8 is not in the tx ring", "0 .. 7" }, function() return a:ring("tx"):slot(8) end)
  one_line({ "buf_idx", "swap" }, function() a:ring("tx"):slot(0).buf_idx = 3 end)
  one_line({ "set head and cur" }, function() a:ring("tx").tail = 3 end)
  one_line({ "no fill ring" }, a.fill, a, 4)
  one_line({ "does not fit a buffer of 512 bytes" }, function() a:ring("tx"):slot(0).len = 600 end)
  one_line({ "do not fit a buffer of 512 bytes", "NS_MOREFRAG" }, function()
    a:ring("tx"):slot(0):write(string.rep("x", 513))
  end)
  one_line({ "bits this lab does not model" }, function() a:ring("tx"):slot(0).flags = 4 end)
  one_line({ "on the rx ring" }, function() a:ring("rx"):slot(0):write("x") end)
  one_line({ "same slot twice" }, lab.netmap.swap, a:ring("tx"):slot(1), a:ring("tx"):slot(1))
  local tx = a:ring("tx")
  tx.head = 1 -- slot 0 has len 0: refused, nothing changes
  one_line({ "tx slot 0 has len=0" }, a.txsync, a)
  T.eq(a:owners().tx, 0, "nothing handed over")
  tx.head = 0
  one_line({ "personality=netmap takes no mode=copy" }, lab.open, "sim", { personality = "netmap", mode = "copy" })
  one_line({ "tso=true" }, lab.open, "sim", { personality = "netmap", tso = true })
  one_line({ "add personality=netmap" }, lab.open, "sim", { pool = "x" })
  one_line({ "personality=bsd is not understood" }, lab.open, "sim", { personality = "bsd" })
  one_line({ "buffers=10 cannot fill this port's rings" }, lab.open, "sim",
    { personality = "netmap", ring_size = 8, buffers = 10 })
  one_line({ "buf_size=65536 does not fit a slot's len" }, lab.open, "sim", { personality = "netmap", buf_size = 65536 })
  do -- a packet over more slots than the wire carries: refused at txsync, nothing moves
    local big = lab.open("sim", { personality = "netmap", ring_size = 64 })
    local btx = big:ring("tx")
    for i = 0, 32 do
      btx:slot(i):write(string.rep("z", 2048))
      btx:slot(i).flags = i < 32 and NS_MOREFRAG or 0
    end
    btx.head = 33
    one_line({ "more than the wire carries" }, big.txsync, big)
    T.eq(big:owners().tx, 0, "nothing handed over")
    big:close()
  end
  local b = lab.open("sim", { personality = "netmap", pool = "small", ring_size = 8, buffers = 20 })
  one_line({ "pool small has 4 free buffers" }, lab.open, "sim", { personality = "netmap", pool = "small", ring_size = 8 })
  one_line({ "has buffers of 2048 bytes, not buf_size=512" }, lab.open, "sim",
    { personality = "netmap", pool = "small", buf_size = 512 })
  -- handles of a closed port
  local s = tx:slot(0)
  a:close()
  one_line({ "closed" }, function() return tx.head end)
  one_line({ "closed" }, function() return s.len end)
  -- the prompt: one line each
  local C = require "ringlab.commands"
  C.use(p)
  local _, err = T.prompt("txsync")
  T.check(err and err:find("not a netmap port", 1, true) and not err:find("\n"), "txsync on a plain sim: " .. tostring(err))
  C.use(b)
  _, err = T.prompt("advance rx 3")
  T.check(err and err:find("would pass tail", 1, true), "advance past tail: " .. tostring(err))
  _, err = T.prompt("advance up")
  T.check(err and err:find("which ring?", 1, true), "advance up: " .. tostring(err))
  _, err = T.prompt("forward")
  T.check(err and err:find("nothing received", 1, true), "forward with nothing: " .. tostring(err))
  T.conserved(b, "b") T.conserved(p, "p")
  T.done("netmap_errors")
end

-- Conservation after every single call: a loopback port in step mode and
-- a pair of ports of one pool, every op checked.
function cases.conservation()
  local a = lab.open("sim", { personality = "netmap", ring_size = 16, step = true, pool = "c" })
  local b = lab.open("sim", { personality = "netmap", ring_size = 16, pool = "c", peer = a })
  local function check(label)
    conserved(a, label) conserved(b, label)
    local oa, ob = a:owners(), b:owners()
    for _, k in ipairs({ "app", "fill", "nic", "rx", "tx", "comp" }) do
      T.eq(oa[k], ob[k], label .. ": one pool, one set of owners (" .. k .. ")")
    end
  end
  check("open")
  local atx, brx, btx = a:ring("tx"), b:ring("rx"), b:ring("tx")
  for round = 1, 5 do
    for i = 0, 3 do
      atx:slot((atx.head + i) % 16):write((packet_bytes(b, round * 10 + i)))
    end
    atx.head = (atx.head + 4) % 16
    check("round " .. round .. " head moved")
    a:txsync()
    check("round " .. round .. " txsync")
    for _ = 1, 4 do a:step() check("round " .. round .. " step") end
    b:rxsync()
    check("round " .. round .. " rxsync")
    -- b forwards them back to a by swapping
    while brx.head ~= brx.tail do
      lab.netmap.swap(brx:slot(brx.head), btx:slot(btx.head))
      check("round " .. round .. " swap")
      brx.head = brx:next(brx.head)
      btx.head = btx:next(btx.head)
    end
    b:txsync() check("round " .. round .. " b txsync")
    b:rxsync() check("round " .. round .. " b rxsync")
    for _ = 1, 5 do a:step() check("round " .. round .. " a step") end
    local pk = a:rx(64)
    T.eq(#pk, 4, "round " .. round .. ": 4 came back")
    check("round " .. round .. " a rx")
    for _, p in ipairs(pk) do p:release() end
    a:txsync() a:rxsync()
    check("round " .. round .. " end")
  end
  b:close()
  conserved(a, "after b closed", false)
  T.eq(a:netmap().ports, 1, "one port left in the pool")
  T.done("netmap_conservation")
end

-- Bindings survive hostile Lua: a finalizer that closes the port runs
-- inside the netmap bindings (the collector runs at every allocation);
-- each call works or ends in one line saying the engine is closed.
function cases.hostile()
  collectgarbage("incremental", 1, 1000) -- a new cycle at once, big steps: finalizers run inside calls
  local closed = 0
  for _ = 1, 150 do
    local a = lab.open("sim", { personality = "netmap", ring_size = 8 })
    local rx, tx = a:ring("rx"), a:ring("tx")
    tx:slot(0):write("abc")
    local s0, r1 = tx:slot(0), rx:slot(1)
    local ops = {
      function() return a:netmap() end, function() return s0:data() end, function() return a:txsync() end,
      function() return rx:slot(1) end, function() return a:rxsync() end, function() return tostring(s0) end,
      function() return a:ring("tx") end, function() return tx.head end, function() r1:swap(s0) end,
      function() tx.head = 1 end, function() s0.len = 2 end, function() return rx:space() end,
    }
    for i, f in ipairs(ops) do
      setmetatable({}, { __gc = function() a:close() end })
      local ok, err = pcall(f)
      if not ok then
        err = tostring(err)
        T.check(not err:find("\n"), "one line: " .. err)
        if err:find("closed", 1, true) then closed = closed + 1 end
      end
    end
    -- still open: conserved (a finalizer may close it inside this check too)
    local ok, err = pcall(T.conserved, a, "still open")
    T.check(ok or tostring(err):find("closed", 1, true), "conserved, or closed: " .. tostring(err))
    a:close()
  end
  collectgarbage("incremental", 200, 100)
  print("calls that found the port closed (by a finalizer, often mid-call): " .. closed)
  T.check(closed > 0, "a finalizer closed a port while the netmap calls ran")
  T.done("netmap_hostile")
end

assert(cases[case], "no case " .. case)()
