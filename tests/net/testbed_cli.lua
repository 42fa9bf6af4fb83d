-- testbed_cli.lua - `ringlab testbed ...` for tests, without the shell:
-- lua5.4 testbed_cli.lua PLUGIN_DIR up|down|status name=... mtu=...
package.path = arg[1] .. "/?.lua;" .. package.path
local tb = require "ringlab.testbed"
local ok, err = pcall(tb.main, { table.unpack(arg, 2) })
if not ok then
	io.stderr:write(tostring(err), "\n")
	os.exit(1)
end
