--[[
tcp/input.lua - one connection's receiving side: a segment arrives.

Conn:input is RFC 793's "segment arrives", abridged: the handshake (SYN,
SYN-ACK, options), RST, the ACK (what it acknowledges, duplicate ACKs and
fast retransmit, the peer's window), then the payload and FIN: in order
to the reader, out of order held until the hole is filled (or dropped
past a limit), duplicates and data beyond our window dropped and ACKed.
--]]

local I = require "ringlab.tcp.base"
local Conn = I.Conn
local FIN = I.FIN
local SYN = I.SYN
local RST = I.RST
local PSH = I.PSH
local ACK = I.ACK
local now = I.now
local sadd = I.sadd
local sdiff = I.sdiff
local slt = I.slt
local sle = I.sle
local opt = I.opt
local M = I.M

function Conn:on_ack(t, d)
	local ack = t.ack
	local wnd = t.window << self.snd_wscale
	if slt(self.snd_nxt, ack) then -- acknowledges what we never sent
		self:send_ack()
		return false
	end
	if slt(self.snd_una, ack) then
		self.snd_una = ack
		self.retries = 0
		self.dupacks = 0
		self:acked(ack)
		if self.in_recovery then
			if slt(ack, self.recover) then
				self:retransmit("fast") -- NewReno: the next hole
			else
				self.in_recovery = false
			end
		end
		if self.srtt then
			self.rto = math.max(opt(self.opts, "rto_min"),
				self.srtt + math.max(0.001, 4 * self.rttvar))
		end
		self.timer = slt(self.snd_una, self.snd_nxt) and now() + self.rto or nil
	elseif ack == self.snd_una and d.payload_len == 0 and t.flags & (SYN | FIN) == 0
		and wnd == self.snd_wnd and slt(self.snd_una, self.snd_nxt) then
		self.dupacks = self.dupacks + 1
		self.s.dupacks_in = self.s.dupacks_in + 1
		if self.dupacks == 3 and not self.in_recovery then
			self.in_recovery, self.recover = true, self.snd_nxt
			self:retransmit("fast")
		end
	end
	-- The window, from the newest segment only (SND.WL1/WL2, RFC 793).
	if slt(self.wl1, t.seq) or (self.wl1 == t.seq and sle(self.wl2, ack)) then
		if wnd == 0 and self.snd_wnd > 0 then self.s.zero_windows = self.s.zero_windows + 1 end
		self.snd_wnd, self.wl1, self.wl2 = wnd, t.seq, ack
	end
	return true
end

-- Payload and FIN of an acceptable segment. Returns true when the packet
-- was kept (its frames now belong to the reader or the out-of-order store).
function Conn:on_data(pkt, d)
	local t, len = d.tcp, d.payload_len
	local fin = t.flags & FIN ~= 0
	if len == 0 and not fin then
		-- A bare segment from before rcv_nxt is a window probe (or a
		-- stale one): answer with an ACK, which carries our window.
		if sdiff(t.seq, self.rcv_nxt) < 0 then self:send_ack() end
		return false
	end
	-- Data beyond the window we offered is not taken (RFC 793).
	local edge = sadd(self.rcv_nxt, self:window())
	if self.right_edge and slt(edge, self.right_edge) then edge = self.right_edge end
	if len > 0 and slt(edge, sadd(t.seq, len)) then
		self.s.beyond_window = self.s.beyond_window + 1
		self:send_ack()
		return false
	end
	if self.fin_rcvd then -- anything after their FIN is a retransmission
		self:send_ack()
		return false
	end
	local off = sdiff(self.rcv_nxt, t.seq) -- bytes of it we already have
	if off > 0 then
		if off >= len + (fin and 1 or 0) then
			self.s.dup_segs = self.s.dup_segs + 1
		else
			-- Part old, part new (a retransmission cut differently). The
			-- reader takes whole packets, so it is dropped; the ACK makes
			-- the sender resend from rcv_nxt.
			self.s.trimmed = self.s.trimmed + 1
		end
		self:send_ack()
		return false
	end
	if off < 0 then -- a hole before it: hold it, ask again for the hole
		if -off >= self.rcv_buf or self.ooo_n >= opt(self.opts, "ooo_max")
			or self.ooo[t.seq] then
			self.s.ooo_dropped = self.s.ooo_dropped + 1
			self:send_ack()
			return false
		end
		self.ooo[t.seq] = { pkt = pkt, d = d }
		self.ooo_n = self.ooo_n + 1
		self.ooo_bytes = self.ooo_bytes + len
		self.s.ooo_held = self.s.ooo_held + 1
		self:send_ack() -- a duplicate ACK: tells the sender of the hole
		return true
	end
	-- In order. Segments held back may now follow it: no ACK until all of
	-- them are in (an ACK in the middle would look like a new hole).
	self.draining = self.ooo_n > 0
	local kept = self:deliver(pkt, d)
	local filled = false
	while self.ooo_n > 0 and self.ooo[self.rcv_nxt] and not self.fin_rcvd do
		local h = self.ooo[self.rcv_nxt]
		self.ooo[self.rcv_nxt] = nil
		self.ooo_n = self.ooo_n - 1
		self.ooo_bytes = self.ooo_bytes - h.d.payload_len
		filled = true
		if not self:deliver(h.pkt, h.d) then h.pkt:release() end
	end
	self.draining = false
	if self.ooo_n > 0 and not self.fin_rcvd then
		-- drop what the new rcv_nxt already covers
		for seq, h in pairs(self.ooo) do
			if slt(seq, self.rcv_nxt) then -- covered, or cut across rcv_nxt
				self.ooo[seq] = nil
				self.ooo_n = self.ooo_n - 1
				self.ooo_bytes = self.ooo_bytes - h.d.payload_len
				h.pkt:release()
			end
		end
	end
	if filled or t.flags & PSH ~= 0 then
		self:send_ack()
	end
	return kept
