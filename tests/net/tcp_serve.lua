--[[
tcp_serve.lua - the lab's HTTP server (reuse) on AF_XDP for curl in the
peer namespace (run by tcp_case.sh).

  ringlab --netns NAME-lab tcp_serve.lua IFNAME FILE CLIENTS READY_FILE

Serves FILE to CLIENTS connections one after the other, then checks the
ledger: the file was copied into frames once (copied = its size), and every
later client was sent the same frames (referenced = (CLIENTS-1) x size).
--]]
local tcp = require "ringlab.tcp"
local http = require "ringlab.http"

local ifname, file, clients, ready = ...
clients = tonumber(clients)
local e = lab.open("afxdp", { ifname = ifname, steer = "all", mode = "copy", sg = true })
e:region { frames = 4096, frame_size = 2048, headroom = 256 }
tcp.stack(e, { ip = "198.18.0.1", ifname = ifname })
local srv = http.serve(e, { port = 8080, file = file, strategy = "reuse", clients = clients,
	background = true, timeout = 30, log = print })
io.open(ready, "w"):close()
tcp.run()
print(http.summary(srv))
local size = srv.size
assert(srv.served == clients, "served " .. srv.served)
for _, row in ipairs(srv.clients) do assert(not row.error, row.error) end
assert(srv.ledger.copied == size, "copied " .. srv.ledger.copied .. ", want the file size " .. size)
assert(srv.ledger.referenced == (clients - 1) * size, "referenced " .. srv.ledger.referenced)
print(string.format("reuse: %d clients, file %d bytes: copied %d (once), referenced %d",
	clients, size, srv.ledger.copied, srv.ledger.referenced))
e:close()
print("PASS")
