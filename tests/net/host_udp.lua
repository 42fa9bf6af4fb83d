--[[
host_udp.lua - the lab finds the peer's MAC by ARP and sends it UDP.

  ringlab --netns NAME-lab host_udp.lua IFNAME PEER_MAC

With no static neighbour entries, h:resolve() sends an ARP request and
waits for the peer kernel's reply; the MAC must be the peer's real one.
Then one UDP datagram goes to 198.18.0.2:9999, where a kernel socket
(started by host_case.sh) checks it. Rings and owners are printed.
--]]
local host = require "ringlab.host"
local common = dofile(arg[0]:match("^(.*/)") .. "net_common.lua")

local ifname, peer_mac = ...
local e = lab.open("afxdp", { ifname = ifname, steer = "all", mode = "copy" })
e:region { frames = 256, frame_size = 2048, headroom = 256 }
local h = host.new(e, { ip = "198.18.0.1", ifname = ifname, log = print })

local mac, why = h:resolve("198.18.0.2", 3)
assert(mac, why)
print("resolved 198.18.0.2 is-at " .. mac)
assert(mac == peer_mac, "ARP said " .. mac .. ", the peer's veth is " .. peer_mac)
common.conserved(e, "after resolve")

local p = lab.packet.udp { src = "198.18.0.1:9000", dst = "198.18.0.2:9999",
	src_mac = h.mac, dst_mac = mac, payload = "hello over ARP", region = e:region() }
assert(h:send(p), "the tx ring was full")
for _ = 1, 200 do
	h:poll()
	if e:rings().comp.cons == e:rings().tx.prod then break end
	lab.sleep(0.005)
end
common.show(e, "after send")
common.conserved(e, "after send")
e:close()
print("PASS")
