-- frames_in_use.lua - a frame is never handed out while something still
-- points into it (issue 11, section 2). A buffer from r:alloc() carries
-- packets built over it (lab.packet.udp{payload=b}) and segs cut from it
-- (lab.segment, born and sg; gso on DPDK, case segs_gso_dpdk, registered in
-- tests/dpdk); b:free() while one of them is unsent used to
-- give its frames to the pool, the next packet (or batch) took them, and
-- the first packet sent the second one's bytes. Now b:free() is refused
-- until they are sent, released or freed. Every case checks the bytes that
-- actually arrive on a peer simulator, and owners conserved. arg[1] names
-- the case.
local T = require "common"

local DST = "198.18.0.2:9999"
local N = 300 -- bytes in the buffer: one frame

-- a sends to b; a's region small enough that a freed frame is taken next
local function pair()
  local a = lab.open("sim")
  local b = lab.open("sim", { peer = a })
  local r = a:region { frames = 64 }
  b:region { frames = 256 }
  b:fill(128)
  return a, b, r
end

-- What a queued reaches b: the payloads, in order; frames back on both.
local function wire(a, b)
  a:kick()
  local got = {}
  for _, p in ipairs(b:rx(128)) do
    got[#got + 1] = p:payload()
    p:release()
  end
  b:fill(#got)
  a:complete()
  return got
end

-- got == want, or an error showing where they part (short enough to read).
local function same(got, want, what)
  if got == want then return end
  local i = 1
  while i <= #got and got:byte(i) == want:byte(i) do i = i + 1 end
  local function show(s) return (s:sub(i, i + 23):gsub("[^%g ]", ".")) end
  error(string.format("%s: %d bytes arrived, %d expected; from byte %d got '%s', expected '%s'",
    what, #got, #want, i, show(got), show(want)), 2)
end

-- The frame numbers a buffer's bytes lie in.
local function frames_of(r, buf)
  local t = {}
  for f = buf:addr() // r.frame_size, (buf:addr() + #buf - 1) // r.frame_size do t[f] = true end
  return t
end

local function no_frame_of(r, buf, frames, what)
  local mine = frames_of(r, buf)
  for _, f in ipairs(frames) do
    T.check(not mine[f], what .. ": took frame " .. f .. ", which the unsent packet points into")
  end
end

local cases = {}

-- A born packet, then a packet with a string payload: each sends its own.
function cases.packet_then_packet()
  local a, b, r = pair()
  local buf = r:alloc(N)
  buf:fill("A")
  local p = lab.packet.udp { dst = DST, payload = buf }
  local ok, err = pcall(buf.free, buf)
  local q = lab.packet.udp { dst = DST, payload = string.rep("B", N), region = r }
  local qf = {}
  for i, s in ipairs(q:segments()) do qf[i] = s.frame end
  -- the born packet first: on the old code its frame was q's by now
  T.eq(a:tx(p), 1, "the born packet queued")
  local got = wire(a, b)
  T.eq(#got, 1, "one packet arrived")
  same(got[1], string.rep("A", N), "the born packet sent its own bytes")
  T.eq(a:tx(q), 1, "the second packet queued")
  got = wire(a, b)
  same(got[1], string.rep("B", N), "the second packet sent its own bytes")
  T.check(not ok, "b:free() with an unsent packet over the buffer is refused")
  T.check(err:find("free: 1 unsent packet still points into this buffer - send it (e:tx(p)) or "
    .. "release it (p:release()) first", 1, true), "one line saying what to do: " .. err)
  T.check(not err:find("\n"), "one line")
  no_frame_of(r, buf, qf, "the next packet")
  -- sent: the buffer may go now, and every frame is back
  buf:free()
  T.owners(a, { free = 64 }, "after the send and the free")
  T.conserved(b)
end

-- A born packet, then a batch filling every free frame.
function cases.packet_then_batch()
  local a, b, r = pair()
  local buf = r:alloc(N)
  buf:fill("A")
  local p = lab.packet.udp { dst = DST, payload = buf }
  local ok, err = pcall(buf.free, buf)
  local bt = lab.batch(a, 8)
  T.eq(bt:udp { dst = DST, payload = string.rep("C", N) }, 8, "the batch filled")
  local bf = bt:frames()
  T.eq(a:tx(p), 1, "the born packet queued")
  local got = wire(a, b)
  T.eq(#got, 1, "one packet arrived")
  same(got[1], string.rep("A", N), "the born packet sent its own bytes")
  T.eq(bt:tx(), 8, "the batch queued")
  got = wire(a, b)
  T.eq(#got, 8, "eight packets arrived")
  for i = 1, 8 do same(got[i], string.rep("C", N), "batch packet " .. i) end
  T.check(not ok and err:find("1 unsent packet still points into this buffer", 1, true),
    "b:free() refused: " .. tostring(err))
  no_frame_of(r, buf, bf, "the batch")
  buf:free()
  T.owners(a, { free = 64 }, "after the send and the free")
end

-- segs (born or sg) cut from the buffer, then a packet and a batch.
local function segs_case(strategy)
  local a, b, r = pair()
  local buf = r:alloc(N)
  buf:fill("A")
  local segs = lab.segment(buf, { proto = "udp", mss = 100, strategy = strategy, dst = DST, engine = a })
  T.eq(#segs, 3, strategy .. ": three segments")
  local ok, err = pcall(buf.free, buf)
  local q = lab.packet.udp { dst = DST, payload = string.rep("B", N), region = r }
  local qf = {}
  for i, s in ipairs(q:segments()) do qf[i] = s.frame end
  local bt = lab.batch(a, 4)
  bt:udp { dst = DST, payload = string.rep("C", N) }
  local bf = bt:frames()
  T.eq(segs:send(a), 3, strategy .. ": segments sent")
  T.eq(a:tx(q), 1, "the packet queued")
  T.eq(bt:tx(), 4, "the batch queued")
  local got = wire(a, b)
  T.eq(#got, 8, "eight packets arrived")
  same(got[1] .. got[2] .. got[3], string.rep("A", N), strategy .. ": the segments sent the buffer's bytes")
  same(got[4], string.rep("B", N), "the packet sent its own bytes")
  for i = 5, 8 do same(got[i], string.rep("C", N), "batch packet " .. (i - 4)) end
  T.check(not ok, strategy .. ": b:free() with segs over the buffer is refused")
  T.check(err:find("free: 1 segs handle (lab.segment, or a TCP send not yet ACKed) still points "
    .. "into this buffer - free it first (segs:free())", 1, true), "one line saying what to do: " .. err)
  no_frame_of(r, buf, qf, "the packet")
  no_frame_of(r, buf, bf, "the batch")
  -- sent, but segs can send again (a TCP retransmits): still refused
  T.raises({ "1 segs handle" }, buf.free, buf)
  segs:free()
  buf:free()
  T.owners(a, { free = 64 }, strategy .. ": after segs:free() and b:free()")
end

function cases.segs_born() segs_case("born") end
function cases.segs_sg() segs_case("sg") end

-- Packets and segs together; release, the collector and <close> let go.
function cases.release_collect_close()
  local a, _, r = pair()
  local buf = r:alloc(N)
  buf:fill("A")
  local p1 = lab.packet.udp { dst = DST, payload = buf }
  local p2 = lab.packet.tcp { dst = DST, payload = buf, flags = "PA" }
  local segs = lab.segment(buf, { proto = "udp", mss = 100, strategy = "born", dst = DST, engine = a })
  T.check(tostring(buf):find("(2 unsent packets, 1 segs use it)", 1, true), "tostring says who: " .. tostring(buf))
  T.check(#tostring(buf) < 80, "tostring fits 80 columns")
  T.raises({ "free: 2 unsent packets and 1 segs handle", "p:release()", "segs:free()" }, buf.free, buf)
  segs:free()
  T.raises({ "free: 2 unsent packets still point into this buffer", "release them" }, buf.free, buf)
  p1:release()
  T.raises({ "free: 1 unsent packet" }, buf.free, buf)
  p2 = nil -- luacheck: ignore
  collectgarbage()
  collectgarbage()
  do
    local p3 <close> = lab.packet.udp { dst = DST, payload = buf }
    T.raises({ "1 unsent packet" }, buf.free, buf)
  end
  buf:free()
  T.owners(a, { free = 64 }, "released, collected, closed: all back")
  -- a buffer and the packet over it both left to the collector
  do
    local b2 = r:alloc(N)
    local _ = lab.packet.udp { dst = DST, payload = b2 }
    T.owners(a, { free = 63 }, "the buffer's frame held")
  end
  collectgarbage()
  collectgarbage()
  T.owners(a, { free = 64 }, "both collected: the frame back once")
end

-- The engine closed in between: nothing to protect, and no crash.
function cases.engine_closed_between()
  local a, b, r = pair()
  local buf = r:alloc(N)
  local p = lab.packet.udp { dst = DST, payload = buf }
  local segs = lab.segment(buf, { proto = "udp", mss = 100, strategy = "sg", dst = DST, engine = a })
  T.raises({ "1 unsent packet and 1 segs handle" }, buf.free, buf)
  a:close()
  buf:free() -- the region is gone with its engine: nothing left to give back
  T.raises({ "release", "closed" }, p.release, p)
  T.raises({ "closed" }, a.tx, a, p)
  p, segs = nil, nil -- luacheck: ignore
  collectgarbage()
  collectgarbage()
  -- packets collected after their buffer, the engine closed first
  local c = lab.open("sim")
  local rc = c:region { frames = 16 }
  local bufs, pkts = {}, {}
  for i = 1, 4 do
    bufs[i] = rc:alloc(100)
    pkts[i] = lab.packet.udp { dst = DST, payload = bufs[i] }
  end
  c:close()
  bufs = nil -- luacheck: ignore
  collectgarbage()
  pkts = nil -- luacheck: ignore
  collectgarbage()
  collectgarbage()
  T.conserved(b, "the peer")
end

-- gso on DPDK (a net_ring0 port and its peer): segs over the buffer, a
-- packet built after the refused free; the peer gets the buffer's bytes.
function cases.segs_gso_dpdk()
  local a = lab.open("dpdk", { vdev = "net_ring0", log = "emergency" })
  local r = a:region { frames = 512, frame_size = 2048, headroom = 256 }
  local b = lab.open("dpdk", { peer = a, log = "emergency" })
  b:region { frames = 512, frame_size = 2048, headroom = 256 }
  local body = string.rep("G", 8000)
  local buf = r:alloc(#body)
  buf:write(0, body)
  local segs = lab.segment(buf, { strategy = "gso", engine = a, dst = DST })
  local ok, err = pcall(buf.free, buf)
  local q = lab.packet.udp { dst = DST, payload = string.rep("B", 1400), region = r }
  local parts = {}
  for _ = 1, 2000 do
    segs:tx(a)
    a:kick()
    for _, p in ipairs(b:rx(256)) do
      local d = p:dissect()
      if d.tcp then parts[#parts + 1] = { seq = d.tcp.seq, data = p:payload() } end
      p:release()
    end
    a:complete()
    if #parts >= 6 then break end
  end
  table.sort(parts, function(x, y) return x.seq < y.seq end)
  local s = {}
  for k, p in ipairs(parts) do s[k] = p.data end
  same(table.concat(s), body, "gso: the segments sent the buffer's bytes")
  T.check(not ok and err:find("1 segs handle", 1, true), "b:free() refused: " .. tostring(err))
  q:release()
  segs:free()
  buf:free()
  T.owners(a, {}, "dpdk: all back")
  b:close()
  a:close()
end

local f = assert(cases[arg[1]], "unknown case " .. tostring(arg[1]))
f()
T.done("frames_in_use_" .. arg[1])
