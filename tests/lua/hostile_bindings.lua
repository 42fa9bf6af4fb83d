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

local name = arg[1]
T.check(cases[name], "unknown case " .. tostring(name))
cases[name]()
