-- Lesson 4: why not mmap per packet
-- map, copy, unmap for every packet vs one copy into a frame registered once
--
-- Why do AF_XDP and DPDK make you register packet memory up front? Because
-- giving the kernel or the NIC fresh memory for each packet costs far more
-- than the packet: a mapping, page faults, an unmapping (and on a real
-- NIC, an IOMMU mapping). This lesson times both in the same run: per
-- packet, mmap + copy in + munmap, against a memcpy into a frame that was
-- registered once.
-- Run: ringlab scripts/lessons/04-mmap-per-packet.lua [packets=N]   (or: lesson 4)
local L = require "ringlab.lesson"
local A = L.args(...)
local n = 5000
for _, kv in ipairs(A.extra) do
  local v = kv:match("^packets=(.*)$")
  if v then n = math.tointeger(tonumber(v)) or error("lesson 4: packets=" .. v .. "? - a whole number, e.g. packets=5000", 0) end
end

L.title("Lesson 4: why not mmap per packet")
L.part(string.format("time %d packets of 1500 bytes both ways", n))
local b = lab.bench_mmap(n, 1500)
print(string.format("   mmap + copy + munmap per packet : %10.0f ns", b.mmap_ns))
print(string.format("   copy into a registered frame    : %10.0f ns", b.frame_ns))
print(string.format("   the mapping costs %.0f times the copy itself", b.mmap_ns / math.max(b.frame_ns, 1)))
L.check(b.mmap_ns > b.frame_ns, "mapping memory per packet is slower than copying into a registered frame")

L.part("the registered way, in the lab: one region, frames reused")
local e = lab.open("sim")
local r = e:region { frames = 32 }
e:fill(16)
local t0 = lab.now()
for i = 1, 1000 do
  e:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = string.rep("x", 1400), region = r })
  e:kick()
  e:complete()
  local got = e:rx()
  for _, p in ipairs(got) do p:release() end
  e:fill(#got)
  lab.progress("1000 packets through 32 registered frames", i, 1000)
end
local per = (lab.now() - t0) / 1000 * 1e9
print(string.format("   %.0f ns per packet through the whole simulated path (build, tx, rx, release)", per))
L.say [[
  Thirty-two frames carried a thousand packets: the same memory, lent to the
  NIC again and again. Registration is paid once; the copy per packet is
  what is left - and the next lessons remove that too.]]
L.eq(e:stats().ledger.copied, 1400 * 1000, "ledger copied (one copy per packet)")
L.conserved(e)
L.done("4")
