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

local ifname, pcap = ...
local e = lab.open("afxdp", { ifname = ifname, steer = "all", mode = "copy", sg = true })
e:region { frames = 4096, frame_size = 2048, headroom = 256 }
tcp.stack(e, { ip = "198.18.0.1", ifname = ifname })
local cap = pcap and pcap ~= "" and lab.pcap(e, pcap)

local N = 65536
local t = {}
for i = 0, N // 16 - 1 do t[#t + 1] = string.format("%015x\n", i * 16) end
local body = table.concat(t)
local f = io.popen("printf '%s' '" .. body .. "' | sha256sum")
local want = f:read("a"):match("^(%x+)")
f:close()

local expect = {
	copy = { copied = N, referenced = 0 }, reuse = { copied = N, referenced = 0 },
	born = { copied = 0, referenced = N }, sg = { copied = 0, referenced = N },
}
for _, s in ipairs({ "copy", "reuse", "born", "sg" }) do
	local payload = body
	if s == "born" or s == "sg" then
		payload = e:region():alloc(N)
		payload:write(0, body)
	end
	local res = http.post(e, "http://198.18.0.2:8080/upload/" .. s, payload, { strategy = s })
	local answer = type(res.body) == "string" and res.body or res.body:string()
	if res.close then res.close() end
	local digest, len = answer:match("^(%x+) (%d+)")
	print(string.format("%-5s HTTP %d: the kernel's server got %s bytes, sha256 %s; "
		.. "%d packets, copied %d, referenced %d, retransmits %d", s, res.status, len, digest,
		res.packets, res.ledger.copied, res.ledger.referenced, res.stats.retransmits))
	assert(res.status == 200, "status " .. tostring(res.status))
	assert(digest == want, s .. ": sha256 " .. tostring(digest) .. ", want " .. want)
	assert(res.ledger.copied == expect[s].copied, s .. ": copied " .. res.ledger.copied)
	assert(res.ledger.referenced == expect[s].referenced, s .. ": referenced " .. res.ledger.referenced)
	if type(payload) ~= "string" then payload:free() end
end
if cap then cap:close() end
local st = e:stats()
print(string.format("engine ledger: copied %d, referenced %d, headers %d, kernel_copied %d (%s)",
	st.ledger.copied, st.ledger.referenced, st.ledger.headers, st.ledger.kernel_copied,
	st.ledger.kernel_how))
e:close()
print("PASS")
