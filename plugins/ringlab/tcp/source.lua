--[[
tcp/source.lua - where the bytes of a send come from (c:source, c:stage).

A source wraps the C segmenter (lab.segment, with its strategy and its
ledger of bytes copied and referenced) and hands out one segment at a
time, so that the send queue can put segments on the wire as the peer's
window opens, and put them there again when they are lost.
--]]

local I = require "ringlab.tcp.base"
local lab = I.lab
local M = I.M
local Conn = I.Conn
local opt = I.opt

---------------------------------------------------------------------------
-- Sources: where the bytes of a send come from. A source is made by
-- lab.segment (the C segmenter, with its strategy and ledger) and hands
-- out its segments one at a time, so that TCP can send them as the window
-- opens and again when they are lost.

local Source = {}
Source.__index = Source

-- data: a string, a buffer or {buffer, off, len}; seq: the sequence number
-- of its first byte.
function Conn:source(data, strategy, seq)
	-- tso/gso: one packet per 16 segments' worth, so that a 64 KB window
	-- holds more than one (a whole 64 KB packet might never fit it).
	local max = (strategy == "tso" or strategy == "gso") and 16 * self.mss or nil
	local segs = lab.segment(data, {
		proto = "tcp", mss = self.mss, strategy = strategy, max = max,
		src = self.st.ip .. ":" .. self.lport, dst = self.rip .. ":" .. self.rport,
		src_mac = self.st.mac, dst_mac = self.rmac, seq = seq, ack = self.rcv_nxt,
		window = self:window_field(), region = self.st.r,
	})
	return setmetatable({ segs = segs, strategy = strategy, conn = self }, Source)
end

-- The segments as {seq, len} in order.
function Source:list()
	local out = {}
	for i, s in ipairs(self.segs:segments()) do out[i] = { seq = s.seq, len = s.len } end
	return out
end

-- Queue segment i; false when it cannot go now (a frame of it, or one it
-- shares, still in flight; or the tx ring full).
function Source:tx(e, i)
	if self.segs:ready(i) < 1 then return false end
	return self.segs:tx(e, i, 1) == 1
end

function Source:ledger() return self.segs:ledger() end

-- reuse: the staged packets again, with connection c's addresses and
-- sequence numbers (headers rewritten, no payload copied). Waits until no
-- staged frame is in flight any more. Returns the ledger of the resend.
function Source:restage(c)
	local before = self.segs:ledger()
	M.wait(function()
		return pcall(self.segs.resend, self.segs, {
			src = c.st.ip .. ":" .. c.lport, dst = c.rip .. ":" .. c.rport,
			src_mac = c.st.mac, dst_mac = c.rmac, seq = c.snd_end, ack = c.rcv_nxt,
			window = c:window_field() })
	end, opt(c.opts, "timeout"), "tcp: resend of staged segments")
	self.conn = c
	local after, d = self.segs:ledger(), {}
	for k, v in pairs(after) do
		if type(v) == "number" then d[k] = v - (before[k] or 0) end
	end
	return d
end

function Source:free()
	if not self.shared then self.segs:free() end
end

return true
