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
-- off the screen: ctest fails this case on any "EAL:" in its output); an
-- iface= that is not in this namespace is refused before DPDK probes, with
-- where to run instead.
function cases.driver_said()
  T.raises({ "net_memif0,role=bogus", "its driver said", "Unknown role: bogus." },
    lab.open, "dpdk", { vdev = "net_memif0,role=bogus" })
  T.raises({ "net_af_packet0,iface=rlnosuch0", "no interface named rlnosuch0 in this network namespace",
      "ringlab --netns" },
    lab.open, "dpdk", { vdev = "net_af_packet0,iface=rlnosuch0" })
  local e <close> = lab.open("dpdk", { vdev = "net_null0" }) -- the next open works
end

-- e:info().caps is the port's: net_null has no multi-segment TX, so no
-- sg, extbuf or gso, and lab.segment says so in the engine's words before
-- anything is sent; net_ring has them all, and zero copy, and peer=.
function cases.port_caps()
  local e <close> = lab.open("dpdk", { vdev = "net_null0", log = "emergency" })
  e:region { frames = 64, frame_size = 2048, headroom = 256 }
  local i = e:info()
  T.eq(i.caps.sg, false, "net_null: sg")
  T.eq(i.caps.extbuf, false, "net_null: extbuf")
  T.eq(i.caps.gso, false, "net_null: gso")
  T.eq(i.caps.gro, true, "net_null: gro (receive side)")
  T.eq(i.caps.zerocopy, true, "net_null: nothing is copied")
  T.check(i.caps_why:find("MULTI_SEGS", 1, true), "caps_why names the missing offload")
  T.raises({ "strategy extbuf", "MULTI_SEGS" }, lab.segment, string.rep("x", 5000),
    { strategy = "extbuf", engine = e, dst = "198.18.0.2:9" })
  T.owners(e, {}, "nothing lost")
  local ring <close> = lab.open("dpdk", { vdev = "net_ring0", log = "emergency" })
  i = ring:info()
  for _, c in ipairs { "sg", "extbuf", "gso", "gro", "zerocopy", "peer" } do
    T.eq(i.caps[c], true, "net_ring: " .. c)
  end
  T.check(not i.caps_why:find("MULTI_SEGS", 1, true), "net_ring lacks nothing: " .. i.caps_why)
  T.check(i.caps_why:find("net_ring alone is wired to itself", 1, true), "and says it loops: " .. i.caps_why)
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
