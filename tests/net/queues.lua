--[[
queues.lua - AF_XDP on two queues (issue 14.3), through the real ringlab.

  ringlab --netns NAME-lab queues.lua IFNAME PEER_MAC STOPFILE

Runs on a testbed made with queues=2, while the peer (queues_case.sh)
sends UDP datagrams from 198.18.0.2 to 198.18.0.1 ports 9000..9015 (16
flows: the peer's kernel hashes each flow onto one of its two TX queues,
and a veth delivers on the RX queue of that number) and counts what reaches
its port 9998.

  * open afxdp queues=2: one socket per queue, one UMEM; e:rings() has the
    four rings of each queue (fill0 .. comp1), e:queues() two entries
  * receive spread over both queues until each has received some; every
    packet is one of the peer's; owners conserved
  * rx with {queue=1} takes only queue 1's packets (queue 0's count stays)
  * send 8 datagrams on queue 0 and 8 on queue 1 ({queue=K}), then 8 spread:
    each queue's tx count grows by what it was given; all complete
  * errors are one line: queue 5 of a two-queue engine, queues=3 on a
    two-queue veth
Prints "sent N" for the case script to compare with the peer's count.
--]]

local ifname, peer_mac, stopfile = ...
local common = dofile(arg[0]:match("^(.*/)") .. "net_common.lua")
local FRAMES = 4096

local function check(ok, what)
	if not ok then
		error("FAIL: " .. what, 0)
	end
	print("ok   " .. what)
end

local e = lab.open("afxdp", { ifname = ifname, queues = 2, mode = "copy", steer = "all" })
local r = e:region { frames = FRAMES, frame_size = 2048, headroom = 256 }
common.conserved(e, "after the region")

local rings = e:rings()
for _, n in ipairs({ "fill0", "rx0", "tx0", "comp0", "fill1", "rx1", "tx1", "comp1" }) do
	assert(rings[n], "no ring " .. n .. " in e:rings()")
end
check(rings.fill == nil, "e:rings() has the four rings of each queue, fill0 .. comp1")
local qs, sel = e:queues()
check(#qs == 2 and qs[1].queue == 0 and qs[2].queue == 1 and sel == "all",
	"e:queues(): queues 0 and 1, spread")

-- Both fill rings get frames (spread), then every packet is the peer's.
local filled = e:fill(1024)
rings = e:rings()
check(filled == 1024 and rings.fill0.pending == 512 and rings.fill1.pending == 512,
	"fill 1024 spread 512 + 512 over the two fill rings")
common.conserved(e, "after fill")

local function take(pkts)
	for _, p in ipairs(pkts) do
		local d = p:dissect()
		assert(d.udp and d.ip.src == "198.18.0.2" and d.udp.dst_port >= 9000
			and d.udp.dst_port <= 9015, "a packet that is not one of the peer's flows")
		p:release()
	end
	if #pkts > 0 then
		e:fill(#pkts)
	end
	return #pkts
end

local got, t0 = 0, lab.now()
repeat
	got = got + take(e:rx(64))
	qs = e:queues()
until (qs[1].rx_pkts >= 20 and qs[2].rx_pkts >= 20) or lab.now() - t0 > 10
print(string.format("received %d: queue 0 %d, queue 1 %d", got, qs[1].rx_pkts, qs[2].rx_pkts))
check(qs[1].rx_pkts > 0 and qs[2].rx_pkts > 0, "both queues received (spread rx)")
check(qs[1].rx_pkts + qs[2].rx_pkts == e:stats().rx_pkts, "the queues' counts sum to rx_pkts")
common.conserved(e, "after spread rx")

-- One queue only: queue 0's count must not move.
local before0, before1 = qs[1].rx_pkts, qs[2].rx_pkts
t0 = lab.now()
repeat
	take(e:rx(64, { queue = 1 }))
	qs = e:queues()
until qs[2].rx_pkts >= before1 + 10 or lab.now() - t0 > 10
check(qs[1].rx_pkts == before0 and qs[2].rx_pkts > before1,
	string.format("rx {queue=1} took %d from queue 1 and none from queue 0",
		qs[2].rx_pkts - before1))
check(select(2, e:queues()) == "all", "the selection is back to spread after the call")
common.conserved(e, "after rx on queue 1")

-- Stop the peer's flows, drain.
io.open(stopfile, "w"):close()
lab.sleep(0.2)
for _ = 1, 20 do take(e:rx(256)) end

-- Send: 8 on queue 0, 8 on queue 1, 8 spread.
local seq = 0
local function datagrams(n)
	local list = {}
	for _ = 1, n do
		seq = seq + 1
		list[#list + 1] = lab.packet.udp {
			src = "198.18.0.1:" .. (9100 + seq), dst = "198.18.0.2:9998", region = r,
			payload = string.format("queue test %04d", seq), dst_mac = peer_mac,
		}
	end
	return list
end

local function send(list, opts)
	local n = e:tx(list, opts)
	assert(n == #list, "tx took " .. n .. " of " .. #list)
	local done = 0
	for _ = 1, 2000 do
		e:kick()
		done = done + e:complete()
		if done >= #list then break end
	end
	assert(done == #list, "completed " .. done .. " of " .. #list)
end

qs = e:queues()
local tx0, tx1 = qs[1].tx_pkts, qs[2].tx_pkts
send(datagrams(8), { queue = 0 })
qs = e:queues()
check(qs[1].tx_pkts == tx0 + 8 and qs[2].tx_pkts == tx1, "tx {queue=0}: 8 on queue 0 only")
send(datagrams(8), { queue = 1 })
qs = e:queues()
check(qs[1].tx_pkts == tx0 + 8 and qs[2].tx_pkts == tx1 + 8, "tx {queue=1}: 8 on queue 1 only")
send(datagrams(8))
qs = e:queues()
check(qs[1].tx_pkts == tx0 + 12 and qs[2].tx_pkts == tx1 + 12, "tx spread: 4 more on each queue")
common.conserved(e, "after the sends")
local o = e:owners()
check(o.tx == 0 and o.comp == 0 and o.nic == 0, "nothing left in flight")

-- The selection, persistent: e:queue(1) then back.
check(e:queue(1) == "all" and e:queue() == 1 and e:queue("all") == 1, "e:queue(1) selects, returns the one before")

-- One-line errors.
local ok, err = pcall(e.queue, e, 5)
check(not ok and err:find("has queues 0,1") and not err:find("\n"), "queue 5: " .. tostring(err))
ok, err = pcall(e.rx, e, 8, { queue = 2 })
check(not ok and not err:find("\n"), "rx {queue=2}: " .. tostring(err))
e:close()
ok, err = pcall(lab.open, "afxdp", { ifname = ifname, queues = 3, mode = "copy" })
check(not ok and err:find("has 2 queues %- make the testbed with queues=3") and not err:find("\n"),
	"queues=3 on a two-queue veth: " .. tostring(err))
print("sent " .. seq)
