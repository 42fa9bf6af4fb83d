--[[
shared_send.lua - a UMEM chunk in several TX descriptors at once (issue
14.1): 64 KiB born in the region and cut into sg UDP segments at 1448 bytes
goes out of AF_XDP in one burst, the chunks where one segment ends and the
next begins in two descriptors each, instead of one tx/kick/complete round
per segment.

  ringlab --netns NAME-lab shared_send.lua IFNAME PEER_MAC PORT [DPDK_VDEV LAB_MAC]

With DPDK_VDEV (tests/dpdk/dpdk_net.sh, case shared: net_af_packet0 on the
veth) the same on the dpdk engine: a chunk's first descriptor in its own
mbuf, each further one an aux mbuf over its bytes.

Checks: caps.shared; every segment ready at once; at most 2 kicks for the
46 segments; while they are on their way a shared chunk is owned once (by
its least advanced descriptor) and counted in e:owners().shared; every
completion address gives one reference back and the chunk returns with the
last; owners conserved; nothing left in flight. The peer (body_case.sh shared)
checks the bytes. Prints the kernel's refusal of sg=true in one line and
exits 3.
--]]
local common = dofile(arg[0]:match("^(.*/)") .. "net_common.lua")
-- lab_mac: the frames' source MAC with DPDK (net_af_packet sends as the veth)
local ifname, peer_mac, port, vdev, lab_mac = ...
assert(ifname and peer_mac and port, "usage: shared_send.lua IFNAME PEER_MAC PORT [DPDK_VDEV LAB_MAC]")

local N, MSS = 65536, 1448
local FS = vdev and 4096 or 2048 -- net_af_packet wants 4096-byte frames
local SEGS = (N + MSS - 1) // MSS

local ok, e
if vdev then
  ok, e = pcall(lab.open, "dpdk", { vdev = vdev, log = "error" })
else
  ok, e = pcall(lab.open, "afxdp", { ifname = ifname, steer = "9000", mode = "copy", sg = true })
end
if not ok then
  print("REFUSED: " .. tostring(e):gsub("\n.*", ""))
  os.exit(3)
end
local r = e:region { frames = vdev and 1024 or 256, frame_size = FS, headroom = 256 }
assert(e:info().caps.shared, "caps.shared (aligned AF_XDP, or a DPDK port that frees what it sends)")
local src = {}
for i = 0, N - 1 do src[#src + 1] = string.char((i * 13 + i // 241) % 256) end

src = table.concat(src)

local b = r:alloc(N)
b:write(0, src)
local segs = lab.segment(b, { strategy = "sg", proto = "udp", mss = MSS, src = "198.18.0.1:9000",
  dst = "198.18.0.2:" .. port, dst_mac = peer_mac, src_mac = lab_mac, region = r })
assert(#segs == SEGS, "segments")
local shared = segs:info().shared
assert(shared >= SEGS * 2 // 3, "sg segments of 1448 meet in chunks: " .. shared)
assert(segs:ready() == SEGS, "every segment ready at once, got " .. segs:ready())

-- queue them all: the shared chunks are in two descriptors each
assert(segs:tx(e) == SEGS, "all queued")
local o = common.conserved(e, "queued")
assert(o.shared > 0 and o.shared_refs >= 2 * o.shared, "shared chunks counted: " .. o.shared)
assert(e:refs_map():find("[2-9+]"), "the refs map shows a chunk in 2 or more descriptors")
local k0 = e:stats().kicks
-- the kernel sends and completes; the program takes the completions back
for _ = 1, 400 do
  e:kick()
  e:complete()
  common.conserved(e, "completing")
  o = e:owners()
  if o.tx + o.nic + o.comp == 0 then break end
  lab.sleep(0.005)
end
local kicks = e:stats().kicks - k0
o = common.conserved(e, "at the end")
assert(o.tx + o.nic + o.comp == 0, "chunks left in flight")
assert(o.shared == 0, "a chunk still counted shared")
local st = e:stats()
assert((st.tx_invalid_descs or 0) == 0, "the kernel found " .. tostring(st.tx_invalid_descs) .. " invalid descriptors")
assert((st.model_errors or 0) == 0, "the engine's model disagreed: " .. tostring(st.model_errors))
print(string.format("%d segments, %d sharing a chunk, sent in %d kicks; tx_pkts %d", SEGS, shared,
  kicks, st.tx_pkts))
assert(kicks <= 2, "64 KiB of sg in " .. kicks .. " kicks, want <= 2")
segs:free()
b:free()
o = common.conserved(e, "freed")
assert(o.free == o.frames - o.fill, "chunks left held")
e:close()
