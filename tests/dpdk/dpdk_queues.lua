-- DPDK with two RX/TX queues (issue 14.3): net_ring0 opened with queues=2.
-- net_ring's queue q is its own rte_ring (ETH_RXTX<q>_<port>): what TX
-- queue q sends, RX queue q receives. e:rings() shows rxq0/txq0/rxq1/txq1
-- and both rings; sends with {queue=K} land on queue K and come back on
-- it; spread sends go round the queues, burst by burst; at the prompt,
-- `queue` and queue=K do the same. Owners conserved; one-line errors.
local T = require "common"

local e <close> = lab.open("dpdk", { vdev = "net_ring0", queues = 2, log = "emergency" })
local r = e:region { frames = 512, frame_size = 2048, headroom = 256 }
T.conserved(e, "after the region")
e:fill(128)

local rings = e:rings()
for _, n in ipairs({ "rxq0", "txq0", "rxq1", "txq1", "ring0", "ring1" }) do
  T.check(rings[n] ~= nil, "e:rings() has " .. n)
end
local qs, sel = e:queues()
T.eq(#qs, 2, "two queues")
T.eq(sel, "all", "spread by default")

local function udp(n, port)
  local list = {}
  for i = 1, n do
    list[i] = lab.packet.udp { src = "198.18.0.1:" .. port, dst = "198.18.0.2:9999",
      payload = string.format("queue packet %d", i), region = r }
  end
  return list
end

local function counts()
  local q = e:queues()
  return q[1].rx_pkts, q[1].tx_pkts, q[2].rx_pkts, q[2].tx_pkts
end

-- queue 1 only: sent on TX queue 1, back on RX queue 1
T.eq(e:tx(udp(5, 9001), { queue = 1 }), 5, "tx {queue=1}")
e:kick { queue = 1 }
local rx0, tx0, rx1, tx1 = counts()
T.eq(tx1, 5, "queue 1 sent 5")
T.eq(tx0, 0, "queue 0 sent none")
-- kick polls RX too: the 5 came off RX queue 1 (counted when rx_burst
-- returns them) into the engine's rx staging queue, none off queue 0
T.eq(rx1, 5, "RX queue 1 gave back the 5 (net_ring: TX queue 1 -> ring1 -> RX queue 1)")
T.eq(rx0, 0, "RX queue 0 gave none")
local got = e:rx(16, { queue = 1 })
T.eq(#got, 5, "RX queue 1 has the 5")
for _, p in ipairs(got) do
  T.eq(p:dissect().udp.src_port, 9001, "a queue-1 packet")
  p:release()
end
rx0, tx0, rx1, tx1 = counts()
T.eq(rx1, 5, "queue 1 received 5")
T.eq(rx0, 0, "queue 0 received none")
e:complete()
T.conserved(e, "after queue 1")

-- spread: one tx() is one burst to one queue; the next goes to the next
T.eq(e:tx(udp(4, 9002)), 4, "tx spread, burst 1")
e:kick()
T.eq(e:tx(udp(4, 9003)), 4, "tx spread, burst 2")
e:kick()
rx0, tx0, rx1, tx1 = counts()
T.eq(tx0 + tx1, 13, "13 sent in all")
T.check(tx0 >= 4 and tx1 >= 9, string.format("both queues sent (queue 0 %d, queue 1 %d)", tx0, tx1))
local n = 0
for _ = 1, 4 do
  for _, p in ipairs(e:rx(16)) do n = n + 1; p:release() end
end
rx0, tx0, rx1, tx1 = counts()
T.eq(n, 8, "spread rx took the 8 from both queues")
T.eq(rx0 + rx1, 13, "13 received in all")
T.check(rx0 > 0 and rx1 > 5, "both queues received")
T.eq(rx0 + rx1, e:stats().rx_pkts, "the queues' counts sum to rx_pkts")
e:complete()
T.conserved(e, "after spread")

-- the prompt: queue, send ... queue=K, recv queue=K
local out, perr = T.prompt("use " .. e:info().name, "queue", "queue 0", "send udp 198.18.0.2:9999 hi queue=1", "recv queue=1", "release", "queue all")
T.eq(perr, nil, "the prompt lines ran")
T.check(out:find("queue 1: rx 9 packets, tx 9 packets", 1, true), "queue lists queue 1's counts: " .. out)
T.check(out:find("selected: queue 0", 1, true), "queue 0 selects it")
T.check(out:find("1 packet in `last`", 1, true), "recv queue=1 got the packet sent on queue 1: " .. out)
T.check(out:find("selected: all", 1, true), "queue all spreads again")
T.eq(select(2, e:queues()), "all", "spread after the prompt lines")

-- one-line errors
local err = T.raises({ "no queue 2 here", "queues=3" }, e.queue, e, 2)
T.check(not err:find("\n"), "one line: " .. err)
err = T.raises({ "queues=9" }, lab.open, "dpdk", { vdev = "net_null1", queues = 9 })
T.check(not err:find("\n"), "one line: " .. err)
-- net_null takes 8 queues: each shows its RX and TX descriptors
do
  local x <close> = lab.open("dpdk", { vdev = "net_null0", queues = 8, log = "emergency" })
  x:region { frames = 256, frame_size = 2048 }
  x:fill(64)
  x:rx(8)
  T.check(x:rings().rxq7 ~= nil and x:rings().txq7 ~= nil, "net_null with 8 queues shows rxq7 and txq7")
  T.eq(#x:queues(), 8, "eight queues")
  T.conserved(x, "net_null, 8 queues")
end
T.conserved(e, "at the end")
T.done("dpdk queues")
