--[[
host.lua - a minimal IPv4 host on top of an engine (require "ringlab.host").

A raw AF_XDP socket that takes every frame (steer=all) also takes the ARP
requests and pings meant for the lab's address, so the kernel never sees
them and nobody answers: the peer cannot reach the lab and the lab cannot
learn the peer's MAC. This module is the few lines of a network stack that
fix that, written over the ordinary API so every frame it handles can be
watched in the rings:

  local host = require "ringlab.host"
  local h = host.new(e, {ip="198.18.0.1", ifname="rl0"})  -- mac= optional;
                            -- ip= too: the interface's own address
  h:poll()                  -- answer ARP and ping, learn ARP, collect
                            -- completions, top up the fill ring
  local mac = h:resolve("198.18.0.2", 2)   -- ARP request, wait for reply
  h:arp_table()             -- {["198.18.0.2"]={mac=, seen=}}
  h:send(pkt)               -- tx + kick; completions are collected by poll

Everything that is not ARP or a ping for us goes to opts.on_packet(pkt, d)
(return true to keep the packet; otherwise it is released), or without a
callback into h.inbox, which h:take(n) empties (the caller releases). The
inbox is bounded (h.inbox_max: an eighth of the region, at most 256); the
oldest packet is released when it is full (counts.inbox_dropped). A handler
that raises in the middle of a batch: the rest of it is released at once
(counts.handler_dropped) and the error goes on to whoever polled.
The host learns neighbours only from ARP, as Linux does.

The same module finds the addresses a packet on a wire engine leaves out
(lab.packet.*, lab.segment and bt:udp call it from C when the engine is on
a kernel interface, e:info().ifname):

  host.addresses(e, dst_ip, what) -> src_ip, src_mac, dst_mac
  host.neighbour(e, ip, opts)     -> the MAC of ip, or an error saying what to do
  host.of(e)                      -- the host running on e, if any
  host.resolved(e)                -> {ip -> mac}: the neighbours resolved so far

The source is the engine's host (ip=, mac=) when one runs, else the
interface's own address and MAC. The neighbour comes from, in order: what
was resolved before on this engine (cached), the host's ARP table, the
kernel's neighbour table in this namespace (lab.neigh: the testbed's static
entries), and last an ARP request sent through the engine by the host (a
short-lived one when none runs: it puts a few frames on the fill ring and
gives back every frame it received).
--]]

local lab = require "ringlab"

local M = {}
local Host = {}
Host.__index = Host

-- The inbox holds what nobody asked for (not ARP, not a ping, not TCP for
-- a stack): at most this many packets, and never more than an eighth of
-- the region, so that a flood of such packets cannot take the frames the
-- fill ring, ARP and TCP need. The oldest is dropped (its frames go back
-- at once) and counted: counts.inbox_dropped.
M.INBOX_MAX = 256

---------------------------------------------------------------------------
-- Checks of what a caller gives, made before anything is created (a call
-- that fails leaves no state behind). Each returns the value or raises one
-- line saying what was wrong and what to write.

function M.check_ip(ip, what)
	local a, b, c, d = tostring(ip):match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
	if type(ip) ~= "string" or not a or tonumber(a) > 255 or tonumber(b) > 255
		or tonumber(c) > 255 or tonumber(d) > 255 or #a > 3 or #b > 3 or #c > 3 or #d > 3 then
		error(string.format("%s: ip=%s is not an IPv4 address - write four numbers 0-255, "
			.. "like ip=198.18.0.1", what, tostring(ip)), 0)
	end
	return ip
end

function M.check_mac(mac, what, key)
	if type(mac) ~= "string" or not mac:match("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") then
		error(string.format("%s: %s=%s is not a MAC address - write six hex pairs, like "
			.. "%s=02:00:00:00:00:01", what, key or "mac", tostring(mac), key or "mac"), 0)
	end
	return mac:lower()
end

-- An integer port 1-65535 (a number, or a string of digits).
function M.check_port(port, what, key)
	local n = math.tointeger(type(port) == "string" and port:match("^%d+$") and tonumber(port) or port)
	if not n or n < 1 or n > 65535 then
		error(string.format("%s: %s=%s is not a port - write a whole number 1-65535, like %s=8080",
			what, key or "port", tostring(port), key or "port"), 0)
	end
	return n
