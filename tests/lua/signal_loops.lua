--[[
signal_loops.lua - a loop that only a signal ends, run by signal_loops.sh.

  ringlab signal_loops.lua HOW READY_FILE

HOW says where the loop runs:
  wrap    inside a coroutine.wrap (a lua_State of its own: its own hook)
  spawn   inside two tcp.spawn tasks, tcp.run() resuming them
  pcall   inside a pcall in a loop, as http.serve serves each client
  xpcall  an xpcall in a loop around a coroutine.resume of a busy task
  serve   http.serve's own loop on a sim pair: a client task connects and
          fetches again and again while the server's pcall serves it
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
	srv:region { frames = 1024 }
	tcp.stack(e, { ip = "198.18.0.1" })
	tcp.stack(srv, { ip = "198.18.0.2" })
	http.serve(srv, { port = 8080, file = string.rep("x", 4000), background = true })
	local got = 0
	while true do -- each fetch: the server's pcall(serve_one) runs it
		local res = http.get(e, "http://198.18.0.2:8080/")
		if res.close then res.close() end
		got = got + 1
		if got == 3 then say_ready() end
	end
else
	error("HOW: wrap, spawn, pcall, xpcall or serve")
end
