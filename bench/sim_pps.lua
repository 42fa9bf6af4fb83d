-- sim_pps.lua - packets per second through two simulator engines back to
-- back, driven by a Lua loop that works in batches, as a script would.
--
--   ringlab bench/sim_pps.lua [seconds] [batch] [mode]
--
-- Each round builds `batch` 64-byte UDP packets with lab.packet.udp (one
-- copy of an 22-byte payload per packet, headers written, checksum
-- computed), queues them in one e:tx call, kicks, collects completions, tops
-- up the receiver's fill ring and receives and releases in one e:rx call.
-- bench/sim.sh runs this next to the C benchmark and prints the ratios.

local secs = tonumber(arg[1]) or 2
local batch = math.tointeger(tonumber(arg[2])) or 64
local mode = arg[3] or "copy"

local a = lab.open("sim", { mode = mode })
local b = lab.open("sim", { mode = mode, peer = a })
local ra = a:region { frames = 4096, frame_size = 2048, headroom = 256 }
b:region { frames = 4096, frame_size = 2048, headroom = 256 }

local payload = string.rep("x", 64 - 42)
local udp = lab.packet.udp
local spec = { src = "198.18.0.1:9000", dst = "198.18.0.2:9999", payload = payload, region = ra }
local clock = os.clock
local pkts = {}
local got = 0

local function round()
  for i = 1, batch do pkts[i] = udp(spec) end
  a:tx(pkts)
  a:kick()
  a:complete(batch)
  local room = b:rings().fill
  room = room.size - room.pending
  if room > 0 then
    local free = b:owners().free
    b:fill(room < free and room or free)
  end
  local rx = b:rx(batch)
  for i = 1, #rx do rx[i]:release() end
  got = got + #rx
end

local t0 = clock()
local t
repeat
  for _ = 1, 16 do round() end
  t = clock() - t0
until t >= secs

for _, e in ipairs { a, b } do
  local o = e:owners()
  assert(o.app + o.fill + o.nic + o.rx + o.tx + o.comp == o.frames, "owners not conserved")
end
print(string.format("lua batch loop, sim %s mode, batch %d: %.3f Mpps (%d packets in %.2f s)",
  mode, batch, got / t / 1e6, got, t))
b:close()
a:close()