end

-- Monotonic seconds: lab.now() when the shell has it, else CPU time
-- (equal to wall time while we busy-poll).
local function now()
	return lab.now and lab.now() or os.clock()
end

local function pause(s)
	if lab.sleep then lab.sleep(s) end
end

-- The MAC of ifname in this namespace (lab.netif: ioctl, no shell).
function M.mac_of(ifname)
	local nif = lab.netif(tostring(ifname))
	if not nif or not nif.mac then
		error("host: no interface " .. tostring(ifname) .. " here to read a MAC from - "
			.. "give mac= or run inside the testbed (ringlab --netns rl-lab)", 0)
	end
	return nif.mac
end

local running = setmetatable({}, { __mode = "k" }) -- engine -> its host
local iface = setmetatable({}, { __mode = "k" })   -- engine -> {mac=, ip=} of its interface
local neighbours = setmetatable({}, { __mode = "k" }) -- engine -> {ip -> mac}

-- The host running on engine e (the first made there and not stopped).
function M.of(e)
	return running[e]
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
	if opts.ip ~= nil then M.check_ip(opts.ip, "host") end
	if opts.mac ~= nil then opts.mac = M.check_mac(opts.mac, "host") end
	if opts.fill ~= nil and (math.type(opts.fill) ~= "integer" or opts.fill < 0) then
		error("host: fill=" .. tostring(opts.fill) .. " is not a number of frames - write a whole "
			.. "number, like fill=64", 0)
	end
	if not e:info().has_region then
		e:region { frames = opts.frames or 1024, frame_size = 2048, headroom = 256 }
	end
	local mac, ip = opts.mac, opts.ip
	local ifname = opts.ifname or e:info().ifname -- the engine's own interface
	if not mac then
		if not ifname then
			error("host: say mac= or ifname= - e.g. host.new(e, {ip=\"198.18.0.1\", ifname=\"rl0\"})", 0)
		end
		mac = M.mac_of(ifname)
	end
	if not ip and ifname then -- the interface's own address, as the kernel has it
		local nif = lab.netif(tostring(ifname))
		ip = nif and nif.ip
	end
	local h = setmetatable({
		e = e, r = e:region(), ip = ip or "198.18.0.1", mac = mac,
		arp = {}, inbox = {}, on_packet = opts.on_packet, log = opts.log,
		counts = { arp_replies = 0, arp_learned = 0, echo_replies = 0, other = 0,
			dropped = 0, inbox_dropped = 0, handler_dropped = 0, tx_full = 0 },
	}, Host)
	h.inbox_max = math.max(8, math.min(M.INBOX_MAX, h.r.frames // 8))
	h.target = fill_target(e, opts)
	h:stock()
	if not opts.passing and not running[e] then running[e] = h end
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
	local ok, n = pcall(self.e.tx, self.e, p)
	if not ok then -- the interface went away, the engine closed...: p's frame goes back now
		pcall(p.release, p)
		error(n, 0)
	end
	if n == 0 then
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
	self:keep(pkt)
end

-- Put pkt in the inbox; when it is full, the oldest packet there is
-- released at once and counted (counts.inbox_dropped; counts.dropped too,
-- its older name).
function Host:keep(pkt)
	self.inbox[#self.inbox + 1] = pkt
	while #self.inbox > self.inbox_max do
		local old = table.remove(self.inbox, 1)
		if old:state() == "held" then old:release() end
		self.counts.inbox_dropped = self.counts.inbox_dropped + 1
		self.counts.dropped = self.counts.dropped + 1
	end
end

-- One received packet: ARP and pings for us are answered here.
function Host:handle(pkt)
	self.own = true -- a packet whose handling raises is released while own
	local d = pkt:dissect()
	if d.arp then
		self:on_arp(d)
	elseif d.icmp and d.icmp.type == 8 and d.ip.dst == self.ip and d.icmp.csum_ok then
		self:on_echo(pkt, d)
	else
		self.own = false -- the callback's now (it may keep it, then raise)
		return self:deliver(pkt, d)
	end
	pkt:release()
end

local function handle_all(h, pkts)
	for i, pkt in ipairs(pkts) do
		h.at = i
		h:handle(pkt)
	end
end

-- Do everything pending; returns the number of packets received. When a
-- handler (on_packet, or answering ARP or a ping) raises in the middle of
-- a batch, the packets after it are released at once and counted
-- (counts.handler_dropped), and the error goes on to the caller. The
-- packet being handled is released too unless it was on_packet's (which
-- may have kept it before raising).
function Host:poll(max)
	local e = self.e
	e:complete()
	local pkts = e:rx(max or 64)
	self.at = 0
	local ok, err = pcall(handle_all, self, pkts)
	if not ok then
		if not e:info().closed then
			local first = self.at + 1
			if self.own and pkts[self.at] then first = self.at end
			for i = first, #pkts do
				if pkts[i]:state() == "held" then pkts[i]:release() end
				self.counts.handler_dropped = self.counts.handler_dropped + 1
			end
			e:kick()
			self:stock()
		end
		error(err, 0)
	end
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
	if running[self.e] == self then running[self.e] = nil end
end

-- Addresses that need no ARP: broadcast, and IPv4 multicast (RFC 1112).
local function fixed_mac(ip)
	if ip == "255.255.255.255" then return "ff:ff:ff:ff:ff:ff" end
	local a, b, c, d = ip:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
	a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
	if a and a >= 224 and a <= 239 then
		return string.format("01:00:5e:%02x:%02x:%02x", b & 0x7f, c, d)
	end
end

-- The MAC of ip as seen from engine e (see the top of this file). opts:
-- what= (the caller's name in errors), ip=, mac= (our addresses for ARP),
-- timeout= (seconds of ARP, default 1).
function M.neighbour(e, ip, opts)
	opts = opts or {}
	local what = opts.what or "send"
	local known = neighbours[e]
	if not known then
		known = {}
		neighbours[e] = known
	end
	local mac = known[ip] or fixed_mac(ip)
	if mac then return mac end
	local h = running[e]
	local ifname = opts.ifname or e:info().ifname
	mac = h and h.arp[ip] and h.arp[ip].mac
	mac = mac or lab.neigh(ip, ifname)
	if not mac then
		local passing = not h
		if passing then
			-- a host for this one question: it gives back what it received
			h = M.new(e, { ip = opts.ip, mac = opts.mac, ifname = ifname, fill = 8,
				passing = true })
		end
		local ok, got = pcall(h.resolve, h, ip, opts.timeout or 1)
		if passing then h:stop() end
		if not ok then error(got, 0) end
		mac = got
	end
	if not mac then
		error(string.format("%s: no MAC for %s: no ARP reply in %gs - try host up, or dst_mac=",
			what, ip, opts.timeout or 1), 0)
	end
	known[ip] = mac
	return mac
end

-- A copy of what M.neighbour resolved for engine e so far: {ip -> mac}.
function M.resolved(e)
	local t = {}
	for ip, mac in pairs(neighbours[e] or {}) do t[ip] = mac end
	return t
end

-- What a packet built on engine e leaves out: our IP and MAC (the host's,
-- else the interface's), and the MAC of dst (nil: not asked). Nothing when
-- the engine is on no kernel interface.
function M.addresses(e, dst, what)
	what = what or "send"
	local me = iface[e] -- read once per engine: this runs for every packet
	if not me then
		local ifname = e:info().ifname
		if not ifname then return nil end
		local nif, why = lab.netif(ifname)
		if not nif then
			error(string.format("%s: %s - run where the engine's interface is "
				.. "(ringlab --netns NAME-lab), or give src_mac= and dst_mac=", what, why), 0)
		end
		me = { mac = nif.mac, ip = nif.ip, ifname = ifname }
		iface[e] = me
	end
	local h = running[e]
	local src_ip = h and h.ip or me.ip or "198.18.0.1"
	local src_mac = h and h.mac or me.mac
	if not dst then return src_ip, src_mac, nil end
	local known = neighbours[e]
	local mac = known and known[dst]
	if mac then return src_ip, src_mac, mac end
	return src_ip, src_mac, M.neighbour(e, dst, { what = what, ip = src_ip, mac = src_mac,
		ifname = me.ifname })
end

function Host:__tostring()
	local c = self.counts
	return string.format("host %s (%s): %d arp replies, %d echo replies, %d other, %d neighbours",
		self.ip, self.mac, c.arp_replies, c.echo_replies, c.other, c.arp_learned)
end

return M
