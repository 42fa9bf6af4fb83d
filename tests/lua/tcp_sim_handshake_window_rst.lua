-- tcp_sim_handshake_window_rst.lua - the rules of the conversation between
-- two simulators: a SYN to a closed port is answered with RST ("connection
-- refused"); MSS and window scale are negotiated (the smaller MSS wins);
-- the sender never has more in flight than the receiver's window, stops at
-- a zero window and resumes when the reader makes room; FIN both ways
-- ends in TIME_WAIT on the side that closed first and CLOSED on the other.
local T = require "common"
local C = require "tcp_common"
local tcp = require "ringlab.tcp"

local a, b = C.pair {}
T.raises({ "connection refused" }, tcp.connect, a, "198.18.0.2:7")

local WINDOW = 16384
local l = tcp.listen(b, 8080, { mss = 1000, window = WINDOW })
local server
tcp.spawn(function() server = l:accept() end)
local c = tcp.connect(a, "198.18.0.2:8080")
tcp.wait(function() return server ~= nil end, 5, "accept")
T.eq(c.mss, 1000, "the smaller MSS wins")
T.eq(server.mss, 1000, "the server's MSS")
T.eq(c:stats().snd_wscale, 7, "window scale negotiated")

-- The server does not read: the client must stop at its window.
local N = 256 * 1024
local data = C.data(N)
local sender = tcp.spawn(function() c:send(data) c:flush() end)
local most = 0
local stop = lab.now() + 0.5
tcp.wait(function()
  most = math.max(most, c:stats().in_flight)
  return lab.now() > stop
end, 5, "watching the window")
print(string.format("receiver window %d: most in flight %d, unread at the receiver %d, times the sender waited for the window %d",
  WINDOW, most, server:avail(), c:stats().window_stalls))
T.check(most <= WINDOW, "never more in flight than the window")
T.check(server:avail() <= WINDOW, "never more unread than the window")
T.check(c:stats().window_stalls >= 1, "the sender waited for the window to open")
T.check(not sender.done, "the sender waits for room")

-- Now read: the window opens and everything arrives.
local parts = {}
while #table.concat(parts) < N do
  parts[#parts + 1] = C.str(server:recv())
  server:release()
end
tcp.wait(function() return sender.done or sender.error end, 10, "the sender")
T.check(not sender.error, tostring(sender.error))
T.check(table.concat(parts) == data, "all of it, in order")
T.eq(c:stats().segs_out, math.ceil(N / 1000), "segments of MSS 1000")

c:close()
T.eq(server:recv(), nil, "the server sees the end of the stream")
server:close()
tcp.wait(function() return c.state == "TIME_WAIT" or c.state == "CLOSED" end, 5, "TIME_WAIT")
T.eq(server.state, "CLOSED", "the side that closed second")
T.check(c.state == "TIME_WAIT" or c.state == "CLOSED", "the side that closed first: " .. c.state)
print(tcp.show())
T.done("tcp_sim_handshake_window_rst")
