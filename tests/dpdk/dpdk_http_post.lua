--[[
dpdk_http_post.lua - the lab's TCP and HTTP over the DPDK engine, unchanged:
a 64 KiB POST from the lab to the Linux kernel in the peer namespace, with
each strategy (run by dpdk_net.sh, case http_post).

  ringlab --netns NAME-lab dpdk_http_post.lua VDEV IFNAME

The port is a DPDK vdev on the testbed's veth (net_af_packet: it offers
mbuf chains, so sg, extbuf and gso work). ringlab.tcp finds the lab's MAC
from IFNAME, as on AF_XDP: the PMD sends and receives as that interface.
The peer's http_sha_server.py answers with the sha256 of the body; it must
equal ours. Ledger of each body's send: copy copies 65536 bytes; sg,
extbuf and gso copy none and reference 65536; gso's headers are also
copied by the engine, once per wire segment. Owners are conserved.
--]]
local tcp = require "ringlab.tcp"
local http = require "ringlab.http"
local common = dofile(arg[0]:match("^(.*/)") .. "../net/net_common.lua")

local vdev, ifname = ...
local FRAMES = 2048
local e = lab.open("dpdk", { vdev = vdev, log = "error" })
e:region { frames = FRAMES, frame_size = 4096, headroom = 256 }
tcp.stack(e, { ip = "198.18.0.1", ifname = ifname })

local N = 65536
local body, sha = common.post_body()
local copy_row
for _, s in ipairs({ "copy", "sg", "extbuf", "gso" }) do
	local res = common.post(http, e, s, body, sha)
	local l = res.ledger
	assert(l.copied == (s == "copy" and N or 0), s .. ": copied " .. l.copied)
	assert(l.referenced == (s == "copy" and 0 or N), s .. ": referenced " .. l.referenced)
	if s == "copy" then copy_row = { headers = l.headers, packets = res.packets } end
	if s == "gso" then -- the engine copied a header per wire segment, the lab wrote one per packet
		local hdr = copy_row.headers // copy_row.packets
		assert(l.headers == copy_row.headers + res.packets * hdr,
			"gso: headers " .. l.headers .. ", want " .. copy_row.headers + res.packets * hdr)
	end
	common.conserved(e, "after " .. s)
end
tcp.wait(function() return e:owners().nic == 0 end, 5, "frames still in the NIC")
common.conserved(e, "at the end")
local st = e:stats()
print(string.format("engine ledger: copied %d, referenced %d, headers %d, driver_copied %d "
	.. "(%s), kernel_copied %d", st.ledger.copied, st.ledger.referenced, st.ledger.headers,
	st.ledger.driver_copied, st.ledger.driver_how, st.ledger.kernel_copied))
e:close()
print("PASS")
