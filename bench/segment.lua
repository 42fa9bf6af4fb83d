-- segment.lua - lab.segment of one body with every strategy an engine can
-- cut, timed from Lua as a script sees it (bench/segment.sh runs it).
--
--   ringlab bench/segment.lua [engine] [rounds] [bytes] [limit_us]
--
-- engine: sim (default) or dpdk (net_ring0, no hugepages). The body is a
-- buffer born in a region of 2048 frames x 2048 bytes (r:alloc, written
-- once), cut at MSS 1448 into TCP segments; each figure is the best of
-- `rounds` calls of lab.segment (segs:free() after each, not timed). reuse
-- is timed at its resend (segs:resend: headers rewritten, the staged
-- payload untouched): its staging is a copy. tso and gso are timed where
-- the engine offers them (caps), else their line says why not. With
-- limit_us (bench_segment's memcpy limit, in us per MiB) each line also
-- says how many times the limit it took; every line says its ratio to copy.
--
-- Output, one line per strategy and checksum mode:
--   <engine> <strategy> <csum>  <us> us/MiB  <GB/s> GB/s  x<limit> limit  <n>x copy

local ename = arg[1] or "sim"
local rounds = math.tointeger(tonumber(arg[2])) or 20
local bytes = math.tointeger(tonumber(arg[3])) or 1 << 20
local limit_us = tonumber(arg[4])
local mss = 1448

local e
if ename == "sim" then
  e = lab.open("sim", { tso = true, csum = true })
elseif ename == "dpdk" then
  e = lab.open("dpdk", { vdev = "net_ring0", log = "emergency" })
else
  error("engine '" .. ename .. "' is not one this benchmark runs - use sim or dpdk", 0)
end
local r = e:region { frames = 2048, frame_size = 2048, headroom = 256 }
local b = r:alloc(bytes)
b:testdata()
local caps = e:info().caps or {}
local mib = bytes / (1 << 20)

local function opts(strategy, csum)
  return { proto = "tcp", mss = mss, strategy = strategy, csum = csum,
           src = "198.18.0.1:40000", dst = "198.18.0.2:8080", region = r, engine = e }
end

-- best time of `rounds` runs of f(), which returns the seconds it measured
local function best(f)
  local t = math.huge
  for _ = 1, rounds do
    local d = f()
    if d < t then t = d end
  end
  return t
end

local function time_segment(strategy, csum)
  local o = opts(strategy, csum)
  return best(function()
    local t0 = lab.now()
    local s = lab.segment(b, o)
    local d = lab.now() - t0
    s:free()
    return d
  end)
end

local function time_resend(csum)
  local s = lab.segment(b, opts("reuse", csum))
  local seq = 1
  local d = best(function()
    seq = seq + bytes
    local t0 = lab.now()
    s:resend { dst = "198.18.0.2:8080", seq = seq, ack = 1, window = 65535 }
    return lab.now() - t0
  end)
  s:free()
  return d
end

local function line(strategy, csum, secs, copy)
  local us = secs * 1e6 / mib
  local txt = string.format("%-5s %-13s %-8s %8.1f us/MiB %7.2f GB/s", ename, strategy, csum,
                            us, bytes / secs / 1e9)
  if limit_us then txt = txt .. string.format("  x%5.2f limit", us / limit_us) end
  if copy then txt = txt .. string.format("  %5.2fx copy", copy / secs) end
  print(txt)
end

for _, csum in ipairs { "software", "offload" } do
  local copy = time_segment("copy", csum)
  line("copy", csum, copy, copy)
  line("reuse-resend", csum, time_resend(csum), copy)
  for _, st in ipairs { "born", "sg", "tso", "gso" } do
    if (st == "tso" or st == "gso") and not caps[st] then
      print(string.format("%-5s %-13s %-8s %s", ename, st, csum,
                          "not offered by this engine (caps." .. st .. ")"))
    else
      line(st, csum, time_segment(st, csum), copy)
    end
  end
end
b:free()
e:close()
