-- A 64 KiB body segmented with one strategy (arg[1]) and sent over two
-- sims back to back: the ledger figures are exact, every segment dissects
-- with good checksums on both sides, the receiver reassembles the body in
-- place (no copy) and it equals the source, owners are conserved.
--   copy:        copied 65536, referenced 0
--   reuse:       copied 65536 once; each resend copied 0, referenced 65536
--   born, sg:    copied 0, referenced 65536
local T = require "common"
local strategy = assert(arg[1], "give a strategy")

local N, MSS = 65536, 1448
local SEGS = (N + MSS - 1) // MSS -- 46
local HDR = 54

local function body()
  local t = {}
  for i = 0, N - 1 do t[#t + 1] = string.char((i * 31 + i // 251) % 256) end
  return table.concat(t)
end

local function delta(l0, l1)
  local d = {}
  for k, v in pairs(l1) do if type(v) == "number" then d[k] = v - l0[k] end end
  return d
end

local a = lab.open("sim")
local b = lab.open("sim", { peer = a })
local ra = a:region { frames = 1024, frame_size = 2048, headroom = 256 }
b:region { frames = 1024 }
b:fill(512)
local src = body()
local data = src
if strategy ~= "copy" and strategy ~= "reuse" then
  data = ra:alloc(N)
  data:write(0, src) -- filling the buffer is the program's copy, before we measure
end

local l0 = a:stats().ledger
local segs = lab.segment(data, { strategy = strategy, dst = "198.18.0.2:8080", seq = 1000, mss = MSS,
  region = ra })
local d = delta(l0, a:stats().ledger)
local copies = (strategy == "copy" or strategy == "reuse") and N or 0
T.eq(#segs, SEGS, "segments")
T.eq(d.copied, copies, strategy .. " copied")
T.eq(d.referenced, N - copies, strategy .. " referenced")
T.eq(d.headers, SEGS * HDR, strategy .. " headers")
T.eq(d.touched, N, strategy .. " touched (software checksums)")
local own = segs:ledger()
T.eq(own.copied, copies, "segs:ledger() copied")
T.eq(own.referenced, N - copies, "segs:ledger() referenced")
T.eq(segs:info().strategy, strategy, "info strategy")
T.eq(segs:next_seq(), 1000 + N, "next_seq")
for i = 1, #segs do
  local sd = segs:dissect(i)
  T.check(sd.tcp and sd.tcp.csum_ok and sd.ip.csum_ok, "segment " .. i .. " checksums")
  T.eq(sd.tcp.seq, 1000 + (i - 1) * MSS, "segment " .. i .. " seq")
end

-- Receive, check every packet, reassemble in place and compare.
local function receive(seq0, label)
  local pkts = b:rx(1024)
  T.eq(#pkts, SEGS, label .. " packets received")
  local rd <close> = lab.reader(b, { mode = "inplace" })
  local lb = b:stats().ledger
  for i, p in ipairs(pkts) do
    local pd = p:dissect()
    T.check(pd.tcp and pd.tcp.csum_ok and pd.ip.csum_ok, label .. " packet " .. i .. " checksums")
    T.eq(pd.tcp.seq, seq0 + (i - 1) * MSS, label .. " packet " .. i .. " seq")
    T.eq(pd.tcp.flag_str, i == SEGS and "PA" or "A", label .. " packet " .. i .. " flags")
    rd:push(p)
    T.eq(p:state(), "consumed", "pushed packet is consumed")
  end
  T.eq(rd:avail(), N, label .. " bytes queued")
  local lb0 = b:stats().ledger
  local v = rd:read(N)
  local lb1 = b:stats().ledger
  T.eq(lb1.copied - lb0.copied, 0, label .. " reading copies nothing")
  T.eq(lb1.referenced - lb0.referenced, N, label .. " reading references the body")
  T.eq(#v, N, label .. " view length")
  T.check(v:equals(src), label .. " reassembled body equals the source")
  local held = rd:frames()
  T.eq(rd:release(), held, label .. " release gives back every frame")
  T.check(not v:valid(), label .. " view invalid after release")
  T.conserved(b, label .. " b")
  b:fill(b:owners().free < 512 and b:owners().free or 512)
  return lb
end

T.eq(segs:send(a), SEGS, "send")
T.conserved(a, "a after send")
receive(1000, strategy)

if strategy == "reuse" then
  for k = 1, 3 do
    local seq = 5000 + k * 100000
    local lr = a:stats().ledger
    T.eq(segs:resend { dst = "198.18.0.2:8081", seq = seq, ack = k }, SEGS, "resend")
    local dr = delta(lr, a:stats().ledger)
    T.eq(dr.copied, 0, "resend " .. k .. " copied")
    T.eq(dr.referenced, N, "resend " .. k .. " referenced")
    T.eq(dr.touched, 0, "resend " .. k .. " touched (incremental checksums)")
    T.eq(segs:send(a), SEGS, "send again")
    receive(seq, "resend " .. k)
  end
else
  T.raises({ "reuse" }, segs.resend, segs, { seq = 1 })
end

local free0 = a:owners().free
segs:free()
T.check(a:owners().free > free0, "segs:free gives its frames (copy frames, header frames) back")
T.conserved(a, "a at the end")
T.conserved(b, "b at the end")
T.done("segment_64k_" .. strategy)
