-- TSO, GSO and checksum offload on the simulator (issue 12.3), on a pair of
-- sims wired back to back. arg[1] names the case:
--   tso        open sim tso=true: lab.segment{strategy="tso"} hands the NIC
--              64 KiB as 3 large packets (max = 16 MSS); the NIC cuts 46
--              segments of MSS 1448 and writes their headers itself: the
--              lab's ledger has 3 headers, the engine's 46 more (the NIC's,
--              also tso_header_bytes), nothing copied or read
--   gso        the sim's kernel cuts in software: a copy of the headers per
--              segment and the payload read for the checksums, both in the
--              segs' ledger; with csum=true and csum="offload" the NIC fills
--              the checksums and nothing is read
--   tso_max    the default max: one packet of 45 MSS and a short one the NIC
--              only checksums (not cut)
--   csum       csum="offload" with sg: on a sim with csum=true the NIC fills
--              the checksums (the receiver verifies them, nothing touched);
--              without, they arrive as the program left them: wrong
--   packet_csum  lab.packet.tcp/udp{csum="offload"} and e:tx: the NIC of a
--              csum=true sim fills them, of a plain one not
--   refusals   tso on a sim opened without tso=true, gso with gso=false,
--              tso=true with csum=false: one line saying what to do
--   step       step=true: one TX step cuts a whole large packet and says so
--   copy_loss  copy mode (the kernel stand-in copies the large packet once)
--              and loss=5: every 5th segment lost on the wire, counted
-- Every case: every segment that arrives has good IP and TCP checksums,
-- sequence numbers and IP ids in order, PSH only on the last; the
-- receiver's stream equals the body; owners conserved after every step.
local T = require "common"
local case = assert(arg[1], "give a case")

local N, MSS, HDR = 65536, 1448, 66 -- TCP with timestamps, as Linux sends
local SEGS = (N + MSS - 1) // MSS   -- 46
local DST = "198.18.0.2:8080"

