--[[
afxdp_echo.lua - the network echo test, through the real ringlab program.

Run inside the lab namespace of a testbed (net_case.sh does this):

  ringlab --netns NAME-lab afxdp_echo.lua IFNAME PEER_MAC SIZE COUNT [key=value...]

Sends COUNT UDP datagrams of SIZE bytes from 198.18.0.1:9000 to the kernel
UDP echo server in the peer namespace (udp_echo_peer.py, which checks every
byte), receives each echo through the AF_XDP engine, and compares every
byte again. Owners must be conserved after every step. The key=value pairs
are engine options, plus frame_size= for the region.
--]]

local ifname, peer_mac, size, count = ...
size, count = tonumber(size), tonumber(count)
local FRAMES, LAB_PORT, PEER_PORT = 512, 9000, 9999

local opts, frame_size = { ifname = ifname }, 2048
for i = 5, select("#", ...) do
	local k, v = select(i, ...):match("^([%w_]+)=(.*)$")
	assert(k, "option " .. select(i, ...) .. " is not key=value")
	if k == "frame_size" then
		frame_size = tonumber(v)
	else
		opts[k] = v
	end
end

local common = dofile(arg[0]:match("^(.*/)") .. "net_common.lua")

-- The MAC through netlink (`ip`): /sys may still show another namespace.
local function my_mac()
	local f = assert(io.popen("ip -o link show dev " .. ifname))
	local mac = f:read("a"):match("link/ether (%S+)")
	f:close()
	return assert(mac, "no mac for " .. ifname)
end

local e = lab.open("afxdp", opts)
local r = e:region { frames = FRAMES, frame_size = frame_size, headroom = 256 }

local function owners(when)
	assert(common.owners(e, when).frames == FRAMES, "the region has the frames asked for")
end

local function send(seq, mac)
	local p = lab.packet.udp {
		src = "198.18.0.1:" .. LAB_PORT, dst = "198.18.0.2:" .. PEER_PORT,
		payload = common.echo_pattern(seq, size), region = r, src_mac = mac, dst_mac = peer_mac,
	}
	local frames, done = #p:segments(), 0
	owners("built")
	e:tx(p)
	owners("queued")
	for _ = 1, 2000 do
		e:kick()
		done = done + e:complete()
		if done >= frames then
			break
		end
	end
	assert(done == frames, string.format("only %d of %d frames completed", done, frames))
	print(string.format("sent %d: %d bytes in %d frame(s)", seq, size, frames))
	owners("completed")
end

local function check(pkt, seq)
	return common.check_echo(pkt, seq, size, LAB_PORT, PEER_PORT)
end

local function receive(seq)
	for try = 1, 3000 do
		local got, frames = false, 0
		for _, pkt in ipairs(e:rx(64)) do
			got = check(pkt, seq) or got
			frames = frames + #pkt:segments()
			pkt:release()
		end
		if frames > 0 then
			owners("received")
			e:fill(frames)
		end
		if got then
			return
		end
		if try > 100 then
			os.execute("sleep 0.001")
		end
	end
	error("no echo " .. seq .. " within 3 s")
end

local mac = my_mac()
e:fill(FRAMES // 2)
owners("filled")
for seq = 0, count - 1 do
	send(seq, mac)
	receive(seq)
end
local s = e:stats()
print(string.format("stats mode=%s (%s) tx_pkts=%d rx_pkts=%d drops=%d kicks=%d",
	s.mode, s.mode_why, s.tx_pkts, s.rx_pkts, s.drops, s.kicks))
-- what this socket can do, as bound (e:info().caps, not the engine's)
local info = e:info()
assert(info.caps.sg == (opts.sg == "true"), "caps.sg says whether it was opened with sg=true")
assert(opts.sg == "true" or info.caps_why:find("sg=true", 1, true), "caps_why names sg=true")
assert(info.caps.zerocopy == (s.mode == "zerocopy"), "caps.zerocopy says how it is bound")
assert(s.mode == "zerocopy" or info.caps_why:find("copy mode", 1, true), "caps_why says copy mode")
print(string.format("caps sg=%s zerocopy=%s: %s", tostring(info.caps.sg),
	tostring(info.caps.zerocopy), info.caps_why))
owners("at the end")
e:close()
local f = assert(io.popen("ip -o link show dev " .. ifname))
local line = f:read("a")
f:close()
assert(not line:find("prog/xdp"), "XDP program left on " .. ifname .. " after close")
print("closed: no XDP program on " .. ifname)
print("PASS")
