--[[
strategies_by_engine.lua - the same 64 KiB HTTP POST, every segmentation
strategy, on every engine: one script, and only the line that opens the
engine differs.

  ringlab scripts/strategies_by_engine.lua [sim|afxdp|dpdk|dpdk-ring|dpdk-wire|kernel|all] [BYTES]

For each engine the body is POSTed once per strategy through the lab's
userspace TCP (ringlab.tcp, ringlab.http), and the table shows what each
cost on the sending side: packets handed to the engine, packets on the wire
(gso, tso: the engine cut them), descriptors, payload bytes copied,
referenced, header bytes written (gso: also the engine's copies of them;
tso: only the lab's, the NIC writes the rest), and whether
the other end got the body intact. A strategy an engine cannot do is
skipped, with the engine's own words for why.

  sim        two simulators back to back, the sender's NIC with TSO
             (tso=true); a lab HTTP server on the second
  afxdp      root: a testbed (rlsx-lab/rlsx-peer), AF_XDP in the lab, the
             Linux kernel and a python3 HTTP server in the peer namespace
  dpdk       dpdk-wire when root, else dpdk-ring
  dpdk-ring  two DPDK ports back to back over net_ring (peer=), sharing a
             region; a lab HTTP server on the second. net_ring hands the
             sender's mbufs over, so the receiver copies extbuf and gso
             segments into its own frames (what a wire does) - that copy
             is the receiver's, not in the table
  dpdk-wire  root: a testbed (rlsd-lab/rlsd-peer), net_af_packet on the
             lab's veth, the kernel and python3 in the peer namespace. The
             lab's address is taken off the veth: net_af_packet is a tap,
             and the lab kernel would answer the lab's TCP with RST
  kernel     root: a testbed (rlsk-lab/rlsk-peer), the kernel's own send
             paths (lab.kernel.send: write, writev, sendfile, splice,
             vmsplice, msg_zerocopy) over TCP to the peer's kernel: the
             same bytes, raw (no HTTP), on the same kind of veth
  all        sim, dpdk and (when root) afxdp and kernel, one table

Testbeds are always taken down again.
--]]

local tcp = require "ringlab.tcp"
local http = require "ringlab.http"

local want, size, rows_file = arg[1] or "all", tonumber(arg[2] or 65536), arg[3]
local STRATEGIES = { "copy", "reuse", "born", "sg", "extbuf", "gso", "tso" }

local function sh(cmd)
	local f = io.popen(cmd .. " 2>&1")
	local out = f:read("a")
	local ok = f:close()
	return ok, out
end

local function is_root()
	local _, out = sh("id -u")
	return out:match("^%s*0%s*$") ~= nil
end

local function available(name)
	for _, e in ipairs(lab.engines()) do
		if e.name == name then return e.available, e.why end
	end
	return false, "this build has no " .. name .. " engine"
end

-- The body: every 16 bytes name their offset, so a broken byte shows where.
local function body_of(n)
	local t = {}
	for i = 0, n // 16 - 1 do t[#t + 1] = string.format("%015x\n", i * 16) end
	return table.concat(t) .. string.rep("#", n % 16)
end

local function sha256(s)
	local name = os.tmpname()
	local f = io.open(name, "wb")
	f:write(s)
	f:close()
	local _, out = sh("sha256sum " .. name)
	os.remove(name)
	return out:match("^(%x+)")
end

-- Where the strategy wants the body: a string (copy, reuse, extbuf - app
-- memory, where it lies) or a buffer born in the region (born, sg, gso).
local function payload(e, body, s)
	if s == "born" or s == "sg" or s == "gso" or s == "tso" then
		local b = e:region():alloc(#body)
		b:write(0, body)
		return b
	end
	return body
end

-- nil if engine e can segment with s, else why not (the lab's own error).
local function cannot(e, s)
	if s ~= "extbuf" and s ~= "gso" and s ~= "tso" then return nil end
	local data = s ~= "extbuf" and e:region():alloc(1) or "x"
	local ok, segs = pcall(lab.segment, data, { strategy = s, engine = e, dst = "198.18.0.2:9" })
	if ok then segs:free() end
	if type(data) ~= "string" then data:free() end
	return not ok and tostring(segs):gsub("^segment: ", "") or nil
end

-- POST the body with every strategy; rows of figures.
local function run_all(engine, e, url, body, check)
	local rows = {}
	for _, s in ipairs(STRATEGIES) do
		local why = cannot(e, s)
		if why then
			rows[#rows + 1] = { engine = engine, strategy = s, skipped = why }
		else
			local p = payload(e, body, s)
			local res = http.post(e, url, p, { strategy = s })
			local answer = type(res.body) == "string" and res.body or res.body:string()
			if res.close then res.close() end
			local l = res.ledger
			rows[#rows + 1] = { engine = engine, strategy = s, packets = res.packets,
				wire = (s == "gso" or s == "tso") and (#body + res.info.mss - 1) // res.info.mss or res.packets,
				descs = res.info.descriptors, copied = l.copied or 0,
				referenced = l.referenced or 0, headers = l.headers or 0,
				intact = check(s, answer), rtx = res.stats.retransmits }
			if type(p) ~= "string" then p:free() end
		end
	end
	return rows
end

-- Two engines back to back (sim, or dpdk over net_ring): a lab HTTP server
-- on b that keeps each body, compared with ours.
local function back_to_back(engine, a, b, body)
	for _, e in ipairs({ a, b }) do e:region { frames = 4096, frame_size = 2048, headroom = 256 } end
	tcp.stack(a, { ip = "198.18.0.1", mac = "02:00:00:00:00:01" })
	tcp.stack(b, { ip = "198.18.0.2", mac = "02:00:00:00:00:02" })
	local srv = http.serve(b, { port = 8080, file = "ok\n", strategy = "copy",
		clients = #STRATEGIES, background = true, keep_body = true })
	local i = 0
	local rows = run_all(engine, a, "http://198.18.0.2:8080/upload", body, function()
		i = i + 1
		tcp.wait(function() return #srv.clients >= i end, 10, "the server")
		return srv.clients[i].body == body
	end)
	srv.stop = true
	return rows
end

local function on_sim(body)
	-- the sender's NIC offers TSO (tso=true), so that tso runs too
	local a = lab.open("sim", { mode = "zerocopy", tso = true })
	local b = lab.open("sim", { mode = "zerocopy", peer = a })
	local rows = back_to_back("sim (tso=true)", a, b, body)
	b:close()
	a:close()
	return rows
end

local function on_dpdk_ring(body)
	local a = lab.open("dpdk", { vdev = "net_ring0", log = "error" })
	local b = lab.open("dpdk", { peer = a, log = "error" })
	local rows = back_to_back("dpdk (net_ring pair)", a, b, body)
	b:close()
	a:close()
	return rows
end

-- Inside a testbed's lab namespace (run through ringlab --netns): the
-- engine on its veth, the kernel's server on the other end.
local function inner(engine, tb, body)
	local ifname = tb .. "0"
	local e
	if engine == "afxdp" then
		e = lab.open("afxdp", { ifname = ifname, steer = "all", mode = "copy", sg = true })
		e:region { frames = 4096, frame_size = 2048, headroom = 256 }
	else
		e = lab.open("dpdk", { vdev = "net_af_packet0,iface=" .. ifname, log = "error" })
		e:region { frames = 2048, frame_size = 4096, headroom = 256 }
	end
	tcp.stack(e, { ip = "198.18.0.1", ifname = ifname })
	local digest = sha256(body)
	local rows = run_all(engine == "afxdp" and "afxdp (veth, copy mode)"
		or "dpdk (net_af_packet)", e, "http://198.18.0.2:8080/upload", body,
		function(_, answer) return answer:match("^(%x+)") == digest end)
	e:close()
	return rows
end

-- Rows through a file, for the namespace runs.
local FIELDS = { "engine", "strategy", "skipped", "packets", "wire", "descs", "copied",
	"referenced", "headers", "intact", "rtx" }

local function save_rows(rows, path)
	local f = assert(io.open(path, "w"))
	for _, r in ipairs(rows) do
		local t = {}
		for i, k in ipairs(FIELDS) do t[i] = tostring(r[k] == nil and "" or r[k]):gsub("[\t\n]", " ") end
		f:write(table.concat(t, "\t"), "\n")
	end
	f:close()
end

local function load_rows(path)
	local rows = {}
	for line in io.lines(path) do
		local r, i = {}, 0
		for v in (line .. "\t"):gmatch("([^\t]*)\t") do
			i = i + 1
			r[FIELDS[i]] = tonumber(v) or (v ~= "" and v or nil)
		end
		r.intact = r.intact == "true"
		rows[#rows + 1] = r
	end
	return rows
end

-- The ringlab program running us: $RINGLAB_BIN, else popen's parent.
local function ringlab_bin()
	local env = os.getenv("RINGLAB_BIN")
	if env then return env end
	local _, exe = sh("readlink /proc/$PPID/exe")
	exe = exe:gsub("%s+$", "")
	return exe:match("/ringlab$") and exe or "ringlab"
end

-- A testbed, the peer's server, ourselves in the lab namespace; always
-- torn down.
local function on_testbed(engine, tb)
	local testbed = require "ringlab.testbed"
	testbed.down { name = tb, force = true }
	testbed.up { name = tb }
	local dir = lab.tempdir() -- mkdtemp: no tmpname-then-mkdir race
	local here = arg[0]:match("^(.*)/[^/]*$") or "."
	-- the commands below are built from these paths: plain ones only
	for _, path in ipairs({ dir, here, arg[0], ringlab_bin() }) do
		if not path:match("^[%w_./+-]+$") then
			error(string.format("strategies_by_engine: the path %q has characters a shell "
				.. "would read - run it from a plain path", path), 0)
		end
	end
	local rows
	local ok, err = pcall(function()
		-- The peer's kernel must send segments, not 64 KiB GSO super-packets.
		sh(string.format("ip netns exec %s-peer ethtool -K %s1 tso off gso off", tb, tb))
		if engine == "dpdk" then -- the tap's frames must not reach the lab kernel's TCP
			sh(string.format("ip -n %s-lab addr flush dev %s0", tb, tb))
		end
		os.execute(string.format("ip netns exec %s-peer python3 %s/../tests/net/http_sha_server.py "
			.. "198.18.0.2 8080 %s/ready 120 >/dev/null 2>&1 &", tb, here, dir))
		for _ = 1, 100 do
			local r = io.open(dir .. "/ready")
			if r then r:close() break end
			lab.sleep(0.05)
		end
		local done = os.execute(string.format("%s --netns %s-lab %s inner-%s %d %s/rows",
			ringlab_bin(), tb, arg[0], engine, size, dir))
		if not done then error("the lab side failed (above)", 0) end
		rows = load_rows(dir .. "/rows")
	end)
	sh(string.format("ip netns pids %s-peer | xargs -r kill", tb))
	lab.sleep(0.2)
	testbed.down { name = tb, force = true }
	os.remove(dir .. "/ready")
	os.remove(dir .. "/rows")
	os.remove(dir)
	if not ok then error(err, 0) end
	return rows
end

-- The kernel's own paths (lab.kernel.send) from a testbed's lab namespace
-- to its peer: one row per path; always torn down.
local KERNEL = "kernel paths (TCP over the veth to the peer's kernel; raw body)"
local function on_kernel(tb)
	local testbed = require "ringlab.testbed"
	testbed.down { name = tb, force = true }
	testbed.up { name = tb }
	local rows = {}
	local ok, err = pcall(function()
		for _, path in ipairs(lab.kernel.paths()) do
			local r = lab.kernel.send { path = path, size = size, testbed = tb }
			rows[#rows + 1] = { engine = KERNEL, strategy = path, kernel = true, calls = r.syscalls,
				copied = r.program_copied, kernel_copied = r.kernel_copied, how = r.kernel_how,
				referenced = r.ledger.referenced, cpu = r.cpu_ms_per_mib, intact = r.intact }
		end
	end)
	testbed.down { name = tb, force = true }
	if not ok then error(err, 0) end
	return rows
end

-- Within 80 columns: a heading per engine, then its rows; a skip's reason
-- cut between words under the strategy's column.
local function wrap(text, first, indent, width)
	local lines, line = {}, first
	for word in text:gmatch("%S+") do
		if #line + 1 + #word > width and #line > #indent then
			lines[#lines + 1] = line
			line = indent .. word
		else
			line = line .. (line:match("%S$") and " " or "") .. word
		end
	end
	lines[#lines + 1] = line
	return table.concat(lines, "\n")
end

local function print_table(rows, n)
	print(string.format("\n%d-byte HTTP POST body, sent with each strategy:", n))
	local engine
	for _, r in ipairs(rows) do
		if r.engine ~= engine then
			engine = r.engine
			print("\n" .. engine)
			if r.kernel then
				print(string.format("  %-12s %5s %7s %13s %10s %8s  %s", "path", "calls",
					"copied", "kernel_copied", "referenced", "CPUms/M", "intact"))
			elseif r.strategy ~= "-" then
				print(string.format("  %-8s %7s %5s %6s %8s %11s %8s  %s", "strategy",
					"handed", "wire", "descs", "copied", "referenced", "headers", "intact"))
			end
		end
		if r.kernel then
			print(string.format("  %-12s %5d %7d %13s %10d %8.2f  %s", r.strategy, r.calls,
				r.copied, string.format("%d %s", r.kernel_copied, r.how:sub(1, 4) .. "."),
				r.referenced, r.cpu, r.intact and "yes" or "NO"))
		elseif r.skipped then
			local head = r.strategy == "-" and "  skipped:" or string.format("  %-8s  skipped:", r.strategy)
			print(wrap(r.skipped, head, "            ", 79))
		else
			print(string.format("  %-8s %7d %5d %6d %8d %11d %8d  %s", r.strategy,
				r.packets, r.wire, r.descs, r.copied, r.referenced, r.headers,
				r.intact and "yes" or "NO"))
		end
	end
	print([[

handed: packets the lab gave the engine; wire: packets that left it.
copy/reuse: the body copied into frames. born/sg: it was allocated in the
region and is sent where it lies. extbuf: it stays in the program's own
memory (here a Lua string), attached to mbufs behind a header frame. gso:
one large packet per 16 segments, cut by the engine - it copies the
headers of every segment (headers), references the payload. tso: the
same large packets, cut by the NIC, which writes every segment's headers
itself: the lab's column counts only the 3 it wrote.]])
	for _, r in ipairs(rows) do
		if r.kernel then
			print([[
kernel paths: calls are the program's syscalls; kernel_copied is measured
(meas.) where the kernel says so (MSG_ZEROCOPY's completions, vmsplice's
probe) or derived (deri.) from how the path works; CPUms/M is the
sender's CPU per MiB (getrusage). docs/kernel.md explains each path.]])
			break
		end
	end
end

local body = body_of(size)
local rows = {}
local function add(t) for _, r in ipairs(t) do rows[#rows + 1] = r end end

local function dpdk_auto()
	local ok, why = available("dpdk")
	if not ok then
		return { { engine = "dpdk", strategy = "-", skipped = why } }
	end
	if is_root() then return on_testbed("dpdk", "rlsd") end
	return on_dpdk_ring(body)
end

if want:match("^inner%-") then
	save_rows(inner(want:sub(7), want == "inner-afxdp" and "rlsx" or "rlsd", body), rows_file)
	return
elseif want == "sim" then
	add(on_sim(body))
elseif want == "dpdk-ring" then
	add(on_dpdk_ring(body))
elseif want == "dpdk-wire" or want == "afxdp" then
	local engine = want == "afxdp" and "afxdp" or "dpdk"
	local ok, why = available(engine)
	if not ok then error(want .. " asked for, but " .. tostring(why), 0) end
	if not is_root() then error(want .. " asked for, but it needs root (a testbed)", 0) end
	add(on_testbed(engine, engine == "afxdp" and "rlsx" or "rlsd"))
elseif want == "dpdk" then
	add(dpdk_auto())
elseif want == "kernel" then
	if not is_root() then error("kernel asked for, but it needs root (a testbed)", 0) end
	add(on_kernel("rlsk"))
elseif want == "all" then
	add(on_sim(body))
	add(dpdk_auto())
	local ok, why = available("afxdp")
	if ok and is_root() then
		add(on_testbed("afxdp", "rlsx"))
	else
		rows[#rows + 1] = { engine = "afxdp", strategy = "-",
			skipped = ok and "needs root (a testbed)" or why }
	end
	if is_root() then
		add(on_kernel("rlsk"))
	else
		rows[#rows + 1] = { engine = KERNEL, strategy = "-", skipped = "needs root (a testbed)" }
	end
else
	error("give sim, afxdp, dpdk, dpdk-ring, dpdk-wire, kernel or all - not " .. want, 0)
end
print_table(rows, size)
for _, r in ipairs(rows) do
	if not r.skipped and not r.intact then
		error(r.engine .. ": the server did not get the body intact with " .. r.strategy, 0)
	end
end
