-- lab.pcap writes what an engine sends and receives; tshark reads both
-- files with checksum checks on and finds no malformed packet and no bad
-- checksum. Traffic: UDP, ICMP, ARP, lab.packet.tcp, and a 64 KiB body
-- segmented with every strategy the sim can send (copy, reuse + a resend,
-- born, sg), over two sims back to back. The capture reads every byte it
-- writes: counted as touched. Skips (visibly) when tshark is missing.
local T = require "common"

local dir = os.getenv("TMPDIR") or "/tmp"
local fa = string.format("%s/ringlab-pcap-a-%d.pcap", dir, os.time())
local fb = fa:gsub("%-a%-", "-b-")

local a = lab.open("sim")
local b = lab.open("sim", { peer = a })
local ra = a:region { frames = 1024 }
b:region { frames = 1024 }
b:fill(512)
local ca = lab.pcap(a, fa)
local cb = lab.pcap(b, fb)
T.raises({ "already capturing" }, lab.pcap, a, fa .. ".2")

local sent = 0
local function drain()
  local pkts = b:rx(1024)
  for _, p in ipairs(pkts) do p:release() end
  b:fill(math.min(512, b:owners().free))
  return #pkts
end
local function one(p)
  local l0 = a:stats().ledger.touched
  T.eq(a:tx(p), 1, "tx")
  T.eq(a:stats().ledger.touched - l0, p:len(), "the capture reads every byte (touched)")
  a:kick()
  a:complete()
  sent = sent + 1
end

one(lab.packet.udp { dst = "198.18.0.2:9999", payload = "hello pcap", region = ra })
one(lab.packet.udp { dst = "198.18.0.2:9999", payload = string.rep("u", 3000), region = ra })
one(lab.packet.icmp { dst = "198.18.0.2", payload = "ping", region = ra })
one(lab.packet.arp { dst = "198.18.0.2", region = ra })
one(lab.packet.tcp { dst = "198.18.0.2:8080", flags = "S", seq = 1, mss = 1460, wscale = 7, sack_ok = true,
  ts_val = 1, ts_ecr = 0, region = ra })
one(lab.packet.tcp { dst = "198.18.0.2:8080", flags = "PA", seq = 2, ack = 1, payload = "GET / HTTP/1.1\r\n\r\n",
  region = ra })
T.eq(drain(), sent, "received the single packets")

local N = 65536
local body = ra:alloc(N)
body:fill("0123456789abcdef")
local seq = 100000
for _, st in ipairs { "copy", "reuse", "born", "sg" } do
  local segs = lab.segment((st == "copy" or st == "reuse") and body:read() or body,
    { strategy = st, dst = "198.18.0.2:8080", src = "198.18.0.1:" .. (41000 + sent), seq = seq, region = ra })
  sent = sent + segs:send(a)
  seq = segs:next_seq()
  if st == "reuse" then
    segs:resend { seq = seq }
    sent = sent + segs:send(a)
    seq = segs:next_seq()
  end
  T.eq(drain(), #segs * (st == "reuse" and 2 or 1), st .. " received")
  segs:free()
end
T.eq(ca:count(), sent, "a captured every packet sent")
T.eq(cb:count(), sent, "b captured every packet received")
T.eq(ca:close(), sent, "close returns the count")
b:close() -- closing the engine closes its capture
T.eq(cb:count(), sent, "count after the engine closed")

if not os.execute("command -v tshark >/dev/null 2>&1") then
  print("SKIP - tshark is not installed: the files were written but not checked")
  os.exit(0)
end
local prefs = "-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE"
local function run(cmd)
  local f = assert(io.popen(cmd .. " 2>/dev/null"))
  local out = f:read("a")
  f:close()
  return out
end
for _, file in ipairs { fa, fb } do
  local n = select(2, run("tshark -r " .. file .. " " .. prefs):gsub("\n", ""))
  T.eq(n, sent, file .. ": tshark reads every packet")
  local bad = run("tshark -r " .. file .. " " .. prefs .. " -Y '_ws.malformed || _ws.expert.severity >= 8388608"
    .. " || ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0"
    .. " || icmp.checksum.status == 0'")
  T.eq(bad, "", file .. ": malformed packets or checksum errors")
  local good = select(2, run("tshark -r " .. file .. " " .. prefs .. " -Y 'tcp.checksum.status == 1'"):gsub("\n", ""))
  T.check(good > 100, file .. ": tshark verified the TCP checksums (" .. good .. " good)")
  os.remove(file)
end
T.conserved(a)
T.done("pcap_tshark")
