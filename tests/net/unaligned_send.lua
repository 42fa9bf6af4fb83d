--[[
unaligned_send.lua - born UDP segments that straddle frame boundaries go out
of AF_XDP in ONE descriptor each, with the UMEM registered with
XDP_UMEM_UNALIGNED_CHUNK_FLAG (open afxdp unaligned=true).

  ringlab --netns NAME-lab unaligned_send.lua IFNAME PEER_MAC PORT

64 KiB cut at 1448 bytes: each segment born in a buffer of its own in
2048-byte frames (AF_XDP's smallest chunk) with 1024 bytes of headroom, so
its 42 header bytes and 1448 payload bytes run from byte 982 of one frame
into the next. Every
segment must be one descriptor; the frames' owners are conserved after every
send and every completion, and nothing is left in flight at the end. The
peer (body_case.sh unaligned) checks the bytes. Prints the kernel's refusal in
one line and exits 3 when it refuses the flag.
--]]
local common = dofile(arg[0]:match("^(.*/)") .. "net_common.lua")
local ifname, peer_mac, port = ...
assert(ifname and peer_mac and port, "usage: unaligned_send.lua IFNAME PEER_MAC PORT")

local N, MSS, FS, HEADROOM = 65536, 1448, 2048, 1024
local SEGS = (N + MSS - 1) // MSS

local e = lab.open("afxdp", { ifname = ifname, steer = "9000", mode = "copy", unaligned = true })
local ok, err = pcall(e.region, e, { frames = 256, frame_size = FS, headroom = HEADROOM })
if not ok and tostring(err):find("unaligned", 1, true) then
  print("REFUSED: " .. tostring(err):gsub("\n.*", ""))
  os.exit(3)
end
assert(ok, err)
local r = e:region()
assert(e:info().caps.unaligned, "caps.unaligned after the bind")
local src = {}
for i = 0, N - 1 do src[#src + 1] = string.char((i * 13 + i // 241) % 256) end
src = table.concat(src)

local descs, straddled = 0, 0
for i = 0, SEGS - 1 do
  local off = i * MSS
  local n = math.min(MSS, N - off)
  local b = r:alloc(n)
  b:write(0, src:sub(off + 1, off + n))
  local segs = lab.segment(b, { strategy = "born", proto = "udp", mss = MSS, src = "198.18.0.1:9000",
    dst = "198.18.0.2:" .. port, dst_mac = peer_mac, region = r })
  local d = segs:info().descriptors
  assert(d == 1, "segment " .. i + 1 .. " took " .. d .. " descriptors, not 1")
  descs = descs + d
  if (b:addr() - 42) // FS ~= (b:addr() + n - 1) // FS then straddled = straddled + 1 end
  assert(segs:send(e) == 1, "segment " .. i + 1 .. " sent")
  common.conserved(e, "after segment " .. i + 1)
  segs:free()
  b:free()
end
for _ = 1, 200 do
  e:kick()
  e:complete()
  local o = e:owners()
  if o.tx + o.nic + o.comp == 0 then break end
  lab.sleep(0.005)
end
common.show(e, "at the end")
local o = common.conserved(e, "at the end")
assert(o.tx + o.nic + o.comp == 0, "frames left in flight")
assert(o.free == o.frames - o.fill, "frames left held")
local st = e:stats()
print(string.format("%d segments in %d descriptors, %d straddling a frame boundary; tx_pkts %d",
  SEGS, descs, straddled, st.tx_pkts))
assert(straddled == SEGS - 1, "the segments straddle frames (all but the short last)")
assert(st.tx_invalid_descs == 0, "the kernel found " .. st.tx_invalid_descs .. " invalid descriptors")
assert(st.unaligned == 1, "stats say unaligned")
e:close()

-- The same segment without unaligned=true (and without sg=true): two
-- descriptors, which the socket refuses in one line, nothing taken.
e = lab.open("afxdp", { ifname = ifname, steer = "9000", mode = "copy" })
r = e:region { frames = 256, frame_size = FS, headroom = HEADROOM }
local b = r:alloc(MSS)
b:write(0, src:sub(1, MSS))
local segs = lab.segment(b, { strategy = "born", proto = "udp", mss = MSS, src = "198.18.0.1:9000",
  dst = "198.18.0.2:" .. port, dst_mac = peer_mac, region = r })
assert(segs:info().descriptors == 2, "aligned: the straddling segment is 2 descriptors")
local sent, why = pcall(segs.send, segs, e)
assert(not sent and tostring(why):find("sg=true", 1, true), "aligned without sg: refused: " .. tostring(why))
print("without unaligned=true: " .. tostring(why):gsub("\n.*", ""))
common.conserved(e, "after the refusal")
assert(e:owners().tx == 0, "the refusal queued nothing")
segs:free()
b:free()
e:close()
print("PASS")
