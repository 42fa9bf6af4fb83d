-- dpdk_workers.lua - 1 worker against 2 (e:workers), net_null queues=2 on
-- lcores 0-1, in the same run (issue 14.3). Run by bench/dpdk_workers.sh:
--   ringlab bench/dpdk_workers.lua SECONDS ROUNDS [LOOPS...]
-- Each round measures 1 worker (queue 0, main lcore) then 2 (queues 0 and
-- 1, lcores 0 and 1) per loop; the scaling factor (2 / 1) is taken per
-- round, then the median round is printed.
local secs = tonumber(arg[1]) or 2
local rounds = tonumber(arg[2]) or 3
local loops = { table.unpack(arg, 3) }
if #loops == 0 then loops = { "txonly", "rxdrop", "fwd" } end

local e <close> = lab.open("dpdk", { vdev = "net_null0", queues = 2, lcores = "0-1", log = "emergency" })
e:region { frames = 4096, frame_size = 2048 }

local ratios = {}
for r = 1, rounds do
  print(string.format("== round %d: %s s each, 64-byte frames, net_null0 queues=2", r, secs))
  for _, loop in ipairs(loops) do
    local one = e:workers { loop = loop, queues = 1, seconds = secs }
    local two = e:workers { loop = loop, queues = 2, seconds = secs }
    local o = e:owners()
    assert(o.app + o.fill + o.nic + o.rx + o.tx + o.comp == o.frames, "owners do not sum to frames")
    local function per_cpu(r) -- packets per CPU-second the workers' threads got
      local cpu = 0
      for _, w in ipairs(r.workers) do cpu = cpu + w.cpu_seconds end
      return cpu > 0 and r.packets / cpu / 1e6 or 0
    end
    print(string.format("  %-6s 1 worker %7.2f Mpps   2 workers %7.2f Mpps (%.2f + %.2f)   x%.2f" ..
      "   CPU-s: %.2f of %.2f, %.2f of %.2f; Mpps per CPU-s %.1f / %.1f",
      loop, one.mpps, two.mpps, two.workers[1].mpps, two.workers[2].mpps, two.mpps / one.mpps,
      one.workers[1].cpu_seconds, one.seconds, two.workers[1].cpu_seconds + two.workers[2].cpu_seconds,
      2 * two.seconds, per_cpu(one), per_cpu(two)))
    ratios[loop] = ratios[loop] or {}
    table.insert(ratios[loop], { one.mpps, two.mpps, two.mpps / one.mpps })
  end
end
print(string.format("== scaling, 2 workers / 1 worker, median of %d rounds", rounds))
for _, loop in ipairs(loops) do
  local t = ratios[loop]
  table.sort(t, function(a, b) return a[3] < b[3] end)
  local m = t[(#t + 1) // 2]
  print(string.format("  %-6s 1 worker %.2f Mpps, 2 workers %.2f Mpps: x%.2f (median round)", loop, m[1], m[2], m[3]))
end
