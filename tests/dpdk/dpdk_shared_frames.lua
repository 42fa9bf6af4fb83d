-- Shared frames (issue 14.1) on net_ring0: this port hands the sent mbufs
-- themselves to its receiver, so a frame is in one descriptor at a time
-- there - no 'shared' in its caps (ports that free what they send share:
-- dpdk_null_frame_in_several_descriptors, dpdk_net_shared). sg segments
-- that meet in a frame are then ready one at a time (each after the
-- previous one's frame came back), a frame on its way is refused for a
-- second send, nothing is reused early, owners are conserved after every
-- round, and the 64 KiB body arrives intact.
local T = require "common"

local N, MSS = 65536, 1448
local SEGS = (N + MSS - 1) // MSS

local e <close> = lab.open("dpdk", { vdev = "net_ring0", log = "emergency" })
local r = e:region { frames = 1024, frame_size = 2048, headroom = 256 }
T.eq(e:info().caps.shared, false, "net_ring: a frame is in one descriptor at a time")

local src = {}
for i = 0, N - 1 do src[#src + 1] = string.char((i * 13 + i // 307) % 256) end
src = table.concat(src)
local b = r:alloc(N)
b:write(0, src)
local s = lab.segment(b, { strategy = "sg", dst = "198.18.0.2:8080", seq = 1, mss = MSS, region = r })
T.eq(#s, SEGS, "segments")
T.check(s:info().shared > 40, "sg segments meet in frames: " .. s:info().shared)
T.eq(s:ready(), 1, "segment 2 shares a frame with segment 1: it waits")

-- a packet on a frame already on its way is refused, nothing moves
local x = r:alloc(100)
local p1 = lab.packet.udp { dst = "198.18.0.2:9", payload = x }
local p2 = lab.packet.udp { dst = "198.18.0.2:9", payload = x }
T.eq(e:tx(p1), 1, "first send")
local o = T.conserved(e, "first send")
T.raises({ "not held by the program", "one descriptor at a time" }, e.tx, e, p2)
T.eq(T.conserved(e, "refused").tx + T.conserved(e).nic, o.tx + o.nic, "nothing moved")
T.eq(o.shared, 0, "no frame is ever shared on dpdk")
for _, p in ipairs(e:rx(16)) do p:release() end
p2:release()
x:free()

-- one segment per round: tx what is ready, receive it (net_ring hands the
-- sent mbufs to its receiver), give the frames back
local got, rounds = {}, 0
while s:info().next < SEGS do
  rounds = rounds + 1
  T.check(rounds <= 4 * SEGS, "the segments go")
  T.eq(s:tx(e), 1, "round " .. rounds .. ": one segment at a time")
  e:kick()
  for _, p in ipairs(e:rx(64)) do
    got[#got + 1] = p:payload()
    p:release()
  end
  e:complete()
  o = T.conserved(e, "round " .. rounds)
  T.eq(o.shared, 0, "round " .. rounds .. ": no shared frame")
end
T.check(rounds >= SEGS // 2, "net_ring: " .. rounds .. " rounds for 64 KiB of sg (one frame, one descriptor)")
T.eq(#got, SEGS, "every segment received")
T.check(table.concat(got) == src, "the body arrived intact")
s:free()
b:free()
T.owners(e, { free = 1024 }, "all back at the end")
print(string.format("ok - dpdk_shared_frames: %d rounds for %d sg segments", rounds, SEGS))
