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

-- One ring as a row of slots: # an entry waiting, . an empty slot, c the
-- consumer's next slot (the next entry to take), p the producer's next
-- slot (the next to fill), | both on one slot (the ring empty, or full).
-- A ring that fits in w cells is drawn whole, one cell per slot. A larger
-- one is drawn as the w slots around its consumer and producer when its
-- waiting entries fit ("slots 0-21"), else whole with one cell per group
-- of slots ("cell=128": # when any slot of the group waits). Returns the
-- bar and that caption ("" when the ring is whole at one slot a cell).
local function slot_waits(slot, cons, pending, size)
  return (slot - cons) % size < pending
end

function V.ring_bar(r, w)
  local size = math.max(r.size or 0, 1)
  local pending = math.max(0, math.min(r.pending or 0, size))
  local c, p = (r.cons or 0) % size, (r.prod or 0) % size
  local cells, caption, start, per = {}, "", 0, 1
  if size <= w then
    w = size
  elseif pending + 1 <= w then
    start = c - c % w -- a window that stays put while c and p move in it
    if (c - start) + pending >= w then start = c end
    local last = (start + w - 1) % size
    caption = string.format("slots %d-%d", start, last)
  else
    -- more wait than fit one a cell: cells of k slots, the smallest k that
    -- puts c and p in different cells of a window from c's cell; when that
    -- window would be the whole ring, the whole ring in cells
    local k = 1
    while k * w < size and (c % k + pending) // k + 1 > w - 1 do k = k * 2 end
    if k * w < size then
      per, start = k, c - c % k
      caption = string.format("slots %d-%d cell=%d", start, (start + k * w - 1) % size, k)
    else
      k = 1
      while k * 2 <= w do k = k * 2 end
      if size % k == 0 then w = k end
      per = size / w
      caption = size % w == 0 and string.format("cell=%d", per) or string.format("cell~%d", math.floor(per + 0.5))
    end
  end
  for i = 0, w - 1 do
    local ch
    if per == 1 then
      local slot = (start + i) % size
      ch = slot_waits(slot, c, pending, size) and paint("32", "#") or "."
      if slot == c and slot == p then ch = paint("1", "|")
      elseif slot == c then ch = paint("1;33", "c")
      elseif slot == p then ch = paint("1;36", "p") end
    else
      -- slots [a, b) of the window, counted on from start without wrapping
      local a, b = start + math.floor(i * per), start + math.floor((i + 1) * per)
      local waits, e = false, c + pending -- the waiting slots are [c, e)
      if pending >= size then waits = true
      elseif pending > 0 then
        waits = (a < e and b > c) or (e > size and a < e - size)
      end
      ch = waits and paint("32", "#") or "."
      local has_c = c >= a and c < b
      local has_p = (e >= a and e < b) or (e >= size and e - size >= a and e - size < b)
      if has_c and has_p then ch = paint("1", "|")
      elseif has_c then ch = paint("1;33", "c")
      elseif has_p then ch = paint("1;36", "p") end
    end
    cells[#cells + 1] = ch
  end
  return "[" .. table.concat(cells) .. "]", caption
end

V.RING_LEGEND = "# waiting  . empty  c next to take (cons)  p next to fill (prod)  | both"

-- a word longer than `room` (a path, a URL) in pieces that fit: cut after
-- a '/' where one lies in the second half of the piece, else at room
local function pieces(word, room)
  local out = {}
  while #word > room do
    local cut = room
    for i = room, (room + 1) // 2, -1 do
      if word:sub(i, i) == "/" then cut = i; break end
    end
    out[#out + 1] = word:sub(1, cut)
    word = word:sub(cut + 1)
  end
  out[#out + 1] = word
  return out
end

-- text cut between words into lines of at most width: the first line
-- after `first`, the others after `cont` (default: first); a word too long
-- for any line (a path in a deep build tree) is cut after its '/'s. No
-- words: no lines. The one word wrapper of the prompt (C.say, help,
-- engines available, a lesson's pause, step).
function V.wrap(text, width, first, cont)
  first = first or ""
  cont = cont or first
  local out, prefix, line = {}, first, first
  local function add(word, glue)
    if #line > #prefix and #line + #glue + #word > width then
      out[#out + 1] = line
      prefix, line = cont, cont
      glue = ""
    end
    line = line .. (#line > #prefix and glue or "") .. word
  end
  for word in text:gmatch("%S+") do
    local room = math.max(4, width - #cont)
    if #word <= room or width - #line > #word then
      add(word, " ")
    else
      -- the pieces of a long word follow each other without a space
      for i, p in ipairs(pieces(word, room)) do add(p, i == 1 and " " or "") end
    end
  end
  if #line > #prefix then out[#out + 1] = line end
  return out
end
local wrap = V.wrap

-- Ring views in the engine's order: a header, one row per ring (its
-- numbers and its slots, V.ring_bar), the engine's note under it - once:
-- an engine on several queues has the same notes on each queue's rings.
function V.rings(rings)
  local names = {}
  for name in pairs(rings) do names[#names + 1] = name end
  table.sort(names, function(a, b)
    return (rings[a].order or 99) < (rings[b].order or 99) or
      ((rings[a].order or 99) == (rings[b].order or 99) and a < b)
  end)
  local width = math.max(60, term.width())
  -- columns as wide as their numbers; the bar gets what is left
  local cw = { size = 4, prod = 4, cons = 4, pending = 7 }
  local cap = 0
  for _, name in ipairs(names) do
    local r = rings[name]
    for k in pairs(cw) do cw[k] = math.max(cw[k], #tostring(r[k])) end
    cap = math.max(cap, #string.format(" slots %d-%d", r.size - 1, r.size - 1))
  end
  local fmt = string.format("%%-7s %%%dd %%%dd %%%dd %%%dd  ", cw.size, cw.prod, cw.cons, cw.pending)
  local cols = 7 + 4 + cw.size + cw.prod + cw.cons + cw.pending + 2
  local w = math.max(8, math.min(64, width - 1 - cols - 2 - cap))
  local out = { string.format(fmt:gsub("d", "s"), "ring", "size", "prod", "cons", "pending") .. "slots" }
  local said = {}
  for _, name in ipairs(names) do
    local r = rings[name]
    local b, caption = V.ring_bar(r, w)
    out[#out + 1] = string.format(fmt, name, r.size, r.prod, r.cons, r.pending) ..
      b .. (caption ~= "" and (" " .. caption) or "")
    local base = name:gsub("%d+$", "") -- fill0, fill1: the same ring's notes
    if r.need_wakeup and not said["wakeup " .. base] then
      said["wakeup " .. base] = true
      out[#out + 1] = "       " .. paint("33", "need_wakeup") .. ": the NIC sleeps until the program kicks it"
    end
    if r.note and not said[base .. " " .. r.note] then
      said[base .. " " .. r.note] = true
      for _, l in ipairs(wrap("(" .. r.note .. ")", width - 1, "       ")) do out[#out + 1] = l end
    end
  end
  out[#out + 1] = V.RING_LEGEND
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

-- refs (optional, one character per cell as e:refs_map()): a frame in
-- several descriptors shows their number instead of its letter, in its
-- owner's colour.
local function map_lines(cells, per_line, frames_per_cell, refs)
  local out = {}
  for i = 1, #cells, per_line do
    local k = i - 1
    local row = cells:sub(i, i + per_line - 1):gsub(".", function(ch)
      k = k + 1
      local n = refs and refs:sub(k, k) or "."
      if n ~= "." then return colour_of[ch] and paint(colour_of[ch], n) or n end
      return colour_of[ch] and paint(colour_of[ch], ch) or ch
    end)
    out[#out + 1] = string.format("%7d  %s", (i - 1) * frames_per_cell, row)
  end
  return out
end

-- The owner of each frame as runs of one owner: "0-3 fill", "4 tx", ...
local run_name = { ["."] = "app(free)", A = "app(held)", F = "fill", N = "nic", R = "rx", T = "tx", C = "comp" }
local function owner_runs(map)
  local runs, i = {}, 1
  while i <= #map do
    local ch = map:sub(i, i)
    local j = i
    while j < #map and map:sub(j + 1, j + 1) == ch do j = j + 1 end
    local name = run_name[ch] or ch
    runs[#runs + 1] = (i == j and string.format("%d %s", i - 1, name)
      or string.format("%d-%d %s", i - 1, j - 1, name))
    i = j + 1
  end
  return runs
end

-- A map that needs more rows than this is told as runs of one owner.
V.MAP_ROWS = 8
-- ... unless the runs need more lines than this: then cells of groups.
V.RUN_LINES = 8

-- A frame in two or more descriptors at once, told in words: the line
-- under the owner map and the dashboard's (nil when no frame is).
-- digits: the map shows them; else refs (e:refs_map()) gives the frames
-- as runs ("frames 0-31").
function V.shared_line(owners, digits, refs)
  if not owners.shared or owners.shared == 0 then return nil end
  local where = ""
  if digits then
    where = "; a digit in the map = descriptors in that frame"
  elseif refs then
    local runs, i = {}, refs:find("[^.]")
    while i and #runs < 6 do
      local j = (refs:find("%.", i) or #refs + 1) - 1
      runs[#runs + 1] = i == j and tostring(i - 1) or string.format("%d-%d", i - 1, j - 1)
      i = refs:find("[^.]", j + 1)
    end
    where = "; frames " .. table.concat(runs, ", ") .. (i and ", ..." or "")
  end
  return string.format("shared: %d frame%s in %d descriptors%s", owners.shared,
    owners.shared == 1 and "" or "s", owners.shared_refs, where)
end

-- owners: e:owners(); map: e:owner_map() (one letter per frame); refs
-- (optional): e:refs_map(), the frames in several descriptors.
function V.owners(owners, map, refs)
  local shown_digits = false
  local frames = owners.frames
  local width = math.max(40, term.width())
  local per_line = math.max(16, math.min(64, width - 10))
  local out = {}
  local runs = #map > per_line * V.MAP_ROWS and owner_runs(map) or nil
  local run_lines = runs and wrap(table.concat(runs, ", "), width - 1, "  ") or nil
  if run_lines and #run_lines <= V.RUN_LINES then
    out[1] = string.format("owners of %d frames, as runs of frames with one owner (frame numbers):", frames)
    for _, l in ipairs(run_lines) do out[#out + 1] = l end
  else
    local group = 1
    if #map > per_line * V.MAP_ROWS then group = math.ceil(#map / (per_line * V.MAP_ROWS)) end
    local cells = group > 1 and group_map(map, group) or map
    if group > 1 then
      out[1] = string.format("owners of %d frames in %d runs; a cell = %d frames (the owner most have)",
        frames, #runs, group)
    else
      out[1] = string.format("owners of %d frames (one cell per frame, frame number at the left)", frames)
    end
    local shown = group == 1 and refs and refs:find("[^.]") and refs or nil
    shown_digits = shown ~= nil
    for _, line in ipairs(map_lines(cells, per_line, group, shown)) do out[#out + 1] = line end
    local legend = {}
    for _, l in ipairs(letters) do legend[#legend + 1] = l.ch .. " " .. l.what end
    if shown then legend[#legend + 1] = "2-9 (+: 10 or more) descriptors in one frame, its owner's colour" end
    for _, l in ipairs(wrap("legend: " .. table.concat(legend, ", "), width - 1, "")) do
      out[#out + 1] = (l:gsub("(%u) ", function(ch) return paint(colour_of[ch], ch) .. " " end))
    end
  end
  local held = select(2, map:gsub("A", ""))
  local sum = 0
  for _, o in ipairs({ "app", "fill", "nic", "rx", "tx", "comp" }) do sum = sum + owners[o] end
  out[#out + 1] = string.format("owners: app %d (held %d + free %d), fill %d, nic %d, rx %d, tx %d, comp %d",
    owners.app, held, owners.free, owners.fill, owners.nic, owners.rx, owners.tx, owners.comp)
  out[#out + 1] = string.format("sum %d = frames %d (%s)", sum, frames,
    sum == frames and "conserved" or paint("31", "NOT CONSERVED - a bug"))
  local sh = V.shared_line(owners, shown_digits, refs)
  if sh then
    for _, l in ipairs(wrap(sh .. " (a shared frame counts once, under the owner of "
      .. "its least advanced descriptor)", width - 1, "  ")) do out[#out + 1] = l end
  end
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

-- category, meaning, the how/why prefix, meaning in 13 columns (80-col screens)
local ledger_rows = {
  { "copied", "memcpy by the lab or a script", nil, "memcpy by lab" },
  { "referenced", "sent or delivered, no copy", nil, "no copy" },
  { "headers", "header bytes written", nil, "headers built" },
  { "kernel_copied", "copies the kernel makes", "kernel", "kernel copies" },
  { "driver_copied", "copies a DPDK driver makes", "driver", "driver copies" },
  { "touched", "read, not copied (checksums)", nil, "read, no copy" },
}
V.LEDGER_ROWS = ledger_rows

local function per(v, n)
  return (n and n > 0) and string.format("%.1f", v / n) or "-"
end

-- The part of category k on one path (l.tx / l.rx from e:stats()); a
-- ledger without them (an older table) counts as all sent.
local function ledger_part(l, dir, k)
  local t = l[dir]
  if type(t) == "table" then return t[k] or 0 end
  return dir == "tx" and (l[k] or 0) or 0
end
V.ledger_part = ledger_part

-- The ledger: each category's total, its send part and receive part (the
-- ledger knows the path of every byte), and each part per packet on its
-- own path: sent and received (optional) are the packets sent and
-- received. One packet sent with 42 header bytes shows 42 per sent; a
-- copy-mode receive shows its kernel copies per recv only.
function V.ledger(l, sent, received)
  local wide = term.width() >= 96
  local fmt = "%-13s %10s %9s %9s %9s %9s  %s"
  local out = { string.format(fmt, "category", "bytes", "sent", "recv", "per sent", "per recv", "meaning") }
  for _, row in ipairs(ledger_rows) do
    local v, tx, rx = l[row[1]], ledger_part(l, "tx", row[1]), ledger_part(l, "rx", row[1])
    out[#out + 1] = string.format(fmt, row[1], v, tx, rx, per(tx, sent), per(rx, received),
      wide and row[2] or row[4])
    if row[3] then
      local how, why = l[row[3] .. "_how"], l[row[3] .. "_why"]
      local said = wrap(how .. ((why and why ~= "") and (": " .. why) or ""), math.max(60, term.width()) - 1,
        string.rep(" ", 15))
      said[1] = said[1]:gsub("^(%s*)(%a+)", function(sp, w) return sp .. paint(how == "measured" and "32" or "33", w) end)
      for _, l in ipairs(said) do out[#out + 1] = l end
    end
  end
  out[#out + 1] = "sent, recv: the part of each total on the send path, on the receive path"
  if sent then
    local function pk(n) return n == 1 and "1 packet" or string.format("%d packets", n) end
    out[#out + 1] = string.format("per sent: sent / %s sent; per recv: recv / %s received", pk(sent),
      pk(received or 0))
  end
  return table.concat(out, "\n")
end

-- bytes per packet in few columns: 42.5, 1458, or - when no packet
local function short(v, n)
  if not n or n == 0 then return "-" end
  local x = v / n
  return x < 100 and (x == math.floor(x) and string.format("%d", x) or string.format("%.1f", x))
    or string.format("%.0f", x)
end

-- The ledgers of several engines side by side, one column each; cols are
-- { name=, kind=, mode=, stats=e:stats() }. Columns as wide as width
-- allows (4 fit in 80); more engines than fit go in further tables.
function V.compare(cols, width)
  width = width or 80
  local label = 16
  local per_table = math.max(1, math.floor((width - 1 - label) / 12))
  local out = {}
  for first = 1, #cols, per_table do
    local part = { table.unpack(cols, first, math.min(#cols, first + per_table - 1)) }
    local w = math.min(20, math.floor((width - 1 - label) / #part))
    local function row(name, f)
      local cells = { string.format("%-" .. label .. "s", name) }
      for _, c in ipairs(part) do
        local v = tostring(f(c))
        if #v > w - 2 then v = v:sub(1, w - 3) .. "~" end -- two spaces between columns
        cells[#cells + 1] = string.format("%" .. w .. "s", v)
      end
      out[#out + 1] = table.concat(cells)
    end
    if first > 1 then out[#out + 1] = "" end
    row("engine", function(c) return c.name end)
    row("kind, mode", function(c) return c.kind .. " " .. c.mode end)
    row("packets sent", function(c) return c.stats.tx_pkts or "-" end)
    row("packets recv", function(c) return c.stats.rx_pkts end)
    row("drops", function(c) return c.stats.drops end)
    out[#out + 1] = "ledger in bytes: the total; per sent/recv: send part/sent, recv part/recv"
    for _, r in ipairs(ledger_rows) do
      local k = r[1]
      row(k, function(c) return c.stats.ledger[k] end)
      row("  per sent/recv", function(c)
        local l = c.stats.ledger
        return short(ledger_part(l, "tx", k), c.stats.tx_pkts) .. "/" ..
          short(ledger_part(l, "rx", k), c.stats.rx_pkts)
      end)
      if r[3] then row("  " .. r[3], function(c) return c.stats.ledger[r[3] .. "_how"] end) end
    end
    -- a kernel path's column (compare kernel:PATH): its calls, CPU, peer
    local kernel = false
    for _, c in ipairs(part) do kernel = kernel or c.kernel ~= nil end
    if kernel then
      row("kernel: calls", function(c) return c.kernel and c.kernel.syscalls or "-" end)
      row("  CPU ms/MiB", function(c) return c.kernel and string.format("%.2f", c.kernel.cpu_ms_per_mib) or "-" end)
      row("  body size", function(c) return c.kernel and c.kernel.size or "-" end)
      row("  peer sha256", function(c) return c.kernel and (c.kernel.intact and "intact" or "NOT INTACT") or "-" end)
    end
  end
  for _, c in ipairs(cols) do
    if c.kernel then
      out[#out + 1] = "kernel columns: the kernel's own send path (kernel send); packets sent: what the"
      out[#out + 1] = "peer's capture saw (- without capture=true), or the datagrams the peer got"
      break
    end
  end
  if #cols == 0 then out[1] = "no engine to compare - open some: open sim name=copy, open sim name=zc mode=zerocopy" end
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
