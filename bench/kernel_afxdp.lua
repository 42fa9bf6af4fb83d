-- kernel_afxdp.lua - the lab's segmentation strategies over AF_XDP on the
-- same testbed veth as bench/kernel.lua's kernel paths, timed: a body POSTed
-- through the lab's userspace TCP (ringlab.tcp, ringlab.http) to
-- tests/net/http_sha_server.py in the peer namespace, which answers its
-- sha256. Run inside the lab namespace:
--
--   ringlab --netns NAME-lab bench/kernel_afxdp.lua IFNAME BYTES ROUNDS WRITE_MIBS WRITE_CPU SHA256
--
-- Per strategy the best of ROUNDS by MiB/s (lab.now around http.post, the
-- connection and the answer included), CPU-s/GiB from os.clock() (the
-- whole ringlab process, all threads) of that round, the lowest CPU-s/GiB,
-- and ratios against the kernel's `write` figures passed in (WRITE_MIBS
-- MiB/s, WRITE_CPU min CPU-s/GiB) from the same run. Only rounds whose
-- body arrived intact (the peer's sha256 equals SHA256, the body's, which
-- bench/kernel.lua had from lab.kernel.send: the same body) count.
local http = require "ringlab.http"
local tcp = require "ringlab.tcp"
local ifname, bytes, rounds = arg[1], tonumber(arg[2]), tonumber(arg[3]) or 3
local w_mibs, w_cpu, digest = tonumber(arg[4]), tonumber(arg[5]), arg[6]
local e = lab.open("afxdp", { ifname = ifname, steer = "all", mode = "copy", sg = true })
e:region { frames = 16384, frame_size = 2048, headroom = 256 }
tcp.stack(e, { ip = "198.18.0.1", ifname = ifname })

local body = {}
for i = 0, bytes // 16 - 1 do body[#body + 1] = string.format("%015x\n", i * 16) end
body = table.concat(body) .. string.rep("#", bytes % 16)

local function fmt(x) return x and string.format("%.2f", x) or "-" end
for _, s in ipairs({ "copy", "reuse", "born", "sg", "extbuf", "gso", "tso" }) do
  local best = { mib_s = -1, cpu_min = math.huge }
  local why
  for _ = 1, rounds do
    local p = body
    if s == "born" or s == "sg" or s == "gso" or s == "tso" then
      local ok, b = pcall(function() return e:region():alloc(#body) end)
      if not ok then why = tostring(b) break end
      b:write(0, body)
      p = b
    end
    local c0, t0 = os.clock(), lab.now()
    local ok, res = pcall(http.post, e, "http://198.18.0.2:8080/upload", p, { strategy = s })
    local t1, c1 = lab.now(), os.clock()
    if type(p) ~= "string" then p:free() end
    if not ok then why = tostring(res):gsub("^[^:]*:%d+: ", "") break end
    local answer = type(res.body) == "string" and res.body or res.body:string()
    if res.close then res.close() end
    local sha, len = answer:match("^(%x+)%s+(%d+)")
    if sha == digest and tonumber(len) == bytes then
      local mib_s = bytes / 1048576 / (t1 - t0)
      local cpu_gib = (c1 - c0) / (bytes / 2 ^ 30)
      if mib_s > best.mib_s then best.mib_s, best.cpu_gib = mib_s, cpu_gib end
      if cpu_gib < best.cpu_min then best.cpu_min = cpu_gib end
    end
  end
  if best.mib_s < 0 then
    print(string.format("%-13s %9s %10s %14s %8s %9s  %s", "afxdp " .. s, "-", "-", "-", "-", "-",
      (why or "no intact round"):gsub("^segment: ", ""):sub(1, 70)))
  else
    print(string.format("%-13s %9.0f %10.3f %14.3f %8s %9s", "afxdp " .. s, best.mib_s, best.cpu_gib,
      best.cpu_min, fmt(w_mibs and best.mib_s / w_mibs), fmt(w_cpu and best.cpu_min / w_cpu)))
  end
end
e:close()
