-- queues_rx.lua - receive and drop on an AF_XDP engine with N queues, for
-- bench/queues.sh:
--
--   ringlab --netns NAME-lab queues_rx.lua IFNAME QUEUES SECONDS
--
-- Opens afxdp queues=QUEUES mode=copy, offers every fill ring its frames,
-- then for SECONDS: e:rx(256) (spread: every queue in turn), release, fill
-- again. Prints one line with the packets per second and each queue's
-- share, e.g. "rx 2 queues: 1.234 Mpps (q0 0.617, q1 0.617) in 3.0 s".
-- Owners must be conserved at the end.
local ifname, queues, secs = ...
queues, secs = tonumber(queues), tonumber(secs)
local e <close> = lab.open("afxdp", { ifname = ifname, queues = queues, mode = "copy", steer = "all" })
e:region { frames = 4096 * queues, frame_size = 2048, headroom = 256 }
e:fill()
-- let the generator start, and start counting from a clean slate
local t_end = lab.now() + 0.5
while lab.now() < t_end do
  local got = e:rx(256)
  for _, p in ipairs(got) do p:release() end
  if #got > 0 then e:fill(#got) end
end
local q0 = e:queues()
local t0 = lab.now()
t_end = t0 + secs
local n = 0
while lab.now() < t_end do
  local got = e:rx(256)
  for i = 1, #got do got[i]:release() end
  if #got > 0 then e:fill(#got) end
  n = n + #got
end
local dt = lab.now() - t0
local q1, parts = e:queues(), {}
for i, q in ipairs(q1) do
  parts[#parts + 1] = string.format("q%d %.3f", q.queue, (q.rx_pkts - q0[i].rx_pkts) / dt / 1e6)
end
local o = e:owners()
assert(o.app + o.fill + o.nic + o.rx + o.tx + o.comp == o.frames, "owners not conserved")
print(string.format("rx %d queue%s: %.3f Mpps (%s) in %.1f s", queues, queues == 1 and "" or "s",
  n / dt / 1e6, table.concat(parts, ", "), dt))
