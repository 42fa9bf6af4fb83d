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
--]]

local lab = require "ringlab"
local host = require "ringlab.host"

local M = {}
lab.tcp = M

local Stack, Conn, Listener = {}, {}, {}
Stack.__index, Conn.__index, Listener.__index = Stack, Conn, Listener

local FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

-- Defaults; every one can be given per connection (opts) or changed here.
M.defaults = {
	mss = 1460,          -- what we advertise (MTU 1500 - 40)
	wscale = 7,          -- our window scale (window up to 8 MiB)
	window = 256 * 1024, -- receive buffer in bytes (also capped by the region)
	rto_initial = 1.0,   -- seconds (RFC 6298)
	rto_min = 0.2,       -- Linux's minimum
	rto_max = 30,
	retries = 10,        -- timeouts in a row before the connection is given up
	ooo_max = 256,       -- out-of-order segments held before dropping more
	ack_every = 2,       -- ACK after this many segments (and at each batch end)
	timeout = 10,        -- seconds connect/recv/accept/close wait by default
	time_wait = 0.5,     -- seconds a closed connection still answers a late FIN
	strategy = "copy",
	reader = "inplace",
}

local STATES = { "CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT" }

local function now() return lab.now() end

---------------------------------------------------------------------------
-- Sequence numbers: 32 bits, compared modulo 2^32 (RFC 793 / 1982).

local function sadd(a, n) return (a + n) & 0xffffffff end
local function sdiff(a, b) -- a - b, as a signed 32-bit distance
	local d = (a - b) & 0xffffffff
	return d >= 0x80000000 and d - 0x100000000 or d
end
local function slt(a, b) return sdiff(a, b) < 0 end
local function sle(a, b) return sdiff(a, b) <= 0 end
M.seq = { add = sadd, diff = sdiff, lt = slt, le = sle }

local function parse_addr(s, what)
	local ip, port = tostring(s):match("^(%d+%.%d+%.%d+%.%d+):(%d+)$")
	port = tonumber(port)
	if not ip or not port or port < 1 or port > 65535 then
		error(what .. ": " .. tostring(s) .. " is not ip:port - e.g. \"198.18.0.2:8080\"", 3)
	end
	return ip, port
end

local function opt(opts, k)
	if opts and opts[k] ~= nil then return opts[k] end
	return M.defaults[k]
end

---------------------------------------------------------------------------
-- The scheduler: every stack is polled, every task resumed, by whoever waits.

M.stacks = {}      -- in order of creation
local by_engine = setmetatable({}, { __mode = "k" })
local tasks = {}   -- coroutines started with M.spawn
local running      -- the task being resumed, if any

-- One round: every stack takes its packets and runs its timers, then every
-- task runs until it waits again. Returns the packets received.
function M.poll()
	local n = 0
	for i = #M.stacks, 1, -1 do
		local st = M.stacks[i]
		if st.e:info().closed then
			table.remove(M.stacks, i)
		else
			n = n + st:poll()
		end
	end
	if running == nil then
		for i = #tasks, 1, -1 do
			local t = tasks[i]
			running = t
			local ok, err = coroutine.resume(t.co)
			running = nil
			if not ok then
				t.error = debug.traceback(t.co, tostring(err))
				table.remove(tasks, i)
			elseif coroutine.status(t.co) == "dead" then
				t.done = true
				table.remove(tasks, i)
			end
		end
	end
	return n
end

-- Wait until cond() is true: inside a task, by yielding to the scheduler;
-- otherwise by polling everything. Raises "<what> timed out" after timeout
-- seconds (nil: no limit).
function M.wait(cond, timeout, what)
	local deadline = timeout and now() + timeout
	while not cond() do
		if deadline and now() > deadline then
			error(string.format("%s timed out after %g s", what or "tcp: wait", timeout), 0)
		end
		if running and coroutine.running() == running.co then
			coroutine.yield()
		elseif M.poll() == 0 then
			lab.sleep(0.0002)
		end
	end
end

