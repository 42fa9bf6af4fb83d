--[[
tcp/app.lua - the application's side of a connection: tcp.connect and
the methods c:send, c:stage, c:flush, c:recv, c:read_exact,
c:read_until, c:release, c:close, c:abort, c:stats.

Every call that waits does so through tcp.wait, so the stacks (and the
other tasks) keep running meanwhile; errors of the connection are raised
by the call that meets them.
--]]

local I = require "ringlab.tcp.base"
require "ringlab.tcp.conn"
local new_conn = I.new_conn
local M = I.M
local Conn = I.Conn
local sdiff = I.sdiff
local parse_addr = I.parse_addr
local opt = I.opt
local key = I.key

---------------------------------------------------------------------------
-- The application's side.

local function established(c)
	return function() return c.state ~= "SYN_SENT" and c.state ~= "SYN_RCVD" or c.error ~= nil end
end

-- Open a connection to "ip:port". opts: port= (ours), dst_mac=, timeout=,
-- mss=, wscale=, window=, reader="inplace"|"copy", ip=, mac=, ifname=,
-- host= (for the stack, on first use), rto_*.
function M.connect(e, addr, opts)
	opts = opts or {}
	local rip, rport = parse_addr(addr, "tcp.connect")
	I.check_opts(opts, "tcp.connect") -- everything, before anything is made
	local lport = opts.port and I.check_port(opts.port, "tcp.connect")
	local st = M.stack(e, opts)
	if lport and st.conns[key(rip, rport, lport)] then
		error(string.format("tcp.connect: %s:%d to %s is open already - give another port= or none",
			st.ip, lport, addr), 2)
	end
	local rmac = opts.dst_mac and opts.dst_mac:lower() or st:resolve(rip, opts.timeout)
	if not lport then
		repeat lport = math.random(40000, 60999) until not st.conns[key(rip, rport, lport)]
	end
	local c = new_conn(st, rip, rport, lport, rmac, opts)
	-- From here a failure (no answer, an error sending, Ctrl-C) takes the
	-- half-made connection away again: nothing of it is left to poison the
	-- next call.
	local ok, err = pcall(function()
		c:set_state("SYN_SENT")
		c.snd_wnd = 1 -- room for the SYN
		c:queue({ ctl = "S", len = 1 })
		c:output()
		M.wait(established(c), opt(opts, "timeout"), "tcp.connect to " .. addr)
	end)
	if not ok then
		pcall(function()
			c:set_state("CLOSED")
			c:forget()
			c.reader:release()
		end)
		error(err, 0)
	end
	c:check()
	return c
end

