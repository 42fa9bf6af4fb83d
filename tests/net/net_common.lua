-- net_common.lua - checks the network test scripts share (dofile'd).
local M = {}

local OWNERS = { "app", "fill", "nic", "rx", "tx", "comp" }

-- Owners sum to the frames: no frame lost or counted twice.
function M.conserved(e, when)
	local o, sum = e:owners(), 0
	for _, k in ipairs(OWNERS) do sum = sum + o[k] end
	assert(sum == o.frames, string.format("owners sum to %d, not %d, %s", sum, o.frames, when))
	return o
end

-- One line of ring indices and one of owners, for the log.
function M.show(e, when)
	local rg, o = e:rings(), e:owners()
	local parts = {}
	for _, n in ipairs({ "fill", "rx", "tx", "comp" }) do
		parts[#parts + 1] = string.format("%s %d/%d", n, rg[n].prod, rg[n].cons)
	end
	print(string.format("%-22s rings prod/cons: %s", when, table.concat(parts, "  ")))
	print(string.format("%-22s owners: app=%d (held %d) fill=%d nic=%d rx=%d tx=%d comp=%d", "",
		o.app, o.app - o.free, o.fill, o.nic, o.rx, o.tx, o.comp))
end

-- Conserved, and one line of owners for the log.
function M.owners(e, when)
	local o = M.conserved(e, when)
	print(string.format("owners %-20s app=%d fill=%d nic=%d rx=%d tx=%d comp=%d",
		when, o.app, o.fill, o.nic, o.rx, o.tx, o.comp))
	return o
end

-- Datagram seq of the UDP echo tests: n bytes, the pattern udp_echo_peer.py
-- and afxdp_drive.c make too.
function M.echo_pattern(seq, n)
	local t = {}
	for j = 0, n - 1 do
		t[#t + 1] = string.char((((j * 131) + seq * 7) ~ (j >> 8)) & 0xff)
	end
	return table.concat(t)
end

-- true when pkt is the echo of datagram seq (from peer_port to lab_port),
-- every byte checked; false when it is some other packet; raises when the
-- echo is wrong, saying where.
function M.check_echo(pkt, seq, size, lab_port, peer_port)
	local d = pkt:dissect()
	if not (d.udp and d.udp.src_port == peer_port and d.udp.dst_port == lab_port) then
		return false
	end
	assert(d.ip.csum_ok and d.udp.csum_ok ~= false, "echo " .. seq .. ": bad checksum")
	local got, want = pkt:payload(), M.echo_pattern(seq, size)
	if got ~= want then
		local at = 1
		while at <= #want and got:byte(at) == want:byte(at) do
			at = at + 1
		end
		error(string.format("echo %d: %d bytes, want %d; first difference at byte %d",
			seq, #got, #want, at - 1))
	end
	local segs = pkt:segments()
	print(string.format("received echo %d: %d bytes in %d frame(s) at region address %d, "
		.. "every byte equal", seq, #got, #segs, segs[1].addr))
	return true
end

-- The 64 KiB body the POST tests send, and its sha256 (by sha256sum).
function M.post_body()
	local n, t = 65536, {}
	for i = 0, n // 16 - 1 do t[#t + 1] = string.format("%015x\n", i * 16) end
	local body = table.concat(t)
	local f = io.popen("printf '%s' '" .. body .. "' | sha256sum")
	local sha = f:read("a"):match("^(%x+)")
	f:close()
	return body, sha
end

-- POST body to the peer's http_sha_server.py with one strategy; the kernel's
-- server must answer 200 with our sha256. A strategy that sends where the
-- data lies (born, sg, gso) gets it born in the region first. Prints one
-- line; returns the result of http.post.
function M.post(http, e, strategy, body, sha)
	local payload = body
	if strategy == "born" or strategy == "sg" or strategy == "gso" then
		payload = e:region():alloc(#body)
		payload:write(0, body)
	end
	local res = http.post(e, "http://198.18.0.2:8080/upload/" .. strategy, payload,
		{ strategy = strategy })
	local answer = type(res.body) == "string" and res.body or res.body:string()
	if res.close then res.close() end
	local digest, len = answer:match("^(%x+) (%d+)")
	local l = res.ledger
	print(string.format("%-6s HTTP %d: the kernel's server got %s bytes, sha256 %s; "
		.. "%d packets, copied %d, referenced %d, headers %d, retransmits %d", strategy,
		res.status, len, digest, res.packets, l.copied, l.referenced, l.headers,
		res.stats.retransmits))
	assert(res.status == 200, "status " .. tostring(res.status))
	assert(digest == sha, strategy .. ": sha256 " .. tostring(digest) .. ", want " .. sha)
	if type(payload) ~= "string" then payload:free() end
	return res
end

return M
