-- tcp_sim_pcap_checksums.lua - a 64 KiB POST with each strategy between two
-- simulators, captured with lab.pcap on both engines; tshark (when
-- installed) must find every TCP and IPv4 checksum correct. Exit 77 (skip)
-- without tshark.
local T = require "common"
local C = require "tcp_common"
local tcp = require "ringlab.tcp"
local http = require "ringlab.http"

if not os.execute("command -v tshark >/dev/null 2>&1") then
  print("SKIP: tshark is not installed")
  os.exit(77)
end
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)
local a, b = C.pair {}
local file = dir .. "/post.pcap"
local cap = lab.pcap(a, file)
local body = C.data(65536)
local srv = http.serve(b, { port = 8080, file = C.data(100000), strategy = "reuse", clients = 5,
  background = true })
for _, s in ipairs({ "copy", "reuse", "born", "sg" }) do
  local res = http.post(a, "http://198.18.0.2:8080/x", C.payload(a, body, s), { strategy = s })
  T.eq(res.status, 200, s)
  if res.close then res.close() end
end
local res = http.get(a, "http://198.18.0.2:8080/x")
if res.close then res.close() end
tcp.run()
cap:close()
-- Frames tshark shows with these options and display filter.
local function count(opts, filter)
  local f = io.popen(string.format("tshark -n -r %s %s -Y '%s' -T fields -e frame.number 2>/dev/null",
    file, opts, filter))
  local n = 0
  for _ in f:read("a"):gmatch("%d+") do n = n + 1 end
  f:close()
  return n
end
local CHECK = "-o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE"
local total = count("", "tcp")
local nbad = count(CHECK, "tcp.checksum.status == 0 || ip.checksum.status == 0 || _ws.malformed")
local segs = count("", "tcp.len > 0")
-- tshark really checked them: every TCP checksum verified good
T.eq(count(CHECK, "tcp.checksum.status == 1 && ip.checksum.status == 1"), total,
  "TCP and IPv4 checksums verified good by tshark")
print(string.format("tshark: %d TCP packets captured on the client, %d with data, %d checksum errors",
  total, segs, nbad))
T.check(total > 4 * 45, "the capture holds the POSTs")
T.eq(nbad, 0, "checksum errors reported by tshark")
os.execute("rm -rf " .. dir)
T.done("tcp_sim_pcap_checksums")
