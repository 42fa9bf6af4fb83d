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

local function key(rip, rport, lport)
	return rip .. ":" .. rport .. ">" .. lport
end

return {
	lab = lab, M = M, Stack = Stack, Conn = Conn, Listener = Listener,
	FIN = FIN, SYN = SYN, RST = RST, PSH = PSH, ACK = ACK, STATES = STATES,
	now = now, sadd = sadd, sdiff = sdiff, slt = slt, sle = sle,
	parse_addr = parse_addr, opt = opt, key = key,
}
