--[[
walk_one_packet.lua - one frame through the four real AF_XDP rings.

  ringlab --netns NAME-lab walk_one_packet.lua IFNAME PEER_NS PEER_MAC

Receive: fill 1 -> the peer's kernel sends one UDP datagram to port 9000
-> it shows up on rx -> rx() hands it to us -> release. Send: build ->
tx -> kick -> complete. After every step the kernel's real ring indices
(e:rings(), read from the mmapped rings) and the owner of every frame
(e:owners()) are printed and checked against what must have happened,
and the owners must sum to the frames.
--]]
local common = dofile(arg[0]:match("^(.*/)") .. "net_common.lua")
local ifname, peer_ns, peer_mac = ...
local FRAMES = 64

local e = lab.open("afxdp", { ifname = ifname, steer = "9000", mode = "copy" })
e:region { frames = FRAMES, frame_size = 2048, headroom = 256 }

-- want = {fill={prod,cons}, rx=..., tx=..., comp=..., app=, held=, fill_o=, rx_o=, tx_o=, comp_o=}
local function expect(when, want)
	common.show(e, when)
	local rg, o = e:rings(), common.conserved(e, when)
	for _, n in ipairs({ "fill", "rx", "tx", "comp" }) do
		local w = want[n] or { 0, 0 }
		assert(rg[n].prod == w[1] and rg[n].cons == w[2], string.format(
			"%s: %s ring prod/cons %d/%d, want %d/%d", when, n, rg[n].prod, rg[n].cons, w[1], w[2]))
	end
	local owners = { app = want.app or FRAMES, held = want.held or 0, fill = want.fill_o or 0,
		nic = 0, rx = want.rx_o or 0, tx = want.tx_o or 0, comp = want.comp_o or 0 }
	local got = { app = o.app, held = o.app - o.free, fill = o.fill, nic = o.nic, rx = o.rx,
		tx = o.tx, comp = o.comp }
	for k, v in pairs(owners) do
		assert(got[k] == v, string.format("%s: owner %s = %d, want %d", when, k, got[k], v))
	end
end

-- Wait (up to 2 s) until the kernel has produced into rx.
local function wait_rx()
	for _ = 1, 400 do
		if e:rings().rx.prod > 0 then return end
		lab.sleep(0.005)
	end
	error("no packet on the rx ring within 2 s")
end

expect("opened", {})
assert(e:fill(1) == 1)
expect("fill 1", { fill = { 1, 0 }, app = FRAMES - 1, fill_o = 1 })

assert(os.execute(string.format("ip netns exec %s python3 -c \"import socket; "
	.. "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'one datagram', "
	.. "('198.18.0.1', 9000))\"", peer_ns)), "the peer could not send")
wait_rx()
expect("peer sent 1", { fill = { 1, 1 }, rx = { 1, 0 }, app = FRAMES - 1, rx_o = 1 })

local pkts = e:rx(8)
assert(#pkts == 1, "rx gave " .. #pkts .. " packets, want 1")
local d = pkts[1]:dissect()
print("received: " .. d.summary)
assert(d.udp and d.udp.dst_port == 9000 and pkts[1]:payload() == "one datagram")
expect("rx", { fill = { 1, 1 }, rx = { 1, 1 }, held = 1 })

pkts[1]:release()
expect("release", { fill = { 1, 1 }, rx = { 1, 1 } })

local mac = require("ringlab.host").mac_of(ifname)
local p = lab.packet.udp { src = "198.18.0.1:9000", dst = "198.18.0.2:9999", src_mac = mac,
	dst_mac = peer_mac, payload = "one back", region = e:region() }
expect("build", { fill = { 1, 1 }, rx = { 1, 1 }, held = 1 })
assert(e:tx(p) == 1)
expect("tx", { fill = { 1, 1 }, rx = { 1, 1 }, tx = { 1, 0 }, app = FRAMES - 1, tx_o = 1 })
e:kick()
expect("kick", { fill = { 1, 1 }, rx = { 1, 1 }, tx = { 1, 1 }, comp = { 1, 0 },
	app = FRAMES - 1, comp_o = 1 })
assert(e:complete() == 1)
expect("complete", { fill = { 1, 1 }, rx = { 1, 1 }, tx = { 1, 1 }, comp = { 1, 1 } })

local s = e:stats()
assert(s.rx_pkts == 1 and s.tx_pkts == 1, "stats say rx " .. s.rx_pkts .. " tx " .. s.tx_pkts)
e:close()
print("PASS")
