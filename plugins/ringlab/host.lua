--[[
host.lua - a minimal IPv4 host on top of an engine (require "ringlab.host").

A raw AF_XDP socket that takes every frame (steer=all) also takes the ARP
requests and pings meant for the lab's address, so the kernel never sees
them and nobody answers: the peer cannot reach the lab and the lab cannot
learn the peer's MAC. This module is the few lines of a network stack that
fix that, written over the ordinary API so every frame it handles can be
watched in the rings:

  local host = require "ringlab.host"
  local h = host.new(e, {ip="198.18.0.1", ifname="rl0"})  -- mac= optional
  h:poll()                  -- answer ARP and ping, learn ARP, collect
                            -- completions, top up the fill ring
  local mac = h:resolve("198.18.0.2", 2)   -- ARP request, wait for reply
  h:arp_table()             -- {["198.18.0.2"]={mac=, seen=}}
  h:send(pkt)               -- tx + kick; completions are collected by poll

Everything that is not ARP or a ping for us goes to opts.on_packet(pkt, d)
(return true to keep the packet; otherwise it is released), or without a
callback into h.inbox, which h:take(n) empties (the caller releases).
The host learns neighbours only from ARP, as Linux does.
--]]

local lab = require "ringlab"

local M = {}
local Host = {}
Host.__index = Host

local INBOX_MAX = 256

-- Monotonic seconds: lab.now() when the shell has it, else CPU time
-- (equal to wall time while we busy-poll).
local function now()
	return lab.now and lab.now() or os.clock()
end

local function pause(s)
	if lab.sleep then lab.sleep(s) end
end

-- The MAC of ifname in this namespace, through netlink (`ip -j link`).
function M.mac_of(ifname)
	local f = io.popen("ip -j link show dev " .. ifname .. " 2>/dev/null")
	local out = f and f:read("a") or ""
	if f then f:close() end
	local mac = out:match('"address"%s*:%s*"(%x%x:%x%x:%x%x:%x%x:%x%x:%x%x)"')
	if not mac then
		error("host: no interface " .. ifname .. " here to read a MAC from - "
			.. "give mac= or run inside the testbed (ringlab --netns rl-lab)", 0)
	end
	return mac
end

-- Frames kept on the fill ring: half the region, at most the ring's size.
local function fill_target(e, opts)
	local o, frames = e:owners(), 0
	for _, k in ipairs({ "app", "fill", "nic", "rx", "tx", "comp" }) do frames = frames + o[k] end
	local f = e:rings().fill
	local target = opts.fill or frames // 2
	return f and math.min(target, f.size) or target
end

function M.new(e, opts)
	opts = opts or {}
	if not e:info().has_region then
		e:region { frames = opts.frames or 1024, frame_size = 2048, headroom = 256 }
	end
	local mac = opts.mac
	if not mac then
		local ifname = opts.ifname
		if not ifname then
			error("host: say mac= or ifname= - e.g. host.new(e, {ip=\"198.18.0.1\", ifname=\"rl0\"})", 0)
		end
		mac = M.mac_of(ifname)
	end
	local h = setmetatable({
		e = e, r = e:region(), ip = opts.ip or "198.18.0.1", mac = mac,
		arp = {}, inbox = {}, on_packet = opts.on_packet, log = opts.log,
		counts = { arp_replies = 0, arp_learned = 0, echo_replies = 0, other = 0,
			dropped = 0, tx_full = 0 },
	}, Host)
	h.target = fill_target(e, opts)
	h:stock()
	return h
end

-- Keep `target` frames offered for receive (on the fill ring or taken from
-- it by the kernel, waiting for a packet).
function Host:stock()
	local o, f = self.e:owners(), self.e:rings().fill
	-- nic counts frames the kernel took off the fill ring (and frames
	-- being sent, so this errs on the side of filling less).
	local want = self.target - o.fill - o.nic
	local room = f and (f.size - f.pending) or want
	-- o.free: frames in the pool, not held by the inbox, a reader or a
	-- retransmission queue.
	local n = math.min(want, room, o.free - 16) -- keep a few frames for replies
	if n > 0 then self.e:fill(n) end
end

function Host:say(fmt, ...)
	if self.log then self.log(string.format(fmt, ...)) end
end

function Host:learn(ip, mac)
	if ip == "0.0.0.0" then return end
	local entry = self.arp[ip]
	if not entry then
		self.counts.arp_learned = self.counts.arp_learned + 1
		self:say("arp: learned %s is-at %s", ip, mac)
	end
	self.arp[ip] = { mac = mac, seen = now() }
