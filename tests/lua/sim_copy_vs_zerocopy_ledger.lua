-- The same traffic in copy and zerocopy mode, and from string payloads and
-- buffers born in the region: every ledger figure is exact.
--   string payload: copied = payload bytes, headers = 42 per packet
--   born payload:   copied only once (filling the buffer), then
--                   referenced = payload bytes per send, headers = 42
--   copy mode:      kernel_copied = every packet byte, on both sides
--   zerocopy:       kernel_copied = 0
local T = require "common"

local K, PAYLOAD, BIG = 10, 1000, 5000
local HDR = 42

local function delta(before, after)
  local d = {}
  for _, k in ipairs({ "copied", "referenced", "headers", "kernel_copied", "driver_copied", "touched" }) do
    d[k] = after[k] - before[k]
  end
  return d
end

local function expect(d, want, label)
  for k, v in pairs(want) do T.eq(d[k], v, label .. " " .. k) end
end

-- Send packets made by make() one at a time, taking completions, and
-- receive them all on b; returns the ledger deltas of a and b.
local function traffic(a, b, count, make)
  local la, lb = a:stats().ledger, b:stats().ledger
  for i = 1, count do
    T.eq(a:tx(make(i)), 1, "tx")
    a:kick()
    T.check(a:complete() >= 1, "complete after kick")
  end
  local pkts = b:rx(1024)
  T.eq(#pkts, count, "received")
  local lb2 = b:stats().ledger -- before any copy-out by the test
  for _, p in ipairs(pkts) do p:release() end
  b:fill(b:owners().free > 256 and 256 or 0)
  return delta(la, a:stats().ledger), delta(lb, lb2), pkts
end

for _, mode in ipairs({ "copy", "zerocopy" }) do
  local a = lab.open("sim", { mode = mode })
  local b = lab.open("sim", { mode = mode, peer = a })
  local ra = a:region { frames = 256, frame_size = 2048, headroom = 256 }
  b:region { frames = 512 }
  b:fill(256)
  T.eq(a:stats().mode, mode, "mode")
  local kernel = mode == "copy"

  -- string payloads: copied into frames
  local text = string.rep("s", PAYLOAD)
  local da, db = traffic(a, b, K, function()
    return lab.packet.udp { dst = "198.18.0.2:9999", payload = text, region = ra }
  end)
  expect(da, { copied = K * PAYLOAD, referenced = 0, headers = K * HDR, touched = K * PAYLOAD,
    kernel_copied = kernel and K * (PAYLOAD + HDR) or 0, driver_copied = 0 }, mode .. " string a")
  expect(db, { copied = 0, kernel_copied = kernel and K * (PAYLOAD + HDR) or 0 }, mode .. " string b")

  -- born payload: written once, sent K times without a copy
  local before = a:stats().ledger
  local buf = ra:alloc(PAYLOAD)
  buf:fill("born!")
  T.eq(a:stats().ledger.copied - before.copied, PAYLOAD, mode .. " filling the buffer is one copy")
  local last
  da, db = traffic(a, b, K, function()
    last = lab.packet.udp { dst = "198.18.0.2:9999", payload = buf, csum = false }
    return last
  end)
  expect(da, { copied = 0, referenced = K * PAYLOAD, headers = K * HDR, touched = 0,
    kernel_copied = kernel and K * (PAYLOAD + HDR) or 0 }, mode .. " born a")
  expect(db, { copied = 0, kernel_copied = kernel and K * (PAYLOAD + HDR) or 0 }, mode .. " born b")
  expect(last:ledger(), { copied = 0, referenced = PAYLOAD, headers = HDR, touched = 0 }, mode .. " born packet")

  -- a born payload larger than a frame: a chain of three descriptors
  local big = ra:alloc(BIG)
  big:fill(7)
  da, db = traffic(a, b, 1, function()
    local p = lab.packet.udp { dst = "198.18.0.2:9999", payload = big }
    local segs = p:segments()
    T.eq(#segs, 3, mode .. " big segments")
    T.eq(segs[1].len, 2048 - 256 + HDR, mode .. " first segment: headers + rest of the frame")
    T.eq(segs[1].contd and segs[2].contd and not segs[3].contd, true, mode .. " CONTD flags")
    T.eq(#p, BIG + HDR, mode .. " big len")
    return p
  end)
  expect(da, { copied = 0, referenced = BIG, headers = HDR, kernel_copied = kernel and BIG + HDR or 0 },
    mode .. " big a")
  expect(db, { kernel_copied = kernel and BIG + HDR or 0 }, mode .. " big b")

  -- a string payload larger than a frame is copied into a chain
  local before_big = a:stats().ledger
  local sp = lab.packet.udp { dst = "198.18.0.2:9999", payload = string.rep("x", BIG), region = ra }
  T.eq(#sp:segments(), 3, mode .. " string chain segments")
  expect(delta(before_big, a:stats().ledger), { copied = BIG, headers = HDR }, mode .. " string chain")
  T.eq(sp:payload(), string.rep("x", BIG), mode .. " string chain payload")
  sp:release()

  buf:free()
  big:free()
  T.owners(a, { free = 256 }, mode .. " a at the end")
  T.conserved(b, mode .. " b at the end")
  a:close()
  b:close()
end
T.done("sim_copy_vs_zerocopy_ledger")
