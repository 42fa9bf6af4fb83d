-- dpdk_pps.lua - packets per second through the DPDK engine from a Lua
-- loop over lab.batch, the same work as bench_dpdk_pps (C) does through
-- the ops table, so that bench/lua.sh can set one against the other.
--
--   ringlab bench/dpdk_pps.lua txonly|rxonly|txrx SECONDS [key=value...]
--
--   txonly  bt:udp() copies a 64-byte UDP packet (built once) into up to
--           `batch` free frames, bt:tx(), e:complete(): counts completed
--           frames (net_null0 frees them inside its tx burst). The C
--           program copies only the 42 header bytes per frame, as
--           dpdk-testpmd does; bt:udp copies all 64.
--   rxonly  keeps `fill` frames offered (e:fill), bt:rx(), bt:release():
--           counts received frames (net_null0 invents them).
--   txrx    two ports over net_ring0's rings (b opened with peer=a): a's
--           batch sends, b's batch receives and releases; counts b's.
-- key=value: batch=N (32, dpdk-testpmd's burst), fill=N (rxonly 512),
-- frames=N (8192), headroom=N (128), and anything else goes to the
-- engine (vdev=, lcores=, log=...). Prints one line, as the C program:
-- "ringlab Lua MODE (VDEV) batch=N: X Mpps (N packets in S s; Y Mpps per
-- CPU-second)".
local mode, secs = arg[1], tonumber(arg[2])
if not (mode == "txonly" or mode == "rxonly" or mode == "txrx") or not secs then
  error("usage: ringlab bench/dpdk_pps.lua txonly|rxonly|txrx SECONDS [key=value...]", 0)
end
local size, fill, frames, headroom = 32, mode == "rxonly" and 512 or 0, 8192, 128
local opts = { log = "emergency" }
for i = 3, #arg do
  local k, v = arg[i]:match("^([%w_]+)=(.*)$")
  if k == "batch" then size = tonumber(v)
  elseif k == "fill" then fill = tonumber(v)
  elseif k == "frames" then frames = tonumber(v)
  elseif k == "headroom" then headroom = tonumber(v)
  elseif k then opts[k] = v end
end
local params = { frames = frames, frame_size = 2048, headroom = headroom }
local a = lab.open("dpdk", opts)
a:region(params)
local b
if mode == "txrx" then
  b = lab.open("dpdk", { peer = a })
  b:region(params)
end
local spec = { src = "198.18.0.1:9000", dst = "198.18.0.2:9", payload = string.rep("\0", 22),
  dst_mac = "02:00:00:00:00:02" }
local n = 0
local round
if mode == "txonly" then
  local out = lab.batch(a, size)
  out:udp(spec, 0)
  round = function()
    out:udp()
    out:tx()
    n = n + a:complete()
  end
elseif mode == "rxonly" then
  local inb = lab.batch(a, size)
  a:fill(fill)
  round = function()
    local got = inb:rx()
    if got > 0 then
      inb:release()
      a:fill(got)
      n = n + got
    end
  end
else
  local out, inb = lab.batch(a, size), lab.batch(b, size)
  out:udp(spec, 0)
  round = function()
    out:udp()
    out:tx()
    a:complete()
    local got = inb:rx()
    if got > 0 then inb:release() n = n + got end
  end
end
local now = lab.now
local t0, c0 = now(), os.clock()
repeat
  for _ = 1, 256 do round() end
until now() - t0 >= secs
local t, cpu = now() - t0, os.clock() - c0
for _, e in ipairs { a, b } do
  local o = e:owners()
  assert(o.app + o.fill + o.nic + o.rx + o.tx + o.comp == o.frames, "owners not conserved")
end
print(string.format("ringlab Lua %s (%s) batch=%d: %.3f Mpps (%d packets in %.2f s; %.3f Mpps per CPU-second)",
  mode, opts.vdev or "?", size, n / t / 1e6, n, t, cpu > 0 and n / cpu / 1e6 or 0))
if b then b:close() end
a:close()
