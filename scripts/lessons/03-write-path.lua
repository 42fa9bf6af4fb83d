-- Lesson 3: the write path and completions
-- tx -> NIC -> comp -> program; a frame is yours again only after completion
--
-- Sending hands a frame to the NIC; the program gets it back only when the
-- NIC says it is done, on the completion ring. A program that never reaps
-- completions runs out of frames - this lesson makes that happen on
-- purpose with a region of 8 frames.
-- Run: ringlab scripts/lessons/03-write-path.lua [sim|afxdp|dpdk]   (or: lesson 3)
local L = require "ringlab.lesson"
local which = L.args(...).engine

L.title("Lesson 3: the write path and completions")
local e = L.open(which, which == nil and { step = true } or nil)
if not e then return end
local r = e:region { frames = 8 }
local stepping = e:info().caps.step

local function send(i)
  return e:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = "burst " .. i, region = r })
end

L.part("queue four packets on the tx ring")
for i = 1, 4 do L.eq(send(i), 1, "queued " .. i) end
local o4 = e:owners()
L.eq(stepping and o4.tx or (o4.tx + o4.nic + o4.comp), 4, stepping and "owner tx" or "owner tx, nic or comp")

L.part("the NIC sends them (kick)")
local function run_nic(say)
  if not stepping then e:kick() return end
  repeat
    local s = e:step()
    if say then print("   " .. s.what) end
  until s.kind == "idle"
end
run_nic(true)
local o = L.conserved(e)
L.say [[
  Sent - but the frames are not free: they wait on the completion ring
  (or in the NIC) until the program reaps them.]]
L.eq(o.free, 4, "free frames")

L.part("without e:complete() the pool runs dry")
for i = 5, 8 do send(i) end
run_nic(false)
local ok, err = pcall(lab.packet.udp, { dst = "198.18.0.2:9999", payload = "one more", region = r })
L.check(not ok, "a ninth packet cannot be built: " .. tostring(err))

L.part("reap the completions: every frame comes home")
local n = 0
for _ = 1, 100 do
  e:kick()
  n = n + e:complete()
  if n >= 8 then break end
  lab.sleep(0.01)
end
local looped = e:rx(64) -- on DPDK net_ring0 the sent mbufs come back here instead
for _, p in ipairs(looped) do p:release() end
L.eq(n + #looped, 8, "frames back (completed" .. (#looped > 0 and ", or looped back on rx)" or ")"))
o = L.conserved(e)
L.eq(o.free, 8, "free frames")
L.done("3")
