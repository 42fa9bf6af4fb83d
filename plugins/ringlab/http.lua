--[[
http.lua - HTTP/1.1 over the lab's userspace TCP (require "ringlab.http").

The seed question of ringlab, asked by an application: a big HTTP request
(or response) spans many TCP segments - how is it turned into packets, and
with how many copies? Here the body goes through lab.segment with the
strategy the caller picks, so the answer is in the ledger:

  local http = require "ringlab.http"
  local res = http.post(e, "http://198.18.0.2:8080/upload", body, {strategy="sg"})
  res.status, res.headers["content-type"], res.body (a view, or a string),
  res.ledger (what sending the body cost: copied, referenced, headers),
  res.packets (segments the body took), res.info (their descriptors,
  header frames...), res.stats (the connection's counters)
  http.get(e, url, opts)

  http.serve(e, {port=8080, file=path_or_buffer_or_string, strategy="reuse",
                 clients=N, background=false, encrypt=false})

The server sends one file to every client (GET or POST, any path; a POST
body is read, and kept in the summary with keep_body=true). How the
file is sent:

  copy    each client: the file is copied into fresh frames (N copies)
  reuse   the file is copied into frames once, at the first client; every
          later client gets the same frames with headers rewritten in place
          (segs:resend): copied = file size once, whatever N
  born/sg the file is loaded into a region buffer once (copied once, at
          load) and each client's segments point at it (referenced)
  encrypt=true (HTTPS, shown honestly): each client has its own key, so
          its bytes exist only after the cipher wrote them: the file is
          encrypted (ChaCha20-Poly1305, libsodium) straight into a buffer
          in the region - one pass, no copy besides the cipher's own
          output - and sent from there with born/sg. Still N copies: per
          client ciphertext cannot be shared or sent without writing it.
          (The key travels in a response header, X-Ringlab-Key, in hex:
          a stand-in for the TLS handshake, which is not the point here.)

The summary it returns (and s.clients / s.ledger as it runs) shows the
figures per client and in all.
--]]

local lab = require "ringlab"
local tcp = require "ringlab.tcp"
local TI = require "ringlab.tcp.base"

local M = {}

local function parse_url(url)
	local ip, port, path = tostring(url):match("^http://(%d+%.%d+%.%d+%.%d+):?(%d*)(/?.*)$")
	if not ip then
		error("http: " .. tostring(url) .. " is not http://IP[:PORT]/PATH - e.g. "
			.. "http://198.18.0.2:8080/upload", 3)
	end
	return ip, tonumber(port) or 80, path ~= "" and path or "/"
end

local function hex(s)
	return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
M.hex = hex

local function unhex(s)
	return (s:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end
M.unhex = unhex

local function size_of(body)
	if body == nil then return 0 end
	if type(body) == "string" then return #body end
	if type(body) == "table" then return body[3] or (#body[1] - (body[2] or 0)) end
	return #body
end

-- "Status line" and headers of a message head (a string ending in a blank
-- line). Header names are lower-cased.
local function parse_head(head)
	local lines = {}
	for line in head:gmatch("([^\r\n]*)\r?\n") do lines[#lines + 1] = line end
	local first = table.remove(lines, 1) or ""
	local headers = {}
	for _, line in ipairs(lines) do
		local k, v = line:match("^([^:]+):%s*(.-)%s*$")
		if k then headers[k:lower()] = v end
	end
	return first, headers
end
M.parse_head = parse_head

local function add(total, l)
	for k, v in pairs(l or {}) do
		if type(v) == "number" then total[k] = (total[k] or 0) + v end
	end
end

---------------------------------------------------------------------------
-- The client.

-- One request; returns {status, reason, headers, body, ledger, packets, stats}.
-- opts: strategy= for the body (copy for strings; a buffer: born, sg, ...),
-- headers={...}, reader="inplace"|"copy", everything tcp.connect takes.
function M.request(e, method, url, body, opts)
	opts = opts or {}
	local ip, port, path = parse_url(url)
	local c = tcp.connect(e, ip .. ":" .. port, opts)
	local n = size_of(body)
	local head = { string.format("%s %s HTTP/1.1", method, path),
		"Host: " .. ip .. (port ~= 80 and (":" .. port) or ""),
		"User-Agent: ringlab/" .. tostring(lab.version), "Connection: close" }
	if body ~= nil then
		head[#head + 1] = "Content-Length: " .. n
		head[#head + 1] = "Content-Type: application/octet-stream"
	end
	for k, v in pairs(opts.headers or {}) do head[#head + 1] = k .. ": " .. v end
	local res = { method = method, url = url }
	res.head_ledger = c:send(table.concat(head, "\r\n") .. "\r\n\r\n", { strategy = "copy" })
	if n > 0 then
		local before = c:stats().segs_out
		local strategy = opts.strategy or (type(body) == "string" and "copy" or "sg")
		res.strategy = strategy
		res.ledger, res.info = c:send(body, { strategy = strategy })
		res.packets = c:stats().segs_out - before
	else
		res.ledger, res.packets = {}, 0
	end
	local rh = c:read_until("\r\n\r\n", opts.timeout)
	if not rh then
		c:close()
		error("http: " .. url .. ": the server closed the connection without an answer", 2)
	end
	local status, headers = parse_head(rh)
	res.status = tonumber(status:match("^HTTP/%d%.%d (%d+)"))
	res.reason = status:match("^HTTP/%d%.%d %d+ (.*)$")
	res.headers = headers
	local len = tonumber(headers["content-length"])
	if len then
		res.body = len > 0 and c:read_exact(len, opts.timeout) or ""
	else -- until the server closes
		local parts = {}
		while true do
			local v = c:recv(nil, opts.timeout)
			if not v then break end
			parts[#parts + 1] = type(v) == "string" and v or v:string()
		end
		res.body = table.concat(parts)
	end
	c:flush()
	res.stats = c:stats()
	res.conn = c
	-- A view into the frames must stay valid: with a view body, close
	-- (which gives read frames back) is left to res:close().
	if type(res.body) == "string" then
		c:close()
	else
		res.close = function() c:close() end
	end
	return res
end

function M.get(e, url, opts) return M.request(e, "GET", url, nil, opts) end
function M.post(e, url, body, opts) return M.request(e, "POST", url, body, opts) end

---------------------------------------------------------------------------
-- The server.

local RESPONSE = "HTTP/1.1 %d %s\r\nServer: ringlab/%s\r\nContent-Type: application/octet-stream\r\n"
	.. "Content-Length: %d\r\nConnection: close\r\n%s\r\n"

-- The file as a string (a path or the contents) or a buffer.
local function load_file(file)
	if type(file) ~= "string" then return file end
	local f = io.open(file, "rb")
	if f then
		local s = f:read("a")
		f:close()
		return s
	end
	if #file < 256 and not file:find("\n") and file:find("/") then
		error("http.serve: cannot open " .. file .. " - give a path to a readable file, "
			.. "its contents, or a buffer", 3)
	end
	return file
end

-- Serve one client on connection c. Returns its line of the summary.
local function serve_one(srv, c)
	local head = c:read_until("\r\n\r\n")
	if not head then
		c:close()
		return nil
	end
	local first, headers = parse_head(head)
	local method = first:match("^(%u+) ") or "?"
	local body_len = tonumber(headers["content-length"] or 0) or 0
	local o = srv.opts
	local row = { client = c.rip .. ":" .. c.rport, method = method, path = first:match(" (%S+) "),
		request_bytes = body_len }
	if body_len > 0 then -- a request body: read (kept with keep_body=true)
		local v = c:read_exact(body_len)
		if not v then return nil end
		if o.keep_body then row.body = type(v) == "string" and v or v:string() end
		c:release()
	end
	local extra, ledger, payload = "", nil, nil
	local n = srv.size
	if o.encrypt then
		-- HTTPS, honestly: this client's bytes exist only once the cipher
		-- wrote them, here straight into region memory.
		local key = lab.crypto.key()
		n = srv.size + 16
		local b = srv.r:alloc(n)
		local plain = type(srv.file) == "string" and srv.file or srv.file:read(0, #srv.file)
		local before = srv.e:stats().ledger.copied
		lab.crypto.encrypt_into(b, 0, plain, key, srv.served + 1)
		row.cipher_copied = srv.e:stats().ledger.copied - before
		extra = string.format("X-Ringlab-Key: %s\r\nX-Ringlab-Nonce: %d\r\n", hex(key), srv.served + 1)
		payload = b
	end
	c:send(string.format(RESPONSE, 200, "OK", lab.version, n, extra), { strategy = "copy" })
	local before = c:stats().segs_out
	if payload then
		ledger = c:send(payload, { strategy = o.encrypt_strategy or "sg" })
		ledger.copied = (ledger.copied or 0) + row.cipher_copied
	elseif srv.strategy == "reuse" then
		if not srv.staged or srv.staged.segs:info().mss ~= c.mss then
			srv.staged = c:stage(srv.file) -- the one copy into frames
			srv.stagings = srv.stagings + 1
		end
		ledger = c:send(nil, { source = srv.staged })
	else
		ledger = c:send(srv.file, { strategy = srv.strategy })
	end
	row.packets = c:stats().segs_out - before
	c:flush()
	c:close()
	if payload then payload:free() end
	row.bytes, row.ledger = n, ledger
	row.retransmits = c:stats().retransmits
	return row
end

-- Serve the file to `clients` connections (nil: until stopped), one after
-- the other. opts: port=, file=, strategy=, clients=, encrypt=,
-- background=true (run as a tcp task and return the server at once),
-- timeout= (seconds to wait for each client), and what tcp.listen takes.
function M.serve(e, opts)
	opts = opts or {}
	-- everything checked before anything is made (a stack, a buffer, a listener)
	local port = TI.check_port(opts.port or 8080, "http.serve")
	TI.check_opts(opts, "http.serve")
	local st = tcp.stack(e, opts)
	if st.listeners[port] then error("http.serve: port " .. port .. " is taken already - give another port=", 2) end
	local srv = {
		e = e, r = st.r, opts = opts, port = port,
		strategy = opts.strategy or "reuse", served = 0, stagings = 0,
		clients = {}, ledger = { copied = 0, referenced = 0, headers = 0 },
	}
	local file = load_file(opts.file or "hello from ringlab\n")
	if (srv.strategy == "born" or srv.strategy == "sg") and type(file) == "string"
		and not opts.encrypt then
		local b = srv.r:alloc(#file) -- born in the region: loaded once
		b:write(0, file)
		add(srv.ledger, { copied = #file })
		srv.loaded = #file
		file = b
	end
	if srv.strategy == "reuse" and type(file) ~= "string" then
		file = file:read(0, #file)
	end
	srv.file, srv.size = file, size_of(file)
	srv.listener = tcp.listen(e, srv.port, opts)
	local function loop()
		while not opts.clients or srv.served < opts.clients do
			if srv.stop then break end
			local c = srv.listener:accept(opts.timeout or 1e9)
			local ok, row = pcall(serve_one, srv, c)
			if not ok then
				row = { client = c.rip .. ":" .. c.rport, error = tostring(row) }
				pcall(c.abort, c)
			end
			if row then
				srv.served = srv.served + 1
				srv.clients[#srv.clients + 1] = row
				add(srv.ledger, row.ledger)
				if opts.log then opts.log(M.client_line(row)) end
			end
		end
		srv.listener:close()
		srv.done = true
		return srv
	end
	if opts.background then
		srv.task = tcp.spawn(loop)
		return srv
	end
	return loop()
end

function M.client_line(row)
	if row.error then return string.format("%-22s error: %s", row.client, row.error) end
	local l = row.ledger or {}
	return string.format("%-22s %-4s %-10s %8d bytes %5d packets  copied %8d  referenced %8d  headers %6d  rtx %d",
		row.client, row.method, row.path or "", row.bytes, row.packets or 0, l.copied or 0,
		l.referenced or 0, l.headers or 0, row.retransmits or 0)
end

-- The server's figures, one line per client and the total.
function M.summary(srv)
	local lines = { string.format("served %d clients, strategy %s%s: copied %d, referenced %d, headers %d",
		srv.served, srv.strategy, srv.opts.encrypt and " + encryption" or "", srv.ledger.copied,
		srv.ledger.referenced, srv.ledger.headers) }
	for _, row in ipairs(srv.clients) do lines[#lines + 1] = "  " .. M.client_line(row) end
	return table.concat(lines, "\n")
end

return M
