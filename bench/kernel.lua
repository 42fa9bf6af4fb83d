-- kernel.lua - the kernel's own send paths (lab.kernel.send), each the best
-- of ROUNDS, over the veth of testbed NAME: MiB/s and CPU-seconds per GiB.
--
--   ringlab bench/kernel.lua NAME BYTES ROUNDS [OUT AFXDP_BYTES]
--
-- Best = the round with the highest MiB/s; its CPU figure is printed with
-- it, and the lowest CPU/GiB of all rounds too (CPU is the steadier figure
-- on a loaded machine). Ratios against `write`, measured in the same run.
-- OUT: a file that gets write's best MiB/s, its lowest CPU-s/GiB and the
-- sha256 of the AFXDP_BYTES body (one more `write` send of that size), for
-- bench/kernel_afxdp.lua. bench/kernel.sh makes the testbed and runs this.
local name, bytes, rounds = arg[1], tonumber(arg[2]), tonumber(arg[3]) or 3
local out, afxdp_bytes = arg[4], tonumber(arg[5])
local best = {}
for _, path in ipairs(lab.kernel.paths()) do
  local b = { path = path, mib_s = -1, cpu_min = math.huge, bad = 0, err = nil }
  for _ = 1, rounds do
    local ok, r = pcall(lab.kernel.send, { path = path, size = bytes, testbed = name })
    if not ok then
      b.err = tostring(r):gsub("^[^:]*:%d+: ", "")
    elseif not r.intact then
      b.bad = b.bad + 1 -- a round whose body did not arrive whole (UDP may drop) is not counted
      b.lost = string.format("the peer got %d of %d bytes", r.received, r.sent)
    else
      local cpu_gib = r.cpu_s / (bytes / 2 ^ 30)
      if r.mib_s > b.mib_s then b.mib_s, b.cpu_gib = r.mib_s, cpu_gib end
      if cpu_gib < b.cpu_min then b.cpu_min = cpu_gib end
    end
  end
  best[#best + 1] = b
end
local base = best[1].path == "write" and best[1] or nil
print(string.format("%-13s %9s %10s %14s %8s %9s  %s", "path", "MiB/s", "CPU-s/GiB", "min CPU-s/GiB",
  "x write", "CPU/write", "rounds"))
for _, b in ipairs(best) do
  if b.mib_s < 0 then
    print(string.format("%-13s %9s %10s %14s %8s %9s  %s", b.path, "-", "-", "-", "-", "-",
      b.err and ("failed: " .. b.err) or string.format("no intact round of %d (last: %s)", rounds, b.lost)))
  else
    print(string.format("%-13s %9.0f %10.3f %14.3f %8s %9s  %d/%d intact", b.path, b.mib_s, b.cpu_gib,
      b.cpu_min, base and base.mib_s > 0 and string.format("%.2f", b.mib_s / base.mib_s) or "-",
      base and base.cpu_min > 0 and base.cpu_min < math.huge and string.format("%.2f", b.cpu_min / base.cpu_min) or "-",
      rounds - b.bad - (b.err and 1 or 0), rounds))
  end
end
if out and base and base.mib_s > 0 then
  local r = lab.kernel.send { path = "write", size = afxdp_bytes or bytes, testbed = name }
  local f = assert(io.open(out, "w"))
  f:write(string.format("%.3f %.6f %s\n", base.mib_s, base.cpu_min, r.want_sha256))
  f:close()
end
