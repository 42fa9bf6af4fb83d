-- Lesson 4: why not mmap per packet
-- map, copy, unmap for every packet vs one copy into a frame registered once
--
-- The teaching is on the screen (L.part, L.result); this header only says
-- how to run it: ringlab scripts/lessons/04-mmap-per-packet.lua [sim|dpdk]
-- [packets=N] [part M] [--check], or at the prompt: lesson 4 [packets=N] ...
local L = require "ringlab.lesson"
local A = L.args(...)
local n, extra = 5000, {}
for _, kv in ipairs(A.extra) do
  local v = kv:match("^packets=(.*)$")
  if v then
    n = math.tointeger(tonumber(v))
    if not n or n < 1 then error("lesson 4: packets=" .. v .. "? - a whole number, e.g. packets=5000", 0) end
  else
    extra[#extra + 1] = kv -- an option for the engine
  end
end

L.title("Lesson 4: why not mmap per packet")
L.part(string.format("time %d packets of 1500 bytes, both ways", n), [[
  Why do AF_XDP and DPDK make a program register its packet memory up
  front? Handing the kernel or the NIC fresh memory for each packet costs a
  mapping, page faults and an unmapping (on a real NIC an IOMMU mapping as
  well) - far more than copying the packet. This part times both in the
  same run: mmap + copy + munmap per packet, against a copy into a frame
  registered once. No engine yet: the dashboard waits for part 2.]])
local b = lab.bench_mmap(n, 1500)
local times = b.mmap_ns / math.max(b.frame_ns, 1)
L.printf("   mmap + copy + munmap per packet : %10.0f ns", b.mmap_ns)
L.printf("   copy into a registered frame    : %10.0f ns", b.frame_ns)
L.check(b.mmap_ns > b.frame_ns, "mapping memory per packet is slower than copying into a registered frame")
L.result("mapping memory for each packet costs %.0f times the copy itself: "
  .. "registration is paid once, not per packet.", times)

L.part("the registered way: 1000 packets through 32 frames", [[
  Now in the lab: one region of 32 frames, registered once, carries a
  thousand packets; each frame is lent out again as soon as it comes back.
  Watch the dashboard: the packet counts run while the owners stay within
  the same 32 frames.]])
local e = L.open(A.engine, { name = "frames", ring_size = 16, sim = { wire_capacity = 16 } }, extra)
if not e then return end
local r = e:region { frames = 32 }
if e:rings().fill then e:fill(16) end
local function recycle()
  e:kick()
  e:complete()
  local got = e:rx()
  for _, p in ipairs(got) do p:release() end
  if e:rings().fill then e:fill(#got) end
end
local t0 = lab.now()
for i = 1, 1000 do
  -- a real driver may still hold the frames: wait for one to come back
  for _ = 1, 1000 do
    if e:owners().free > 0 then break end
    recycle()
  end
  e:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = string.rep("x", 1400), region = r })
  recycle()
  if not L.quiet() then lab.progress("packets", i, 1000) end
end
local per = (lab.now() - t0) / 1000 * 1e9
L.eq(e:stats().ledger.copied, 1400 * 1000, "ledger copied (one copy per packet)")
L.conserved(e)
L.say(string.format("%.1f us per packet through %s (build, send, receive, release; %s)", per / 1000,
  e:info().kind == "sim" and "the simulator" or e:info().kind,
  e:info().kind == "sim" and "most of it the Lua calls" or "Lua calls included"), "   ")
L.result("32 frames carried 1000 packets: the memory was registered once and "
  .. "reused; what is left per packet is one copy (the ledger's copied "
  .. "1400000 B) - lesson 5 removes that copy too.")
L.done("4")
