--[[
host_ping.lua - ringlab.host answers ARP and ping on a real AF_XDP socket.

  ringlab --netns NAME-lab host_ping.lua IFNAME READY_FILE SECONDS

Opens afxdp on IFNAME with steer=all (so ARP and ICMP reach the socket,
not the kernel), starts a host at 198.18.0.1 and serves until 3 echo
requests are answered or SECONDS pass. host_case.sh pings from the peer,
with no static neighbour entries, so the peer must ARP first. Prints the
host's counters and checks that every frame is accounted for.
--]]
local host = require "ringlab.host"
local common = dofile(arg[0]:match("^(.*/)") .. "net_common.lua")

local ifname, ready, seconds = ...
local e = lab.open("afxdp", { ifname = ifname, steer = "all", mode = "copy" })
e:region { frames = 256, frame_size = 2048, headroom = 256 }
local h = host.new(e, { ip = "198.18.0.1", ifname = ifname, log = print })
common.conserved(e, "after host.new")
io.open(ready, "w"):close()

local stop = lab.now() + tonumber(seconds)
while h.counts.echo_replies < 3 and lab.now() < stop do
	if h:poll() == 0 then lab.sleep(0.001) end
end
for _ = 1, 20 do h:poll() lab.sleep(0.005) end -- let the last reply complete
print(tostring(h))
common.conserved(e, "after serving")
assert(h.counts.arp_replies >= 1, "the host answered no ARP request - did the peer ARP?")
assert(h.counts.echo_replies == 3, "answered " .. h.counts.echo_replies .. " pings, not 3")
assert(h:arp_table()["198.18.0.2"], "the host did not learn the peer from its ARP request")
e:close()
print("PASS")
