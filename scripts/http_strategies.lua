--[[
http_strategies.lua - the seed question, answered with numbers.

An application has a big HTTP request - here a 64 KiB POST - spanning many
TCP segments. How is it turned into packets, with how many copies? This
script sends the same POST with each segmentation strategy through the
lab's userspace TCP and prints, side by side, what each one cost: packets,
descriptors, payload bytes copied, payload bytes referenced (sent where
they lay), header bytes written, and whether the server got the body
intact.

  ringlab scripts/http_strategies.lua [auto|afxdp|sim] [BYTES]

afxdp (the default when root): a testbed of its own, AF_XDP on the lab
side, and the Linux kernel's TCP with a small python3 HTTP server in the
peer namespace - the real other end; the server answers with the body's
sha256. The testbed is taken down again whatever happens.
sim (the default otherwise, saying why): two simulators back to back with
a lab TCP and HTTP server on the second.

It is scripts/strategies_by_engine.lua run on one engine; that script
also compares the engines (and DPDK's extbuf and gso).
--]]

local want = arg[1] or "auto"

local function afxdp_here()
	local root = io.popen("id -u"):read("l") == "0"
	for _, e in ipairs(lab.engines()) do
		if e.name == "afxdp" then
			if not e.available then return false, e.why end
			return root, "not root: the testbed needs root"
		end
	end
	return false, "this build has no afxdp engine"
end

if want == "auto" then
	local ok, why = afxdp_here()
	want = ok and "afxdp" or "sim"
	if not ok then print("engine: two simulators back to back (" .. why .. ")") end
elseif want ~= "afxdp" and want ~= "sim" then
	error("give auto, afxdp or sim - not " .. want, 0)
end
arg[0] = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/strategies_by_engine.lua"
arg[1] = want
dofile(arg[0])
