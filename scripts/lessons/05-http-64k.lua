-- Lesson 5: a 64 KiB HTTP response, six ways
-- copy, reuse, born, sg, tso, gso: TCP segments of MSS 1448 and their ledgers
--
-- The teaching is on the screen (L.part, L.result); this header only says
-- how to run it. Engines, one per strategy, named after it: copy, reuse,
-- born, sg, tso, gso (sim: zerocopy, rings of 32, tso opened with
-- tso=true; dpdk: net_ring0..5, 32 descriptors, no tso there). Each is
-- wired to itself: what it sends to the three clients arrives on its own rx
-- ring, where the lesson checks every segment and the bytes.
-- Run: ringlab scripts/lessons/05-http-64k.lua [sim|dpdk] [part M] [--check]
--      (or at the prompt: lesson 5 [dpdk] [part M] [--check])
local L = require "ringlab.lesson"
local A = L.args(...)

L.title("Lesson 5: a 64 KiB HTTP response, six ways")
local kind = A.engine or "sim"
if kind ~= "sim" and kind ~= "dpdk" then
  L.say(kind .. ": lesson 5 runs on sim or dpdk (six engines side by side) - run: lesson 5")
  return
end

local BODY, MSS, CLIENTS = 65536, 1448, 3
local SEGS = (BODY + MSS - 1) // MSS -- 46 segments per client
local BIG = 16 * MSS                 -- tso, gso: at most 16 segments per large packet
local STRATEGIES = { "copy", "reuse", "born", "sg", "tso", "gso" }

-- The response: the lab's test bytes (every 16 name their own offset), the
-- same that b:testdata() makes in place in a region - so that producing the
-- body in the region (born, sg, tso, gso) is not a copy from somewhere.
local function response()
  local t = {}
  for i = 0, BODY // 16 - 1 do t[#t + 1] = string.format("%015x\n", i * 16) end
  return table.concat(t)
end
local body = response()

local function client(c) return string.format("198.18.0.%d:%d", 10 + c, 40000 + c) end

