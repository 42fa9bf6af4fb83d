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

-- Issue 11 s.6: options checked before DPDK sees them, one line each, and
-- the EAL starts afterwards (a bad log= or lcores= is not fatal to it:
-- ctest fails these cases on any "EAL:" in their output).
function cases.log_lcores_checked()
  T.raises({ 'log="bogus" is not a DPDK log level', "emergency", "debug" },
    lab.open, "dpdk", { vdev = "net_null0", log = "bogus" })
  T.raises({ 'log=":debug"', "not a DPDK log level" }, lab.open, "dpdk", { vdev = "net_null0", log = ":debug" })
  T.raises({ 'lcores="99": CPU 99 is not one this process may run on', 'lcores="0"' },
    lab.open, "dpdk", { vdev = "net_null0", lcores = 99, log = "emergency" })
  for _, l in ipairs { "0-", "1-0", "0@1", "", "x" } do
    T.raises({ 'lcores="' .. l .. '"', "give CPU numbers" }, lab.open, "dpdk",
      { vdev = "net_null0", lcores = l, log = "emergency" })
  end
  -- none of these started the EAL: it starts now, with good ones
  local e <close> = lab.open("dpdk", { vdev = "net_null0", lcores = "0", log = "emergency" })
  T.check(tostring(e):find("dpdk", 1, true), "the EAL started after the refused options")
end

-- net_null reads size=abc as 0, which failed much later as the TX queue's
-- memory; now refused at open, naming the argument.
function cases.null_size_named()
  for _, v in ipairs { "abc", "0", "" } do
    T.raises({ 'vdev "net_null0,size=' .. v .. '"', "size=" .. v .. " is not a packet size", "size=64" },
      lab.open, "dpdk", { vdev = "net_null0,size=" .. v, log = "emergency" })
  end
  T.raises({ "copy=yes is not a number" }, lab.open, "dpdk", { vdev = "net_null0,copy=yes", log = "emergency" })
  local e <close> = lab.open("dpdk", { vdev = "net_null0,size=128", log = "emergency" })
  e:region { frames = 1024 }
  T.conserved(e, "net_null size=128")
end

-- A peer= engine shares its peer's region: asking it for another one is
-- refused (it used to hand back the shared one silently); e:region() and
-- the same parameters still give it.
function cases.peer_region_differs()
  local a <close> = lab.open("dpdk", { vdev = "net_ring0", log = "emergency" })
  local r = a:region { frames = 64, frame_size = 2048, headroom = 256 }
  local b <close> = lab.open("dpdk", { peer = a, log = "emergency" })
  T.raises({ "shares its peer's region (64 frames of 2048 bytes", "e:region()" },
    b.region, b, { frames = 8, frame_size = 4096 })
  T.raises({ "shares its peer's region" }, b.region, b, { frame_size = 4096 })
  T.raises({ "shares its peer's region" }, b.region, b, { headroom = 128 })
  local rb = b:region { frames = 64 }
  T.eq(rb.frames, 64, "the shared region's frames")
  T.eq(rb.frame_size, r.frame_size, "the shared region's frame_size")
  T.conserved(a, "a")
  T.conserved(b, "b")
end

local f = cases[arg[1]]
T.check(f, "no case " .. tostring(arg[1]))
f()
print("ok")
