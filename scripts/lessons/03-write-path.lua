-- Lesson 3: the write path and completions
-- tx -> NIC -> comp -> program; a frame is yours again only after completion
--
-- The teaching is on the screen (L.part, L.result); this header only says
-- how to run it: ringlab scripts/lessons/03-write-path.lua [sim|afxdp|dpdk]
-- [part M] [--check], or at the prompt: lesson 3 [ENGINE] [part M] [--check].
local L = require "ringlab.lesson"
local A = L.args(...)

L.title("Lesson 3: the write path and completions")
local e = L.open(A, { name = "sender", ring_size = 8, sim = { step = true, wire_capacity = 8 } })
if not e then return end
local r = e:region { frames = 8 }
local stepping = e:info().caps.step
local kind = e:info().kind

local function send(i)
  return e:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = "burst " .. i, region = r })
end

-- the NIC works until it has nothing left to do; the kinds of its steps
local function run_nic()
  local did = { tx = 0, complete = 0, drop = 0, rx = 0 }
  if not stepping then e:kick() return did end
  repeat
    local s = e:step()
    did[s.kind] = (did[s.kind] or 0) + 1
  until s.kind == "idle"
  return did
end

L.part("queue four packets on the tx ring", [[
  The sender has a region of only 8 frames. Each packet is built in a free
  frame and its address queued on the tx ring; from then on the frame
  belongs to the NIC, not to the program.

  Look at the tx ring (4 waiting) and the owners: tx 4, free 4.]])
for i = 1, 4 do L.eq(send(i), 1, "queued " .. i) end
local o4 = e:owners()
L.eq(stepping and o4.tx or (o4.tx + o4.nic + o4.comp), 4, stepping and "owner tx" or "owner tx, nic or comp")
if o4.tx == 4 then
  L.result("4 packets queued: 4 frames now owned by the tx ring, 4 still free.")
else -- a real driver may take them off the tx ring at once
  L.result("4 packets queued and taken by the %s driver at once: 4 frames not the "
    .. "program's (tx %d, nic %d, comp %d), 4 still free.", kind, o4.tx, o4.nic, o4.comp)
end

L.part("the NIC sends them", [[
  The NIC takes each descriptor off the tx ring, sends the packet and posts
  the frame on the completion ring (comp) when it is done with it. Nobody
  receives here (the simulator, wired to itself, has no frame lent to
  receive into and drops them): this lesson watches only the sending side.]])
local did = run_nic()
local o = L.conserved(e)
L.eq(o.free, 4, "free frames")
if stepping then
  L.eq(did.tx, 4, "packets sent")
  L.result("%d packets sent, %d completions posted - and still only 4 frames free: "
    .. "the sent ones wait on comp (owner comp %d) until the program reaps them.", did.tx, did.complete, o.comp)
else
  L.result("sent by the %s driver - and still only 4 frames free: the other 4 "
    .. "(tx %d, nic %d, comp %d, rx %d) are the program's again only when it "
    .. "reaps them.", kind, o.tx, o.nic, o.comp, o.rx)
end

L.part("without e:complete() the pool runs dry", [[
  The program sends four more and never reaps its completions. Every frame
  is now on the tx or comp ring or inside the NIC: none is free, so the
  ninth packet has no frame to be built in. Look at the owners: free 0.]])
for i = 5, 8 do send(i) end
run_nic()
local ok, err = pcall(lab.packet.udp, { dst = "198.18.0.2:9999", payload = "one more", region = r })
L.check(not ok, "a ninth packet cannot be built: " .. tostring(err))
L.eq(e:owners().free, 0, "free frames")
L.result("the ninth packet was refused: %s", (tostring(err):gsub("^[^:\n]*:%d+: ", "")))

L.part("reap the completions: every frame comes home", [[
  e:complete() reads the completion ring and gives each frame back to the
  program. A real AF_XDP sender does this every time round its loop, before
  it needs a frame. Look at comp: empty, and free back to 8.]])
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
L.result("%d frames back%s: all 8 free again, ready for the next burst.", n + #looped,
  #looped > 0 and string.format(" (%d completed, %d came back on rx)", n, #looped) or " from comp")
L.done("3")
