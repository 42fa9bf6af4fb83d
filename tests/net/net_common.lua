-- net_common.lua - checks the network test scripts share (dofile'd).
local M = {}

local OWNERS = { "app", "fill", "nic", "rx", "tx", "comp" }

-- Owners sum to the frames: no frame lost or counted twice.
function M.conserved(e, when)
	local o, sum = e:owners(), 0
	for _, k in ipairs(OWNERS) do sum = sum + o[k] end
	assert(sum == o.frames, string.format("owners sum to %d, not %d, %s", sum, o.frames, when))
	return o
end

-- One line of ring indices and one of owners, for the log.
function M.show(e, when)
	local rg, o = e:rings(), e:owners()
	local parts = {}
	for _, n in ipairs({ "fill", "rx", "tx", "comp" }) do
		parts[#parts + 1] = string.format("%s %d/%d", n, rg[n].prod, rg[n].cons)
	end
	print(string.format("%-22s rings prod/cons: %s", when, table.concat(parts, "  ")))
	print(string.format("%-22s owners: app=%d (held %d) fill=%d nic=%d rx=%d tx=%d comp=%d", "",
		o.app, o.app - o.free, o.fill, o.nic, o.rx, o.tx, o.comp))
end

return M
