--[[
loop_until_signal.lua - an AF_XDP engine polled forever, to be stopped.

  ringlab --netns NAME-lab loop_until_signal.lua IFNAME READY_FILE

host_case.sh sends SIGINT (or SIGTERM) once READY_FILE exists and checks
that ringlab exited through its normal close: status 130 (143), and no
XDP program left on IFNAME.
--]]
local ifname, ready = ...
local e = lab.open("afxdp", { ifname = ifname, steer = "all" })
e:region { frames = 256 }
e:fill(128)
io.open(ready, "w"):close()
print("looping on " .. ifname .. " until a signal")
io.stdout:flush()
while true do
	for _, p in ipairs(e:rx(64)) do p:release() end
	e:fill(e:owners().free)
end
