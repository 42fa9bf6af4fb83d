-- views.lua - what `show` draws (ringlab.views).
--
-- Each view takes plain tables from the Lua API (e:rings(), e:owners(),
-- e:owner_map(), e:stats(), pkt:dissect()) and returns text, so scripts
-- can print the same pictures. Colour is used only when stdout is a
-- terminal and NO_COLOR is unset (ringlab.term.colour()).

local term = require "ringlab.term"

local V = {}

local function paint(code, s)
  if V.colour == nil then V.colour = term.colour() end
  if not V.colour then return s end
  return "\27[" .. code .. "m" .. s .. "\27[0m"
end

local function bar(used, size, width)
  local n = size > 0 and math.floor(used * width / size + 0.5) or 0
  if used > 0 and n == 0 then n = 1 end
  return "[" .. paint("32", string.rep("#", n)) .. string.rep(".", width - n) .. "]"
end

-- Ring views in the engine's order.
function V.rings(rings)
  local names = {}
  for name in pairs(rings) do names[#names + 1] = name end
  table.sort(names, function(a, b)
    return (rings[a].order or 99) < (rings[b].order or 99) or
      ((rings[a].order or 99) == (rings[b].order or 99) and a < b)
  end)
  local out = {}
  for _, name in ipairs(names) do
    local r = rings[name]
    out[#out + 1] = string.format("%-5s size %5d  prod %6d  cons %6d  pending %5d  %s%s",
      name, r.size, r.prod, r.cons, r.pending, bar(r.pending, r.size, 20),
      r.need_wakeup and paint("33", "  need_wakeup") or "")
    if r.note then out[#out + 1] = "      (" .. r.note .. ")" end
  end
  return table.concat(out, "\n")
end

local letters = {
  { ch = "A", owner = "app", what = "held by the program", colour = "33" },
  { ch = ".", owner = "app", what = "free in the pool", colour = "2" },
  { ch = "F", owner = "fill", what = "fill ring", colour = "34" },
  { ch = "N", owner = "nic", what = "inside the NIC", colour = "35" },
  { ch = "R", owner = "rx", what = "rx ring", colour = "32" },
  { ch = "T", owner = "tx", what = "tx ring", colour = "36" },
  { ch = "C", owner = "comp", what = "completion ring", colour = "31" },
}
local colour_of = {}
for _, l in ipairs(letters) do colour_of[l.ch] = l.colour end

-- Regions larger than this are drawn one cell per group of frames.
V.MAX_CELLS = 4096

local function group_map(map, size)
  local cells = {}
  for i = 1, #map, size do
    local counts, best, bestn = {}, ".", -1
    for ch in map:sub(i, i + size - 1):gmatch(".") do
      counts[ch] = (counts[ch] or 0) + 1
    end
    for _, l in ipairs(letters) do
      local n = counts[l.ch] or 0
      if n > bestn then best, bestn = l.ch, n end
    end
    cells[#cells + 1] = best
  end
  return table.concat(cells)
end

local function map_lines(cells, per_line, frames_per_cell)
  local out = {}
  for i = 1, #cells, per_line do
    local row = cells:sub(i, i + per_line - 1):gsub(".", function(ch)
      return colour_of[ch] and paint(colour_of[ch], ch) or ch
    end)
    out[#out + 1] = string.format("%7d  %s", (i - 1) * frames_per_cell, row)
  end
  return out
end

-- owners: e:owners(); map: e:owner_map() (one letter per frame).
function V.owners(owners, map)
  local frames = owners.frames
  local group = 1
  if frames > V.MAX_CELLS then group = math.ceil(frames / 1024) end
  local cells = group > 1 and group_map(map, group) or map
  local per_line = math.max(16, math.min(64, term.width() - 10))
  local out = {}
  if group > 1 then
    out[1] = string.format("owners of %d frames: each cell is %d frames and shows the owner most of them have",
      frames, group)
  else
    out[1] = string.format("owners of %d frames (one cell per frame, frame number at the left)", frames)
  end
  for _, line in ipairs(map_lines(cells, per_line, group)) do out[#out + 1] = line end
  local held = select(2, map:gsub("A", ""))
  local legend, sum = {}, 0
  for _, l in ipairs(letters) do
    local n
    if l.ch == "A" then n = held elseif l.ch == "." then n = owners.free else n = owners[l.owner] end
    legend[#legend + 1] = string.format("%s %s %d", paint(l.colour, l.ch), l.what, n)
  end
  for _, o in ipairs({ "app", "fill", "nic", "rx", "tx", "comp" }) do sum = sum + owners[o] end
  out[#out + 1] = "legend: " .. table.concat(legend, "   ")
  out[#out + 1] = string.format("owners: app %d (held %d + free %d), fill %d, nic %d, rx %d, tx %d, comp %d",
    owners.app, held, owners.free, owners.fill, owners.nic, owners.rx, owners.tx, owners.comp)
  out[#out + 1] = string.format("sum %d = frames %d (%s)", sum, frames,
    sum == frames and "conserved" or paint("31", "NOT CONSERVED - a bug"))
  return table.concat(out, "\n")
end

local main_stats = { "mode", "tx_pkts", "tx_bytes", "rx_pkts", "rx_bytes", "drops", "kicks" }

function V.stats(st)
  local out = { string.format("mode %s  (%s)", st.mode, st.mode_why) }
  for i = 2, #main_stats do
    out[#out + 1] = string.format("  %-26s %d", main_stats[i], st[main_stats[i]])
  end
  local extra, known = {}, { mode_why = true, ledger = true }
  for _, k in ipairs(main_stats) do known[k] = true end
  for k, v in pairs(st) do
    if not known[k] and type(v) == "number" then extra[#extra + 1] = k end
  end
  table.sort(extra)
  if #extra > 0 then out[#out + 1] = "engine counters:" end
  for _, k in ipairs(extra) do out[#out + 1] = string.format("  %-26s %d", k, st[k]) end
  return table.concat(out, "\n")
end

local ledger_rows = {
  { "copied", "memcpy into or out of packet memory by the lab or a script" },
  { "referenced", "sent or delivered without a copy" },
  { "headers", "header bytes written" },
  { "kernel_copied", "copies the kernel makes", "kernel" },
  { "driver_copied", "copies a DPDK driver makes", "driver" },
  { "touched", "payload read but not copied (checksums)" },
}

-- The ledger; pkts (optional) is what bytes per packet divides by.
function V.ledger(l, pkts)
  local out = { string.format("%-14s %12s %10s  %s", "category", "bytes", "per packet", "meaning") }
  for _, row in ipairs(ledger_rows) do
    local v = l[row[1]]
    local per = (pkts and pkts > 0) and string.format("%.1f", v / pkts) or "-"
    out[#out + 1] = string.format("%-14s %12d %10s  %s", row[1], v, per, row[2])
    if row[3] then
      local how, why = l[row[3] .. "_how"], l[row[3] .. "_why"]
      out[#out + 1] = string.format("%-14s %s%s", "", paint(how == "measured" and "32" or "33", how),
        (why and why ~= "") and (": " .. why) or "")
    end
  end
  if pkts then out[#out + 1] = string.format("(per packet: over %d packets sent and received)", pkts) end
  return table.concat(out, "\n")
end

-- A dissected packet (pkt:dissect()) and its segments (pkt:segments()).
function V.packet(d, segs)
  local out = { d.summary }
  if d.eth then out[#out + 1] = string.format("  eth   %s > %s type 0x%04x", d.eth.src, d.eth.dst, d.eth.type) end
  if d.arp then
    out[#out + 1] = string.format("  arp   op %d  %s (%s) > %s (%s)", d.arp.op, d.arp.spa, d.arp.sha, d.arp.tpa, d.arp.tha)
  end
  if d.ip then
    out[#out + 1] = string.format("  ip    %s > %s ttl %d proto %d len %d id %d csum 0x%04x %s",
      d.ip.src, d.ip.dst, d.ip.ttl, d.ip.proto, d.ip.len, d.ip.id, d.ip.csum, d.ip.csum_ok and "ok" or "BAD")
  end
  if d.udp then
    out[#out + 1] = string.format("  udp   %d > %d len %d csum 0x%04x %s", d.udp.src_port, d.udp.dst_port,
      d.udp.len, d.udp.csum, d.udp.csum == 0 and "(none)" or d.udp.csum_ok and "ok" or "BAD")
  end
  if d.tcp then
    local t = d.tcp
    local opts = {}
    if t.mss then opts[#opts + 1] = "mss " .. t.mss end
    if t.wscale then opts[#opts + 1] = "wscale " .. t.wscale end
    if t.sack_ok then opts[#opts + 1] = "sack_ok" end
    if t.ts_val then opts[#opts + 1] = string.format("ts %d/%d", t.ts_val, t.ts_ecr) end
    out[#out + 1] = string.format("  tcp   %d > %d [%s] seq %d ack %d win %d hlen %d csum 0x%04x %s%s",
      t.src_port, t.dst_port, t.flag_str, t.seq, t.ack, t.window, t.hlen, t.csum,
      t.csum_ok and "ok" or "BAD (or left to the NIC)", #opts > 0 and "  " .. table.concat(opts, " ") or "")
  end
  if d.icmp then
    out[#out + 1] = string.format("  icmp  type %d code %d id %d seq %d csum 0x%04x %s", d.icmp.type,
      d.icmp.code, d.icmp.id, d.icmp.seq, d.icmp.csum, d.icmp.csum_ok and "ok" or "BAD")
  end
  out[#out + 1] = string.format("  payload %d bytes at offset %d", d.payload_len, d.payload_off)
  if d.problem then out[#out + 1] = "  problem: " .. d.problem end
  for i, s in ipairs(segs or {}) do
    out[#out + 1] = string.format("  segment %d: frame %d addr %d len %d%s", i, s.frame, s.addr, s.len,
      s.contd and " CONTD" or "")
  end
  return table.concat(out, "\n")
end

return V
