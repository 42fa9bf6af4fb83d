-- Bad input raises an error that says what was wrong and what to do, and
-- loses no frame. One case per ctest: ringlab errors.lua CASE.
local T = require "common"

local function setup(opts)
  local e = lab.open("sim", opts)
  local r = e:region { frames = 64 }
  return e, r
end

local cases = {}

function cases.wrong_type()
  local e, r = setup()
  T.raises({ "fill", "give a number of frames", "not a string" }, e.fill, e, "many")
  T.raises({ "tx", "give a packet" }, e.tx, e, 42)
  T.raises({ "tx", "item 1", "not a packet" }, e.tx, e, { "hello" })
  T.raises({ "payload=", "string or a buffer" }, lab.packet.udp, { dst = "198.18.0.2:9", payload = 42, region = r })
  T.raises({ "region=", "region from e:region" }, lab.packet.udp, { dst = "198.18.0.2:9", payload = "x", region = e })
  T.raises({ "dst=", "198.18.0.2" }, lab.packet.udp, { dst = "not-an-address", payload = "x", region = r })
  local other = lab.open("sim") -- two engines with a region: no region= is ambiguous
  other:region { frames = 8 }
  T.raises({ "2 engines have a region", "region=" }, lab.packet.udp, { dst = "198.18.0.2:9", payload = "x" })
  other:close()
  T.raises({ "peer=", "engine" }, lab.open, "sim", { peer = "a" })
  T.owners(e, { free = 64 }, "after wrong types")
end

function cases.address_outside_region()
  local e, r = setup()
  T.raises({ "outside the region" }, r.read, r, r.size, 10)
  T.raises({ "outside the region" }, r.write, r, -1, "x")
  T.raises({ "outside the region" }, r.write, r, r.size - 2, "hello")
  local b = r:alloc(100)
  T.raises({ "runs past the end", "100-byte buffer" }, b.write, b, 98, "hello")
  T.raises({ "runs past the end" }, b.read, b, 50, 60)
  b:free()
  T.raises({ "freed" }, b.write, b, 0, "x")
  T.owners(e, { free = 64 }, "after bad addresses")
end

function cases.send_twice()
  local e, r = setup()
  local p = lab.packet.udp { dst = "198.18.0.2:9999", payload = "once", region = r }
  T.eq(e:tx(p), 1, "first send")
  T.raises({ "already sent", "build a new one" }, e.tx, e, p)
  T.raises({ "already sent" }, p.release, p)
  T.raises({ "already sent" }, p.payload, p)
  local q = lab.packet.udp { dst = "198.18.0.2:9999", payload = "twice", region = r }
  T.raises({ "twice", "one packet per send" }, e.tx, e, { q, q })
  T.eq(q:state(), "held", "a refused list leaves its packets held")
  q:release()
  T.raises({ "released" }, q.release, q)
  T.raises({ "released" }, e.tx, e, q)
  -- a born buffer sent by two packets at once: its frame is in two
  -- descriptors (the sim lets a frame be in several), owned by tx once
  local b = r:alloc(64)
  local p1 = lab.packet.udp { dst = "198.18.0.2:9999", payload = b }
  local p2 = lab.packet.udp { dst = "198.18.0.2:9999", payload = b }
  local p3 = lab.packet.udp { dst = "198.18.0.2:9999", payload = b }
  T.eq(e:tx(p1), 1, "born send")
  T.eq(e:tx(p2), 1, "the same frame in a second descriptor")
  -- (the first packet's frame is on the tx ring too)
  local o = T.owners(e, { tx = 2, free = 62 }, "one frame in two descriptors")
  T.eq(o.shared, 1, "one shared frame")
  T.eq(o.shared_refs, 2, "in two descriptors")
  -- while they point at it, it is not written, taken or offered for receive
  T.raises({ "still in 2 descriptors", "complete" }, b.write, b, 0, "x")
  T.raises({ "still in 2 descriptors" }, lab.packet.udp,
    { dst = "198.18.0.2:9999", payload = b })
  e:kick()
  e:complete()
  o = T.owners(e, { free = 63 }, "after sends: only the buffer's frame is held")
  T.eq(o.shared, 0, "no shared frame after the completions")
  -- p3 is unsent and points into b: b:free() waits for it (frames_in_use.lua)
  T.raises({ "1 unsent packet", "p:release()" }, b.free, b)
  p3:release()
  b:free()
  T.owners(e, { free = 64 }, "after freeing the buffer")
end

function cases.full_ring()
  local e, r = setup({ ring_size = 8 })
  T.raises({ "fill ring has room for 8", "not 5000" }, e.fill, e, 5000)
  local pkts = {}
  for i = 1, 20 do
    pkts[i] = lab.packet.udp { dst = "198.18.0.2:9999", payload = "p" .. i, region = r }
  end
  T.eq(e:tx(pkts), 8, "tx queues what fits")
  T.eq(pkts[8]:state(), "sent", "packet 8 sent")
  T.eq(pkts[9]:state(), "held", "packet 9 still held")
  T.raises({ "tx ring is full", "kick" }, e.tx, e, pkts[9])
  T.owners(e, { tx = 8, free = 44 }, "tx full")
  pkts = nil
  collectgarbage()
  collectgarbage()
  T.owners(e, { tx = 8, free = 56 }, "unsent packets give their frames back when collected")
  e:kick()
  T.eq(e:complete(), 8, "complete")
  T.owners(e, { free = 64 }, "after completion")
end

function cases.unknown_engine()
  T.raises({ "no engine called 'warp'", "known engines", "sim" }, lab.open, "warp")
  local names = {}
  for _, en in ipairs(lab.engines()) do names[en.name] = en end
  T.check(names.sim and names.sim.available, "lab.engines() lists sim as available")
end

function cases.bad_option()
  T.raises({ "mode=fast", "mode=copy" }, lab.open, "sim", { mode = "fast" })
  T.raises({ "unknown option 'colour'" }, lab.open, "sim", { colour = "blue" })
  T.raises({ "ring_size=1000", "power of two" }, lab.open, "sim", { ring_size = 1000 })
  local e = lab.open("sim")
  T.raises({ "unknown option 'colour'", "frames=" }, e.region, e, { colour = 1 })
  T.raises({ "region" }, e.region, e, { frames = 64, frame_size = 1000 })
  local r = e:region { frames = 64 }
  T.raises({ "already has", "e:region()" }, e.region, e, { frames = 8 })
  T.eq(e:region(), r, "e:region() returns the region")
  T.raises({ "unknown field 'colour'" }, lab.packet.udp, { dst = "198.18.0.2:1", region = r, colour = 1 })
  T.owners(e, { free = 64 }, "after bad options")
end

function cases.engine_closed()
  local e, r = setup()
  local p = lab.packet.udp { dst = "198.18.0.2:9999", payload = "orphan", region = r }
  local b = r:alloc(10)
  e:close()
  T.raises({ "closed" }, p.payload, p)
  T.raises({ "closed" }, b.write, b, 0, "x")
  T.raises({ "closed" }, e.fill, e, 1)
  T.check(tostring(p):find("engine closed"), "tostring of an orphan packet")
  p, b = nil, nil
  collectgarbage()
  collectgarbage()
end

local name = arg[1] or error("usage: ringlab errors.lua CASE")
cases[name]()
T.done("errors_" .. name)