end

-- Queue one built packet and let the kernel send it.
function Host:send(p)
	if self.e:tx(p) == 0 then
		p:release()
		self.counts.tx_full = self.counts.tx_full + 1
		return false
	end
	self.e:kick()
	return true
end

function Host:on_arp(d)
	local a = d.arp
	self:learn(a.spa, a.sha)
	if a.op ~= 1 or a.tpa ~= self.ip then return end
	self:send(lab.packet.arp { op = "reply", src = self.ip, src_mac = self.mac,
		dst = a.spa, dst_mac = a.sha, region = self.r })
	self.counts.arp_replies = self.counts.arp_replies + 1
	self:say("arp: %s asked who-has %s, answered is-at %s", a.spa, a.tpa, self.mac)
end

function Host:on_echo(pkt, d)
	local payload = pkt:payload()
	self:send(lab.packet.icmp { type = "reply", src = self.ip, src_mac = self.mac,
		dst = d.ip.src, dst_mac = d.eth.src, icmp_id = d.icmp.id, seq = d.icmp.seq,
		payload = payload, region = self.r })
	self.counts.echo_replies = self.counts.echo_replies + 1
	self:say("icmp: echo request from %s id %d seq %d, %d bytes - replied",
		d.ip.src, d.icmp.id, d.icmp.seq, #payload)
end

-- Something else: the callback's, or the inbox's.
function Host:deliver(pkt, d)
	self.counts.other = self.counts.other + 1
	if self.on_packet then
		if not self.on_packet(pkt, d) then pkt:release() end
		return
	end
	self.inbox[#self.inbox + 1] = pkt
	if #self.inbox > INBOX_MAX then
		table.remove(self.inbox, 1):release()
		self.counts.dropped = self.counts.dropped + 1
	end
end

-- One received packet: ARP and pings for us are answered here.
function Host:handle(pkt)
	local d = pkt:dissect()
	if d.arp then
		self:on_arp(d)
	elseif d.icmp and d.icmp.type == 8 and d.ip.dst == self.ip and d.icmp.csum_ok then
		self:on_echo(pkt, d)
	else
		return self:deliver(pkt, d)
	end
	pkt:release()
end

-- Do everything pending; returns the number of packets received.
function Host:poll(max)
	local e = self.e
	e:complete()
	local pkts = e:rx(max or 64)
	for _, pkt in ipairs(pkts) do self:handle(pkt) end
	if #pkts > 0 then e:kick() end
	e:complete()
	self:stock()
	return #pkts
end

-- Poll for `seconds`, sleeping a little when nothing arrives.
function Host:serve(seconds)
	local stop = now() + seconds
	while now() < stop do
		if self:poll() == 0 then pause(0.001) end
	end
end

-- The MAC for ip: from the table, or by an ARP request (resent every
-- half second) within timeout seconds. nil and why otherwise.
function Host:resolve(ip, timeout)
	timeout = timeout or 3
	if self.arp[ip] then return self.arp[ip].mac end
	local stop, resend = now() + timeout, 0
	while now() < stop do
		if now() >= resend then
			self:send(lab.packet.arp { op = "request", src = self.ip, src_mac = self.mac,
				dst = ip, region = self.r })
			self:say("arp: who-has %s tell %s (broadcast)", ip, self.ip)
			resend = now() + 0.5
		end
		if self:poll() == 0 then pause(0.001) end
		if self.arp[ip] then return self.arp[ip].mac end
	end
	return nil, string.format("no ARP reply from %s within %g s - is the peer up "
		.. "(ringlab testbed status)?", ip, timeout)
end

-- {ip = {mac=, age=seconds}}
function Host:arp_table()
	local t, at = {}, now()
	for ip, entry in pairs(self.arp) do
		t[ip] = { mac = entry.mac, age = at - entry.seen }
	end
	return t
end

-- Up to n packets from the inbox (the caller releases them).
function Host:take(n)
	local out = {}
	while #self.inbox > 0 and #out < (n or 64) do
		out[#out + 1] = table.remove(self.inbox, 1)
	end
	return out
end

-- Give every held frame back: the inbox's packets.
function Host:stop()
	for _, p in ipairs(self.inbox) do
		if p:state() == "held" then p:release() end
	end
	self.inbox = {}
end

function Host:__tostring()
	local c = self.counts
	return string.format("host %s (%s): %d arp replies, %d echo replies, %d other, %d neighbours",
		self.ip, self.mac, c.arp_replies, c.echo_replies, c.other, c.arp_learned)
end

return M