-- One engine per strategy, named after it; small rings so they show marks.
local first = true
local engines, regions = {}, {}
local function open(name, sim_opts)
  local o = { name = name, ring_size = 32, sim = { mode = "zerocopy" },
    dpdk = { vdev = "net_ring" .. (#engines) } }
  for k, v in pairs(sim_opts or {}) do o.sim[k] = v end
  local e = L.open(A, o, first and A.extra or {})
  first = false
  if not e then return nil end
  regions[name] = e:region { frames = 256 }
  engines[#engines + 1] = e
  return e
end

-- The dashboard: this strategy's engine in full, the ones before it after.
local function show(e)
  if not L.show then return end
  local list = { e }
  for i = #engines, 1, -1 do if engines[i] ~= e then list[#list + 1] = engines[i] end end
  L.show(table.unpack(list))
end

local function tx_part(e)
  local l, st = e:stats().ledger, e:stats()
  return { copied = l.tx.copied, referenced = l.tx.referenced, headers = l.tx.headers,
    touched = l.tx.touched, kernel = l.tx.kernel_copied + l.tx.driver_copied,
    pkts = st.tx_pkts, wire = st.wire_pkts or st.tx_pkts }
end

local function minus(a, b)
  local d = {}
  for k, v in pairs(a) do d[k] = v - (b[k] or 0) end
  return d
end

-- Send segs on e (wired to itself) and receive what arrives, a ring's worth
-- at a time: every segment's IP and TCP checksums good, the payload the
-- bytes of the body at its sequence number. Returns the segments received.
local function deliver(e, segs, seq0)
  local got, t0, bad = 0, lab.now(), nil
  local fill = e:rings().fill
  local function top_up()
    if fill then
      local o = e:owners()
      local room = e:rings().fill.size - e:rings().fill.pending
      if room > 0 and o.free > 0 then e:fill(math.min(room, o.free)) end
    end
  end
  top_up()
  while true do
    segs:tx(e) -- what is ready and fits the tx ring
    e:kick()
    e:complete()
    for _, p in ipairs(e:rx(64)) do
      local d = p:dissect()
      local off = d.tcp and (d.tcp.seq - seq0) or -1
      if not (d.ip and d.ip.csum_ok and d.tcp and d.tcp.csum_ok) then
        bad = bad or string.format("segment %d: a bad checksum", got + 1)
      elseif off < 0 or not p:payload_equals(body:sub(off + 1, off + d.payload_len)) then
        bad = bad or string.format("segment %d: bytes not the body's at %d", got + 1, off)
      end
      got = got + 1
      p:release()
    end
    top_up()
    local o = e:owners()
    if segs:info().next >= #segs and got >= SEGS and o.tx + o.nic + o.comp + o.rx == 0 then break end
    if lab.now() - t0 > 5 then
      error(string.format("lesson 5: %s is stuck after %d of %d segments (show rings)", e:info().name, got,
        SEGS), 0)
    end
  end
  L.check(not bad, bad or (e:info().name .. ": every segment's checksums good, the bytes the body's"))
  return got
end

-- The results, one column per strategy, for the table at the end.
local results = {}
local function record(name, e, d, lab_headers, descs, packets)
  results[name] = { d = d, lab_headers = lab_headers, descs = descs, packets = packets,
    wire = d.wire, e = e }
end

-- Send the body to the three clients with a strategy: make(c) returns the
-- segs for client c (and whether they stay for the next one: reuse).
local function three_clients(e, make)
  local before = tx_part(e)
  local lab_headers, descs, packets, wire = 0, 0, 0, 0
  local kept
  for c = 1, CLIENTS do
    local segs, hdrs, keep = make(c, kept)
    local seq0 = 1000 * c
    lab_headers = lab_headers + hdrs
    descs = descs + segs:info().descriptors
    packets = packets + #segs
    wire = wire + deliver(e, segs, seq0)
    if keep then kept = segs else segs:free() end
  end
  if kept then kept:free() end
  L.conserved(e)
  local d = minus(tx_part(e), before)
  d.wire = wire
  return d, lab_headers, descs, packets
end

local function seg_opts(strategy, c, extra)
  local o = { proto = "tcp", strategy = strategy, mss = MSS, dst = client(c), src = "198.18.0.1:80",
    seq = 1000 * c, ts_val = 1, ts_ecr = 0 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- The headers the lab wrote for segs just made: one set per packet.
local function own_headers(segs) return segs:info().hdr_len * #segs end

local HDR -- header bytes of one segment (Ethernet, IPv4, TCP with timestamps)

---------------------------------------------------------------------------
L.part("copy: cut the string, copy each piece behind fresh headers", [[
  The response is a Lua string, outside the region the NIC reads. For each
  client, lab.segment cuts it into 46 pieces of at most 1448 bytes (MSS at a
  1500-byte MTU with TCP timestamps) and copies each into a frame of its own,
  behind 66 bytes of headers. Each engine also plays the clients: it gets
  back what it sends, and the lesson checks every segment (read: touched).

  Dashboard: engine copy - copied grows by 64 KiB per client.]])
local e = open("copy")
if not e then return end
show(e)
local d, lh, descs, pk = three_clients(e, function(c)
  local segs = lab.segment(body, seg_opts("copy", c, { region = regions.copy }))
  HDR = segs:info().hdr_len
  return segs, own_headers(segs)
end)
record("copy", e, d, lh, descs, pk)
L.eq(pk, SEGS * CLIENTS, "copy: segments")
L.eq(d.copied, BODY * CLIENTS, "copy: every byte copied once per client")
L.eq(d.referenced, 0, "copy: nothing sent where it lies")
L.result("%d segments in %d descriptors, %d bytes copied: the body once per client, "
  .. "and each client got it intact", pk, descs, d.copied)

---------------------------------------------------------------------------
L.part("reuse: stage the body once, rewrite only headers per client", [[
  A static file served many times: the first client's segments are copied
  into frames once and kept. For the next clients segs:resend rewrites just
  the headers in place (addresses, ports, sequence numbers, checksums
  updated by RFC 1624, without reading the payload) and sends the same
  frames again.

  Dashboard: engine reuse - copied stops at 64 KiB, referenced grows.]])
e = open("reuse")
if not e then return end
show(e)
d, lh, descs, pk = three_clients(e, function(c, kept)
  if not kept then
    local segs = lab.segment(body, seg_opts("reuse", c, { region = regions.reuse }))
    return segs, own_headers(segs), true
  end
  local h0 = kept:ledger().headers
  kept:resend { dst = client(c), seq = 1000 * c }
  return kept, kept:ledger().headers - h0, true
end)
record("reuse", e, d, lh, descs, pk)
L.eq(d.copied, BODY, "reuse: copied once, whatever the number of clients")
L.eq(d.referenced, BODY * (CLIENTS - 1), "reuse: clients 2 and 3 sent from the staged frames")
L.result("%d segments, %d bytes copied (the staging, once), %d referenced: clients 2 and 3 "
  .. "cost %d header bytes each and no payload", pk, d.copied, d.referenced, (lh - SEGS * HDR) // 2)

-- born and sg: the body made in the engine's region (b:testdata writes it
-- in place), cut with strategy `name` for each client, nothing copied
local function from_region(name)
  local en = open(name)
  if not en then return nil end
  show(en)
  local b = regions[name]:alloc(BODY)
  b:testdata()
  local dd, hh, nd, np = three_clients(en, function(c)
    local segs = lab.segment(b, seg_opts(name, c))
    return segs, own_headers(segs)
  end)
  b:free()
  record(name, en, dd, hh, nd, np)
  L.eq(dd.copied, 0, name .. ": nothing copied")
  L.eq(dd.referenced, BODY * CLIENTS, name .. ": every byte sent where it lies")
  return en, dd, hh, nd, np
end

---------------------------------------------------------------------------
L.part("born: the body is made in the region, sent where it lies", [[
  Here the server produces the response straight into the region (r:alloc,
  then b:testdata() writes it in place: no copy from anywhere). Each
  segment's payload descriptor points into that buffer; the first segment's
  headers go into the headroom in front of it, the others get a small
  header frame chained in front (a packet of 2 or 3 descriptors).

  Dashboard: engine born - copied stays 0.]])
e, d, lh, descs, pk = from_region("born")
if not e then return end
local buf -- tso's and gso's body below
L.result("%d segments in %d descriptors, 0 bytes copied: the payload was sent where it lies",
  pk, descs)

---------------------------------------------------------------------------
L.part("sg: a header frame chained in front of every segment", [[
  The same body in the region; every segment is a chain: a header frame,
  then the payload where it lies, cut at frame boundaries. This is the
  shape of AF_XDP multi-buffer (XDP_PKT_CONTD, Linux 6.6 and later, sg=true)
  and of DPDK's mbuf chains (a port with MULTI_SEGS).

  Dashboard: engine sg - copied 0, more descriptors than born.]])
e, d, lh, descs, pk = from_region("sg")
if not e then return end
L.result("%d segments in %d descriptors (every one a chain), 0 bytes copied", pk, descs)

---------------------------------------------------------------------------
L.part("tso: one large packet, the NIC cuts it", [[
  With TCP segmentation offload the program hands the NIC one large TCP
  packet (here 16 segments' worth, 23 KiB: a header and the payload where
  it lies) and the NIC puts 16 MSS-sized segments on the wire, writing
  each one's headers and checksums itself. The CPU writes 3 headers per
  client instead of 46 and reads no payload.

  Dashboard: engine tso - 3 packets sent per client, 46 on the wire.]])
e = open("tso", { tso = true })
local tso_why
if e and not e:info().caps.tso then
  tso_why = e:info().caps_why:match("[^;]*tso[^;]*") or "its NIC does not cut TCP"
  L.show(table.unpack(engines, 1, #engines - 1))
  e:close()
  engines[#engines] = nil
  e = nil
elseif not e then
  return
end
if e then
  show(e)
  buf = regions.tso:alloc(BODY)
  buf:testdata()
  local w0 = e:stats().tso_header_bytes or 0
  d, lh, descs, pk = three_clients(e, function(c)
    local segs = lab.segment(buf, seg_opts("tso", c, { max = BIG }))
    return segs, own_headers(segs)
  end)
  buf:free()
  record("tso", e, d, lh, descs, pk)
  L.eq(pk, 3 * CLIENTS, "tso: large packets handed to the NIC")
  L.eq(d.wire, SEGS * CLIENTS, "tso: segments that arrived")
  L.eq(d.copied, 0, "tso: nothing copied")
  L.eq(d.touched, 0, "tso: no payload read (the NIC checksums)")
  L.eq((e:stats().tso_header_bytes or 0) - w0, SEGS * CLIENTS * HDR, "tso: the NIC wrote every segment's headers")
  L.result("%d large packets became %d segments on the wire; the lab wrote %d header bytes, "
    .. "the NIC %d; 0 copied, 0 read", pk, d.wire, lh, d.headers - lh)
else
  L.result("skipped on %s: %s (no TSO). On the simulator (lesson 5) a NIC opened with "
    .. "tso=true cuts them", kind, tso_why)
end

---------------------------------------------------------------------------
L.part("gso: one large packet, cut in software", [[
  Generic segmentation offload: the same large packets, but nobody's
  hardware cuts them - software does, just before the NIC (Linux below its
  TCP; DPDK's rte_gso_segment). Every segment gets a copy of the headers;
  the payload is referenced, not copied, but without checksum offload it is
  read once more for the checksums.

  Dashboard: engine gso - headers and touched grow, copied stays 0.]])
e = open("gso")
if not e then return end
show(e)
buf = regions.gso:alloc(BODY)
buf:testdata()
d, lh, descs, pk = three_clients(e, function(c)
  local segs = lab.segment(buf, seg_opts("gso", c, { max = BIG }))
  return segs, own_headers(segs)
end)
buf:free()
record("gso", e, d, lh, descs, pk)
L.eq(pk, 3 * CLIENTS, "gso: large packets handed over")
L.eq(d.wire, SEGS * CLIENTS, "gso: segments that arrived")
L.eq(d.copied, 0, "gso: nothing copied")
L.eq(d.headers - lh, SEGS * CLIENTS * HDR, "gso: a copy of the headers for every segment")
L.result("%d large packets cut into %d segments in software: %d header bytes copied for them, "
  .. "%d payload bytes read for checksums, 0 copied", pk, d.wire, d.headers - lh, d.touched)

---------------------------------------------------------------------------
L.part("the six ledgers side by side", [[
  64 KiB to 3 clients, the send path of each engine (packets, then bytes):]])
local cols, rows = {}, {
  { "packets NIC/wire", function(r) return r.packets .. "/" .. r.wire end },
  { "descriptors", function(r) return r.descs end },
  { "copied", function(r) return r.d.copied end },
  { "referenced", function(r) return r.d.referenced end },
  { "headers: lab", function(r) return r.lab_headers end },
  { "headers: NIC/sw", function(r) return r.d.headers - r.lab_headers end },
  { "touched (csum)", function(r) return r.d.touched end },
}
-- kernel or driver copies, where an engine makes them (not sim zerocopy)
for _, r in pairs(results) do
  if r.d.kernel > 0 then
    rows[#rows + 1] = { "kernel/driver", function(x) return x.d.kernel end }
    break
  end
end
for _, s in ipairs(STRATEGIES) do cols[#cols + 1] = s end
local head = { string.format("%-16s", "") }
for _, s in ipairs(cols) do head[#head + 1] = string.format("%10s", s) end
L.print(table.concat(head))
for _, row in ipairs(rows) do
  local line = { string.format("%-16s", row[1]) }
  for _, s in ipairs(cols) do
    local r = results[s]
    line[#line + 1] = string.format("%10s", r and tostring(row[2](r)) or "-")
  end
  L.print(table.concat(line))
end

-- a picture to keep: the ledgers as an SVG (a directory of this run's own)
local series = {}
for _, s in ipairs(STRATEGIES) do
  local r = results[s]
  if r then series[#series + 1] = { label = s, ledger = r.e:stats().ledger, pkts = r.packets } end
end
local file = os.getenv("RINGLAB_PLOT") or (lab.tempdir() .. "/lesson5-ledger.svg")
lab.plot { file = file, series = series, title = "64 KiB to 3 clients: six strategies" }
L.result("the picture: %s", file)

---------------------------------------------------------------------------
L.part("what each costs, where each works", [[
  copy pays for every byte per client, reuse once. born and sg copy nothing
  but need the data in the region and a NIC that sends one packet from
  several descriptors (AF_XDP multi-buffer, Linux 6.6+; DPDK MULTI_SEGS).
  tso hands the NIC 16 segments at once: the least CPU, where the NIC has
  TSO (AF_XDP does not). gso does it in software: a header copy per
  segment, and a checksum read unless the NIC fills them (csum=true).]])
L.result("the payload costs only copy and reuse; headers cost every strategy - "
  .. "the lab, the kernel or the NIC writes them")

L.done("5")
