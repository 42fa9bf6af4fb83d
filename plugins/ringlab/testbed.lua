--[[
testbed.lua - a real wire for the real engines, inside two namespaces.

AF_XDP and DPDK need an interface to talk to. `ringlab testbed up` makes
one that cannot disturb anything else: two network namespaces made for the
lab, `<name>-lab` and `<name>-peer`, joined by a veth pair. The lab side
`<name>0` (198.18.0.1/24) is where ringlab's engines attach; the peer side
`<name>1` (198.18.0.2/24) is left to the ordinary Linux stack, so programs
like python3 or socat run there (`ip netns exec <name>-peer ...`) are the
real other end. 198.18.0.0/15 is the RFC 2544 benchmarking range: it is
never routed anywhere.

Three things make the wire quiet and honest for a lab:
  * IPv6 is off in both namespaces, so no router or neighbour solicitations
    show up in the RX ring uninvited;
  * the peer's veth does not offload its transmit checksum, so the frames
    that reach the lab carry real UDP checksums (with offload they carry
    only a partial sum that a real NIC would have completed);
  * each side has a permanent neighbour entry for the other, because the
    lab's AF_XDP socket may take every frame, ARP requests included, and
    then nobody would answer them. `neigh=false` leaves them out (and
    removes them on a second `up`): then ARP must really be answered, by
    the kernel (steer=PORTS) or by ringlab.host (steer=all).

`up` and `down` are idempotent. `down` deletes both namespaces, which
deletes the veth pair and with it any XDP program attached to it.
Everything here runs `ip` (iproute2) as argument vectors - lab.run, no
shell - and needs root.

`queues=N` gives each veth N RX and N TX queues (numrxqueues/numtxqueues),
for one AF_XDP socket per queue. On a veth, a frame arrives on the RX queue
whose number is the TX queue the sender's kernel picked (a hash of its flow):
several flows (different UDP ports) from the peer reach several queues.

Use from the shell:   ringlab testbed up|down|status|shell [name=rl mtu=1500 queues=1 neigh=true]
Use from a script:    local tb = require "ringlab.testbed"
                      tb.up{name="t1", mtu=9000, queues=2, neigh=false} ... tb.down{name="t1"}
--]]

local M = {}

M.LAB_IP = "198.18.0.1"
M.PEER_IP = "198.18.0.2"
M.PREFIX = 24

-- Run a command; return ok, combined output.
local function run(cmd)
	local f = io.popen(cmd .. " 2>&1", "r")
	if not f then
		return false, "could not start: " .. cmd
	end
	local out = f:read("a") or ""
	local ok = f:close()
	return ok == true, out
end

