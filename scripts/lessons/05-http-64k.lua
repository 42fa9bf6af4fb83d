-- Lesson 5: a 64 KiB HTTP response: copy, reuse, born, sg
-- four ways to turn data larger than one MTU into packets, and their ledgers
--
-- A web server sends the same 64 KiB body to many clients. How many times
-- is each byte copied? Four strategies, side by side on four simulators,
-- each sending the body to three clients in 1448-byte packets:
--   copy   the body is a Lua string; each send copies it behind headers
--   reuse  the body is staged once into frames; each send only writes
--          fresh headers in front of the staged pieces
--   born   the body is produced straight into region buffers (r:alloc),
--          so there is no separate copy to stage at all
--   sg     one header + a chain of payload frames per send (what a NIC with
--          TSO or AF_XDP multi-buffer takes): 64 KiB as one chained packet
-- Parts 1-4 build UDP packets by hand over r:alloc buffers, so every move
-- is visible; part 5 does the same with real TCP segments from
-- lab.segment(data, {strategy=...}) (core/segment.c), when it is built in.
-- Run: ringlab scripts/lessons/05-http-64k.lua   (or: lesson 5)
local L = require "ringlab.lesson"
L.args(...)

local BODY, MSS, CLIENTS = 65536, 1448, 3
local body = ("HTTP/1.1 200 OK\r\n\r\n" .. string.rep("ringlab ", BODY)):sub(1, BODY)
local npkts = (BODY + MSS - 1) // MSS

L.title("Lesson 5: a 64 KiB HTTP response: copy, reuse, born, sg")

-- Send packets on e, run the loopback, take them back; returns how many.
local function drain(e, pkts)
  local got = 0
  for i = 1, #pkts, 32 do
    local batch = table.move(pkts, i, math.min(#pkts, i + 31), 1, {})
    e:tx(batch)
    e:kick()
    e:complete()
    local pk = e:rx(256)
    for _, p in ipairs(pk) do got = got + 1; p:release() end
    e:fill(#pk) -- lend back as many frames as the packets used
  end
  return got
end

local function engine()
  local e = lab.open("sim", { mode = "zerocopy" })
  e:region { frames = 512 }
  e:fill(128)
  return e, e:region()
end

local function dst(c) return string.format("198.18.0.%d:80", 10 + c) end

local ledgers = {}
local function result(name, e)
  local l = e:stats().ledger
  ledgers[#ledgers + 1] = { label = name, ledger = l, pkts = e:stats().tx_pkts }
  print(string.format("   %-6s copied %7d B   referenced %7d B   headers %6d B", name, l.copied, l.referenced, l.headers))
  return l
end

L.part("copy: slice the string, copy each slice behind fresh headers")
local ec, rc = engine()
for c = 1, CLIENTS do
  local pkts = {}
  for off = 1, BODY, MSS do
    pkts[#pkts + 1] = lab.packet.udp { dst = dst(c), payload = body:sub(off, off + MSS - 1), region = rc }
  end
  L.eq(drain(ec, pkts), npkts, "packets for client " .. c)
end
local lc = result("copy", ec)
L.eq(lc.copied, BODY * CLIENTS, "copy: every byte copied once per client")

L.part("reuse: stage the body once into frames, then only headers per send")
local er, rr = engine()
local staged = {}
for off = 1, BODY, MSS do
  local b = rr:alloc(math.min(MSS, BODY - off + 1))
  b:write(0, body:sub(off, off + MSS - 1)) -- the one staging copy
  staged[#staged + 1] = b
end
for c = 1, CLIENTS do
  local pkts = {}
  for _, b in ipairs(staged) do pkts[#pkts + 1] = lab.packet.udp { dst = dst(c), payload = b } end
  L.eq(drain(er, pkts), npkts, "packets for client " .. c)
end
local lr = result("reuse", er)
L.eq(lr.copied, BODY, "reuse: copied once, whatever the number of clients")
L.eq(lr.referenced, BODY * CLIENTS, "reuse: every send referenced")

L.part("born: the body is produced inside the region from the start")
local eb, rb = engine()
local born = {}
for off = 1, BODY, MSS do
  local b = rb:alloc(math.min(MSS, BODY - off + 1))
  b:fill("ringlab ") -- producing the bytes where they will be sent
  born[#born + 1] = b
end
L.say [[
  The lab counts the bytes a script writes into the region as copied - it
  cannot tell producing from copying. The difference from reuse: there is
  no other copy of the body anywhere; it was made once, in place.]]
for c = 1, CLIENTS do
  local pkts = {}
  for _, b in ipairs(born) do pkts[#pkts + 1] = lab.packet.udp { dst = dst(c), payload = b } end
  L.eq(drain(eb, pkts), npkts, "packets for client " .. c)
end
local lb = result("born", eb)
L.eq(lb.referenced, BODY * CLIENTS, "born: every send referenced")

L.part("sg: one header, the body as a chain of frames")
local es, rs = engine()
local SG = 65000 -- a UDP datagram holds at most 65507 bytes, the wire 65536
local whole = rs:alloc(SG)
whole:fill("ringlab ")
for c = 1, CLIENTS do
  local p = lab.packet.udp { dst = dst(c), payload = whole }
  if c == 1 then print(string.format("   one packet of %d descriptors", #p:segments())) end
  L.eq(drain(es, { p }), 1, "chained packet for client " .. c)
end
local ls = result("sg", es)
L.eq(ls.referenced, SG * CLIENTS, "sg: every send referenced")
L.check(ls.headers < lb.headers, "sg writes one set of headers per send, not one per 1448 bytes")

if lab.segment then
  L.part("the same with TCP: lab.segment(data, {strategy=...}) to three clients")
  for _, strategy in ipairs({ "copy", "reuse", "born", "sg" }) do
    local e = lab.open("sim", { mode = "zerocopy" })
    local r = e:region { frames = 1024 }
    local data = body
    if strategy == "born" or strategy == "sg" then
      data = r:alloc(BODY)
      data:write(0, body) -- producing the body in the region, before we count
    end
    local l0 = e:stats().ledger
    local segs = lab.segment(data, { strategy = strategy, dst = dst(1), seq = 1, mss = MSS, region = r })
    L.eq(segs:send(e), npkts, strategy .. ": segments sent to client 1")
    for c = 2, CLIENTS do
      if strategy == "reuse" then
        segs:resend { dst = dst(c), seq = 1 }
      else
        segs = lab.segment(data, { strategy = strategy, dst = dst(c), seq = 1, mss = MSS, region = r })
      end
      L.eq(segs:send(e), npkts, strategy .. ": segments sent to client " .. c)
    end
    local l = e:stats().ledger
    local copied, referenced = l.copied - l0.copied, l.referenced - l0.referenced
    print(string.format("   %-6s copied %7d B   referenced %7d B", strategy, copied, referenced))
    local want = { copy = BODY * CLIENTS, reuse = BODY, born = 0, sg = 0 }
    L.eq(copied, want[strategy], "tcp " .. strategy .. " copied")
    L.eq(copied + referenced, BODY * CLIENTS, "tcp " .. strategy .. " copied + referenced")
  end
end
L.part("the picture")
-- a directory of this run's own (mkdtemp): no fixed name in /tmp to race for
local file = os.getenv("RINGLAB_PLOT") or (lab.tempdir() .. "/lesson5-ledger.svg")
lab.plot { file = file, series = ledgers, title = "64 KiB to 3 clients: copy, reuse, born, sg" }
print("   wrote " .. file)
L.done("5")
