--[[
tcp_post.lua - a 64 KiB HTTP POST from the lab to the Linux kernel in the
peer namespace, with each strategy (run by tcp_case.sh).

  ringlab --netns NAME-lab tcp_post.lua IFNAME [PCAP_FILE]

The peer's http_sha_server.py answers with the sha256 of the body; it must
equal ours. The ledger of each body's send must hold: copy and reuse copy
65536 bytes, born and sg copy none and reference 65536.
--]]
local tcp = require "ringlab.tcp"
local http = require "ringlab.http"
local common = dofile(arg[0]:match("^(.*/)") .. "net_common.lua")

local ifname, pcap = ...
local e = lab.open("afxdp", { ifname = ifname, steer = "all", mode = "copy", sg = true })
e:region { frames = 4096, frame_size = 2048, headroom = 256 }
tcp.stack(e, { ip = "198.18.0.1", ifname = ifname })
local cap = pcap and pcap ~= "" and lab.pcap(e, pcap)

local N = 65536
local body, sha = common.post_body()
local expect = {
	copy = { copied = N, referenced = 0 }, reuse = { copied = N, referenced = 0 },
	born = { copied = 0, referenced = N }, sg = { copied = 0, referenced = N },
}
for _, s in ipairs({ "copy", "reuse", "born", "sg" }) do
	local l = common.post(http, e, s, body, sha).ledger
	assert(l.copied == expect[s].copied, s .. ": copied " .. l.copied)
	assert(l.referenced == expect[s].referenced, s .. ": referenced " .. l.referenced)
	common.conserved(e, "after " .. s)
end
tcp.wait(function() return e:owners().nic == 0 end, 5, "frames still in the NIC")
common.conserved(e, "at the end")
if cap then cap:close() end
local st = e:stats()
print(string.format("engine ledger: copied %d, referenced %d, headers %d, kernel_copied %d (%s)",
	st.ledger.copied, st.ledger.referenced, st.ledger.headers, st.ledger.kernel_copied,
	st.ledger.kernel_how))
e:close()
print("PASS")
