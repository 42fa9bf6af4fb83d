-- extbuf, gso and gro from Lua, on two DPDK ports back to back (peer=).
-- arg[1] picks the case:
--   extbuf   a 64 KiB Lua string and lab.appmem sent where they lie: the
--            segs' ledger copies nothing, every reference comes home
--            (segs:info() extbuf_back), the receiver gets every byte; a segs
--            collected while its references are in flight keeps its data
--   gso      a born buffer as 3 large packets, cut by the engine into 46:
--            headers copied per wire segment, payload referenced
--   gro      the gso segments merged again on receive: e:rx(max, {gro=true})
--            hands out one 64 KiB packet, its checksums good
--   not_here extbuf/gso/gro on the simulator: clear errors, nothing lost
local T = require "common"

local N = 65536
local t = {}
for i = 0, N // 16 - 1 do t[#t + 1] = string.format("%015x\n", i * 16) end
local body = table.concat(t)
local DST = "198.18.0.2:8080"

local function pair()
  local a = lab.open("dpdk", { vdev = "net_ring0", log = "emergency" })
  local r = a:region { frames = 512, frame_size = 2048, headroom = 256 }
  local b = lab.open("dpdk", { peer = a, log = "emergency" })
  b:region { frames = 512, frame_size = 2048, headroom = 256 }
  return a, b, r
end

