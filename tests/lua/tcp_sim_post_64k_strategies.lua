-- tcp_sim_post_64k_strategies.lua - a 64 KiB HTTP POST between two
-- simulators (a lab TCP on each side) with each strategy; the body arrives
-- intact and the ledger of the body's send holds:
--   copy  -> copied 65536, referenced 0
--   reuse -> copied 65536 (the staging copy), referenced 0
--   born, sg -> copied 0, referenced 65536
-- Optional args LOSS REORDER put deterministic faults on both wires: the
-- body must still arrive intact, through retransmissions.
local T = require "common"
local C = require "tcp_common"
local tcp = require "ringlab.tcp"
local http = require "ringlab.http"

local loss, reorder = tonumber(arg[1] or 0), tonumber(arg[2] or 0)
local a, b = C.pair { loss = loss, reorder = reorder }
local N = 65536
local body = C.data(N)
local strategies = { "copy", "reuse", "born", "sg" }
local srv = http.serve(b, { port = 8080, file = "ok\n", strategy = "copy", clients = #strategies,
  background = true, keep_body = true })
local want = {
  copy = { copied = N, referenced = 0 }, reuse = { copied = N, referenced = 0 },
  born = { copied = 0, referenced = N }, sg = { copied = 0, referenced = N },
}
local rtx = 0
for i, s in ipairs(strategies) do
  local res = http.post(a, "http://198.18.0.2:8080/upload/" .. s, C.payload(a, body, s),
    { strategy = s, rto_min = 0.05 })
  T.eq(res.status, 200, s .. ": status")
  T.eq(C.str(res.body), "ok\n", s .. ": answer")
  if res.close then res.close() end
  tcp.wait(function() return #srv.clients >= i end, 10, "the server's row")
  local row = srv.clients[i]
  T.eq(row.request_bytes, N, s .. ": Content-Length seen by the server")
  T.check(row.body == body, s .. ": the body arrived intact")
  T.eq(res.ledger.copied, want[s].copied, s .. ": copied")
  T.eq(res.ledger.referenced, want[s].referenced, s .. ": referenced")
  T.eq(res.packets, 45, s .. ": packets for 64 KiB at MSS 1460")
  rtx = rtx + res.stats.retransmits
  print(string.format("%-5s %d packets  copied %6d  referenced %6d  retransmits %d",
    s, res.packets, res.ledger.copied, res.ledger.referenced, res.stats.retransmits))
end
tcp.run()
if loss > 0 then
  T.check(rtx > 0, "losses on the wire were repaired by retransmissions")
  T.check(a:stats().wire_lost > 0, "the wire lost packets")
end
if reorder > 0 then T.check(a:stats().wire_reordered > 0, "the wire reordered packets") end
T.conserved(a, "a")
T.conserved(b, "b")
T.done("tcp_sim_post_64k_strategies" .. (loss > 0 and " with loss" or ""))
