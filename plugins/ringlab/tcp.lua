--[[
tcp.lua - a userspace TCP over a ringlab engine (require "ringlab.tcp",
also reachable as lab.tcp once required).

An application hands TCP a big buffer; TCP cuts it into segments no larger
than the peer's MSS, sends no more than the peer's window allows, keeps
every segment until it is acknowledged, and sends it again when it was
lost. The receiving side puts segments back in order and hands the bytes
to the application. This module does all of that in plain Lua, on top of
the lab's C helpers, so that every packet can be watched in the rings and
every byte is counted in the ledger:

  lab.segment(data, {strategy=...})  cuts data into packets (copy, reuse,
                                     born, sg, tso - see segment.h); TCP
                                     keeps the segments and retransmits them
  lab.reader(e, {mode=...})          reads received payloads in place
                                     (or copied out), across frames
  ringlab.host                       ARP and ping; TCP packets reach us
                                     through its on_packet callback

  local tcp = require "ringlab.tcp"
  local c = tcp.connect(e, "198.18.0.2:8080", {strategy="sg"})
  c:send(b, {strategy="sg"})   -- returns when every segment is on the wire
  c:flush()                    -- waits until the peer acknowledged them all
  local v = c:recv()           -- a view of what arrived (nil at end of stream)
  c:close()
  local l = tcp.listen(e, 8080) ; local s = l:accept()

What is here: active and passive open with MSS and window-scale
negotiation; sequence and acknowledgement tracking with 32-bit wrap-around;
the peer's window respected (nothing is sent beyond snd_una + wnd; a
zero window is probed); retransmission on timeout (RFC 6298 RTO from RTT
samples, Karn's rule, exponential backoff) and on three duplicate ACKs
(NewReno: every partial ACK retransmits the next hole); in-order delivery,
out-of-order segments held (up to a limit, then dropped) and counted; FIN
in both directions and RST. Not here: congestion control (the lab's wires
are private), SACK, timestamps, urgent data, keep-alive.

Several engines can run a TCP each in one program (two simulators back to
back: client and server). Everything that waits - connect, send, recv,
accept, close - polls every stack, so the other side makes progress too,
and resumes the tasks started with tcp.spawn(fn) (coroutines: a server
loop runs as a task while the main program is the client).

The parts, under plugins/ringlab/tcp/: base.lua (what they all share:
defaults, flags, sequence arithmetic), sched.lua (poll, wait, spawn, run),
stack.lua (a stack per engine, listening), conn.lua (a connection's state,
send queue, retransmission, timers), input.lua (a segment arrives),
source.lua (the segments of a send), app.lua (connect, send, recv, close).
This file puts them together and has "show tcp".
--]]

local I = require "ringlab.tcp.base"
require "ringlab.tcp.sched"
require "ringlab.tcp.conn"
require "ringlab.tcp.input"
require "ringlab.tcp.source"
require "ringlab.tcp.stack"
require "ringlab.tcp.app"
local M, STATES = I.M, I.STATES

---------------------------------------------------------------------------
-- show tcp: every connection of every stack, one line each.

function M.connections()
	local out = {}
	for _, st in ipairs(M.stacks) do
		for _, c in pairs(st.conns) do out[#out + 1] = c end
	end
	table.sort(out, function(a, b) return a.lport < b.lport end)
	return out
end

-- width: the screen's columns; narrower than the table (110), each
-- connection is one line of labelled figures instead (a terminal of 80
-- cuts it between words, the labels keep the figures readable).
function M.show(width)
	local narrow = width and width < 110
	local lines = { narrow and "connections (sent, received: payload bytes; rtx retransmitted, ooo held "
		.. "out of order, dup duplicate segments)" or string.format("%-22s %-22s %-11s %6s %9s %9s %7s %5s %5s %5s",
		"local", "remote", "state", "mss", "sent", "received", "in-flt", "rtx", "ooo", "dup") }
	for _, c in ipairs(M.connections()) do
		local s = c:stats()
		if narrow then
			lines[#lines + 1] = string.format("%s > %s  %s  mss %d  sent %d  received %d  in-flight %d  "
				.. "rtx %d  ooo %d  dup %d", c.st.ip .. ":" .. c.lport, c.rip .. ":" .. c.rport, c.state, c.mss,
				s.bytes_out, s.bytes_in, s.in_flight, s.retransmits, s.ooo_held, s.dup_segs)
		else
			lines[#lines + 1] = string.format("%-22s %-22s %-11s %6d %9d %9d %7d %5d %5d %5d",
				c.st.ip .. ":" .. c.lport, c.rip .. ":" .. c.rport, c.state, c.mss, s.bytes_out,
				s.bytes_in, s.in_flight, s.retransmits, s.ooo_held, s.dup_segs)
		end
	end
	for _, st in ipairs(M.stacks) do
		for port, l in pairs(st.listeners) do
			-- backlog: in the handshake or waiting for accept, of the most taken
			local bl = string.format("backlog %d/%d  refused %d", #l.queue + l.pending, l.backlog,
				l.counts.refused)
			lines[#lines + 1] = narrow and string.format("%s  LISTEN  %s", st.ip .. ":" .. port, bl)
				or string.format("%-22s %-22s %-11s %s", st.ip .. ":" .. port, "*", "LISTEN", bl)
		end
	end
	if #lines == 1 then lines[#lines + 1] = "(no connections - tcp.connect(e, \"198.18.0.2:8080\") or tcp.listen(e, 8080))" end
	-- Per stack: listeners' backlogs, and what its host put aside (packets
	-- that are not TCP wait in a bounded inbox; the excess is dropped).
	for _, st in ipairs(M.stacks) do
		local hc = st.host.counts
		lines[#lines + 1] = string.format("stack %s: not TCP %d (inbox %d/%d, dropped %d%s)",
			st.ip, st.counts.not_ours, #st.host.inbox, st.host.inbox_max, hc.inbox_dropped,
			hc.handler_dropped > 0 and string.format(", %d after a handler's error",
				hc.handler_dropped) or "")
	end
	return table.concat(lines, "\n")
end

M.states = STATES
return M
