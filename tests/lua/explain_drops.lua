-- explain_drops.lua - `explain` / lab.drops / lab.explain: every drop the
-- engine counts gives its line (count, cause, remedy), a clean engine says
-- "nothing dropped" in one line, every line fits 80 columns.
--
--   ringlab explain_drops.lua CASE
--   CASE: sim_causes | sim_clean | prompt | errors | dpdk_net_ring
local T = require "common"
local case = ...

local function row(e, counter)
  for _, r in ipairs(lab.drops(e)) do
    if r.counter == counter then return r end
  end
end

local function fits(text, what)
  for line in (text .. "\n"):gmatch("(.-)\n") do
    T.check(#line <= 80, string.format("%s: a line of %d columns: %s", what, #line, line))
  end
end

-- the text holds an entry starting with this label and count
local function has_line(text, start, what)
  T.check(text:find("\n  " .. start, 1, true) ~= nil,
    string.format("%s: no line '%s' in:\n%s", what, start, text))
end

local function pair(sopts, ropts, sframes)
  local so = { name = "sender", ring_size = 8 }
  for k, v in pairs(sopts or {}) do so[k] = v end
  local s = lab.open("sim", so)
  local ro = { name = "receiver", ring_size = 8, peer = s }
  for k, v in pairs(ropts or {}) do ro[k] = v end
  local r = lab.open("sim", ro)
  local rs = s:region { frames = sframes or 32 }
  r:region { frames = 32 }
  local function packets(n)
    local l = {}
    for i = 1, n do l[i] = lab.packet.udp { dst = "198.18.0.2:9", payload = "p" .. i, region = rs } end
    return l
  end
  return s, r, packets
end

local function drain(r)
  local got = r:rx(64)
  for _, p in ipairs(got) do p:release() end
  return #got
end

local function close(...)
  for _, e in ipairs({ ... }) do e:close() end
end

if case == "sim_causes" then
  -- fill ring empty: 4 packets, nothing lent to the NIC
  local s, r, packets = pair()
  s:tx(packets(4)); s:kick(); s:complete()
  T.eq(drain(r), 0, "received without fill")
  local x = row(r, "rx_fill_ring_empty_descs")
  T.check(x, "a fill ring empty row")
  T.eq(x.count, 4, "fill ring empty count")
  T.eq(x.kind, "drop", "fill ring empty kind")
  T.check(x.remedy:find("fill 8", 1, true), "the remedy names a fill that fits the ring: " .. x.remedy)
  local text = lab.explain(r)
  has_line(text, "fill ring empty 4: packets arrived when the NIC had no frame", "fill empty")
  T.check(text:match("^receiver %(sim%): 4 sent, 0 received; dropped:") == nil, "the receiver sent nothing")
  T.check(text:match("^receiver %(sim%): 0 sent, 0 received; dropped:\n"), "heading: " .. text)
  fits(text, "fill empty")
  T.eq(#lab.drops(s), 0, "the sender dropped nothing")
  T.conserved(s) T.conserved(r)
  close(r, s)

  -- rx ring full: 12 packets between two recvs, 8 slots
  s, r, packets = pair(nil, { fill_size = 16 })
  r:fill(16)
  s:tx(packets(8)); s:kick(); s:complete()
  s:tx(packets(4)); s:kick(); s:complete()
  T.eq(drain(r), 8, "one recv")
  T.eq(row(r, "rx_ring_full").count, 4, "rx ring full count")
  T.eq(row(r, "rx_fill_ring_empty_descs"), nil, "no fill ring empty row")
  T.eq(row(r, "rx_dropped"), nil, "rx_dropped is attributed, not repeated")
  text = lab.explain(r)
  has_line(text, "rx ring full 4: packets arrived with the rx ring full", "rx full")
  fits(text, "rx full")
  close(r, s)

  -- tx ring full: 12 packets into 8 slots
  s, r, packets = pair()
  T.eq(s:tx(packets(12)), 8, "queued of 12")
  T.eq(row(s, "tx_ring_full").count, 4, "tx ring full count")
  T.eq(row(s, "tx_ring_full").kind, "stall", "tx ring full kind")
  local ok, err = pcall(s.tx, s, packets(1))
  T.check(not ok and err:find("tx ring is full", 1, true), "a send into a full ring is refused: " .. tostring(err))
  T.eq(row(s, "tx_ring_full").count, 5, "the refused send counts too")
  text = lab.explain(s)
  has_line(text, "tx ring full 5: packets a send could not queue", "tx full")
  T.check(text:find("nothing dropped, but:", 1, true), "a stall is not a drop: " .. text)
  -- and what waits: queued, NEED_WAKEUP, not kicked
  has_line(text, "tx waits 8: queued, but the ring says NEED_WAKEUP and nobody kicked", "tx waits")
  fits(text, "tx full")
  close(r, s)

  -- completions not collected: comp ring 8, 16 sent without complete
  s, r, packets = pair(nil, { fill_size = 16 }, 16)
  r:fill(16)
  s:tx(packets(8)); s:kick(); drain(r); r:fill(8)
  s:tx(packets(8)); s:kick(); drain(r)
  local o = T.conserved(s)
  T.eq(o.comp, 8, "frames on comp")
  T.eq(o.nic, 8, "frames stuck in the NIC")
  T.eq(row(s, "comp_ring_full").count, 1, "the NIC stopped once")
  T.eq(row(s, "comp").count, 8, "comp waits")
  text = lab.explain(s)
  has_line(text, "comp ring full 1: times the NIC stopped", "comp full")
  has_line(text, "comp ring full now 8: sent frames not collected", "comp full now")
  fits(text, "comp full")
  T.eq(s:complete() + s:complete(), 16, "collected")
  T.eq(row(s, "comp"), nil, "nothing waits on comp after complete")
  T.eq(row(s, "comp_ring_full").count, 1, "the count stays: it is history")
  close(r, s)

  -- a forgotten wakeup: queued, not kicked
  s, r, packets = pair()
  r:fill(8)
  s:tx(packets(4))
  T.eq(drain(r), 0, "nothing arrives without a kick")
  T.eq(row(s, "tx").count, 4, "tx waits")
  s:kick(); s:complete()
  T.eq(drain(r), 4, "after the kick")
  T.eq(#lab.drops(s), 0, "nothing left to explain on the sender")
  close(r, s)

  -- the wire: the receiver's wire holds 2 packets, 4 sent
  s, r, packets = pair(nil, { wire_capacity = 2 })
  r:fill(8)
  s:tx(packets(4)); s:kick(); s:complete()
  T.eq(row(s, "wire_drops").count, 2, "wire full")
  T.eq(row(r, "wire").count, 2, "2 wait on the receiver's wire")
  has_line(lab.explain(s), "wire full 2: packets sent into a full wire", "wire full")
  has_line(lab.explain(r), "wire waits 2: packets on the cable, not received yet - recv", "wire waits")
  close(r, s)

  -- too big for the fill ring: a 9000-byte packet needs 5 frames, ring 4
  s, r, packets = pair({ mode = "zerocopy" }, { fill_size = 4, mode = "zerocopy" })
  r:fill(4)
  local big = lab.packet.udp { dst = "198.18.0.2:9", payload = string.rep("j", 9000), region = s:region() }
  s:tx(big); s:kick(); s:complete()
  T.eq(drain(r), 0, "a packet in 5 frames with a fill ring of 4")
  T.eq(row(r, "rx_dropped").count, 1, "the remainder of rx_dropped")
  has_line(lab.explain(r), "too big for the fill ring 1:", "too big")
  close(r, s)
  print("explain_drops sim_causes: PASS")
elseif case == "sim_clean" then
  local e = lab.open("sim", { name = "clean", ring_size = 8 })
  local text = lab.explain(e)
  T.eq(text, "nothing dropped on clean (sim): 0 packets sent, 0 received", "no region yet")
  local r = e:region { frames = 32 }
  e:fill(8)
  for i = 1, 4 do e:tx(lab.packet.udp { dst = "198.18.0.2:9", payload = "c" .. i, region = r }) end
  e:kick(); e:complete()
  local got = e:rx(8)
  T.eq(#got, 4, "loopback")
  for _, p in ipairs(got) do p:release() end
  T.eq(lab.explain(e), "nothing dropped on clean (sim): 4 packets sent, 4 received", "one line")
  T.eq(#lab.drops(e), 0, "no rows")
  -- all: every counter, zeros too, one entry each, within 80 columns
  local all = lab.drops(e, "all")
  T.check(#all >= 8, "all lists every counter: " .. #all)
  for _, x in ipairs(all) do
    T.check(type(x.counter) == "string" and type(x.count) == "number" and x.cause ~= "" and x.remedy ~= "",
      "a row has counter, count, cause, remedy")
  end
  fits(lab.explain(e, "all"), "explain all")
  e:close()
  print("explain_drops sim_clean: PASS")
elseif case == "errors" then
  local ok, err = pcall(lab.explain, 42)
  T.check(not ok and err:match("explain: give an engine or its name, not a number$"), tostring(err))
  local e = lab.open("sim", { name = "x" })
  ok, err = pcall(lab.drops, e, "everything")
  T.check(not ok and err:find("drops: 'everything'? - lab.drops(e) or lab.drops(e, \"all\")", 1, true), tostring(err))
  T.eq(#lab.drops("x"), 0, "an engine by its name")
  e:close()
  ok, err = pcall(lab.explain, e)
  T.check(not ok and err:find("the engine is closed", 1, true), tostring(err))
  print("explain_drops errors: PASS")
elseif case == "dpdk_net_ring" then
  local ok, e = pcall(lab.open, "dpdk", { vdev = "net_ring0", log = "emergency", name = "ring" })
  if not ok then print("SKIP: " .. tostring(e)) os.exit(77) end
  local r = e:region { frames = 4096 }
  T.eq(lab.explain(e), "nothing dropped on ring (dpdk): 0 packets sent, 0 received", "clean")
  -- nobody receives: the ring fills, then ringlab's staging queue
  local refused
  for _ = 1, 40 do
    local list = {}
    for i = 1, 64 do list[i] = lab.packet.udp { dst = "198.18.0.2:9", payload = "d", region = r } end
    local okk, err = pcall(e.tx, e, list)
    for _, p in ipairs(list) do pcall(p.release, p) end
    if not okk then refused = err break end
  end
  T.check(refused and refused:find("wait for the PMD already", 1, true), "the staging queue fills: " .. tostring(refused))
  local short, full = row(e, "tx_burst_short"), row(e, "tx_ring_full")
  T.check(short and short.count > 0, "tx burst short counted")
  T.check(full and full.count >= 64, "tx ring full counted")
  local text = lab.explain(e)
  has_line(text, "tx burst short " .. short.count .. ": offers rte_eth_tx_burst did not take", "dpdk short")
  has_line(text, "tx ring full " .. full.count .. ": packets a send could not queue", "dpdk full")
  has_line(text, "tx waits 256: packets the PMD has not taken yet", "dpdk staged")
  fits(text, "dpdk")
  T.conserved(e)
  e:close()
  print("explain_drops dpdk_net_ring: PASS")
elseif case == "prompt" then
  -- the prompt's commands over the same code (run by the test with -c)
  error("the prompt case is run with -c commands, see CMakeLists.txt")
else
  error("explain_drops.lua: which case? - sim_causes, sim_clean, errors, dpdk_net_ring")
end
