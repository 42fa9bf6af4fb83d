-- Unaligned chunks on the simulator (open sim unaligned=true, issue 14.2):
-- a born segment whose headers + payload cross a frame boundary goes out
-- in ONE descriptor, which moves the owners of every frame it touches.
-- 64 KiB at MSS 1448, two sims back to back, the sender in step mode:
-- owners conserved after every step, the receiver reassembles the body and
-- it equals the source, nothing left behind.
--   per_buffer  every segment born in a buffer of its own in 1024-byte
--               frames (256 headroom): 54 + 1448 bytes from byte 202 of
--               the first frame into the second. unaligned: 1 descriptor
--               each; without it: 2 (the same chain as before: sg)
--   contiguous  one 64 KiB buffer: the first segment in one descriptor
--               (its headers in the headroom), every other one a header
--               frame + ONE payload descriptor, never cut at a frame
--   aligned     per_buffer without unaligned=true: the existing behaviour
local T = require "common"
local case = assert(arg[1], "give a case: per_buffer, contiguous, aligned")

local N, MSS, HDR = 65536, 1448, 54
local SEGS = (N + MSS - 1) // MSS -- 46
local FS, HEADROOM = 1024, 256

local function body()
  local t = {}
  for i = 0, N - 1 do t[#t + 1] = string.char((i * 7 + i // 253) % 256) end
  return table.concat(t)
end

local unaligned = case ~= "aligned"
local a = lab.open("sim", { unaligned = unaligned, step = true })
local b = lab.open("sim", { peer = a })
local ra = a:region { frames = 512, frame_size = FS, headroom = HEADROOM }
b:region { frames = 1024 }
b:fill(512)
T.eq(a:info().caps.unaligned == true, unaligned, "caps.unaligned")
T.check(not b:info().caps.unaligned, "a sim without unaligned=true lacks the cap")
local src = body()

-- Queue what is ready, then step the NIC until it idles, checking the
-- owners after every step; take the completions.
local steps = 0
local function drive(segs)
  local sent = 0
  while sent < #segs do
    local k = segs:tx(a)
    T.check(k > 0, "segments queued")
    sent = sent + k
    while true do
      local s = a:step()
      steps = steps + 1
      T.conserved(a, "a after step " .. steps .. " (" .. s.kind .. ")")
      if s.kind == "idle" then break end
    end
    a:complete()
    T.conserved(a, "a after complete")
  end
end

local held = {}
if case == "contiguous" then
  local buf = ra:alloc(N)
  buf:write(0, src)
  local segs = lab.segment(buf, { strategy = "born", dst = "198.18.0.2:8080", seq = 1000, mss = MSS,
    region = ra })
  local info = segs:info()
  T.eq(info.count, SEGS, "segments")
  -- the first: headers in the headroom + payload, one descriptor; the
  -- rest: a header frame + the payload in one descriptor, whatever frames
  -- it crosses
  T.eq(info.descriptors, 1 + 2 * (SEGS - 1), "descriptors (unaligned: payload never cut)")
  for i, g in ipairs(segs:segments()) do
    T.eq(g.descs, i == 1 and 1 or 2, "segment " .. i .. " descriptors")
  end
  T.eq(segs:ledger().copied, 0, "born copies nothing")
  drive(segs)
  held = { segs, buf }
else
  local descs = 0
  for i = 0, SEGS - 1 do
    local off = i * MSS
    local n = math.min(MSS, N - off)
    local buf = ra:alloc(n)
    buf:write(0, src:sub(off + 1, off + n))
    local segs = lab.segment(buf, { strategy = "born", dst = "198.18.0.2:8080", seq = 1000 + off,
      mss = MSS, region = ra })
    local want = (unaligned or HEADROOM + n <= FS) and 1 or 2
    T.eq(segs:info().descriptors, want, "segment " .. i + 1 .. " descriptors")
    descs = descs + segs:info().descriptors
    -- it does cross: headers + payload from byte 202 of a 1024-byte frame
    T.check((buf:addr() - HDR) // FS ~= (buf:addr() + n - 1) // FS or n + HEADROOM <= FS,
      "segment " .. i + 1 .. " straddles a frame boundary")
    drive(segs)
    held[#held + 1] = segs
    held[#held + 1] = buf
  end
  T.eq(descs, unaligned and SEGS or 2 * SEGS - 1, "descriptors in all")
  print(string.format("%s: %d segments in %d descriptors", case, SEGS, descs))
end

-- The receiver: every packet checks, the body reassembled in place equals
-- the source.
local pkts = b:rx(1024)
T.eq(#pkts, SEGS, "packets received")
local rd <close> = lab.reader(b, { mode = "inplace" })
for i, p in ipairs(pkts) do
  local pd = p:dissect()
  T.check(pd.tcp and pd.tcp.csum_ok and pd.ip.csum_ok, "packet " .. i .. " checksums")
  T.eq(pd.tcp.seq, 1000 + (i - 1) * MSS, "packet " .. i .. " seq")
  rd:push(p)
end
local v = rd:read(N)
T.check(v:equals(src), "the receiver's body equals the source")
rd:release()

-- Nothing left behind: every frame of a back with the program.
local o = T.conserved(a, "a at the end")
T.eq(o.tx + o.nic + o.comp, 0, "no frame of a in flight")
for i = 1, #held, 2 do held[i]:free(); held[i + 1]:free() end
T.eq(a:owners().free, 512, "every frame of a free again")
T.conserved(b, "b at the end")
T.done("sim_unaligned_" .. case)
