-- default_engine.lua - lab.packet.*, lab.segment and lab.batch without
-- region= build in the one open engine that has a region; with several
-- they say which to give; engine= names one; nothing is taken on an error.
-- On the simulator (no kernel interface) the made-up MACs stay.
local T = require "common"

T.raises({ "no open engine has a region", "region" }, lab.packet.udp, { dst = "198.18.0.2:9", payload = "x" })

local a = lab.open("sim")
local bare = lab.open("sim") -- no region: does not count
local ra = a:region { frames = 64 }

-- one engine with a region: it is used, and the packet is that engine's
local p = lab.packet.udp { dst = "198.18.0.2:9999", payload = "to a" }
T.eq(a:tx(p), 1, "the packet went on a's ring")
a:kick()
T.eq(a:complete(), 1, "a completed it")
local segs = lab.segment("segment to a", { dst = "198.18.0.2:8080" })
T.eq(segs:send(a), 1, "lab.segment built in a")
local bt = lab.batch(8)
T.eq(bt:udp { dst = "198.18.0.2:9", payload = "b" }, 8, "lab.batch(n) filled from a's region")
T.eq(bt:tx(), 8, "batch queued on a")
a:kick()
T.eq(a:complete(), 8, "batch completed")
T.conserved(a, "a")

-- the made-up addresses on the simulator (it is on no interface)
local q = lab.packet.udp { dst = "198.18.0.2:9999", payload = "mac?" }
local dq = q:dissect()
T.eq(dq.eth.src, "02:00:00:00:00:01", "sim: made-up source MAC")
T.eq(dq.eth.dst, "02:00:00:00:00:02", "sim: made-up destination MAC")
T.eq(dq.ip.src, "198.18.0.1", "sim: the lab's address")
q:release()
T.eq(a:info().ifname, nil, "sim is on no interface")

-- two engines with a region: say which
local b = lab.open("sim")
local rb = b:region { frames = 32 }
local free_a, free_b = a:owners().free, b:owners().free
local err = T.raises({ "udp:", "2 engines have a region", "sim#", "region=r or engine=e" },
  lab.packet.udp, { dst = "198.18.0.2:9", payload = "x" })
T.check(not err:find("\n"), "one line: " .. err)
T.raises({ "segment:", "2 engines have a region" }, lab.segment, "x", { dst = "198.18.0.2:9" })
T.raises({ "batch:", "2 engines have a region", "lab.batch(e, 64)" }, lab.batch, 4)
T.eq(a:owners().free, free_a, "no frame taken from a")
T.eq(b:owners().free, free_b, "no frame taken from b")

-- engine= picks one; engine= and region= must agree
local pb = lab.packet.icmp { dst = "198.18.0.2", engine = b }
T.eq(b:tx(pb), 1, "icmp built in b by engine=")
b:kick()
b:complete()
T.raises({ "engine= is not the engine of the region" }, lab.packet.udp,
  { dst = "198.18.0.2:9", region = ra, engine = b })

-- the prompt's current engine wins when it has a region
package.loaded["ringlab.cmdkit"] = package.loaded["ringlab.cmdkit"] or require("ringlab.cmdkit")
local C = package.loaded["ringlab.cmdkit"]
local saved = C.cur
C.cur = b
local pc = lab.packet.udp { dst = "198.18.0.2:9", payload = "current" }
T.eq(b:tx(pc), 1, "the prompt's current engine (b) was used")
b:kick()
b:complete()
C.cur = bare -- current without a region: back to 'which one'
T.raises({ "2 engines have a region" }, lab.packet.udp, { dst = "198.18.0.2:9" })
C.cur = saved
bare:close()

T.conserved(a, "a")
T.conserved(b, "b")
T.eq(rb ~= nil and ra ~= nil, true, "regions kept")
T.done("default_engine")