local function body()
  local t = {}
  for i = 0, N - 1 do t[#t + 1] = string.char((i * 7 + i // 253) % 256) end
  return table.concat(t)
end
local src = body()

local function delta(l0, l1)
  local d = {}
  for k, v in pairs(l1) do if type(v) == "number" then d[k] = v - (l0[k] or 0) end end
  return d
end

-- sender a (opts), receiver b, the body born in a's region
local function pair(opts, bopts)
  opts = opts or {}
  opts.mode = opts.mode or "zerocopy"
  local a = lab.open("sim", opts)
  local bo = bopts or {}
  bo.peer, bo.mode = a, bo.mode or "zerocopy"
  local b = lab.open("sim", bo)
  local ra = a:region { frames = 256, frame_size = 2048, headroom = 256 }
  b:region { frames = 256 }
  b:fill(128)
  local buf = ra:alloc(N)
  buf:write(0, src) -- the program's copy, before anything is measured
  T.conserved(a, "a set up")
  T.conserved(b, "b set up")
  return a, b, ra, buf
end

local function segment(buf, ra, strategy, extra)
  local o = { strategy = strategy, dst = DST, seq = 1000, mss = MSS, region = ra, ts_val = 7, ts_ecr = 0, id = 50 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return lab.segment(buf, o)
end

local function extra(e, k) return e:stats()[k] or 0 end

-- What b received: every packet checked, the stream put together in place
-- and compared; lost (a set of segment numbers, 1-based) are missing.
local function receive(b, label, opts)
  opts = opts or {}
  local lost = opts.lost or {}
  local pkts = b:rx(256)
  local want = SEGS
  for _ in pairs(lost) do want = want - 1 end
  T.eq(#pkts, want, label .. ": segments received")
  local rd <close> = lab.reader(b, { mode = "inplace" })
  local k, bad = 0, 0
  for i = 1, SEGS do
    if not lost[i] then
      k = k + 1
      local p = pkts[k]
      local d = p:dissect()
      if opts.csum_bad then
        if d.tcp.csum_ok then bad = bad + 1 end
      else
        T.check(d.ip.csum_ok and d.tcp.csum_ok, label .. ": segment " .. i .. " IP and TCP checksums")
      end
      T.eq(d.tcp.seq, 1000 + (i - 1) * MSS, label .. ": segment " .. i .. " seq")
      T.eq(d.ip.id, 50 + i - 1, label .. ": segment " .. i .. " IP id")
      T.eq(d.payload_len, i == SEGS and N - (SEGS - 1) * MSS or MSS, label .. ": segment " .. i .. " length")
      T.eq(d.tcp.flag_str, i == SEGS and "PA" or "A", label .. ": segment " .. i .. " flags")
      T.eq(d.ip.len, d.payload_len + HDR - 14, label .. ": segment " .. i .. " IP length")
      if not next(lost) then rd:push(p) else p:release() end
    end
  end
  if opts.csum_bad then T.eq(bad, 0, label .. ": no segment has a good TCP checksum") end
  if not next(lost) then
    local v = rd:read(N)
    T.check(v:equals(src), label .. ": the receiver's stream equals the body")
    rd:release()
  end
  T.conserved(b, label .. ": b after receiving")
end

local cases = {}

function cases.tso()
  local a, b, ra, buf = pair({ tso = true })
  T.eq(a:info().caps.tso, true, "tso=true: caps.tso")
  T.eq(a:info().caps.csum, true, "tso=true: the NIC fills checksums too")
  local l0 = a:stats().ledger
  local segs = segment(buf, ra, "tso", { max = 16 * MSS })
  T.eq(#segs, 3, "3 large packets of at most 16 MSS")
  T.conserved(a, "after segment")
  local lab_l = segs:ledger()
  T.eq(lab_l.copied, 0, "lab: copied")
  T.eq(lab_l.referenced, N, "lab: referenced")
  T.eq(lab_l.headers, 3 * HDR, "lab: one set of headers per large packet")
  T.eq(lab_l.touched, 0, "lab: no payload read (the NIC checksums)")
  T.eq(segs:send(a), 3, "sent")
  T.conserved(a, "after send")
  local d = delta(l0, a:stats().ledger)
  T.eq(d.copied, 0, "engine: copied")
  T.eq(d.referenced, N, "engine: referenced")
  T.eq(d.headers, 3 * HDR + SEGS * HDR, "engine: the lab's 3 headers and the NIC's 46")
  T.eq(d.touched, 0, "engine: touched")
  T.eq(d.kernel_copied, 0, "engine: zerocopy, no kernel copy")
  T.eq(extra(a, "tso_pkts"), 3, "tso_pkts")
  T.eq(extra(a, "tso_segments"), SEGS, "tso_segments")
  T.eq(extra(a, "tso_header_bytes"), SEGS * HDR, "tso_header_bytes: the NIC's")
  T.eq(extra(a, "csum_filled"), SEGS, "csum_filled")
  T.eq(a:stats().tx_pkts, 3, "tx_pkts: what the program handed over")
  T.eq(extra(a, "wire_pkts"), SEGS, "wire_pkts: what the wire carried")
  receive(b, "tso")
  segs:free()
  buf:free()
  T.conserved(a, "a at the end")
  T.eq(a:owners().free, 256, "every frame back")
end

function cases.tso_max()
  local a, b, ra, buf = pair({ tso = true })
  local segs = segment(buf, ra, "tso")
  T.eq(#segs, 2, "one packet of 45 MSS (65160 bytes) and one of 376")
  T.eq(segs:send(a), 2, "sent")
  T.eq(extra(a, "tso_pkts"), 1, "the NIC cut one of them")
  T.eq(extra(a, "tso_segments"), 45, "into 45 segments")
  T.eq(extra(a, "csum_filled"), SEGS, "and filled the checksums of all 46")
  T.eq(a:stats().ledger.headers, 2 * HDR + 45 * HDR, "headers: the lab's 2, the NIC's 45")
  receive(b, "tso max")
  segs:free()
  T.conserved(a, "a at the end")
end

function cases.gso()
  local a, b, ra, buf = pair()
  T.eq(a:info().caps.gso, true, "a plain sim: the kernel's gso")
  T.eq(a:info().caps.tso, false, "but no tso")
  local l0 = a:stats().ledger
  local segs = segment(buf, ra, "gso", { max = 16 * MSS })
  T.eq(#segs, 3, "3 large packets")
  T.eq(segs:send(a), 3, "sent")
  T.conserved(a, "after send")
  local sl = segs:ledger()
  T.eq(sl.copied, 0, "segs: copied")
  T.eq(sl.referenced, N, "segs: referenced")
  T.eq(sl.headers, 3 * HDR + SEGS * HDR, "segs: the lab's 3 headers and the kernel's 46 copies")
  T.eq(sl.touched, N, "segs: the kernel's software checksums read the payload")
  local d = delta(l0, a:stats().ledger)
  T.eq(d.headers, sl.headers, "engine: the same headers")
  T.eq(d.touched, N, "engine: the same reads")
  T.eq(d.kernel_copied, 0, "engine: zerocopy")
  T.eq(extra(a, "gso_pkts"), 3, "gso_pkts")
  T.eq(extra(a, "gso_segments"), SEGS, "gso_segments")
  T.eq(extra(a, "gso_header_bytes"), SEGS * HDR, "gso_header_bytes")
  receive(b, "gso")
  segs:free()
  -- the NIC fills the checksums: the kernel copies headers, reads nothing
  local a2, b2, ra2, buf2 = pair({ csum = true })
  local s2 = segment(buf2, ra2, "gso", { max = 16 * MSS, csum = "offload" })
  T.eq(s2:send(a2), 3, "gso + csum offload: sent")
  local l2 = s2:ledger()
  T.eq(l2.headers, 3 * HDR + SEGS * HDR, "gso + csum offload: headers")
  T.eq(l2.touched, 0, "gso + csum offload: nothing read")
  T.eq(extra(a2, "csum_filled"), SEGS, "the NIC filled them")
  receive(b2, "gso + csum offload")
  s2:free()
  T.conserved(a2, "a2 at the end")
end

function cases.csum()
  local a, b, ra, buf = pair({ csum = true })
  local segs = segment(buf, ra, "sg", { csum = "offload" })
  T.eq(segs:send(a), SEGS, "sg + csum offload: sent")
  T.eq(segs:ledger().touched, 0, "nothing read by the lab")
  T.eq(extra(a, "csum_filled"), SEGS, "the NIC filled every checksum")
  receive(b, "csum on")
  segs:free()
  -- without csum=true the NIC sends what it is given: the partial sums
  local a2, b2, ra2, buf2 = pair()
  T.eq(a2:info().caps.csum, false, "a plain sim: no checksum offload")
  local s2 = segment(buf2, ra2, "sg", { csum = "offload" })
  T.eq(s2:send(a2), SEGS, "sg, csum left to a NIC that does not: sent")
  receive(b2, "csum off", { csum_bad = true })
  s2:free()
  -- and csum=true leaves software checksums alone
  local a3, b3, ra3, buf3 = pair({ csum = true })
  local s3 = segment(buf3, ra3, "copy")
  T.eq(s3:send(a3), SEGS, "copy with software checksums on a csum=true sim")
  T.eq(extra(a3, "csum_filled"), 0, "nothing for the NIC to fill")
  receive(b3, "software checksums")
  s3:free()
end

-- lab.packet with csum="offload" and e:tx: a list mixing packets whose
-- checksums the NIC fills (TCP and UDP) with ones the program finished
function cases.packet_csum()
  local a, b = pair({ csum = true })
  local function pkts()
    return {
      lab.packet.tcp { dst = DST, flags = "PA", seq = 5, payload = "left to the NIC", csum = "offload", engine = a },
      lab.packet.udp { dst = "198.18.0.2:9999", payload = "software", engine = a },
      lab.packet.udp { dst = "198.18.0.2:9999", payload = "udp offload", csum = "offload", engine = a },
      lab.packet.tcp { dst = DST, flags = "A", seq = 20, payload = string.rep("x", 3000), csum = "offload",
        engine = a },
    }
  end
  local list = pkts()
  T.check(not list[1]:dissect().tcp.csum_ok, "built: the TCP checksum is a partial sum")
  T.eq(a:tx(list), 4, "4 packets queued")
  T.conserved(a, "queued")
  a:kick()
  a:complete()
  T.eq(extra(a, "csum_filled"), 3, "the NIC filled 3 (the one with software checksums went as it was)")
  local got = b:rx(16)
  T.eq(#got, 4, "4 arrived")
  for i, p in ipairs(got) do
    local d = p:dissect()
    T.check(d.ip.csum_ok and (d.tcp and d.tcp.csum_ok or d.udp and d.udp.csum_ok and d.udp.csum ~= 0),
      "packet " .. i .. ": good checksums on the receiver")
    if i == 4 then T.eq(d.payload_len, 3000, "the 3000-byte one, a chain of 2 frames, whole") end
    p:release()
  end
  -- a tx ring of 2: the first two go, the third stays the program's
  local a3 = lab.open("sim", { csum = true, tx_size = 2 })
  a3:region { frames = 16 }
  local three = {
    lab.packet.tcp { dst = DST, payload = "1", csum = "offload", engine = a3 },
    lab.packet.udp { dst = "198.18.0.2:9999", payload = "2", engine = a3 },
    lab.packet.tcp { dst = DST, payload = "3", csum = "offload", engine = a3 },
  }
  T.eq(a3:tx(three), 2, "a full ring: 2 of 3 queued")
  T.eq(three[3]:state(), "held", "the third is still the program's")
  T.raises({ "tx ring is full" }, a3.tx, a3, three[3])
  three[3]:release()
  T.conserved(a3, "a3 after a full ring")
  a3:kick()
  T.eq(a3:complete(), 2, "the two sent complete")
  T.conserved(a3, "a3 at the end")
  T.conserved(a, "a at the end")
  T.conserved(b, "b at the end")
  -- without checksum offload the same packets arrive with their partial sums
  local a2, b2 = pair()
  T.eq(a2:tx(lab.packet.tcp { dst = DST, flags = "PA", payload = "x", csum = "offload", engine = a2 }), 1, "queued")
  a2:kick()
  local p = b2:rx(4)[1]
  T.check(p and not p:dissect().tcp.csum_ok, "a NIC without csum=true leaves it wrong")
  p:release()
  T.conserved(a2, "a2 at the end")
end

function cases.refusals()
  local a, _, ra, buf = pair()
  T.raises({ "segment: strategy tso on this sim engine", "open sim tso=true" }, segment, buf, ra, "tso")
  T.conserved(a, "after the tso refusal")
  local g = lab.open("sim", { gso = false })
  local rg = g:region { frames = 64 }
  local bg = rg:alloc(8000)
  T.raises({ "segment: strategy gso on this sim engine", "gso=false" }, segment, bg, rg, "gso")
  T.conserved(g, "after the gso refusal")
  T.raises({ "tso=true with csum=false", "drop csum=false" }, lab.open, "sim", { tso = true, csum = false })
  T.raises({ "tso=maybe", "tso=true or tso=false" }, lab.open, "sim", { tso = "maybe" })
  T.raises({ "unknown option 'tsoo'", "tso=true|false" }, lab.open, "sim", { tsoo = true })
end

function cases.step()
  local a, b, ra, buf = pair({ tso = true, step = true })
  local segs = segment(buf, ra, "tso", { max = 16 * MSS })
  -- the next large packet starts in the frame where this one ends: the sim
  -- lets that frame be in both packets' descriptors, so all three queue
  -- at once and the NIC takes them one per step
  T.eq(segs:tx(a), 3, "the three large packets queued at once")
  local o = T.conserved(a, "queued")
  T.eq(o.shared, 2, "two frames where one packet ends and the next begins")
  local st = a:step()
  T.eq(st.kind, "tx", "the first step transmits")
  T.check(st.what:find("TX (TSO): the NIC took tx[0..", 1, true) and
    st.what:find("cut it into 16 segments of MSS 1448", 1, true), "the step says the NIC cut it: " .. st.what)
  T.conserved(a, "after one step")
  T.eq(b:rings().wire.pending, 16, "16 segments on the wire after one step")
  while a:step().kind ~= "idle" do T.conserved(a, "stepping") end
  a:complete()
  T.eq(T.conserved(a, "completed").shared, 0, "nothing shared once all completed")
  T.eq(b:rings().wire.pending, SEGS, "46 segments on the wire")
  T.eq(a:owners().nic + a:owners().tx + a:owners().comp, 0, "every frame back")
  receive(b, "step")
  segs:free()
end

function cases.copy_loss()
  local a, b, ra, buf = pair({ tso = true, mode = "copy", loss = 5 })
  local segs = segment(buf, ra, "tso", { max = 16 * MSS })
  T.eq(segs:send(a), 3, "sent")
  local l = a:stats().ledger
  T.eq(l.kernel_copied, N + 3 * HDR, "copy mode: the kernel stand-in copied each large packet once")
  T.eq(extra(a, "wire_lost"), SEGS // 5, "loss=5: every 5th segment lost")
  local lost = {}
  for i = 5, SEGS, 5 do lost[i] = true end
  receive(b, "copy + loss", { lost = lost })
  segs:free()
  T.conserved(a, "a at the end")
end

assert(cases[case], "no case " .. case)()
T.done("sim_tso_gso_" .. case)