-- Run an argument vector; return ok, combined output. Inside ringlab,
-- lab.run execs it (no shell). Under a plain lua5.4 (the tests' testbed_cli)
-- there is no exec: the words go to io.popen only if each is plain (letters,
-- digits and _ . : / = -), so that no shell can read anything into them.
local function runv(argv)
	local lab = rawget(_G, "lab")
	if type(lab) == "table" and lab.run then
		local ok, out = lab.run(argv)
		return ok, out
	end
	for _, w in ipairs(argv) do
		if not tostring(w):match("^[%w_.:/=-]+$") then
			error("testbed: " .. string.format("%q", tostring(w))
				.. " has characters a shell would read - refused", 0)
		end
	end
	return run(table.concat(argv, " "))
end

-- The same, and it must succeed; raise a clear error otherwise.
local function mustv(argv, what)
	local ok, out = runv(argv)
	if not ok then
		error(string.format("testbed: could not %s - `%s` said: %s",
			what, table.concat(argv, " "), (out:gsub("%s+$", ""))), 0)
	end
	return out
end

local function need_root()
	local ok, out = runv({ "id", "-u" })
	if not ok or out:match("^%s*(%d+)") ~= "0" then
		error("the testbed needs root: run as root (sudo ringlab testbed up)", 0)
	end
	if not runv({ "ip", "-V" }) then
		error("the testbed needs iproute2's `ip` command: install iproute2", 0)
	end
end

-- Names of everything one testbed makes.
local function names(opts)
	opts = opts or {}
	local name = opts.name or "rl"
	if type(name) ~= "string" or not name:match("^[%a][%w_]*$") or #name > 12 then
		error("testbed: name must be 1-12 letters, digits or _ starting with a letter "
			.. "(interface names are at most 15 characters), got " .. tostring(name), 0)
	end
	return {
		name = name,
		lab = name .. "-lab",
		peer = name .. "-peer",
		lab_if = name .. "0",
		peer_if = name .. "1",
	}
end

local function mtu_of(opts)
	local mtu = tonumber(opts.mtu or 1500)
	if not mtu or mtu ~= math.floor(mtu) or mtu < 576 or mtu > 9000 then
		error("testbed: mtu must be a whole number from 576 to 9000 "
			.. "(1500 is Ethernet, 9000 a jumbo frame for multi-buffer), got "
			.. tostring(opts.mtu), 0)
	end
	return mtu
end

-- queues=N: RX and TX queues of each veth (1..8; AF_XDP binds one socket
-- per queue, the XDP program steers by queue index).
local function queues_of(opts)
	local q = tonumber(opts.queues or 1)
	if not q or q ~= math.floor(q) or q < 1 or q > 8 then
		error("testbed: queues must be a whole number from 1 to 8 (RX/TX queues of "
			.. "each veth, e.g. queues=2 for two AF_XDP sockets), got "
			.. tostring(opts.queues), 0)
	end
	return math.floor(q)
end

local function ns_exists(ns)
	local _, out = runv({ "ip", "netns", "list" })
	for line in out:gmatch("[^\n]+") do
		if line:match("^(%S+)") == ns then
			return true
		end
	end
	return false
end

-- One line of `ip -o link show` for ifname in ns, or nil.
local function link_line(ns, ifname)
	if not ns_exists(ns) then
		return nil
	end
	local ok, out = runv({ "ip", "-n", ns, "-o", "link", "show", "dev", ifname })
	if not ok then
		return nil
	end
	return out
end

local function mac_of(ns, ifname)
	local line = link_line(ns, ifname)
	return line and line:match("link/ether (%x%x:%x%x:%x%x:%x%x:%x%x:%x%x)")
end

local function make_ns(ns)
	if ns_exists(ns) then
		return
	end
	mustv({ "ip", "netns", "add", ns }, "create namespace " .. ns)
	-- A quiet wire: no IPv6 chatter in the lab's RX ring.
	runv({ "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
		"net.ipv6.conf.default.disable_ipv6=1" })
end

-- The RX and TX queues of ifname in ns (`ip -d link`), or nil.
local function queues_now(ns, ifname)
	local ok, out = runv({ "ip", "-n", ns, "-d", "-o", "link", "show", "dev", ifname })
	if not ok then
		return nil
	end
	return tonumber(out:match("numrxqueues (%d+)")), tonumber(out:match("numtxqueues (%d+)"))
end

-- The veth pair, with queues RX and TX queues on each side. A veth's
-- queue count is fixed when it is made: another count remakes the pair.
local function make_link(n, queues)
	if link_line(n.lab, n.lab_if) then
		local rxq = queues_now(n.lab, n.lab_if)
		if rxq == nil or rxq == queues then
			return
		end
		mustv({ "ip", "-n", n.lab, "link", "del", "dev", n.lab_if },
			"remake the veth pair with " .. queues .. " queues")
	end
	local q = tostring(queues)
	mustv({ "ip", "-n", n.lab, "link", "add", n.lab_if, "numtxqueues", q, "numrxqueues", q,
		"type", "veth", "peer", "name", n.peer_if, "numtxqueues", q, "numrxqueues", q,
		"netns", n.peer }, "create the veth pair")
end

-- Permanent neighbour entries on both sides (neigh=true), or none, so
-- that ARP has to work (neigh=false).
local function neighbours(n, neigh)
	local lab_mac, peer_mac = mac_of(n.lab, n.lab_if), mac_of(n.peer, n.peer_if)
	if not neigh then
		runv({ "ip", "-n", n.peer, "neigh", "del", M.LAB_IP, "dev", n.peer_if })
		runv({ "ip", "-n", n.lab, "neigh", "del", M.PEER_IP, "dev", n.lab_if })
		return
	end
	mustv({ "ip", "-n", n.peer, "neigh", "replace", M.LAB_IP, "lladdr", tostring(lab_mac),
		"dev", n.peer_if, "nud", "permanent" }, "add the peer's neighbour entry")
	mustv({ "ip", "-n", n.lab, "neigh", "replace", M.PEER_IP, "lladdr", tostring(peer_mac),
		"dev", n.lab_if, "nud", "permanent" }, "add the lab's neighbour entry")
end

-- Settings that `up` (re)applies every time, so a second `up` with another
-- mtu changes it in place.
local function configure(n, mtu, neigh)
	for _, side in ipairs({ { n.lab, n.lab_if, M.LAB_IP }, { n.peer, n.peer_if, M.PEER_IP } }) do
		local ns, ifname, ip = side[1], side[2], side[3]
		mustv({ "ip", "-n", ns, "link", "set", "dev", "lo", "up" }, "bring up lo in " .. ns)
		mustv({ "ip", "-n", ns, "link", "set", "dev", ifname, "mtu", tostring(mtu) },
			"set mtu " .. mtu .. " on " .. ifname)
		mustv({ "ip", "-n", ns, "addr", "replace", ip .. "/" .. M.PREFIX, "dev", ifname },
			"give " .. ifname .. " its address")
		mustv({ "ip", "-n", ns, "link", "set", "dev", ifname, "up" }, "bring up " .. ifname)
	end
	-- Real checksums in frames that reach the lab (see the top of this file).
	runv({ "ip", "netns", "exec", n.peer, "ethtool", "-K", n.peer_if, "tx", "off" })
	neighbours(n, neigh)
end

function M.up(opts)
	opts = opts or {}
	need_root()
	local n, mtu, queues = names(opts), mtu_of(opts), queues_of(opts)
	local existing = M.status(opts)
	if existing.up and opts.mtu == nil then
		mtu = existing.mtu -- a second `up` without mtu= keeps the mtu
	end
	if existing.up and opts.queues == nil then
		queues = existing.queues or 1 -- and its queues
	end
	if existing.up and existing.xdp and queues ~= (existing.queues or 1) then
		error(string.format("testbed: %s has an XDP program (an engine is open on it) - "
			.. "close it before `up queues=%d` remakes the veth pair", n.lab_if, queues), 0)
	end
	make_ns(n.lab)
	make_ns(n.peer)
	make_link(n, queues)
	local neigh = opts.neigh
	if neigh == nil and existing.up then
		neigh = existing.neigh == "static" -- a second `up` keeps it too
	end
	configure(n, mtu, neigh ~= false and neigh ~= "false" and neigh ~= "0")
	return M.status(opts)
end

local function pids_in(ns)
	if not ns_exists(ns) then
		return {}
	end
	local _, out = runv({ "ip", "netns", "pids", ns })
	local pids = {}
	for pid in out:gmatch("%d+") do
		pids[#pids + 1] = pid
	end
	return pids
end

function M.down(opts)
	opts = opts or {}
	need_root()
	local n = names(opts)
	for _, ns in ipairs({ n.lab, n.peer }) do
		local pids = pids_in(ns)
		if #pids > 0 and not opts.force then
			error(string.format("testbed: processes still run inside %s (pids %s); its "
				.. "links and XDP programs live until they exit - quit them, or "
				.. "`testbed down force=true` to delete the names anyway",
				ns, table.concat(pids, " ")), 0)
		end
	end
	for _, ns in ipairs({ n.lab, n.peer }) do
		if ns_exists(ns) then
			mustv({ "ip", "netns", "del", ns }, "delete namespace " .. ns)
		end
	end
	return M.status(opts)
end

-- What exists now: {up=, name=, lab=, peer=, lab_if=, peer_if=, mtu=,
-- lab_mac=, peer_mac=, xdp=<prog id or nil>, xdp_mode=, lab_ip=, peer_ip=}
function M.status(opts)
	local n = names(opts)
	local s = {
		name = n.name, lab = n.lab, peer = n.peer, lab_if = n.lab_if,
		peer_if = n.peer_if, lab_ip = M.LAB_IP, peer_ip = M.PEER_IP,
		lab_ns = ns_exists(n.lab), peer_ns = ns_exists(n.peer),
	}
	local line = link_line(n.lab, n.lab_if)
	if line then
		s.mtu = tonumber(line:match(" mtu (%d+)"))
		s.lab_mac = line:match("link/ether (%S+)")
		s.state = line:match(" state (%u+)")
		s.xdp = line:match("prog/xdp id (%d+)")
		s.xdp_mode = s.xdp and (line:match("(xdp%a*)") or "xdp")
		s.queues = queues_now(n.lab, n.lab_if)
	end
	s.peer_mac = mac_of(n.peer, n.peer_if)
	if line then
		local _, nb = runv({ "ip", "-n", n.peer, "neigh", "show", M.LAB_IP, "dev", n.peer_if })
		s.neigh = nb:find("PERMANENT") and "static" or "arp"
	end
	s.up = (s.lab_ns and s.peer_ns and line ~= nil and s.peer_mac ~= nil) or false
	s.gone = not s.lab_ns and not s.peer_ns
	return s
end

local function describe(s)
	if s.gone then
		return string.format("testbed %s: down (no namespace %s or %s)", s.name, s.lab, s.peer)
	end
	if not s.up then
		return string.format("testbed %s: half made (namespace %s %s, %s %s) - "
			.. "`ringlab testbed up name=%s` completes it, `down` removes it", s.name,
			s.lab, s.lab_ns and "exists" or "missing", s.peer,
			s.peer_ns and "exists" or "missing", s.name)
	end
	return table.concat({
		string.format("testbed %s: up, mtu %d%s", s.name, s.mtu or 0,
			(s.queues or 1) > 1 and string.format(", %d queues", s.queues) or ""),
		string.format("  lab   namespace %-10s %s %s/%d %s (engines attach here)",
			s.lab, s.lab_if, s.lab_ip, M.PREFIX, s.lab_mac or "?"),
		string.format("  peer  namespace %-10s %s %s/%d %s (the Linux stack)",
			s.peer, s.peer_if, s.peer_ip, M.PREFIX, s.peer_mac or "?"),
		string.format("  neigh %s", s.neigh == "static"
			and "static: permanent entries on both sides (neigh=false for real ARP)"
			or "arp: no static entries - someone must answer ARP (ringlab.host, or the kernel)"),
		string.format("  xdp   %s", s.xdp and ("program id " .. s.xdp .. " on " .. s.lab_if
			.. " (" .. s.xdp_mode .. ")") or "no program attached"),
		string.format("  next  ringlab --netns %s     (peer: ip netns exec %s <cmd>)",
			s.lab, s.peer),
	}, "\n")
end
M.describe = describe

-- Where the ringlab program is, for `testbed shell`: $RINGLAB_BIN, else
-- the program running us (the parent of popen's sh), else the PATH's.
local function ringlab_bin()
	local env = os.getenv("RINGLAB_BIN")
	if env then
		return env
	end
	local _, exe = run("readlink /proc/$PPID/exe")
	exe = exe:gsub("%s+$", "")
	return exe:match("/ringlab$") and exe or "ringlab"
end

M.describe = describe

local USAGE = "usage: ringlab testbed up|down|status|shell [name=rl] [mtu=1500] [queues=1] [neigh=true] [force=true]"

-- ringlab testbed <cmd> key=value...; returns the exit status (0 = fine).
function M.main(args)
	args = args or {}
	local cmd, opts = nil, {}
	for _, a in ipairs(args) do
		local k, v = tostring(a):match("^([%w_]+)=(.*)$")
		if k then
			opts[k] = v
		elseif not cmd then
			cmd = a
		else
			error("testbed: unexpected argument " .. tostring(a) .. " - " .. USAGE, 0)
		end
	end
	opts.force = opts.force == "true" or opts.force == "1"
	if cmd == "up" then
		print(describe(M.up(opts)))
	elseif cmd == "down" then
		print(describe(M.down(opts)))
	elseif cmd == "status" or cmd == nil then
		print(describe(M.status(opts)))
	elseif cmd == "shell" then
		-- the command line is built from these two: the program's path
		-- (its own, or $RINGLAB_BIN) and the checked name; a path with
		-- anything a shell would read is refused, not run
		local bin = ringlab_bin()
		if not bin:match("^[%w_./+-]+$") then
			error("testbed shell: the ringlab program path " .. string.format("%q", bin)
				.. " has characters a shell would read - give RINGLAB_BIN as a plain path", 0)
		end
		local s = M.status(opts)
		if not s.up then
			error("testbed " .. s.name .. " is not up - run `ringlab testbed up name="
				.. s.name .. "` first", 0)
		end
		local lab = rawget(_G, "lab")
		if type(lab) == "table" and lab.run then -- an argument vector, no shell
			local _, _, code = lab.run { bin, "--netns", s.lab, inherit = true }
			return code
		end
		local ok, _, code = os.execute(string.format("%s --netns %s", bin, s.lab))
		return ok and 0 or (code or 1)
	else
		error("testbed: unknown command " .. tostring(cmd) .. " - " .. USAGE, 0)
	end
	return 0
end

return M
