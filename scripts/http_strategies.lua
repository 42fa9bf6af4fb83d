--[[
http_strategies.lua - the seed question, answered with numbers.

An application has a big HTTP request - here a 64 KiB POST - spanning many
TCP segments. How is it turned into packets, with how many copies? This
script sends the same POST with each segmentation strategy through the
lab's userspace TCP and prints, side by side, what each one cost:
packets, descriptors, payload bytes copied, payload bytes referenced (sent
where they lay), header bytes written, and whether the server got the body
intact (it answers with its sha256).

  ringlab scripts/http_strategies.lua [auto|afxdp|sim] [BYTES]

afxdp (the default when root): a testbed of its own (namespaces
rlhs-lab/rlhs-peer), AF_XDP on the lab side, and the Linux kernel's TCP
with a small python3 HTTP server in the peer namespace - the real other
end. It takes the testbed down again whatever happens.
sim (the default otherwise, and what it falls back to, saying so): two
simulators back to back with a lab TCP and HTTP server on each side.
--]]

local tcp = require "ringlab.tcp"
local http = require "ringlab.http"

local want, size = arg[1] or "auto", tonumber(arg[2] or 65536)
local STRATEGIES = { "copy", "reuse", "born", "sg" }
local TB = "rlhs"

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

local function afxdp_available()
	for _, e in ipairs(lab.engines()) do
		if e.name == "afxdp" then return e.available, e.why end
	end
	return false, "this build has no afxdp engine"
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