-- Run fn(...) as a task; it runs whenever anything waits. Returns the task:
-- t.done, t.error.
function M.spawn(fn, ...)
	local args = table.pack(...)
	local t = { co = coroutine.create(function() return fn(table.unpack(args, 1, args.n)) end) }
	tasks[#tasks + 1] = t
	return t
end

-- Poll for `seconds`, or until every task has finished (seconds = nil).
function M.run(seconds)
	local stop = seconds and now() + seconds
	M.wait(function()
		if stop then return now() >= stop end
		return #tasks == 0
	end)
end

---------------------------------------------------------------------------
-- A stack: one per engine. It owns the engine's host (ARP, ping) and gets
-- every TCP packet from it.

-- The stack of engine e, made on first use. opts: ip=, mac=, ifname=, host=
-- (an existing ringlab.host on e).
function M.stack(e, opts)
	local st = by_engine[e]
	if st then return st end
	opts = opts or {}
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
		if not mac and not opts.ifname and info.name == "sim" then
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
		h.inbox[#h.inbox + 1] = pkt
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
	if self.e:info().name ~= "sim" then
		local f = io.popen("ip neigh show " .. ip .. " 2>/dev/null")
		local out = f and f:read("a") or ""
		if f then f:close() end
		local mac = out:match("lladdr (%x%x:%x%x:%x%x:%x%x:%x%x:%x%x)")
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

local function key(rip, rport, lport)
	return rip .. ":" .. rport .. ">" .. lport
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
			zero_windows = 0, window_stalls = 0, rtt_samples = 0, beyond_window = 0 },
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
	for _, ent in ipairs(self.sq) do
		if ent.src and not seen[ent.src] then
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
	self.peer_mss = t.mss or 536
	self.mss = math.min(self.our_mss, self.peer_mss)
	self.peer_wscale = t.wscale
	if t.wscale then
		self.snd_wscale, self.rcv_wscale = math.min(t.wscale, 14), self.our_wscale
	else
		self.snd_wscale, self.rcv_wscale = 0, 0
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
	self:drop_queue()
	for _, h in pairs(self.ooo) do h.pkt:release() end
	self.ooo, self.ooo_n = {}, 0
	self.st.conns[key(self.rip, self.rport, self.lport)] = nil
	self.st.acks[self] = nil
end

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
	local st = M.stack(e, opts)
	local rmac = opts.dst_mac or st:resolve(rip, opts.timeout)
	local lport = opts.port
	if not lport then
		repeat lport = math.random(40000, 60999) until not st.conns[key(rip, rport, lport)]
	end
	local c = new_conn(st, rip, rport, lport, rmac, opts)
	c:set_state("SYN_SENT")
	c.snd_wnd = 1 -- room for the SYN
	c:queue({ ctl = "S", len = 1 })
	c:output()
	M.wait(established(c), opt(opts, "timeout"), "tcp.connect to " .. addr)
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
-- other connections (reuse). Returns the ledger of this send and the
-- segments' info (count, descriptors, header_frames, ...).
function Conn:send(data, opts)
	opts = opts or {}
	self:check()
	if self.state ~= "ESTABLISHED" and self.state ~= "CLOSE_WAIT" then
		error(tostring(self) .. ": cannot send in state " .. self.state, 2)
	end
	local src, ledger = opts.source, nil
	if src and src.conn ~= self then
		ledger = src:restage(self) -- reuse: same frames, this connection's headers
	elseif src then
		ledger = src:ledger()
	else
		local strategy = opts.strategy
			or (type(data) == "string" and "copy" or (self.opts.strategy or M.defaults.strategy))
		if type(data) == "string" and #data == 0 then return { copied = 0, referenced = 0 } end
		src = self:source(data, strategy, self.snd_end)
		ledger = src:ledger()
	end
	local list = src:list()
	for i, s in ipairs(list) do
		local ent = { src = src, i = i, len = s.len, last = i == #list }
		self:queue(ent)
		assert(ent.seq == s.seq, "tcp: the segments were built for another sequence number")
	end
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
	s.snd_una, s.snd_nxt, s.snd_wnd, s.rcv_nxt = self.snd_una, self.snd_nxt, self.snd_wnd, self.rcv_nxt
	s.rto, s.srtt = self.rto, self.srtt
	s.ooo_now, s.unread = self.ooo_n, self.reader:avail()
	s.in_flight = sdiff(self.snd_nxt, self.snd_una)
	s.ledger = {}
	for k, v in pairs(self.ledger) do s.ledger[k] = v end
	s.error = self.error
	return s
end

---------------------------------------------------------------------------
-- Listening.

-- Take connections on port. opts as for connect (they apply to every
-- accepted connection) and backlog= (default 16).
function M.listen(e, port, opts)
	opts = opts or {}
	local st = M.stack(e, opts)
	if st.listeners[port] then error("tcp.listen: port " .. port .. " is taken already", 2) end
	local l = setmetatable({ st = st, port = port, opts = opts, queue = {},
		backlog = opts.backlog or 16, pending = 0, counts = { syns = 0, refused = 0, accepted = 0 } },
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
	c:synchronize(t)
	c.snd_wnd, c.wl1, c.wl2 = 1, t.seq, c.iss
	c:set_state("SYN_RCVD")
	self.pending = self.pending + 1
	c:queue({ ctl = "SA", len = 1 })
	c:output()
	c.snd_wnd = t.window -- unscaled in a SYN
end

function Listener:ready(c)
	self.pending = self.pending - 1
	self.queue[#self.queue + 1] = c
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

function M.show()
	local lines = { string.format("%-22s %-22s %-11s %6s %9s %9s %7s %5s %5s %5s",
		"local", "remote", "state", "mss", "sent", "received", "in-flt", "rtx", "ooo", "dup") }
	for _, c in ipairs(M.connections()) do
		local s = c:stats()
		lines[#lines + 1] = string.format("%-22s %-22s %-11s %6d %9d %9d %7d %5d %5d %5d",
			c.st.ip .. ":" .. c.lport, c.rip .. ":" .. c.rport, c.state, c.mss, s.bytes_out,
			s.bytes_in, s.in_flight, s.retransmits, s.ooo_held, s.dup_segs)
	end
	for _, st in ipairs(M.stacks) do
		for port in pairs(st.listeners) do
			lines[#lines + 1] = string.format("%-22s %-22s %-11s", st.ip .. ":" .. port, "*", "LISTEN")
		end
	end
	if #lines == 1 then lines[#lines + 1] = "(no connections - tcp.connect(e, \"198.18.0.2:8080\") or tcp.listen(e, 8080))" end
	return table.concat(lines, "\n")
end

M.states = STATES
return M
