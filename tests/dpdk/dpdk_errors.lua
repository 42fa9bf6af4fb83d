-- DPDK engine errors from Lua: each says what was wrong and what to do.
-- arg[1] picks the case.
local T = require "common"

local cases = {}

function cases.unknown_vdev()
  T.raises({ "net_nosuch0", "no driver is called that" }, lab.open, "dpdk",
    { vdev = "net_nosuch0", log = "emergency" })
  local e <close> = lab.open("dpdk", { vdev = "net_ring0", log = "emergency" })
end

-- A driver's own complaint reaches the message (and DPDK's log lines stay
-- off the screen: ctest fails this case on any "EAL:" in its output).
function cases.driver_said()
  T.raises({ "net_af_packet0,iface=rlnosuch0", "its driver said", "No such device" },
    lab.open, "dpdk", { vdev = "net_af_packet0,iface=rlnosuch0" })
  local e <close> = lab.open("dpdk", { vdev = "net_null0" }) -- the next open works
end

function cases.chain_without_multi_segs()
  local e <close> = lab.open("dpdk", { vdev = "net_null0", log = "emergency" })
  local r = e:region { frames = 16, frame_size = 2048, headroom = 256 }
  local p = lab.packet.udp { src = "198.18.0.1:1", dst = "198.18.0.2:2", payload = r:alloc(3000) }
  T.raises({ "RTE_ETH_TX_OFFLOAD_MULTI_SEGS" }, e.tx, e, p)
  T.owners(e, {}, "nothing lost")
end

function cases.unknown_option()
  T.raises({ "no option", "vdev=" }, lab.open, "dpdk", { vdve = "net_ring0" })
end

local f = cases[arg[1]]
T.check(f, "no case " .. tostring(arg[1]))
f()
print("ok")