end

-- In order: the payload goes to the reader, the FIN moves the state.
function Conn:deliver(pkt, d)
	local t, len = d.tcp, d.payload_len
	local kept = false
	if len > 0 then
		self.reader:push(pkt)
		kept = true
		self.rcv_nxt = sadd(self.rcv_nxt, len)
		self.s.segs_in = self.s.segs_in + 1
		self.s.bytes_in = self.s.bytes_in + len
		self:ack_soon()
	end
	if t.flags & FIN ~= 0 then
		self.rcv_nxt = sadd(self.rcv_nxt, 1)
		self.fin_rcvd = true
		if self.state == "ESTABLISHED" then
			self:set_state("CLOSE_WAIT")
		elseif self.state == "FIN_WAIT_1" then
			self:set_state(self.fin_acked and "TIME_WAIT" or "CLOSING")
		elseif self.state == "FIN_WAIT_2" then
			self:set_state("TIME_WAIT")
		end
		if self.state == "TIME_WAIT" then self.closed_at = now() end
		self:send_ack()
	end
	return kept
end

-- One segment for this connection: RFC 793's "segment arrives", abridged.
function Conn:input(pkt, d)
	local t = d.tcp
	local f = t.flags
	if self.state == "SYN_SENT" then
		if f & ACK ~= 0 and t.ack ~= sadd(self.iss, 1) then
			if f & RST == 0 then self.st:reset(d) end
			return false
		end
		if f & RST ~= 0 then
			if f & ACK ~= 0 then self:fail("connection refused (RST)") end
			return false
		end
		if f & SYN ~= 0 and f & ACK ~= 0 then
			self:synchronize(t)
			self.snd_una = t.ack
			self:acked(t.ack)
			self.timer = nil
			self.snd_wnd, self.wl1, self.wl2 = t.window, t.seq, t.ack -- never scaled in a SYN
			self:set_state("ESTABLISHED")
			self:send_ack()
		end
		return false
	end
	if f & RST ~= 0 then
		local off = sdiff(t.seq, self.rcv_nxt)
		if off >= 0 and off < math.max(self:window(), 1) then
			self:fail("connection reset by peer")
		end
		return false
	end
	if f & SYN ~= 0 then
		-- Our SYN-ACK or ACK was lost and the peer sends its SYN again.
		if self.state == "SYN_RCVD" then
			self.sq_next = self.sq_first
			self:output()
		else
			self:send_ack()
		end
		return false
	end
	if f & ACK == 0 then return false end
	if self.state == "SYN_RCVD" then
		if t.ack ~= sadd(self.iss, 1) then
			self.st:reset(d)
			return false
		end
		self:set_state("ESTABLISHED")
		if self.listener then self.listener:ready(self) end
	end
	self:on_ack(t, d)
	if self.fin_acked then
		if self.state == "FIN_WAIT_1" then
			self:set_state("FIN_WAIT_2")
		elseif self.state == "CLOSING" then
			self:set_state("TIME_WAIT")
			self.closed_at = now()
		elseif self.state == "LAST_ACK" then
			self:set_state("CLOSED")
			self:forget()
		end
	end
	local kept = false
	if self.state == "ESTABLISHED" or self.state == "FIN_WAIT_1" or self.state == "FIN_WAIT_2" then
		kept = self:on_data(pkt, d)
	elseif d.payload_len > 0 or f & FIN ~= 0 then
		self:send_ack() -- a retransmission after their FIN
	end
	self:output()
	return kept
end

-- The peer's SYN: its sequence numbers and options.
function Conn:synchronize(t)
	self.irs = t.seq
	self.rcv_nxt = sadd(t.seq, 1)
	-- The peer's MSS as Linux takes it: an MSS option of 0 is ignored
	-- (tcp_parse_options keeps a received MSS only when it is not zero), so
	-- the default of RFC 9293 applies, 536 (TCP_MSS_DEFAULT); a smaller one
	-- than net.ipv4.tcp_min_snd_mss (default 48, TCP_MIN_SND_MSS: 40 bytes of
	-- options and 8 of data; added for CVE-2019-11479) is raised to it -
	-- "silently capped", ip-sysctl.rst says; here it is counted
	-- (mss_clamped) and shown by c:stats().peer_mss.
	local mss = t.mss
	self.peer_mss_asked = mss
	if not mss or mss == 0 then mss = M.defaults.mss_default end
	if mss < M.defaults.min_snd_mss then
		mss = M.defaults.min_snd_mss
		self.s.mss_clamped = self.s.mss_clamped + 1
	end
	self.peer_mss = mss
	self.mss = math.min(self.our_mss, self.peer_mss)
	self.peer_wscale = t.wscale
	if t.wscale then
		self.snd_wscale, self.rcv_wscale = math.min(t.wscale, 14), self.our_wscale
	else
		self.snd_wscale, self.rcv_wscale = 0, 0
	end
end

return true
