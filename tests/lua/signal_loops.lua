--[[
signal_loops.lua - a loop that only a signal ends, run by signal_loops.sh.

  ringlab signal_loops.lua HOW READY_FILE

HOW says where the loop runs:
  wrap    inside a coroutine.wrap (a lua_State of its own: its own hook)
  spawn   inside two tcp.spawn tasks, tcp.run() resuming them
  pcall   inside a pcall in a loop, as http.serve serves each client
  xpcall  an xpcall in a loop around a coroutine.resume of a busy task
  serve   http.serve's own loop in the foreground on a sim pair: a client
          task asks for a 1 MiB file and reads none of it, so the server
          waits for a window that never opens inside its pcall(serve_one)
          when the signal comes - a pcall that swallowed the interruption
          would go round to accept the next client for ever (this is the
          case that fails without signals.c's guarded pcall)
Every one must end with "interrupted" (SIGINT) or the stopped line
(SIGTERM), not go round again.
--]]
local how, ready = ...
local e = lab.open("sim", { name = "sig" })
e:region { frames = 1024 }
local function busy() local i = 0 while true do i = i + 1 end end
local function say_ready()
	io.open(ready, "w"):close()
end

if how == "wrap" then
	local co = coroutine.wrap(busy)
	say_ready()
	co()
elseif how == "spawn" then
	local tcp = require "ringlab.tcp"
	tcp.spawn(function() while true do coroutine.yield() end end)
	tcp.spawn(busy)
	say_ready()
	tcp.run()
elseif how == "pcall" then
	say_ready()
	local n = 0
	while true do
		local ok, err = pcall(function() lab.sleep(0.001) busy() end)
		n = n + 1
	end
elseif how == "xpcall" then
	say_ready()
	while true do
		xpcall(function()
			local co = coroutine.create(busy)
			coroutine.resume(co)
		end, function(m) return m end)
	end
elseif how == "serve" then
	local http = require "ringlab.http"
	local tcp = require "ringlab.tcp"
	local srv = lab.open("sim", { name = "srv", peer = e })
	srv:region { frames = 4096 } -- the whole file cut at once (copy)
	tcp.stack(e, { ip = "198.18.0.1" })
	tcp.stack(srv, { ip = "198.18.0.2" })
	tcp.spawn(function() -- the client: asks, then reads nothing
		local c = tcp.connect(e, "198.18.0.2:8080")
		c:send("GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
		-- its window closes (less than a segment): the server is stuck
		tcp.wait(function() return c:window() < 1500 end)
		say_ready()
		-- and the task ends (its connection stays open, unread): no
		-- coroutine.resume from here on, so only the guarded pcall can
		-- end what the server's pcall swallows
	end)
	http.serve(srv, { port = 8080, file = string.rep("x", 1 << 20), strategy = "copy" })
	print("FAIL: http.serve returned")
else
	error("HOW: wrap, spawn, pcall, xpcall or serve")
end
