--[[
tcp/conn.lua - one connection's state and sending side.

A connection is made here (new_conn) and holds its sequence numbers,
windows, timers and counters. This file builds its control segments and
ACKs, keeps the send queue (every segment until it is acknowledged),
puts on the wire what the peer's window allows, retransmits, takes RTT
samples (RFC 6298), and runs the timers each poll: retransmission timeout,
zero-window probe, end of TIME_WAIT. What arrives is in tcp/input.lua,
what the application calls in tcp/app.lua.
--]]

local I = require "ringlab.tcp.base"
local lab = I.lab
local Conn = I.Conn
local now = I.now
local sadd = I.sadd
local sdiff = I.sdiff
local slt = I.slt
local opt = I.opt
local key = I.key

---------------------------------------------------------------------------
-- Connections.

local function new_conn(st, rip, rport, lport, rmac, opts)
	local frames = st.r.frames
	local window = math.min(opt(opts, "window"), (frames // 4) * 1400)
	local c = setmetatable({
		st = st, e = st.e, rip = rip, rport = rport, lport = lport, rmac = rmac,
		state = "CLOSED", opts = opts or {},
		our_mss = opt(opts, "mss"), our_wscale = opt(opts, "wscale"), rcv_buf = window,
		snd_wscale = 0, rcv_wscale = 0, mss = opt(opts, "mss"),
		iss = math.random(0, 0xffffffff), snd_wnd = 0, wl1 = 0, wl2 = 0,
		rcv_nxt = 0, last_adv = 0,
		sq = {}, sq_first = 1, sq_next = 1,
		rto = opt(opts, "rto_initial"), timer = nil, retries = 0, dupacks = 0,
		in_recovery = false, recover = 0,
		ooo = {}, ooo_n = 0, ooo_bytes = 0, ack_pending = 0,
		ledger = { copied = 0, referenced = 0, headers = 0, touched = 0 },
		s = { segs_out = 0, bytes_out = 0, retransmits = 0, fast_retransmits = 0,
			timeouts = 0, dupacks_in = 0, segs_in = 0, bytes_in = 0, ooo_held = 0,
			ooo_dropped = 0, dup_segs = 0, trimmed = 0, acks_out = 0, window_probes = 0,
			zero_windows = 0, window_stalls = 0, rtt_samples = 0, beyond_window = 0,
			mss_clamped = 0 },
	}, Conn)
	c.snd_una, c.snd_nxt, c.snd_end = c.iss, c.iss, c.iss
	local mode = opt(opts, "reader")
	c.reader = lab.reader(st.e, { mode = mode })
	c.reader_mode = mode
	st.conns[key(rip, rport, lport)] = c
	return c
end

function Conn:__tostring()
	return string.format("tcp %s:%d > %s:%d %s", self.st.ip, self.lport, self.rip, self.rport,
		self.state)
end

-- Our receive window in bytes: buffer space not taken by unread or held data.
function Conn:window()
	return math.max(0, self.rcv_buf - self.reader:avail() - self.ooo_bytes)
end

-- The window field to send. The right edge we advertised (rcv_nxt + window)
-- never moves left (RFC 793 asks not to shrink it): segments held out of
-- order take buffer space but must not change the advertised window, or
-- the sender would not see our duplicate ACKs as duplicates.
function Conn:window_field()
	local w = self:window()
	if self.state == "SYN_SENT" or self.state == "CLOSED" then return math.min(w, 65535) end
	w = math.min(w, 65535 << self.rcv_wscale)
	-- Silly window avoidance (RFC 1122): less than a segment of room is
	-- offered as none, so that the sender waits instead of dribbling.
	if w < math.min(self.mss, self.rcv_buf // 2) then w = 0 end
	if self.right_edge and slt(sadd(self.rcv_nxt, w), self.right_edge) then
		w = sdiff(self.right_edge, self.rcv_nxt)
	else
		self.right_edge = sadd(self.rcv_nxt, w)
	end
	self.last_adv = w
	return w >> self.rcv_wscale
end

-- Build one control segment (no payload): flags like "S", "SA", "A", "FA".
function Conn:ctl(flags, seq)
	local syn = flags:find("S", 1, true) ~= nil
	local a = flags:find("A", 1, true) ~= nil
	local f = {
		src = self.st.ip .. ":" .. self.lport, dst = self.rip .. ":" .. self.rport,
		src_mac = self.st.mac, dst_mac = self.rmac, seq = seq or self.snd_nxt,
		ack = a and self.rcv_nxt or 0, flags = flags, region = self.st.r,
	}
	if syn then
		f.window = math.min(self:window(), 65535)
		f.mss = self.our_mss
		if self.state == "SYN_SENT" or self.peer_wscale then f.wscale = self.our_wscale end
	else
		f.window = self:window_field()
	end
	self.st:send(lab.packet.tcp(f))
end

function Conn:send_ack()
	if self.state == "CLOSED" or self.state == "SYN_SENT" then return end
	self.ack_pending = 0
	self.st.acks[self] = nil
	self.s.acks_out = self.s.acks_out + 1
	self:ctl("A")
end

function Conn:ack_soon()
	self.ack_pending = self.ack_pending + 1
	if self.ack_pending >= opt(self.opts, "ack_every") and not self.draining then
		self:send_ack()
	else
		self.st.acks[self] = true -- at the end of this batch
	end
end

function Conn:set_state(s)
	self.state = s
	if self.on_state then self.on_state(self, s) end
end

function Conn:fail(why)
	self.error = why
	self:set_state("CLOSED")
	self:forget()
end

function Conn:check()
	if self.error then error(tostring(self) .. ": " .. self.error, 3) end
end

---------------------------------------------------------------------------
-- The send queue: one entry per segment (or SYN, or FIN), kept until it is
-- acknowledged. sq_first: the oldest unacknowledged; sq_next: the next
-- never sent.

function Conn:queue(ent)
	ent.seq = self.snd_end
	self.snd_end = sadd(self.snd_end, ent.len)
	self.sq[#self.sq + 1] = ent
end

function Conn:tx_entry(ent)
	if ent.ctl then
		self:ctl(ent.ctl, ent.seq)
		return true
	end
	return ent.src:tx(self.e, ent.i)
end

-- Everything the window allows, in order. Returns the segments sent.
function Conn:output()
	local sent = 0
	while self.sq_next <= #self.sq do
		local ent = self.sq[self.sq_next]
		local limit = sadd(self.snd_una, self.snd_wnd)
		if not ent.ctl or ent.ctl:find("F", 1, true) then
			if slt(limit, sadd(ent.seq, ent.ctl and 0 or ent.len)) then
				-- Beyond the peer's window. With nothing in flight no ACK
				-- will come to open it: the timer probes (persist).
				if not self.stalled then
					self.stalled = true
					self.s.window_stalls = self.s.window_stalls + 1
				end
				if not self.timer then self.timer = now() + self.rto end
				break
			end
		end
		if not self:tx_entry(ent) then break end -- a frame in flight: next poll
		ent.sent, ent.sent_at, ent.tries = true, now(), 1
		self.stalled = false
		if not ent.ctl then
			self.s.segs_out = self.s.segs_out + 1
			self.s.bytes_out = self.s.bytes_out + ent.len
		end
		local e_end = sadd(ent.seq, ent.len)
		if slt(self.snd_nxt, e_end) then self.snd_nxt = e_end end
		self.sq_next = self.sq_next + 1
		sent = sent + 1
		if not self.timer then self.timer = now() + self.rto end
	end
	if sent > 0 then self.e:kick() end
	return sent
end

-- Send the oldest unacknowledged segment again (when its frames are still
-- in flight from the last time, on the next poll).
function Conn:retransmit(why)
	local ent = self.sq[self.sq_first]
	if not ent or not ent.sent then return false end
	if not self:tx_entry(ent) then
		self.retx_pending = why
		return false
	end
	self.retx_pending = nil
	self.e:kick()
	ent.tries = ent.tries + 1
	ent.sent_at = now()
	self.s.retransmits = self.s.retransmits + 1
	if why == "fast" then self.s.fast_retransmits = self.s.fast_retransmits + 1 end
	return true
end

function Conn:drop_queue()
	local seen = {}
	for _, ent in ipairs(self.sq) do -- false: an entry acked already
		if ent and ent.src and not seen[ent.src] then
			seen[ent.src] = true
			ent.src:free()
		end
	end
	self.sq, self.sq_first, self.sq_next = {}, 1, 1
end

-- RTT sample r seconds (RFC 6298).
function Conn:rtt(r)
	self.s.rtt_samples = self.s.rtt_samples + 1
	if not self.srtt then
		self.srtt, self.rttvar = r, r / 2
	else
		self.rttvar = 0.75 * self.rttvar + 0.25 * math.abs(self.srtt - r)
		self.srtt = 0.875 * self.srtt + 0.125 * r
	end
	self.rto = math.min(opt(self.opts, "rto_max"),
		math.max(opt(self.opts, "rto_min"), self.srtt + math.max(0.001, 4 * self.rttvar)))
end

-- An acceptable ACK moved snd_una to ack: forget what it covers.
function Conn:acked(ack)
	local t = now()
	while self.sq_first < self.sq_next do
		local ent = self.sq[self.sq_first]
		if slt(ack, sadd(ent.seq, ent.len)) then break end
		if ent.tries == 1 and not self.in_recovery then self:rtt(t - ent.sent_at) end -- Karn
		self.sq[self.sq_first] = false
		self.sq_first = self.sq_first + 1
		if ent.src and ent.last then ent.src:free() end
		if ent.ctl and ent.ctl:find("F", 1, true) then self.fin_acked = true end
	end
	if self.sq_first > #self.sq then -- all done: compact
		self.sq, self.sq_first, self.sq_next = {}, 1, 1
	end
end

-- Timers, every poll: a retransmission that waited for its frame, what
-- the window now allows, the retransmission timeout (with backoff), the
-- zero-window probe, and the end of TIME_WAIT / FIN_WAIT_2.
function Conn:tick(t)
	if self.state == "TIME_WAIT" or self.state == "FIN_WAIT_2" then
		local limit = self.state == "TIME_WAIT" and opt(self.opts, "time_wait") or opt(self.opts, "timeout")
		self.closed_at = self.closed_at or t
		if t - self.closed_at >= limit then
			self:set_state("CLOSED")
			self:forget()
			return
		end
	end
	if self.retx_pending then self:retransmit(self.retx_pending) end
	if self.sq_next <= #self.sq then self:output() end
	if not self.timer or t < self.timer then return end
	self.timer = nil
	if self.sq_first < self.sq_next then -- the oldest segment in flight timed out
		self.retries = self.retries + 1
		if self.retries > opt(self.opts, "retries") then
			self:fail("connection timed out (no ACK after " .. (self.retries - 1) .. " retransmissions)")
			return
		end
		self.s.timeouts = self.s.timeouts + 1
		self.rto = math.min(self.rto * 2, opt(self.opts, "rto_max"))
		self.dupacks = 0
		self.in_recovery = self.state ~= "SYN_SENT" and self.state ~= "SYN_RCVD"
		self.recover = self.snd_nxt
		self:retransmit("timeout")
		self.timer = t + self.rto
	elseif self.sq_next <= #self.sq then
		-- The peer's window is closed and nothing is in flight: probe it
		-- with a bare segment from before its rcv_nxt (as Linux does); the
		-- ACK it answers with carries the window. Backs off like the RTO.
		self.s.window_probes = self.s.window_probes + 1
		self:ctl("A", sadd(self.snd_una, 0xffffffff))
		self.rto = math.min(self.rto * 2, opt(self.opts, "rto_max"))
		self.timer = t + self.rto
	end
end

-- Leave the stack's table; give back every frame this connection holds.
function Conn:forget()
	self.timer = nil
	if self.listener then self.listener:gone(self) end
	self:drop_queue()
	for _, h in pairs(self.ooo) do h.pkt:release() end
	self.ooo, self.ooo_n = {}, 0
	self.st.conns[key(self.rip, self.rport, self.lport)] = nil
	self.st.acks[self] = nil
end

I.new_conn = new_conn

return true
