-- tcp_sim_loss_reorder_intact.lua - 256 KiB over a wire that loses every
-- 11th packet and delivers every 5th late, in both directions, with each
-- strategy and both reader modes: the stream arrives intact and in order,
-- and the counters show the work: retransmissions (fast and on timeout),
-- segments held out of order, duplicates.
local T = require "common"
local C = require "tcp_common"
local tcp = require "ringlab.tcp"

local N = 256 * 1024
local data = C.data(N)
local a, b = C.pair { loss = 11, reorder = 5 }
local port = 9000
for _, reader in ipairs({ "inplace", "copy" }) do
  for _, s in ipairs({ "copy", "reuse", "born", "sg" }) do
    port = port + 1
    local l = tcp.listen(b, port, { reader = reader, rto_min = 0.05 })
    local got, server
    tcp.spawn(function()
      server = l:accept()
      local parts = {}
      while true do
        local v = server:recv()
        if not v then break end
        parts[#parts + 1] = C.str(v)
        server:release()
      end
      got = table.concat(parts)
      server:close()
      l:close()
    end)
    local c = tcp.connect(a, "198.18.0.2:" .. port, { rto_min = 0.05 })
    c:send(C.payload(a, data, s), { strategy = s })
    c:flush()
    c:close()
    tcp.run()
    T.check(got == data, s .. "/" .. reader .. ": the stream arrived intact and in order")
    local cs, ss = c:stats(), server:stats()
    print(string.format("%-5s reader %-7s retransmits %3d (fast %3d, timeouts %2d)  "
      .. "server: out of order held %3d, duplicates %2d", s, reader, cs.retransmits,
      cs.fast_retransmits, cs.timeouts, ss.ooo_held, ss.dup_segs))
    T.check(cs.retransmits > 0, s .. ": lost segments were sent again")
    T.check(ss.ooo_held > 0, s .. ": segments after a hole were held, not dropped")
    T.eq(ss.bytes_in, N, s .. ": bytes delivered once each")
  end
end
print(string.format("wire a->b: %d lost, %d late; b->a: %d lost, %d late", a:stats().wire_lost,
  a:stats().wire_reordered, b:stats().wire_lost, b:stats().wire_reordered))
T.conserved(a, "a")
T.conserved(b, "b")
T.done("tcp_sim_loss_reorder_intact")