-- Send data (a string or a buffer born in the region) with a strategy:
-- "copy" (the default for strings), "reuse", "born", "sg" (buffers), "tso";
-- on engines that can (DPDK): "extbuf" (a string or lab.appmem sent where
-- it lies) and "gso" (a buffer, cut into segments by the engine).
-- Returns when every segment has been handed to the NIC; the data may be
-- needed again for a retransmission until c:flush() returns (do not change
-- a buffer before). opts.source: a source made by c:stage(), shared with
-- other connections (reuse), or sent again on this one once c:flush()
-- returned (its headers are rewritten for the next sequence numbers, so
-- nothing of the last send may still wait for a retransmission). Returns
-- the ledger of this send and the
-- segments' info (count, descriptors, header_frames, ...).
function Conn:send(data, opts)
	opts = opts or {}
	self:check()
	if self.state ~= "ESTABLISHED" and self.state ~= "CLOSE_WAIT" then
		error(tostring(self) .. ": cannot send in state " .. self.state, 2)
	end
	local src, ledger = opts.source, nil
	if src and (src.conn ~= self or src.sent) then
		-- reuse: same frames, this connection's headers (and, sent on this
		-- connection before, its next sequence numbers)
		ledger = src:restage(self)
	elseif src then
		ledger = src:ledger()
	else
		local strategy = opts.strategy
			or (type(data) == "string" and "copy" or (self.opts.strategy or M.defaults.strategy))
		if type(data) == "string" and #data == 0 then return { copied = 0, referenced = 0 } end
		local ok, made = pcall(self.source, self, data, strategy, self.snd_end)
		if not ok then
			local why = tostring(made)
			-- lab.segment's "more than the region's N frames" or "need N
			-- free frames but the region has M free"
			local cut = why:match("segment: (.-segments.-frames.*)$")
			if not cut then error(made, 0) end
			-- Never more segments than the region holds: say so, in the
			-- connection's terms (the peer's MSS may have been clamped).
			local asked = self.peer_mss_asked
			error(string.format("%s: send: %s%s", tostring(self), cut, asked and asked ~= self.peer_mss
				and string.format(" (the peer asked for MSS %d, taken as %d as Linux does)", asked,
					self.peer_mss) or ""), 2)
		end
		src = made
		ledger = src:ledger()
	end
	local list = src:list()
	for i, s in ipairs(list) do
		local ent = { src = src, i = i, len = s.len, last = i == #list }
		self:queue(ent)
		assert(ent.seq == s.seq, "tcp: the segments were built for another sequence number")
	end
	src.sent = true
	for k, v in pairs(ledger) do
		if type(v) == "number" and self.ledger[k] then self.ledger[k] = self.ledger[k] + v end
	end
	local target = #self.sq
	self:output()
	M.wait(function() return self.sq_next > target or self.error ~= nil or #self.sq < target end,
		opts.timeout or opt(self.opts, "timeout") * 6, tostring(self) .. ": send")
	self:check()
	if not opts.source then
		-- what sending added (gso: the engine's copies of the headers)
		local after = src:ledger()
		for k, v in pairs(after) do
			if type(v) == "number" and type(ledger[k]) == "number" and self.ledger[k] then
				self.ledger[k] = self.ledger[k] + v - ledger[k]
			end
		end
		ledger = after
	end
	return ledger, src.segs:info()
end

-- Stage data for the reuse strategy once (copied into frames once) so that
-- it can be sent on this and on other connections: c:send(nil, {source=s}).
-- The staged packets get each connection's headers, rewritten in place.
function Conn:stage(data)
	local src = self:source(data, "reuse", self.snd_end)
	src.shared = true
	return src
end

-- Sequence number the next byte sent will have (for building segments
-- before the send, e.g. a reuse resend).
function Conn:next_seq() return self.snd_end end

-- Wait until the peer acknowledged everything sent.
function Conn:flush(timeout)
	M.wait(function() return self.snd_una == self.snd_end or self.error ~= nil end,
		timeout or opt(self.opts, "timeout") * 6, tostring(self) .. ": flush")
	self:check()
end

-- Bytes that arrived and were not read yet.
function Conn:avail() return self.reader:avail() end

local function readable(c)
	return function()
		return c.reader:avail() > 0 or c.fin_rcvd or c.error ~= nil or c.state == "CLOSED"
	end
end

-- After the application read: if our window opened a lot, tell the peer.
function Conn:window_update()
	if self.state ~= "ESTABLISHED" and self.state ~= "FIN_WAIT_1" and self.state ~= "FIN_WAIT_2" then
		return
	end
	local w = self:window()
	if self.last_adv < self.mss * 2 and w >= self.mss * 4 or w >= self.last_adv * 2 + self.mss * 8 then
		self:send_ack()
	end
end

-- Up to n bytes (all there are when n is nil) as a view into the frames
-- (reader="inplace") or a copy; waits for at least one byte. nil at the end
-- of the stream. Views stay valid until c:release().
function Conn:recv(n, timeout)
	M.wait(readable(self), timeout or opt(self.opts, "timeout"), tostring(self) .. ": recv")
	if self.reader:avail() == 0 then
		self:check()
		return nil
	end
	local v = self.reader:read(math.min(n or self.reader:avail(), self.reader:avail()))
	self:window_update()
	return v
end

-- Exactly n bytes as one view (waits for them); nil if the stream ends first.
-- A view larger than the receive buffer grows the buffer (and our window)
-- to hold it, as far as the region has frames for it.
function Conn:read_exact(n, timeout)
	if n > self.rcv_buf then
		local room = (self.st.r.frames // 2) * self.mss
		if n > room then
			error(string.format("%s: a view of %d bytes needs more frames than the region has "
				.. "(about %d bytes fit) - read it in pieces with c:recv(n), or make a bigger region",
				tostring(self), n, room), 2)
		end
		self.rcv_buf = n + 4 * self.mss
		self:send_ack() -- the window opened
	end
	M.wait(function()
		return self.reader:avail() >= n or self.fin_rcvd or self.error ~= nil or self.state == "CLOSED"
	end, timeout or opt(self.opts, "timeout"), tostring(self) .. ": read " .. n .. " bytes")
	if self.reader:avail() < n then
		self:check()
		return nil
	end
	local v = self.reader:read(n)
	self:window_update()
	return v
end

-- The bytes up to and including pattern, copied out as a string (for
-- headers); nil if the stream ends first.
function Conn:read_until(pattern, timeout)
	local found
	M.wait(function()
		local at = self.reader:avail() > 0 and self.reader:find(pattern)
		if at then found = at return true end
		return self.fin_rcvd or self.error ~= nil or self.state == "CLOSED"
	end, timeout or opt(self.opts, "timeout"), tostring(self) .. ": read until " .. string.format("%q", pattern))
	if not found then
		self:check()
		return nil
	end
	local s = self.reader:copy(found + #pattern)
	self:window_update()
	return s
end

-- Give back the frames of everything read so far.
function Conn:release()
	local n = self.reader:release()
	self:window_update()
	return n
end

-- Close our direction (FIN after the queued data) and wait until the peer
-- acknowledged it. Gives back the frames of what was read.
function Conn:close(timeout)
	if self.error or self.state == "CLOSED" then
		self:forget()
		self.reader:release()
		return
	end
	if self.state == "ESTABLISHED" or self.state == "SYN_RCVD" then
		self:set_state("FIN_WAIT_1")
	elseif self.state == "CLOSE_WAIT" then
		self:set_state("LAST_ACK")
	else
		error(tostring(self) .. ": close in state " .. self.state, 2)
	end
	self:queue({ ctl = "FA", len = 1 })
	self:output()
	-- Done when our FIN is acknowledged; in FIN_WAIT_2 the stack still
	-- takes the peer's FIN (and forgets the connection after a timeout).
	local ok, err = pcall(M.wait, function()
		return self.state == "CLOSED" or self.state == "TIME_WAIT" or self.state == "FIN_WAIT_2"
			or self.error ~= nil
	end, timeout or opt(self.opts, "timeout"), tostring(self) .. ": close")
	self.reader:release()
	if not ok then
		self:abort()
		error(err, 2)
	end
end

-- Send RST and forget the connection at once.
function Conn:abort()
	if self.state ~= "CLOSED" and self.state ~= "SYN_SENT" then
		self.st.counts.rst_sent = self.st.counts.rst_sent + 1
		self:ctl("R", self.snd_nxt)
	end
	self:set_state("CLOSED")
	self:forget()
	self.reader:release()
end

-- Counters of this connection, and the ledger of what it sent.
function Conn:stats()
	local s = {}
	for k, v in pairs(self.s) do s[k] = v end
	s.state, s.mss, s.snd_wscale, s.rcv_wscale = self.state, self.mss, self.snd_wscale, self.rcv_wscale
	s.peer_mss = self.peer_mss
	s.snd_una, s.snd_nxt, s.snd_wnd, s.rcv_nxt = self.snd_una, self.snd_nxt, self.snd_wnd, self.rcv_nxt
	s.rto, s.srtt = self.rto, self.srtt
	s.ooo_now, s.unread = self.ooo_n, self.reader:avail()
	s.in_flight = sdiff(self.snd_nxt, self.snd_una)
	s.ledger = {}
	for k, v in pairs(self.ledger) do s.ledger[k] = v end
	s.error = self.error
	return s
end

return true
