--[[
loop_until_signal.lua - an AF_XDP engine polled forever, to be stopped.

  ringlab --netns NAME-lab loop_until_signal.lua IFNAME READY_FILE [HOW]

HOW: "main" (default) polls at the top; "task" polls inside a tcp.spawn
task (a coroutine: its own lua_State and hook); "pcall" polls inside a
pcall in a loop, which must not swallow the interruption.

host_case.sh sends SIGINT (or SIGTERM) once READY_FILE exists and checks
that ringlab exited through its normal close: status 130 (143), and no
XDP program left on IFNAME.
--]]
local ifname, ready, how = ...
how = how or "main"
local e = lab.open("afxdp", { ifname = ifname, steer = "all" })
e:region { frames = 256 }
e:fill(128)
io.open(ready, "w"):close()
print("looping on " .. ifname .. " until a signal")
io.stdout:flush()
local function poll()
	for _, p in ipairs(e:rx(64)) do p:release() end
	e:fill(e:owners().free)
end
if how == "task" then
	local tcp = require "ringlab.tcp"
	tcp.spawn(function() while true do poll() end end)
	tcp.run()
elseif how == "pcall" then
	while true do pcall(function() while true do poll() end end) end
else
	while true do poll() end
end
