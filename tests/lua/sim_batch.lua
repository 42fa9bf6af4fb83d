-- lab.batch on two simulators back to back: the ledger counts what
-- lab.packet.udp would for the same packets, owners are conserved and
-- exact at every step, every payload arrives intact, a partial tx keeps
-- the rest, the collector gives frames back, and bad use says what to do.
local T = require "common"

local PAYLOAD = "batch payload 0123456789"
local SPEC = { src = "198.18.0.1:9000", dst = "198.18.0.2:9999", payload = PAYLOAD }

local function ledger(e) return e:stats().ledger end
local function delta(before, after, k) return after[k] - before[k] end

-- 1. The ledger: 64 packets through a batch and through lab.packet.udp.
do
  local s = lab.open("sim")
  local r = s:region { frames = 256 }
  local l0 = ledger(s)
  local single = {}
  for i = 1, 64 do
    single[i] = lab.packet.udp { src = SPEC.src, dst = SPEC.dst, payload = PAYLOAD, region = r }
  end
  local l1 = ledger(s)
  for i = 1, 64 do single[i]:release() end
  local bt = lab.batch(s, 64)
  T.eq(bt:udp(SPEC), 64, "bt:udp fills all 64")
  local l2 = ledger(s)
  T.eq(delta(l1, l2, "headers"), delta(l0, l1, "headers"), "headers as for single packets")
  T.eq(delta(l1, l2, "copied"), delta(l0, l1, "copied"), "copied as for single packets")
  T.eq(delta(l1, l2, "copied"), 64 * #PAYLOAD, "copied: the payload, once per packet")
  T.eq(delta(l1, l2, "touched"), #PAYLOAD, "touched: one checksum pass over the template")
  T.eq(delta(l1, l2, "referenced"), 0, "nothing referenced")
  -- and the bytes in the frames are those lab.packet.udp writes
  local p = lab.packet.udp { src = SPEC.src, dst = SPEC.dst, payload = PAYLOAD, region = r }
  T.eq(bt:len(1), #p, "same length as lab.packet.udp")
  local d1, d2 = bt:dissect(64), p:dissect()
  T.eq(d1.udp.dst_port, 9999, "dissect: dst port")
  T.eq(d1.udp.csum_ok, true, "dissect: checksum good")
  T.eq(d1.udp.csum, d2.udp.csum, "same checksum as lab.packet.udp")
  T.eq(bt:payload(7), PAYLOAD, "payload of packet 7")
  p:release()
  bt:release()
  T.owners(s, { free = 256 }, "all back after release")
  s:close()
end

-- 2. Owners step by step, payloads across the wire, batches both ways.
do
  local a = lab.open("sim")
  local b = lab.open("sim", { peer = a })
  a:region { frames = 256 }
  b:region { frames = 512 }
  b:fill(256)
  local tx, rx = lab.batch(a, 64), lab.batch(b, 64)
  T.eq(tostring(tx), "batch: 0 packets in 0 of 64 frames", "tostring")
  local total = 0
  for round = 1, 20 do
    local spec = { src = SPEC.src, dst = SPEC.dst, payload = PAYLOAD .. round, id = round }
    T.eq(tx:udp(spec), 64, "round " .. round .. " built")
    T.owners(a, { free = 256 - 64 }, "held by the batch: app, not free")
    T.eq(tx:tx(), 64, "all queued")
    T.eq(#tx, 0, "the batch is empty after tx")
    T.owners(a, { tx = 64, free = 256 - 64 }, "on the tx ring")
    a:kick()
    T.eq(a:complete(), 64, "completed")
    T.owners(a, { free = 256 }, "back in the pool")
    T.eq(rx:rx(), 64, "received 64")
    T.owners(b, { fill = 256 - 64, free = 512 - 256 }, "received: held by the batch")
    for i = 1, 64 do
      T.eq(rx:payload(i), PAYLOAD .. round, "payload of packet " .. i)
    end
    T.eq(rx:dissect(1).ip.id, round, "ip id")
    T.eq(rx:release(), 64, "released 64")
    b:fill(64)
    total = total + 64
  end
  T.eq(a:stats().tx_pkts, total, "tx_pkts")
  T.eq(b:stats().rx_pkts, total, "rx_pkts")
  T.conserved(a, "a at the end")
  T.conserved(b, "b at the end")

  -- bt:udp() again builds the same packet; a count builds fewer
  T.eq(tx:udp(nil, 5), 5, "five more of the last packet")
  T.eq(tx:payload(5), PAYLOAD .. 20, "the last template")
  T.eq(#tx:frames(), 5, "frames held")
  tx:release()

  -- errors name the problem and the way out
  local function err(f, want, what)
    local ok, msg = pcall(f)
    T.check(not ok, what .. ": should fail")
    T.check(tostring(msg):find(want, 1, true), what .. ": message was: " .. tostring(msg))
  end
  err(function() lab.batch(a, 64):udp() end, "say what to build the first time", "no template")
  err(function() tx:len(1) end, "holds 0 packets", "index out of range")
  err(function() lab.batch(a, 0) end, "give 1 .. 256", "size 0")
  err(function() lab.batch("a", 4) end, "give an engine", "not an engine")
  err(function() tx:udp { dst = SPEC.dst, payload = string.rep("x", 3000) } end,
    "use lab.packet.udp for bigger ones", "too big")
  err(function() tx:udp { dst = SPEC.dst, port = 1 } end, "unknown field 'port'", "unknown field")
  err(function() tx:udp { dst = SPEC.dst, payload = {} } end, "payload= is a string", "payload type")
  err(function() tx:tx(b) end, "a batch moves frames of its own engine", "other engine")
  err(function() tx:udp(SPEC, 65) end, "do not fit", "too many")
  local full = lab.batch(b, 4)
  b:fill(4); tx:udp(SPEC, 4); tx:tx(); a:kick(); a:complete()
  T.eq(full:rx(), 4, "rx 4")
  err(function() full:rx() end, "the batch is full", "rx into a full batch")
  full:release()
  T.conserved(b, "b after errors")
  T.conserved(a, "a after errors")

  -- the collector gives held frames back
  do
    local g = lab.batch(a, 32)
    g:udp(SPEC)
  end
  collectgarbage(); collectgarbage()
  T.owners(a, { free = 256 }, "collected batch gave its frames back")

  -- a closed engine: every method says so
  local c = lab.open("sim")
  c:region { frames = 64 }
  local cb = lab.batch(c, 8)
  cb:udp(SPEC)
  c:close()
  err(function() cb:tx() end, "its engine was closed", "closed engine")
  a:close()
  b:close()
end

-- 3. A tx ring smaller than the batch: the unsent stay held, in order.
do
  local s = lab.open("sim", { tx_size = 16 })
  s:region { frames = 128 }
  local bt = lab.batch(s, 64)
  bt:udp(SPEC)
  T.eq(bt:tx(), 16, "16 fit the tx ring")
  T.eq(#bt, 48, "48 stay in the batch")
  T.owners(s, { tx = 16, free = 128 - 64 }, "16 on the ring, 48 held")
  s:kick()
  T.eq(s:complete(), 16, "16 completed")
  T.eq(bt:tx(), 16, "16 more")
  T.eq(bt:release(), 32, "32 released")
  s:kick(); s:complete()
  T.owners(s, { free = 128 }, "all back")
  -- a pool with fewer free frames than the batch has room for
  local small = lab.open("sim")
  local sr = small:region { frames = 16 }
  local hold = {}
  for i = 1, 4 do hold[i] = lab.packet.udp { dst = SPEC.dst, region = sr } end
  local sb = lab.batch(sr, 16) -- a region names its engine too
  T.eq(sb:udp(SPEC), 12, "only 12 free frames: 12 built")
  T.owners(small, { free = 0 }, "pool empty")
  T.eq(sb:release(), 12, "12 released")
  for i = 1, 4 do hold[i]:release() end
  T.owners(small, { free = 16 }, "all free")
  small:close()
  s:close()
end

print("ok")
