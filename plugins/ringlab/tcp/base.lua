--[[
tcp/base.lua - what every part of ringlab.tcp shares (internal; the public
module is ringlab.tcp).

The module table itself (lab.tcp), the metatables of stacks, connections
and listeners (each part adds its methods to them), the flag bits, the
defaults, the state names, sequence-number arithmetic modulo 2^32, and the
small helpers: parse "ip:port", read an option with its default, and the
key a connection is found under in its stack. Returns them as one table.
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
	mss_default = 536,   -- the peer's MSS when its SYN has none (or says 0)
	min_snd_mss = 48,    -- the least peer MSS taken (Linux: net.ipv4.tcp_min_snd_mss)
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
	if type(s) ~= "string" or not ip or not port or port < 1 or port > 65535
		or not pcall(host.check_ip, ip, what) then
		error(what .. ": " .. tostring(s) .. " is not ip:port - e.g. \"198.18.0.2:8080\" "
			.. "(four numbers 0-255, a port 1-65535)", 3)
	end
	return ip, port
end

-- The options of connect, listen and stack, checked before anything is
-- made (a call that fails leaves no connection, listener or stack behind).
-- Keys it does not know are left alone (http.serve passes its own).
local function check_num(opts, k, what, lo, hi, integer, example)
	local v = opts[k]
	if v == nil then return end
	local ok = type(v) == "number" and v == v and v >= lo and (not hi or v <= hi)
		and (not integer or math.type(v) == "integer")
	if not ok then
		error(string.format("%s: %s=%s is not allowed - write %s%s, like %s=%s", what, k, tostring(v),
			integer and "a whole number " or "a number ", hi and (lo .. "-" .. hi) or (lo .. " or more"),
			k, example), 0)
	end
end

local STRATEGIES = { copy = true, reuse = true, born = true, sg = true, tso = true, extbuf = true,
	gso = true }

local function check_stack_opts(opts, what)
	if type(opts) ~= "table" then
		error(what .. ": options must be a table, like {ip=\"198.18.0.1\"}", 0)
	end
	if opts.ip ~= nil then host.check_ip(opts.ip, what) end
	if opts.mac ~= nil then host.check_mac(opts.mac, what) end
	check_num(opts, "frames", what, 64, nil, true, 4096)
end

local function check_opts(opts, what)
	check_stack_opts(opts, what)
	if opts.port ~= nil then host.check_port(opts.port, what) end
	if opts.dst_mac ~= nil then host.check_mac(opts.dst_mac, what, "dst_mac") end
	check_num(opts, "mss", what, 48, 65535, true, 1460)
	check_num(opts, "wscale", what, 0, 14, true, 7)
	check_num(opts, "window", what, 1, 1 << 30, true, 262144)
	check_num(opts, "timeout", what, 0, nil, false, 10)
	check_num(opts, "rto_initial", what, 0.001, 600, false, 1)
	check_num(opts, "rto_min", what, 0.001, 600, false, 0.2)
	check_num(opts, "rto_max", what, 0.001, 600, false, 30)
	check_num(opts, "retries", what, 0, 100, true, 10)
	check_num(opts, "ooo_max", what, 0, nil, true, 256)
	check_num(opts, "ack_every", what, 1, nil, true, 2)
	check_num(opts, "time_wait", what, 0, nil, false, 0.5)
	if opts.strategy ~= nil and not STRATEGIES[opts.strategy] then
		error(what .. ": strategy=" .. tostring(opts.strategy) .. " is not a strategy - copy, reuse, "
			.. "born, sg, tso, gso (extbuf on DPDK)", 0)
	end
	if opts.reader ~= nil and opts.reader ~= "inplace" and opts.reader ~= "copy" then
		error(what .. ": reader=" .. tostring(opts.reader) .. " is not a reader mode - inplace or copy", 0)
	end
end

local function opt(opts, k)
	if opts and opts[k] ~= nil then return opts[k] end
	return M.defaults[k]
end

local function key(rip, rport, lport)
	return rip .. ":" .. rport .. ">" .. lport
end

return {
	lab = lab, M = M, Stack = Stack, Conn = Conn, Listener = Listener,
	FIN = FIN, SYN = SYN, RST = RST, PSH = PSH, ACK = ACK, STATES = STATES,
	now = now, sadd = sadd, sdiff = sdiff, slt = slt, sle = sle,
	parse_addr = parse_addr, opt = opt, key = key,
	check_opts = check_opts, check_stack_opts = check_stack_opts,
	check_port = function(p, what, k) return host.check_port(p, what, k) end,
}
