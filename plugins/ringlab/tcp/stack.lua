--[[
tcp/stack.lua - one TCP stack per engine, and listening: tcp.stack,
tcp.listen.

A stack owns the engine's ringlab.host (ARP, ping) and hooks into its
on_packet callback, so every packet received on the engine passes through
Stack:input: a segment for a known connection goes to that connection, a
SYN for a listening port makes a new connection (Listener:on_syn), and
anything else for us is answered with RST. Stack:poll also runs every
connection's timers and sends the ACKs a batch of packets left pending.
--]]

local I = require "ringlab.tcp.base"
local host = require "ringlab.host"
require "ringlab.tcp.conn"
local new_conn = I.new_conn
local lab = I.lab
local M = I.M
local Stack = I.Stack
local Listener = I.Listener
local FIN = I.FIN
local SYN = I.SYN
local RST = I.RST
local ACK = I.ACK
local now = I.now
local sadd = I.sadd
local opt = I.opt
local key = I.key

local by_engine = setmetatable({}, { __mode = "k" }) -- engine -> its stack

---------------------------------------------------------------------------
-- A stack: one per engine. It owns the engine's host (ARP, ping) and gets
-- every TCP packet from it.

-- The stack of engine e, made on first use. opts: ip=, mac=, ifname=, host=
-- (an existing ringlab.host on e).
function M.stack(e, opts)
	local st = by_engine[e]
	if st then return st end
	opts = opts or {}
	I.check_stack_opts(opts, "tcp")
	local info = e:info()
	if not info.has_region then
		e:region { frames = opts.frames or 4096, frame_size = 2048, headroom = 256 }
	end
	st = setmetatable({
		e = e, r = e:region(), conns = {}, listeners = {}, acks = {},
		counts = { rx_segs = 0, tx_ctl = 0, csum_errors = 0, rst_sent = 0, not_ours = 0 },
	}, Stack)
	local h = opts.host
	if not h then
		local mac = opts.mac
		if not mac and not opts.ifname and info.kind == "sim" then
			mac = string.format("02:00:00:00:00:%02x", info.id % 256)
		end
		h = host.new(e, { ip = opts.ip or "198.18.0.1", mac = mac, ifname = opts.ifname,
			fill = opts.fill })
	end
	local previous = h.on_packet
	h.on_packet = function(pkt, d)
		local kept = st:input(pkt, d)
		if kept ~= nil then return kept end
		if previous then return previous(pkt, d) end
		h:keep(pkt) -- bounded: a flood of UDP must not take the fill ring's frames
		return true
	end
	st.host, st.ip, st.mac = h, h.ip, h.mac
	by_engine[e] = st
	M.stacks[#M.stacks + 1] = st
	return st
end

function Stack:poll()
	local n = self.host:poll()
	local t = now()
	for _, c in pairs(self.conns) do c:tick(t) end
	for c in pairs(self.acks) do c:send_ack() end
	self.acks = {}
	return n
end

-- Send one built packet (a control segment); completions come with poll.
function Stack:send(p)
	self.counts.tx_ctl = self.counts.tx_ctl + 1
	if not self.host:send(p) then
		error("tcp: the tx ring is full - the engine is not sending (is it kicked?)", 0)
	end
end

-- The MAC of ip: learned by ARP, from the kernel's neighbour table in this
-- namespace (the testbed's static entries), or asked for by ARP.
function Stack:resolve(ip, timeout)
	local h = self.host
	if h.arp[ip] then return h.arp[ip].mac end
	local info = self.e:info()
	if info.kind ~= "sim" then
		local mac = lab.neigh(ip, info.ifname) -- /proc/net/arp, as ringlab.host does
		if mac then return mac end
	end
	local resend = 0
	M.wait(function()
		if h.arp[ip] then return true end
		if now() >= resend then
			h:send(lab.packet.arp { op = "request", src = self.ip, src_mac = self.mac,
				dst = ip, region = self.r })
			resend = now() + 0.5
		end
		return false
	end, timeout or 3, "tcp: ARP for " .. ip)
	return h.arp[ip].mac
end
-- A received packet: ours (true: kept, false: release it) or nil (not TCP
-- for us: the host keeps it in its inbox).
function Stack:input(pkt, d)
	local t = d.tcp
	if not t or not d.ip or d.ip.dst ~= self.ip then
		self.counts.not_ours = self.counts.not_ours + 1
		return nil
	end
	self.counts.rx_segs = self.counts.rx_segs + 1
	if not t.csum_ok then
		self.counts.csum_errors = self.counts.csum_errors + 1
		return false
	end
	local c = self.conns[key(d.ip.src, t.src_port, t.dst_port)]
	if c then return c:input(pkt, d) end
	local l = self.listeners[t.dst_port]
	if l and t.flags & (SYN | ACK | RST) == SYN then
		l:on_syn(d)
		return false
	end
	if t.flags & RST == 0 then self:reset(d) end
	return false
end

-- Answer a segment for no connection with RST (RFC 793, "reset generation").
function Stack:reset(d)
	local t = d.tcp
	local seq, ack, flags = 0, 0, "R"
	if t.flags & ACK ~= 0 then
		seq = t.ack
	else
		ack = sadd(t.seq, d.payload_len + ((t.flags & SYN ~= 0) and 1 or 0)
			+ ((t.flags & FIN ~= 0) and 1 or 0))
		flags = "RA"
	end
	self.counts.rst_sent = self.counts.rst_sent + 1
	self:send(lab.packet.tcp { src = self.ip .. ":" .. t.dst_port, dst = d.ip.src .. ":" .. t.src_port,
		src_mac = self.mac, dst_mac = d.eth.src, seq = seq, ack = ack, flags = flags,
		window = 0, region = self.r })
end

---------------------------------------------------------------------------
-- Listening.

-- Take connections on port. opts as for connect (they apply to every
-- accepted connection) and backlog= (default 16).
function M.listen(e, port, opts)
	opts = opts or {}
	port = I.check_port(port, "tcp.listen")
	I.check_opts(opts, "tcp.listen")
	local backlog = opts.backlog or 16
	if math.type(backlog) ~= "integer" or backlog < 1 then
		error("tcp.listen: backlog=" .. tostring(backlog) .. " is not a number of connections - "
			.. "write a whole number 1 or more, like backlog=16", 2)
	end
	local known = by_engine[e]
	if known and known.listeners[port] then error("tcp.listen: port " .. port .. " is taken already", 2) end
	local st = M.stack(e, opts)
	local l = setmetatable({ st = st, port = port, opts = opts, queue = {},
		backlog = backlog, pending = 0, counts = { syns = 0, refused = 0, accepted = 0, half_open_gone = 0 } },
		Listener)
	st.listeners[port] = l
	return l
end

function Listener:on_syn(d)
	local t = d.tcp
	self.counts.syns = self.counts.syns + 1
	if #self.queue + self.pending >= self.backlog then
		self.counts.refused = self.counts.refused + 1
		return
	end
	local c = new_conn(self.st, d.ip.src, t.src_port, self.port, d.eth.src, self.opts)
	c.listener = self
	c.half_open = true -- counted in pending until ready, reset or timed out (Conn:forget)
	c:synchronize(t)
	c.snd_wnd, c.wl1, c.wl2 = 1, t.seq, c.iss
	c:set_state("SYN_RCVD")
	self.pending = self.pending + 1
	c:queue({ ctl = "SA", len = 1 })
	c:output()
	c.snd_wnd = t.window -- unscaled in a SYN
end

function Listener:ready(c)
	if c.half_open then
		c.half_open = false
		self.pending = self.pending - 1
	end
	self.queue[#self.queue + 1] = c
end

-- A half-open connection (SYN_RCVD) was reset, timed out or aborted: it
-- no longer takes a place in the backlog.
function Listener:gone(c)
	if c.half_open then
		c.half_open = false
		self.pending = self.pending - 1
		self.counts.half_open_gone = self.counts.half_open_gone + 1
	end
end

-- The next established connection (waits up to timeout seconds).
function Listener:accept(timeout)
	M.wait(function() return #self.queue > 0 end, timeout or opt(self.opts, "timeout"),
		"tcp: accept on port " .. self.port)
	self.counts.accepted = self.counts.accepted + 1
	return table.remove(self.queue, 1)
end

function Listener:close()
	self.st.listeners[self.port] = nil
end

return true
