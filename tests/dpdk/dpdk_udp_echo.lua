--[[
dpdk_udp_echo.lua - UDP through a DPDK vdev on the testbed wire, to the
peer kernel's echo server and back, every byte compared both ways.

  ringlab --netns NAME-lab dpdk_udp_echo.lua VDEV SRC_MAC PEER_MAC SIZE COUNT
          FRAMES FRAME_SIZE FILL [PLUMB] [SRC_IP DST_IP]

udp_echo_peer.py (in NAME-peer) checks each datagram's bytes and echoes
it; this script checks the echo. PLUMB, when given, is a shell command run
once the engine is open (net_tap's interface only exists from then on);
SRC_IP and DST_IP replace 198.18.0.1 and 198.18.0.2.
Owners are conserved after every step; the ledger's copies are printed.
--]]
local vdev, src_mac, peer_mac, size, count, frames, frame_size, fill, plumb, src_ip, dst_ip = ...
src_ip, dst_ip = src_ip or "198.18.0.1", dst_ip or "198.18.0.2"
size, count = tonumber(size), tonumber(count)
frames, frame_size, fill = tonumber(frames), tonumber(frame_size), tonumber(fill)
local LAB_PORT, PEER_PORT = 9000, 9999

local common = dofile(arg[0]:match("^(.*/)") .. "../net/net_common.lua")

local e = lab.open("dpdk", { vdev = vdev, log = "error" })
local r = e:region { frames = frames, frame_size = frame_size, headroom = 256 }
if plumb and plumb ~= "" then
	assert(os.execute(plumb), "plumbing failed: " .. plumb)
end

local function owners(when)
	assert(common.owners(e, when).frames == frames, "the region has the frames asked for")
end

local function send(seq)
	local p = lab.packet.udp {
		src = src_ip .. ":" .. LAB_PORT, dst = dst_ip .. ":" .. PEER_PORT,
		payload = common.echo_pattern(seq, size), region = r, src_mac = src_mac, dst_mac = peer_mac,
	}
	e:tx(p)
	local done = 0
	for _ = 1, 3000 do
		e:kick()
		done = done + e:complete()
		if done >= 1 then break end
		os.execute("sleep 0.001")
	end
	assert(done == 1, "the sent frame did not complete")
	print(string.format("sent %d: %d bytes", seq, size))
end

local function check(pkt, seq)
	return common.check_echo(pkt, seq, size, LAB_PORT, PEER_PORT)
end

local function receive(seq)
	for _ = 1, 3000 do
		local got, n = false, 0
		for _, pkt in ipairs(e:rx(64)) do
			got = check(pkt, seq) or got
			n = n + #pkt:segments()
			pkt:release()
		end
		if n > 0 then e:fill(n) end
		if got then return end
		os.execute("sleep 0.001")
	end
	error("no echo " .. seq .. " within 3 s")
end

e:fill(fill)
owners("filled")
for seq = 0, count - 1 do
	send(seq)
	owners("sent")
	receive(seq)
	owners("received")
end
local s = e:stats()
print(string.format("mode=%s (%s)", s.mode, s.mode_why))
print(string.format("ledger copied=%d driver_copied=%d (%s) kernel_copied=%d (%s)",
	s.ledger.copied, s.ledger.driver_copied, s.ledger.driver_why,
	s.ledger.kernel_copied, s.ledger.kernel_why))
for _, k in ipairs({ "pmd_opackets", "pmd_ipackets", "rx_fresh_buffer",
	"tx_pmd_took_frames", "tx_direct_mbufs", "model_errors" }) do
	io.write(k, "=", tostring(s[k]), " ")
end
print()
assert(s.model_errors == 0, "model errors")
if vdev:find("^net_af_xdp") then
	-- the PMD's whole sentence (its longest), not cut by the ledger's room
	assert(s.ledger.driver_why:find("another pool$"), "net_af_xdp's driver_why cut short")
	assert(s.mode_why:find("another pool%)?$"), "mode_why cut short")
	-- the PMD took no frame to copy into while sending: it sent ours
	assert(s.tx_pmd_took_frames == 0, "net_af_xdp copied on TX")
	assert(s.ledger.driver_copied == 0, "driver_copied")
	-- the objects layout's mbufs are direct anyway: none marked
	assert(s.tx_direct_mbufs == 0, "tx_direct_mbufs on net_af_xdp")
else
	-- net_af_packet copies what it is sent, then frees it: plain packets
	-- go with direct mbufs
	assert(s.tx_direct_mbufs > 0, "tx_direct_mbufs on " .. vdev)
end
e:close()
print("PASS")
