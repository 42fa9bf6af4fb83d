-- tempdir_own.lua - lab.tempdir() makes a fresh directory of this user's
-- own (mkdtemp, mode 0700) every call, under TMPDIR; a TMPDIR that cannot
-- hold one is a one-line error that says what to do.
local T = require "common"

local base = os.getenv("TMPDIR") or "/tmp"
local a, b = lab.tempdir(), lab.tempdir()
T.check(a ~= b, "two calls, two directories: " .. a)
for _, d in ipairs({ a, b }) do
  T.check(d:sub(1, #base + 9) == base .. "/ringlab-", "under TMPDIR, named ringlab-XXXXXX: " .. d)
  local p = assert(io.popen("stat -c %a " .. string.format("%q", d)))
  T.eq(p:read("l"), "700", "mode of " .. d)
  p:close()
  local f = assert(io.open(d .. "/x", "w"), "writable")
  f:close()
  os.remove(d .. "/x")
  os.remove(d)
end
T.done("tempdir_own")