-- Send segs from a while b receives; the payloads put together by seq.
local function exchange(a, b, segs, gro)
  local parts, n = {}, 0
  for _ = 1, 2000 do
    segs:tx(a)
    a:kick()
    for _, p in ipairs(b:rx(256, gro and { gro = true } or nil)) do
      local d = p:dissect()
      T.check(d.ip.csum_ok ~= false and d.tcp.csum_ok ~= false, "checksums of a received packet")
      parts[#parts + 1] = { seq = d.tcp.seq, data = p:payload() }
      n = n + 1
      p:release()
    end
    a:complete()
    local i = segs:info()
    if i.next == i.count and (i.extbuf_out or 0) == 0 and a:owners().nic == 0 then break end
  end
  table.sort(parts, function(x, y) return x.seq < y.seq end)
  local s = {}
  for i, p in ipairs(parts) do s[i] = p.data end
  return table.concat(s), n
end

local cases = {}

function cases.extbuf()
  local x, y = pair()
  local a <close> = x
  local b <close> = y
  local segs = lab.segment(body, { strategy = "extbuf", engine = a, dst = DST })
  T.eq(#segs, 46, "segments")
  local file = os.tmpname()
  local cap = lab.pcap(a, file) -- extbuf pieces are read where they lie
  local got, n = exchange(a, b, segs)
  T.eq(n, 46, "packets received")
  T.eq(cap:close(), 46, "every extbuf packet captured")
  if os.execute("command -v tshark >/dev/null 2>&1") then
    local f = assert(io.popen("tshark -r " .. file .. " -o tcp.check_checksum:TRUE"
      .. " -T fields -e tcp.len -e tcp.checksum.status 2>/dev/null"))
    local bytes, good = 0, 0
    for len, status in f:read("a"):gmatch("(%d+)\t(%d+)") do
      bytes = bytes + tonumber(len)
      good = good + (status == "1" and 1 or 0)
    end
    f:close()
    T.eq(bytes, N, "tshark: the whole body is in the capture")
    T.eq(good, 46, "tshark: every TCP checksum good")
  else
    print("SKIP - tshark is not installed: the capture was not read back")
  end
  os.remove(file)
  T.check(got == body, "the body arrived intact")
  local l, i = segs:ledger(), segs:info()
  T.eq(l.copied, 0, "copied")
  T.eq(l.referenced, N, "referenced")
  T.eq(i.extbuf_sent, 46, "extbuf_sent")
  T.eq(i.extbuf_out, 0, "extbuf_out")
  T.eq(i.extbuf_back, 46, "every reference came home")
  segs:free()
  T.owners(a, {}, "a after extbuf")
  -- app memory of its own, and a segs that goes while in flight
  local m = lab.appmem(N)
  T.eq(#m, N, "#appmem")
  m:write(0, body)
  T.eq(m:string(16, 16), body:sub(17, 32), "appmem:string")
  segs = lab.segment(m, { strategy = "extbuf", engine = a, dst = DST })
  segs:tx(a)
  T.eq(segs:info().extbuf_out, 46, "in flight")
  segs = nil
  m = nil
  collectgarbage()
  collectgarbage()
  local parts = {}
  for _ = 1, 100 do
    for _, p in ipairs(b:rx(256)) do
      parts[#parts + 1] = { seq = p:dissect().tcp.seq, data = p:payload() }
      p:release()
    end
    a:kick()
    a:complete()
    if #parts == 46 then break end
  end
  table.sort(parts, function(x, y) return x.seq < y.seq end)
  local s = {}
  for k, p in ipairs(parts) do s[k] = p.data end
  T.check(table.concat(s) == body, "collected segs: its memory stayed until sent")
  T.owners(a, {}, "a at the end")
end

function cases.gso()
  local x, y, r = pair()
  local a <close> = x
  local b <close> = y
  local buf = r:alloc(N)
  buf:write(0, body)
  local segs = lab.segment(buf, { strategy = "gso", engine = a, dst = DST, max = 16 * 1448 })
  T.eq(#segs, 3, "3 large packets")
  local got, n = exchange(a, b, segs)
  T.eq(n, 46, "46 segments on the wire")
  T.check(got == body, "the body arrived intact")
  local l = segs:ledger()
  T.eq(l.copied, 0, "copied")
  T.eq(l.referenced, N, "referenced")
  T.eq(l.headers, (3 + 46) * 54, "headers: the lab's 3 and the engine's 46")
  segs:free()
  buf:free()
  T.owners(a, {}, "a after gso")
end

function cases.gro()
  local x, y, r = pair()
  local a <close> = x
  local b <close> = y
  local buf = r:alloc(N)
  buf:write(0, body)
  -- ACK-only segments, as GRO merges (the last one would carry PSH)
  local segs = lab.segment(buf, { strategy = "gso", engine = a, dst = DST, flags = "A" })
  T.eq(#segs, 2, "2 large packets")
  segs:tx(a)
  a:kick()
  local pkts = b:rx(256, { gro = true })
  T.check(#pkts >= 1 and #pkts <= 3, "merged into a few packets, got " .. #pkts)
  T.check(pkts[1]:len() > 40000, "the first is large: " .. pkts[1]:len())
  local d = pkts[1]:dissect()
  T.check(d.ip.csum_ok and d.tcp.csum_ok, "the merged packet's checksums hold")
  for _, p in ipairs(pkts) do p:release() end
  for _ = 1, 50 do
    for _, p in ipairs(b:rx(256, { gro = true })) do p:release() end
    a:kick()
    a:complete()
    if a:owners().nic == 0 then break end
  end
  segs:free()
  buf:free()
  T.owners(a, {}, "a after gro")
end

function cases.not_here()
  -- the simulator's kernel cuts in software unless opened with gso=false
  local e <close> = lab.open("sim", { gso = false })
  local r = e:region { frames = 64, frame_size = 2048, headroom = 256 }
  T.raises({ "cannot send app memory outside its region", "sg/born/copy" }, lab.segment,
    body, { strategy = "extbuf", engine = e, dst = DST })
  local buf = r:alloc(4096)
  T.raises({ "strategy gso on this sim engine", "gso=false" }, lab.segment,
    buf, { strategy = "gso", engine = e, dst = DST })
  T.raises({ "cannot merge received TCP segments" }, e.rx, e, 64, { gro = true })
  buf:free()
  T.owners(e, {}, "nothing lost")
end

local f = cases[arg[1]]
T.check(f, "no case " .. tostring(arg[1]))
f()
print("ok")
