-- Bindings survive hostile Lua (DESIGN: "never use engine state read before
-- running Lua code without checking it again"). Lua that runs inside a
-- binding - an option's __len/__index, a {buffer, off, n} table's __index,
-- a __gc finalizer set off by an allocation the binding makes - closes the
-- engine; the call must end in one line saying the engine is closed, never
-- read the freed region (run these under the ASan build to see that), and
-- an engine left open keeps its owners summing to its frames.
-- usage: ringlab hostile_bindings.lua CASE
local T = require "common"

local cases = {}

local function one_line_closed(err, what)
  err = tostring(err)
  T.check(not err:find("\n"), what .. ": the error is one line: " .. err)
  T.check(err:find("closed", 1, true), what .. ": the error says closed: " .. err)
end

-- lab.open(kind, {peer=a, KEY=t}) where t's __len closes a while the
-- options are read (peer= seen first): before, sim_open was handed the
-- freed peer (heap-use-after-free under ASan).
function cases.open_peer_closed_by_option()
  local keys = { "mode", "need_wakeup", "ring_size", "fill_size", "comp_size", "rx_size", "tx_size",
    "step", "wire_capacity", "loss", "reorder" }
  local vals = { mode = "copy", need_wakeup = "false", step = "false" }
  local after = 0
  -- n options, each closing a when lab.open reads it: the table's order
  -- (its string hashes are seeded anew each run) puts some after peer= for
  -- some n, some rotation of the keys and some place of peer= among them
  for try = 0, 2 * #keys - 1 do
    local rot, peer_last = try % #keys, try >= #keys
    for n = 1, #keys do
      local a = lab.open("sim")
      local opts = {}
      if not peer_last then opts.peer = a end
      for i = 1, n do
        local k = keys[(i + rot - 1) % #keys + 1]
        opts[k] = setmetatable({}, {
          __len = function() a:close() collectgarbage() return 1 end,
          __index = function() return vals[k] or "64" end })
      end
      if peer_last then opts.peer = a end
      local seen_peer = false
      for key in next, opts do -- lab.open reads them in this order
        if seen_peer then after = after + 1 break end
        seen_peer = key == "peer"
      end
      local ok, err = pcall(lab.open, "sim", opts)
      T.check(not ok, n .. " options: opened against a closed peer")
      one_line_closed(err, n .. " options")
      T.check(err:find("peer engine is closed", 1, true), n .. " options: says the peer: " .. err)
    end
  end
  T.check(after > 0, "no option came after peer= in the table's order: the case was not tried")
  -- a peer that stays open still wires
  local a = lab.open("sim")
  local b = lab.open("sim", { peer = a, mode = setmetatable({}, { __len = function() return 1 end,
    __index = function() return "copy" end }) })
  T.eq(b:info().caps.peer, true, "wired")
  b:close()
  a:close()
  T.done("open_peer_closed_by_option")
end

-- name= with a zero byte named the engine by the part before it.
function cases.open_name_zero_byte()
  local ok, err = pcall(lab.open, "sim", { name = "ab\0cd" })
  T.check(not ok, "a name with a zero byte was taken")
  T.check(err:find("zero byte", 1, true) and not err:find("\n"), "one line about the zero byte: " .. err)
  T.eq(lab.get("ab"), nil, "no engine called ab")
  T.done("open_name_zero_byte")
end

-- {buffer, off, n}'s __index closes the engine after the buffer was found.
function cases.segment_span_index_closes()
  local e = lab.open("sim")
  local r = e:region { frames = 64 }
  local b = r:alloc(8000)
  local t = setmetatable({ b }, { __index = function(_, i)
    if i == 2 then e:close() end
    return nil
  end })
  local ok, err = pcall(lab.segment, t, { dst = "198.18.0.2:9", strategy = "sg" })
  T.check(not ok, "segmented in a closed engine")
  one_line_closed(err, "segment {b, off, n}")
  -- the same with the engine left open: sent from where it lies
  local e2 = lab.open("sim")
  local r2 = e2:region { frames = 64 }
  local b2 = r2:alloc(8000)
  local s = lab.segment(setmetatable({ b2 }, { __index = function(_, i) return i == 2 and 100 or 4000 end }),
    { dst = "198.18.0.2:9", strategy = "sg" })
  T.eq(s:ledger().referenced, 4000, "the span {b, 100, 4000} is sent")
  s:free()
  b2:free()
  T.conserved(e2, "after segment with a span")
  e2:close()
  T.done("segment_span_index_closes")
end

-- A finalizer closes the engine at the k-th finalizer call inside the
-- call, for k = 1 .. 300 (each finalizer makes the next garbage, so the
-- collector always has one to run; a step at almost every allocation).
-- Before, lab.packet.udp with a string payload and lab.segment of a
-- buffer read the freed region (heap-use-after-free under ASan).
local function finalizer_rounds(what, body, rounds, kmax)
  local armed, count, k, target = false, 0, 0, nil
  local fin
  fin = function()
    setmetatable({}, { __gc = fin })
    if armed then
      count = count + 1
      if count == k and target then target:close() end
    end
  end
  collectgarbage("incremental", 1, 100)
  for _ = 1, 200 do setmetatable({}, { __gc = fin }) end
  local ok_n, closed_n = 0, 0
  for round = 1, rounds or 1200 do
    local e = lab.open("sim")
    local r = e:region { frames = 64 }
    local ctx = body.setup and body.setup(e, r) or {}
    target, k, count = e, round * 7 % (kmax or 300) + 1, 0
    armed = true
    local ok, err = pcall(body.call, e, r, ctx)
    armed = false
    if ok then
      ok_n = ok_n + 1
    else
      one_line_closed(err, what)
      closed_n = closed_n + 1
    end
    if not e:info().closed then T.conserved(e, what .. " round " .. round) end
    if body.cleanup then body.cleanup(ctx) end
    e:close()
  end
  collectgarbage("generational")
  collectgarbage("incremental")
  print(string.format("%s: %d calls ended, %d said the engine was closed", what, ok_n, closed_n))
  T.check(closed_n > 0, what .. ": the finalizer never closed the engine: the case was not tried")
  T.done(what)
end

function cases.finalizer_packet_udp()
  finalizer_rounds("finalizer_packet_udp", { call = function(_, r)
    lab.packet.udp { dst = "198.18.0.2:9", region = r, payload = string.rep("x", 3000) }
  end })
end

function cases.finalizer_packet_born()
  finalizer_rounds("finalizer_packet_born", {
    setup = function(_, r) return { b = r:alloc(3000) } end,
    call = function(_, _, c) lab.packet.udp { dst = "198.18.0.2:9", payload = c.b } end })
end

function cases.finalizer_segment()
  finalizer_rounds("finalizer_segment", {
    setup = function(_, r) return { b = r:alloc(20000) } end,
    call = function(_, r, c)
      lab.segment(string.rep("y", 20000), { dst = "198.18.0.2:9", region = r, strategy = "copy" })
      lab.segment(c.b, { dst = "198.18.0.2:9", strategy = "sg" })
    end })
end

function cases.finalizer_batch_and_hexdump()
  finalizer_rounds("finalizer_batch_and_hexdump", {
    setup = function(e) return { bt = lab.batch(e, 8) } end,
    call = function(e, r, c)
      c.bt:udp({ dst = "198.18.0.2:9", payload = "abc" }, 8)
      c.bt:tx(e)
      local p = lab.packet.udp { dst = "198.18.0.2:9", region = r, payload = string.rep("z", 3000) }
      for _ = 1, 5 do p:hexdump() end
    end })
end

-- e receives 7 datagrams of a 9000-byte UDP send from a sim wired to it.
local function receiving(e)
  local s = lab.open("sim", { peer = e })
  local sr = s:region { frames = 64 }
  e:fill(32)
  lab.segment(string.rep("R", 9000), { dst = "198.18.0.2:9", region = sr, strategy = "copy",
    proto = "udp" }):send(s)
  return { s = s }
end

-- A received packet read while a finalizer closes its engine: p:dissect,
-- p:payload, p:bytes, p:payload_equals(number), p:segments, tostring
-- (before: the pieces and the copies read the freed region).
function cases.finalizer_packet_read()
  finalizer_rounds("finalizer_packet_read", { setup = receiving,
    call = function(e)
      for _, p in ipairs(e:rx(16)) do
        p:dissect(); p:payload(); p:bytes(); p:payload_equals(12345); p:segments(); tostring(p)
        p:release()
      end
    end,
    cleanup = function(c) c.s:close() end }, 500, 3000)
end

-- The in-place reader and a batch's received packets, the same way
-- (before: lab.reader, rd:read/peek/copy, view:string/pieces,
-- bt:dissect/payload read the freed region).
function cases.finalizer_reader_batch()
  finalizer_rounds("finalizer_reader_batch", { setup = function(e)
      local c = receiving(e)
      c.bt = lab.batch(e, 16)
      return c
    end,
    call = function(e, _, c)
      local rd = lab.reader(e)
      for _, p in ipairs(e:rx(3)) do rd:push(p) end
      local v = rd:peek(100)
      v:string(); v:equals(1234); v:pieces()
      rd:read(50):string(); rd:copy(50); rd:find(777); rd:release(); rd:close()
      c.bt:rx(e)
      for i = 1, c.bt:count() do c.bt:dissect(i); c.bt:payload(i) end
      c.bt:release()
    end,
    cleanup = function(c) c.s:close() end }, 500, 3000)
end

-- The receiver's engine closed by a finalizer while e:rx wraps what it
-- took, while e:owners() and e:owner_map() read the region (before: rx
-- went on calling the closed engine; owners read the freed counts).
function cases.finalizer_rx_owners()
  finalizer_rounds("finalizer_rx_owners", {
    setup = function(e)
      local s = lab.open("sim", { peer = e })
      local sr = s:region { frames = 64 }
      e:fill(32)
      for _ = 1, 8 do s:tx(lab.packet.udp { dst = "198.18.0.2:9", region = sr, payload = "hello" }) end
      s:kick()
      return { s = s }
    end,
    call = function(e)
      for _, p in ipairs(e:rx(16)) do p:release() end
      for _ = 1, 10 do e:owners(); e:owner_map() end
    end,
    cleanup = function(c) c.s:close() end }, 360) -- a pair a round: fewer rounds (ASan: ~15 s)
end

-- a receives, b sends from region r (a sim pair, 16 frames on a's fill).
local function sim_pair()
  local a = lab.open("sim")
  a:region { frames = 64 }
  local b = lab.open("sim", { peer = a })
  local r = b:region { frames = 64 }
  a:fill(16)
  return a, b, r
end

-- e:rx(max, opts) whose opts.__index closes the engine: the rx ring was
-- read from the closed engine (a NULL dereference in sim_rx).
function cases.rx_option_closes_engine()
  local a, b, r = sim_pair()
  for _ = 1, 4 do b:tx(lab.packet.udp { dst = "198.18.0.2:9", region = r, payload = "hi" }) end
  b:kick()
  local ok, err = pcall(a.rx, a, 16, setmetatable({}, { __index = function() a:close() end }))
  T.check(not ok, "received on a closed engine")
  one_line_closed(err, "rx")
  b:close()
  T.done("rx_option_closes_engine")
end

-- e:tx(list) whose __index releases a packet it gave before, closes the
-- engine, or gives a new packet each time: the list is read once, and
-- what was read is checked again before anything is sent.
function cases.tx_list_hostile()
  local a, b, r = sim_pair()
  local p1 = lab.packet.udp { dst = "198.18.0.2:9", region = r, payload = "one" }
  local p2 = lab.packet.udp { dst = "198.18.0.2:9", region = r, payload = "two" }
  local ok, err = pcall(b.tx, b, setmetatable({}, { __len = function() return 2 end,
    __index = function(_, i) if i == 2 then p1:release() return p2 end return p1 end }))
  T.check(not ok and err:find("sent or released while the list was read", 1, true) and not err:find("\n"),
    "a packet released by the list's __index is not sent: " .. tostring(err))
  T.owners(b, { free = 63 }, "p2 still held, p1 back in the pool")
  local fresh = setmetatable({}, { __len = function() return 1 end,
    __index = function() return lab.packet.udp { dst = "198.18.0.2:9", region = r, payload = "x" } end })
  T.eq(b:tx(fresh), 1, "a packet the list makes as it is read is sent")
  b:kick()
  b:complete()
  p2:release()
  collectgarbage()
  T.owners(b, { free = 64 }, "after the sends")
  ok, err = pcall(b.tx, b, setmetatable({}, { __len = function() return 1 end,
    __index = function() b:close() return lab.packet.udp { dst = "198.18.0.2:9", region = r } end }))
  T.check(not ok, "sent on a closed engine")
  one_line_closed(err, "tx")
  a:close()
  T.done("tx_list_hostile")
end

-- Every binding that takes an options table or a list, on sim or on dpdk
-- (net_ring0): the table is an empty proxy whose __index/__len closes the
-- engine at its k-th read, for every k up to one past the last read. Each
-- call ends in one line saying closed (or works, when the close came after
-- the last read), never a crash (under ASan: never the freed region; the
-- real close waits for the binding to return, see shell.h), and an engine
-- left open stays conserved. A finalizer closing it at the k-th allocation
-- is tried on the same calls.
local function opener(kind)
  if kind == "dpdk" then
    return function()
      local e = lab.open("dpdk", { vdev = "net_ring0", log = "emergency" })
      return e, function() return e:region { frames = 256, frame_size = 2048 } end
    end
  end
  return function()
    local e = lab.open("sim")
    return e, function() return e:region { frames = 64 } end
  end
end

local DST = "198.18.0.2:9"
local hostile_calls = {
  { "e:region{}", noregion = true, call = function(e, _, P) e:region(P { frames = 256, frame_size = 2048 }) end },
  { "e:rx(max, opts)", call = function(e, _, P) e:fill(8); e:rx(8, P { gro = false }) end },
  { "e:tx{list}", call = function(e, r, P)
    local p = lab.packet.udp { dst = DST, region = r, payload = "t" }
    e:tx(P { p }); e:kick(); e:complete()
  end },
  { "e:fill", call = function(e, r) e:fill(8); e:rx(8); local rd = lab.reader(e); rd:close() end },
  -- dpdk only (sim has no workers): every option read through __index
  { "e:workers", call = function(e, _, P)
    if e:info().kind == "dpdk" then e:workers(P { loop = "txonly", queues = 1, seconds = 0.05 }) end
  end },
  { "segs:resend{}", setup = function(_, r)
    return { segs = lab.segment(string.rep("q", 3000), { dst = DST, region = r, strategy = "reuse" }) }
  end, call = function(_, _, P, c) c.segs:resend(P { dst = "198.18.0.3:7", seq = 99, ack = 5, window = 100 }) end,
    cleanup = function(c) c.segs:free() end },
  { "lab.batch/bt:udp{}/bt:rx", call = function(e, _, P)
    local bt = lab.batch(e, 8)
    bt:udp(P { dst = DST, payload = "hi" })
    bt:tx(e); e:kick(); e:complete(); e:fill(8)
    bt:rx(e); bt:release()
  end },
  { "lab.reader(e, opts)", call = function(e, _, P) local rd = lab.reader(e, P { mode = "copy" }); rd:close() end },
  { "lab.segment opts", call = function(_, r, P)
    local segs = lab.segment(string.rep("s", 5000), P { dst = DST, region = r, strategy = "copy", mss = 1000 })
    segs:free()
  end },
  { "lab.packet.udp", call = function(_, r, P) lab.packet.udp(P { dst = DST, region = r, payload = "u", csum = true }):release() end },
  { "lab.packet.tcp", call = function(_, r, P)
    lab.packet.tcp(P { dst = DST, region = r, flags = "S", mss = 1460, wscale = 7, sack_ok = true, ts_val = 1 }):release()
  end },
  { "lab.packet.icmp", call = function(_, r, P) lab.packet.icmp(P { dst = "198.18.0.2", region = r, type = "request", seq = 3 }):release() end },
  { "lab.packet.arp", call = function(_, r, P) lab.packet.arp(P { dst = "198.18.0.2", region = r, op = "request" }):release() end },
  { "lab.pcap", call = function(e, r, _, c)
    local cap = lab.pcap(e, c.dir .. "/t.pcap")
    e:tx(lab.packet.udp { dst = DST, region = r, payload = "c" }); e:kick(); e:complete()
    cap:close()
  end },
}

function cases.options_close_engine()
  local kind = arg[2] or "sim"
  local open = opener(kind)
  local dir = lab.tempdir()
  for _, h in ipairs(hostile_calls) do
    local what, reads, closed_n, ok_n = kind .. " " .. h[1], 0, 0, 0
    -- k = 0: count the reads; then close at each of them, and after them
    local k, total = 0, nil
    repeat
      local e, mkregion = open()
      local r = not h.noregion and mkregion() or nil
      local c = h.setup and h.setup(e, r) or {}
      c.dir = dir
      local n = 0
      local function read() n = n + 1; if n == k then e:close() end end
      local function P(t)
        return setmetatable({}, { __index = function(_, key) read() return t[key] end,
          __len = function() read() return #t end })
      end
      local ok, err = pcall(h.call, e, r, P, c)
      if ok then
        ok_n = ok_n + 1
      else
        T.check(e:info().closed, what .. ": failed with the engine open: " .. tostring(err))
        one_line_closed(err, what .. " k=" .. k)
        closed_n = closed_n + 1
      end
      if not e:info().closed then
        if h.cleanup then h.cleanup(c) end
        collectgarbage()
        T.conserved(e, what .. " k=" .. k)
      end
      e:close()
      if k == 0 then total = n end
      k = k + 1
    until k > total + 1
    reads = total
    print(string.format("%s: %d reads; %d calls worked, %d said closed", what, reads, ok_n, closed_n))
    T.check(h.noreads or reads > 0 or not h[1]:find("[{(]"), what .. ": no option was read through __index")
  end
  os.remove(dir .. "/t.pcap")
  os.remove(dir)
  T.done("options_close_engine " .. kind)
end

-- The same calls with a finalizer that closes the engine at its k-th run
-- (set off by the allocations inside each call).
function cases.finalizer_any_binding()
  local kind = arg[2] or "sim"
  local open = opener(kind)
  local dir = lab.tempdir()
  local armed, count, k, target = false, 0, 0, nil
  local fin
  fin = function()
    setmetatable({}, { __gc = fin })
    if armed then
      count = count + 1
      if count == k and target then target:close() end
    end
  end
  collectgarbage("incremental", 1, 100)
  for _ = 1, 200 do setmetatable({}, { __gc = fin }) end
  local P = function(t) return t end
  local closed_n = 0
  for round = 1, (kind == "dpdk" and 8 or 30) do
    for _, h in ipairs(hostile_calls) do
      local e, mkregion = open()
      local r = not h.noregion and mkregion() or nil
      local c = h.setup and h.setup(e, r) or {}
      c.dir = dir
      target, k, count = e, round * 3 % 40 + 1, 0
      armed = true
      local ok, err = pcall(h.call, e, r, P, c)
      armed = false
      if not ok then
        one_line_closed(err, kind .. " " .. h[1])
        closed_n = closed_n + 1
      end
      if not e:info().closed then
        if h.cleanup then h.cleanup(c) end
        T.conserved(e, kind .. " " .. h[1] .. " round " .. round)
      end
      e:close()
    end
  end
  collectgarbage("generational")
  collectgarbage("incremental")
  os.remove(dir .. "/t.pcap")
  os.remove(dir)
  print(string.format("finalizer_any_binding %s: %d calls said closed", kind, closed_n))
  T.check(closed_n > 0, "the finalizer never closed an engine mid-call")
  T.done("finalizer_any_binding " .. kind)
end

-- Every binding runs inside lab_call (shell.h): an argument error still
-- names the call as Lua would (not '?'), and a close inside a binding is
-- seen at once (closed, not listed) while the real close waits for the
-- binding to return; after it the engine is gone for good.
function cases.binding_errors_named()
  local e = lab.open("sim")
  local ok, err = pcall(e.rx, 5)
  T.check(not ok and err:find("bad argument #1 to 'rx'", 1, true), "names rx: " .. tostring(err))
  ok, err = pcall(function() return lab.segment() end)
  T.check(not ok and err:find("to 'segment'", 1, true) and not err:find("'?'", 1, true),
    "names segment: " .. tostring(err))
  ok, err = pcall(function() return lab.batch(e, 4).udp(7) end)
  T.check(not ok and not err:find("'?'", 1, true) and not err:find("\n"), "names udp: " .. tostring(err))
  local r = e:region { frames = 16 }
  local seen
  ok, err = pcall(lab.packet.udp, setmetatable({}, { __index = function(_, k)
    if k == "dst" then
      e:close()
      seen = { closed = e:info().closed, listed = lab.get(e) ~= nil }
    end
    return ({ dst = "198.18.0.2:9", region = r })[k]
  end }))
  T.check(not ok, "built on a closed engine")
  one_line_closed(err, "udp")
  T.eq(seen.closed, true, "closed at once inside the binding")
  T.eq(seen.listed, false, "not listed by lab.get inside the binding")
  T.eq(e:info().closed, true, "closed after")
  ok, err = pcall(e.fill, e, 4)
  one_line_closed(err, "fill after")
  T.done("binding_errors_named")
end

-- The per-batch bindings a loop calls (bt:udp(), bt:tx, bt:rx, bt:release,
-- e:fill, e:complete) skip the protected call when they run no Lua code;
-- given an options table or a spec they take the protected way, so a
-- metamethod closing the engine there still ends in one line saying
-- closed, never the freed region. And after a close, each fast call says so.
function cases.fast_way_falls_back()
  local function closer(e)
    return setmetatable({}, { __index = function() e:close() collectgarbage() return nil end })
  end
  local spec = { dst = "198.18.0.2:9", dst_mac = "02:00:00:00:00:02", src = "198.18.0.1:9",
    src_mac = "02:00:00:00:00:01", payload = "hi" }
  for _, how in ipairs { "fill", "complete", "udp" } do
    local e = lab.open("sim")
    e:region { frames = 64 }
    local bt = lab.batch(e, 8)
    T.eq(bt:udp(spec, 4), 4, how .. ": built 4 the first time")
    T.eq(bt:udp(), 4, how .. ": built 4 more the fast way")
    T.eq(bt:tx(), 8, how .. ": sent 8 the fast way")
    local ok, err
    if how == "fill" then ok, err = pcall(e.fill, e, 4, closer(e))
    elseif how == "complete" then ok, err = pcall(e.complete, e, 4, closer(e))
    else
      local hostile = setmetatable({}, { __index = function(_, k)
        if k == "payload" then e:close() collectgarbage() end
        return spec[k] end })
      ok, err = pcall(bt.udp, bt, hostile)
    end
    T.check(not ok, how .. ": the call failed on the closed engine")
    one_line_closed(err, how)
    for _, m in ipairs { "udp", "tx", "rx", "release" } do
      ok, err = pcall(bt[m], bt)
      T.check(not ok, how .. ": bt:" .. m .. "() after the close failed")
      one_line_closed(err, how .. " then bt:" .. m)
    end
    ok, err = pcall(e.fill, e, 1)
    one_line_closed(err, how .. " then e:fill")
    ok, err = pcall(e.complete, e)
    one_line_closed(err, how .. " then e:complete")
  end
  T.done("fast_way_falls_back")
end

local name = arg[1]
T.check(cases[name], "unknown case " .. tostring(name))
cases[name]()