-- The body where the strategy wants it: a string (copy, reuse) or a buffer
-- born in the region (born, sg).
local function payload(e, body, s)
	if s == "born" or s == "sg" then
		local b = e:region():alloc(#body)
		b:write(0, body)
		return b
	end
	return body
end

-- POST the body with every strategy; rows of figures.
local function run_all(e, url, body, check)
	local rows = {}
	for _, s in ipairs(STRATEGIES) do
		local p = payload(e, body, s)
		local res = http.post(e, url, p, { strategy = s })
		local answer = type(res.body) == "string" and res.body or res.body:string()
		if res.close then res.close() end
		rows[#rows + 1] = { strategy = s, packets = res.packets, descs = res.info.descriptors,
			header_frames = res.info.header_frames, ledger = res.ledger, status = res.status,
			intact = check(s, answer), rtx = res.stats.retransmits }
		if type(p) ~= "string" then p:free() end
	end
	return rows
end

local function print_table(rows, where, n)
	print(string.format("\n%d-byte HTTP POST body, %s:\n", n, where))
	print(string.format("%-8s %8s %12s %13s %12s %12s %9s  %s", "strategy", "packets", "descriptors",
		"header frames", "copied", "referenced", "headers", "server got it"))
	for _, r in ipairs(rows) do
		print(string.format("%-8s %8d %12d %13d %12d %12d %9d  %s", r.strategy, r.packets, r.descs,
			r.header_frames, r.ledger.copied or 0, r.ledger.referenced or 0, r.ledger.headers or 0,
			r.intact and ("yes (HTTP " .. r.status .. ")") or "NO"))
	end
	print([[

copy: every payload byte is copied behind fresh headers (copied = body).
reuse: copied once into frames, kept; resending (another client, a
       retransmission) rewrites only the headers - see http.serve.
born: the body was allocated in the region; each segment is sent where it
      lies, its headers in the headroom or a header frame: nothing copied.
sg:   a header frame chained to the payload where it lies (AF_XDP multi-
      buffer / an mbuf chain): nothing copied, one more descriptor each.]])
end

local function on_sim(reason)
	print("engine: two simulators back to back (" .. reason .. ")")
	local a = lab.open("sim", { mode = "zerocopy" })
	local b = lab.open("sim", { mode = "zerocopy", peer = a })
	for _, e in ipairs({ a, b }) do e:region { frames = 4096, frame_size = 2048, headroom = 256 } end
	tcp.stack(a, { ip = "198.18.0.1" })
	tcp.stack(b, { ip = "198.18.0.2" })
	local srv = http.serve(b, { port = 8080, file = "ok\n", strategy = "copy",
		clients = #STRATEGIES, background = true, keep_body = true })
	local body = body_of(size)
	local i = 0
	local rows = run_all(a, "http://198.18.0.2:8080/upload", body, function()
		i = i + 1
		tcp.wait(function() return #srv.clients >= i end, 10, "the server")
		return srv.clients[i].body == body
	end)
	tcp.run()
	print_table(rows, "lab TCP to a lab TCP + HTTP server on a second simulator", size)
	return rows
end

local PEER_SERVER = [[
import hashlib, http.server, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        out = hashlib.sha256(body).hexdigest().encode()
        self.send_response(200); self.send_header("Content-Length", str(len(out)))
        self.send_header("Connection", "close"); self.end_headers(); self.wfile.write(out)
        self.close_connection = True
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("198.18.0.2", 8080), H)
threading.Timer(float(sys.argv[2]), srv.shutdown).start()
open(sys.argv[1], "w").close()
srv.serve_forever()
]]

-- Inside the lab namespace (run by on_afxdp through ringlab --netns).
local function afxdp_inner()
	local e = lab.open("afxdp", { ifname = TB .. "0", steer = "all", mode = "copy", sg = true })
	e:region { frames = 4096, frame_size = 2048, headroom = 256 }
	tcp.stack(e, { ip = "198.18.0.1", ifname = TB .. "0" })
	local body = body_of(size)
	local digest = sha256(body)
	print("engine: afxdp on " .. TB .. "0 (testbed " .. TB .. "), peer: the Linux kernel + python3 http.server")
	local rows = run_all(e, "http://198.18.0.2:8080/upload", body, function(_, answer)
		return answer == digest
	end)
	print_table(rows, "lab TCP over AF_XDP to the Linux kernel's TCP", size)
	e:close()
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

-- Make the testbed and the peer's server, run the lab side in its
-- namespace, and take everything down again.
local function on_afxdp()
	local tb = require "ringlab.testbed"
	tb.down { name = TB, force = true }
	tb.up { name = TB }
	local ready = os.tmpname()
	os.remove(ready)
	local py = os.tmpname()
	local ok, err = pcall(function()
		-- The peer's kernel must send segments, not 64 KiB GSO super-packets.
		sh(string.format("ip netns exec %s-peer ethtool -K %s1 tso off gso off", TB, TB))
		local f = io.open(py, "w")
		f:write(PEER_SERVER)
		f:close()
		os.execute(string.format("ip netns exec %s-peer python3 %s %s 60 >/dev/null 2>&1 &", TB, py, ready))
		for _ = 1, 100 do
			local r = io.open(ready)
			if r then r:close() break end
			lab.sleep(0.05)
		end
		local done = os.execute(string.format("%s --netns %s-lab %s afxdp-inner %d", ringlab_bin(),
			TB, arg[0], size))
		if not done then error("the lab side failed (above)", 0) end
	end)
	sh(string.format("ip netns pids %s-peer | xargs -r kill", TB))
	lab.sleep(0.2)
	tb.down { name = TB, force = true }
	os.remove(ready)
	os.remove(py)
	if not ok then error(err, 0) end
	return {}
end

local rows
if want == "afxdp-inner" then
	rows = afxdp_inner()
elseif want == "sim" then
	rows = on_sim("asked for")
else
	local ok, why = afxdp_available()
	if want == "afxdp" and not (ok and is_root()) then
		error("afxdp asked for, but " .. (ok and "it needs root" or why), 0)
	end
	if ok and is_root() then
		rows = on_afxdp()
	else
		rows = on_sim(ok and "not root: the testbed needs root" or ("no afxdp here: " .. tostring(why)))
	end
end
for _, r in ipairs(rows) do
	if not r.intact then error("the server did not get the body intact with " .. r.strategy, 0) end
end
