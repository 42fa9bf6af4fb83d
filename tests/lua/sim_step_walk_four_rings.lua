-- Step mode, one packet on a loopback simulator: after every call and
-- every hardware step, the four rings' indices and the owners are exactly
-- what the model says.
local T = require "common"

local e = lab.open("sim", { step = true })
local r = e:region { frames = 64 }
for _, ring in ipairs({ "fill", "comp", "rx", "tx" }) do T.ring(e, ring, 0, 0, "fresh") end
T.owners(e, { free = 64 }, "fresh")

T.eq(e:fill(4), 4, "fill(4)")
T.ring(e, "fill", 4, 0, "after fill")
T.owners(e, { fill = 4, free = 60 }, "after fill")

local p = lab.packet.udp { dst = "198.18.0.2:9999", payload = "step by step", region = r }
T.owners(e, { fill = 4, free = 59 }, "after build")
T.eq(e:tx(p), 1, "tx")
T.ring(e, "tx", 1, 0, "after tx")
T.owners(e, { fill = 4, tx = 1, free = 59 }, "after tx")

e:kick() -- step mode: the NIC does not move on a kick
T.ring(e, "tx", 1, 0, "after kick")

local s = e:step()
T.eq(s.kind, "tx", "step 1 kind")
T.ring(e, "tx", 1, 1, "step 1")
T.ring(e, "comp", 0, 0, "step 1")
T.owners(e, { fill = 4, nic = 1, free = 59 }, "step 1")
T.check(s.what:find("TX"), "step 1 says what moved: " .. s.what)

s = e:step()
T.eq(s.kind, "complete", "step 2 kind (complete before rx)")
T.ring(e, "comp", 1, 0, "step 2")
T.owners(e, { fill = 4, comp = 1, free = 59 }, "step 2")

s = e:step()
T.eq(s.kind, "rx", "step 3 kind")
T.ring(e, "fill", 4, 1, "step 3")
T.ring(e, "rx", 1, 0, "step 3")
T.owners(e, { fill = 3, comp = 1, rx = 1, free = 59 }, "step 3")

s = e:step()
T.eq(s.kind, "idle", "step 4 kind")

T.eq(e:complete(), 1, "complete")
T.ring(e, "comp", 1, 1, "after complete")
T.owners(e, { fill = 3, rx = 1, free = 60 }, "after complete")

local pkts = e:rx()
T.eq(#pkts, 1, "rx packets")
T.ring(e, "rx", 1, 1, "after rx")
T.owners(e, { fill = 3, free = 60 }, "after rx (the packet holds its frame)")
T.eq(pkts[1]:payload(), "step by step", "payload")
T.eq(tostring(pkts[1]), "udp 198.18.0.1:9000 > 198.18.0.2:9999 len 54 (1 segment)", "tostring")
pkts[1]:release()
T.owners(e, { fill = 3, free = 61 }, "after release")
T.done("sim_step_walk_four_rings")
