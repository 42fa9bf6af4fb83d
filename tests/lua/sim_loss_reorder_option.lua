-- sim_loss_reorder_option.lua - the simulator's deterministic wire faults:
-- loss=N loses every Nth packet sent, reorder=N delivers every Nth packet
-- after the next one (or as soon as the receiver finds the wire empty).
local T = require "common"

local a = lab.open("sim", { loss = 4, reorder = 3 })
local b = lab.open("sim", { peer = a })
a:region { frames = 256 }
b:region { frames = 256 }
b:fill(128)
local function send(i)
  a:tx(lab.packet.udp { dst = "198.18.0.2:9", payload = "p" .. i, region = a:region() })
end
local function got()
  local out = {}
  for _, p in ipairs(b:rx(64)) do out[#out + 1] = p:payload() p:release() end
  return table.concat(out, " ")
end
for i = 1, 10 do send(i) end
a:kick()
-- 3 held back (arrives after 5: 4 is lost), 4 and 8 lost, 6 after 7, 9 after 10
T.eq(got(), "p1 p2 p5 p3 p7 p6 p10 p9", "arrival order")
local st = a:stats()
T.eq(st.wire_lost, 2, "wire_lost")
T.eq(st.wire_reordered, 3, "wire_reordered")
T.eq(st.drops, 2, "drops include the lost")
-- A held packet with no successor arrives when the receiver looks.
for i = 11, 12 do send(i) end -- 12 is the 12th: held (and not lost: 12 % 4 == 0 is lost first)
a:kick()
T.eq(got(), "p11", "12th lost")
for i = 13, 15 do send(i) end -- 15th held back, nothing after it
a:kick()
T.eq(got(), "p13 p14 p15", "the late packet arrives when the wire is otherwise empty")
T.conserved(a, "a")
T.conserved(b, "b")
T.raises({ "loss=x" }, lab.open, "sim", { loss = "x" })
T.done("sim_loss_reorder_option")
