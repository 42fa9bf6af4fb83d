-- watch.lua - the live view (ringlab.watch): lab.watch, lab.pause,
-- lab.progress, `watch`, `watch run`, `ringlab --watch` and the drawn `step`.
--
-- A frame is built from the same calls scripts use (e:rings(), e:owners(),
-- e:owner_map(), e:stats()) into one string, and written at once with the
-- cursor sent home first (no clearing, so no flicker). W.watch() owns the
-- whole screen: the alternate screen, the cursor hidden, keys raw; q or
-- Ctrl-C leaves and the terminal is restored on every path (pcall). W.live()
-- runs a script under a dashboard: the top rows are redrawn by a count hook
-- (term.hook) about five times a second while the script's own output
-- scrolls in the region below; q (keys are read unechoed, Ctrl-C stays a
-- signal) or q at a lab.pause stops the script as q leaves watch. Without a
-- terminal both print plain lines. A script's error is one line with its
-- file:line (ringlab.errors; the traceback only with --debug).
-- Rates are differences of the stats between two samples over the time
-- between them; each sample is kept (W.history) for lab.plot.

local term = require "ringlab.term"

local W = { history = {}, HISTORY = 600 }

local ESC = "\27["
local colour = false
local last = setmetatable({}, { __mode = "k" }) -- engine -> previous sample

local function paint(code, s)
  if not colour then return s end
  return ESC .. code .. "m" .. s .. ESC .. "0m"
end

-- Cut s to w visible columns, keeping colour escapes whole. Plain text
-- between escapes is taken a run at a time (a frame is thousands of
-- characters, ten times a second: bench/watch.sh measures what it costs).
local function clip(s, w)
  local out, n, i, len = {}, 0, 1, #s
  while i <= len and n < w do
    local j = s:find("\27", i, true)
    local e = j == i and s:match("^\27%[[%d;?]*[%a]", i)
    if e then
      out[#out + 1] = e
      i = i + #e
    else
      -- up to the next escape (a lone ESC counts as one column)
      local stop = j and j > i and j - 1 or (j == i and i) or len
      local take = math.min(stop - i + 1, w - n)
      out[#out + 1] = s:sub(i, i + take - 1)
      n, i = n + take, i + take
    end
  end
  if colour then out[#out + 1] = ESC .. "0m" end
  return table.concat(out)
end

-- An engine, or the open engine of that name ("copy", "sim#1"), as at the
-- prompt's `watch NAME`.
local function named(x)
  if type(x) ~= "string" then return x end
  local e = lab.get(x)
  if not e then
    local names = {}
    for _, o in ipairs(lab.opened()) do names[#names + 1] = o:info().name end
    error(string.format("watch: no open engine is called '%s' - open ones: %s", x,
      #names > 0 and table.concat(names, ", ") or "none (open one first: open sim)"), 0)
  end
  return e
end

local function engines_of(list)
  if list == nil then return lab.opened() end
  if type(list) == "function" then return list() end
  if type(list) == "userdata" or type(list) == "string" then return { named(list) } end
  if type(list) ~= "table" then
    error("watch: give an engine or its name, a list of them or nothing (all open engines), not a "
      .. type(list), 3)
  end
  local out = {}
  for i, x in ipairs(list) do out[i] = named(x) end
  return out
end

---------------------------------------------------------------------------
-- sampling

local function sample(e)
  local info = e:info()
  local s = { e = e, info = info, t = lab.now(), label = info.name }
  if info.closed then return s end
  s.stats, s.rings = e:stats(), e:rings()
  s.netmap = e:netmap() -- a netmap port (personality=netmap), else nil
  s.queues = e:queues() -- one entry, or one per queue (open afxdp queues=2)
  if info.has_region then
    s.owners, s.map = e:owners(), e:owner_map()
    -- frames in several descriptors: their count stands in the map
    if (s.owners.shared or 0) > 0 then s.refs = e:refs_map() end
    s.region = e:region()
  end
  local prev = last[e]
  local dt = prev and (s.t - prev.t) or 0
  if prev and prev.stats and dt > 0 then
    s.rate = {}
    for _, k in ipairs({ "tx_pkts", "rx_pkts", "tx_bytes", "rx_bytes", "drops" }) do
      s.rate[k] = (s.stats[k] - prev.stats[k]) / dt
    end
  end
  last[e] = s
  local h = W.history[s.label] or {}
  W.history[s.label] = h
  h[#h + 1] = { t = s.t, tx_pkts = s.stats.tx_pkts, rx_pkts = s.stats.rx_pkts,
    tx_bytes = s.stats.tx_bytes, rx_bytes = s.stats.rx_bytes, ledger = s.stats.ledger }
  if #h > W.HISTORY then table.remove(h, 1) end
  return s
end
W.sample = sample

---------------------------------------------------------------------------
-- pieces of a frame

local function human(n)
  if n >= 1e9 then return string.format("%.1fG", n / 1e9) end
  if n >= 1e6 then return string.format("%.1fM", n / 1e6) end
  if n >= 1e4 then return string.format("%.1fk", n / 1e3) end
  return string.format("%.0f", n)
end

local function sorted_rings(rings)
  local names = {}
  for name in pairs(rings) do names[#names + 1] = name end
  table.sort(names, function(a, b)
    local oa, ob = rings[a].order or 99, rings[b].order or 99
    return oa < ob or (oa == ob and a < b)
  end)
  return names
end

-- A ring as a bar (views.ring_bar: # waiting, c the consumer, p the
-- producer; a large ring as the slots around them, or one cell per group).
local views = require "ringlab.views"

-- An engine on several queues has rings named fill0, rx0, ... fill1, ...:
-- the queues' numbers, or nil for one queue.
local function queue_ids(s)
  if not s.queues or #s.queues < 2 then return nil end
  local ids = {}
  for _, q in ipairs(s.queues) do ids[#ids + 1] = q.queue end
  return ids
end

-- Narrow (under 120 columns) or tight: one line per queue, each ring's
-- entries waiting/size and the queue's packets. Returns true when it drew
-- them.
local function queue_lines(s, width, out, compact)
  local ids = queue_ids(s)
  if not ids or (width >= 120 and compact ~= "tight") then return false end
  local bases, names = {}, sorted_rings(s.rings)
  for _, name in ipairs(names) do
    local base, id = name:match("^(%a+)(%d+)$")
    if base and tonumber(id) == ids[1] then bases[#bases + 1] = base end
  end
  for i, id in ipairs(ids) do
    local parts = { string.format(" q%-2d", id) }
    for _, base in ipairs(bases) do
      local r = s.rings[base .. id]
      if r then
        parts[#parts + 1] = string.format("%s %d/%d", base, r.pending, r.size)
      end
    end
    local q = s.queues[i]
    parts[#parts + 1] = string.format("  rx %s tx %s pkts", human(q.rx_pkts), human(q.tx_pkts))
    out[#out + 1] = table.concat(parts, " ")
  end
  -- the rings no queue owns (dpdk: the mempool, the staging queues)
  local rest = { " all" }
  for _, name in ipairs(names) do
    if not name:match("^%a+%d+$") then
      rest[#rest + 1] = string.format("%s %d/%d", name, s.rings[name].pending, s.rings[name].size)
    end
  end
  if #rest > 1 then out[#out + 1] = table.concat(rest, " ") end
  return true
end

-- Wide: under the rings' bars, each queue's packets on one line.
local function queue_counts(s, out)
  local ids = queue_ids(s)
  if not ids then return end
  local parts = { " queues " }
  for _, q in ipairs(s.queues) do
    parts[#parts + 1] = string.format(" q%d rx %d tx %d pkts ", q.queue, q.rx_pkts, q.tx_pkts)
  end
  out[#out + 1] = table.concat(parts)
end

local function ring_lines(s, width, out, compact)
  if s.netmap then return require("ringlab.nmview").watch_lines(s, width, out, compact, paint) end
  if queue_lines(s, width, out, compact) then return end
  -- the bar gets what the name, the numbers and the caption leave
  local names, nums, room = sorted_rings(s.rings), {}, 0
  for _, name in ipairs(names) do
    local r = s.rings[name]
    nums[name] = string.format(" prod %d cons %d pending %d/%d", r.prod, r.cons, r.pending, r.size)
    local cap = #string.format("  slots %d-%d", r.size - 1, r.size - 1)
    room = math.max(room, #nums[name] + cap + (r.need_wakeup and 12 or 0))
  end
  local bw = math.max(8, math.min(64, width - 11 - room))
  -- small rings (a lesson's 8 or 16) drawn whole need no caption: give
  -- them the caption's room when that fits every ring slot by slot
  local bare, biggest = 0, 0
  for _, name in ipairs(names) do
    local r = s.rings[name]
    bare = math.max(bare, #nums[name] + (r.need_wakeup and 12 or 0))
    biggest = math.max(biggest, r.size)
  end
  if biggest > bw and biggest <= math.min(64, width - 11 - bare) then bw = biggest end
  for _, name in ipairs(names) do
    local r = s.rings[name]
    local bar, caption = views.ring_bar(r, bw)
    out[#out + 1] = string.format(" %-7s %s%s%s%s", name, bar, nums[name],
      caption ~= "" and ("  " .. caption) or "",
      r.need_wakeup and paint("33", " need_wakeup") or "")
  end
  queue_counts(s, out)
end

local letters = { A = "33", ["."] = "2", F = "34", N = "35", R = "32", T = "36", C = "31" }
local order = { "A", "F", "N", "R", "T", "C", "." }

-- The owner map, one cell per frame, or per group of frames (the owner
-- most of the group has) when it does not fit in max_rows.
-- The owner of each cell: one letter per group of frames, kept in the
-- sample per group size (W.lines tries several layouts of one sample).
local function owner_cells(s, group)
  s.cells = s.cells or {}
  if s.cells[group] then return s.cells[group] end
  local map, cells = s.map, {}
  if group == 1 then
    for i = 1, #map do cells[i] = map:sub(i, i) end
  else
    -- the map as runs of one owner (a few dozen, not thousands of frames)
    local rs, rc, n = s.runs_at, s.runs_of, #map
    if not rs then
      rs, rc = {}, {}
      local i = 1
      while i <= n do
        local c = map:sub(i, i)
        rs[#rs + 1], rc[#rc + 1] = i, c
        i = map:find("[^" .. (c:match("%w") and c or "%" .. c) .. "]", i + 1) or n + 1
      end
      rs[#rs + 1] = n + 1
      s.runs_at, s.runs_of = rs, rc
    end
    local count, r, nord, i = {}, 1, #order, 1
    while i <= n do
      local stop = math.min(i + group - 1, n)
      while rs[r + 1] <= i do r = r + 1 end
      if rs[r + 1] > stop then -- whole groups in one run: as many at once
        local ch = letters[rc[r]] and rc[r] or order[1]
        local whole = rs[r + 1] > n and (n - i + group) // group or (rs[r + 1] - i) // group
        for _ = 1, whole do cells[#cells + 1] = ch end
        i = i + whole * group
      else
        for o = 1, nord do count[order[o]] = 0 end
        local k = r
        while rs[k] <= stop do
          local from, to = math.max(rs[k], i), math.min(rs[k + 1] - 1, stop)
          count[rc[k]] = (count[rc[k]] or 0) + to - from + 1
          k = k + 1
        end
        local best, bestn = ".", -1
        for o = 1, nord do
          local ch = order[o]
          if count[ch] > bestn then best, bestn = ch, count[ch] end
        end
        cells[#cells + 1] = best
        i = i + group
      end
    end
  end
  s.cells[group] = cells
  return cells
end

local function owner_lines(s, width, max_rows, out)
  local o, map = s.owners, s.map
  local per = math.max(16, width - 10)
  local group = math.max(1, math.ceil(#map / (per * max_rows)))
  local cells = owner_cells(s, group)
  out[#out + 1] = string.format(" owners  %d frames%s", o.frames,
    group > 1 and string.format(", one cell per %d frames (the owner most of them have)", group) or ", one cell per frame")
  -- a frame in several descriptors shows their number (2-9, + for more)
  local shown = cells
  if group == 1 and s.refs then
    shown = {}
    for k = 1, #cells do
      local n = s.refs:sub(k, k)
      shown[k] = n ~= "." and n ~= "" and n or cells[k]
    end
  end
  for i = 1, math.min(#cells, per * max_rows), per do
    -- a run of cells with one owner is painted once
    local row, last_i, stop = {}, i, math.min(#cells, i + per - 1)
    for k = i + 1, stop + 1 do
      if k > stop or cells[k] ~= cells[last_i] then
        row[#row + 1] = paint(letters[cells[last_i]] or "0", table.concat(shown, "", last_i, k - 1))
        last_i = k
      end
    end
    out[#out + 1] = string.format(" %6d  %s", (i - 1) * group, table.concat(row))
  end
  local held = select(2, map:gsub("A", ""))
  out[#out + 1] = string.format(" owners: app %d (held %d, free %d)  fill %d  nic %d  rx %d  tx %d  comp %d  = %d",
    o.app, held, o.free, o.fill, o.nic, o.rx, o.tx, o.comp,
    o.app + o.fill + o.nic + o.rx + o.tx + o.comp)
  if (o.shared or 0) > 0 then
    out[#out + 1] = string.format(" shared: %d frames in %d descriptors%s", o.shared, o.shared_refs,
      group == 1 and " (a digit = descriptors in that frame)" or "")
  end
end

-- The ledger in bytes, then (not compact) per packet sent / per packet
-- received: the send part of each category over packets sent, its receive
-- part over packets received ("-" before the first packet); a layer the
-- engine does not have (kernel or driver how "none") is left out, so the
-- line fits 80 columns.
local function ledger_lines(st, out, compact)
  local l = st.ledger
  local part = views.ledger_part
  local function per(v, n)
    if n == 0 then return "-" end
    local x = v / n
    if x >= 100 or x == math.floor(x) then return string.format("%.0f", x) end
    return string.format("%.1f", x)
  end
  out[#out + 1] = string.format(" ledger  copied %d B  referenced %d B  headers %d B  touched %d B",
    l.copied, l.referenced, l.headers, l.touched)
  out[#out + 1] = string.format("         kernel_copied %d B %s  driver_copied %d B %s", l.kernel_copied,
    paint("33", l.kernel_how), l.driver_copied, paint("33", l.driver_how))
  if compact then return end
  local parts = {}
  for _, k in ipairs({ { "copied", "copied" }, { "referenced", "refd" }, { "headers", "hdrs" },
    { "kernel_copied", "kern", "kernel_how" }, { "driver_copied", "drv", "driver_how" },
    { "touched", "touch" } }) do
    if not (k[3] and l[k[3]] == "none") then
      parts[#parts + 1] = string.format("%s %s/%s", k[2], per(part(l, "tx", k[1]), st.tx_pkts),
        per(part(l, "rx", k[1]), st.rx_pkts))
    end
  end
  out[#out + 1] = " B/pkt sent/recv: " .. table.concat(parts, " ")
end

local function rate_line(s, out)
  local st, r = s.stats, s.rate
  local function pr(k, b)
    if not r then return "-" end
    return string.format("%s pkt/s %sB/s", human(r[k]), human(r[b]))
  end
  out[#out + 1] = string.format(" rates   tx %s  rx %s   totals tx %d pkts %d B  rx %d pkts %d B",
    pr("tx_pkts", "tx_bytes"), pr("rx_pkts", "rx_bytes"), st.tx_pkts, st.tx_bytes, st.rx_pkts, st.rx_bytes)
end

local known = { tx_pkts = 1, tx_bytes = 1, rx_pkts = 1, rx_bytes = 1, drops = 1, kicks = 1,
  mode = 1, mode_why = 1, ledger = 1 }

local function counter_lines(st, width, out, compact)
  local extra = {}
  for k, v in pairs(st) do
    if not known[k] and type(v) == "number" then extra[#extra + 1] = k end
  end
  table.sort(extra)
  local line = string.format(" counts  drops %s  kicks %d", st.drops > 0 and paint("31", tostring(st.drops)) or "0", st.kicks)
  for _, k in ipairs(compact and {} or extra) do
    local item = string.format("  %s %d", k, st[k])
    if #line + #item > width then
      out[#out + 1] = line
      line = "        "
    end
    line = line .. item
  end
  out[#out + 1] = line
end

-- compact: no owner map (its counts stay), no engine counters.
local engine_lines_of

local function engine_lines(s, width, map_rows, out, compact)
  local from = #out + 1
  engine_lines_of(s, width, map_rows, out, compact)
  -- a line wider than the screen loses its double spaces before clip()
  -- cuts it (owners' "= 4096", the conservation, fell off at 80 columns)
  for i = from, #out do
    if #out[i]:gsub("\27%[[%d;?]*%a", "") > width then out[i] = out[i]:gsub("(%S)  +", "%1 ") end
  end
end

function engine_lines_of(s, width, map_rows, out, compact)
  local title = string.format("-- %s%s  mode %s", s.label,
    s.label:find("#", 1, true) and "" or (" (" .. (s.info.kind or "?") .. ")"), s.stats and s.stats.mode or "?")
  if s.region then
    title = title .. string.format("  region %d x %d B", s.region.frames, s.region.frame_size)
  end
  if s.info.closed then title = title .. "  (closed)" end
  out[#out + 1] = paint("1", title .. " " .. string.rep("-", math.max(0, width - #title - 1)))
  if s.info.closed then return end
  ring_lines(s, width, out, compact)
  if compact == "tight" then
    -- the rings, the owners in one line, the ledger's first line and the
    -- packets: what a lesson's small dashboard keeps
    local o, st, l = s.owners, s.stats, s.stats.ledger
    if o then
      out[#out + 1] = string.format(" owners: app %d (free %d)  fill %d  nic %d  rx %d  tx %d  comp %d  = %d",
        o.app, o.free, o.fill, o.nic, o.rx, o.tx, o.comp, o.app + o.fill + o.nic + o.rx + o.tx + o.comp)
    else
      out[#out + 1] = " (no region yet)"
    end
    out[#out + 1] = string.format(" ledger  copied %d B  referenced %d B  headers %d B  touched %d B",
      l.copied, l.referenced, l.headers, l.touched)
    out[#out + 1] = string.format(" packets sent %d  received %d  drops %s  kicks %d", st.tx_pkts, st.rx_pkts,
      st.drops > 0 and paint("31", tostring(st.drops)) or "0", st.kicks)
    return
  end
  if s.owners and compact then
    local o = s.owners
    out[#out + 1] = string.format(" owners: app %d (free %d)  fill %d  nic %d  rx %d  tx %d  comp %d  = %d",
      o.app, o.free, o.fill, o.nic, o.rx, o.tx, o.comp, o.app + o.fill + o.nic + o.rx + o.tx + o.comp)
  elseif s.owners then
    owner_lines(s, width, map_rows, out)
  else
    out[#out + 1] = " (no region yet)"
  end
  ledger_lines(s.stats, out, compact)
  rate_line(s, out)
  counter_lines(s.stats, width, out, compact)
end

-- More engines than fit: one line each (packets, rate, drops, the ledger,
-- then the rings' pending entries as far as the width goes).
local function oneline_lines(samples, width, out, no_note)
  out[#out + 1] = string.format(" %-9s %-8s %6s %6s %6s %4s %6s %6s %6s %6s", "engine", "mode", "sent", "recv",
    "pkt/s", "drop", "copied", "refd", "hdrs", "kernel")
  for _, s in ipairs(samples) do
    local name = #s.label > 9 and (s.label:sub(1, 8) .. "~") or s.label
    if s.info.closed then
      out[#out + 1] = string.format(" %-9s (closed)", name)
    else
      local st, l = s.stats, s.stats.ledger
      local line = string.format(" %-9s %-8s %6s %6s %6s %4s %6s %6s %6s %6s", name, st.mode:sub(1, 8),
        human(st.tx_pkts), human(st.rx_pkts), s.rate and human(s.rate.tx_pkts + s.rate.rx_pkts) or "-",
        st.drops > 0 and paint("31", human(st.drops)) or "0", human(l.copied), human(l.referenced),
        human(l.headers), human(l.kernel_copied))
      for _, rn in ipairs(sorted_rings(s.rings)) do
        local item = string.format(" %s %d", rn, s.rings[rn].pending)
        if #line + #item > width - 1 then break end
        line = line .. item
      end
      out[#out + 1] = line
    end
  end
  if not no_note then
    out[#out + 1] = string.format(" one line per engine: %d engines do not fit in full - watch NAME shows one", #samples)
  end
end

-- Lines of one frame for these samples, at most `rows` of them: the owner
-- map shrinks, then compact, then tight (rings, owners, ledger, packets),
-- then the first engines tight and the rest one line each, then one line
-- per engine. head: the first line (nil: none); empty: the line shown when
-- there is no engine (default: open one); small: the tight and the mixed
-- forms are tried (the live view's half screen; `watch` goes from compact
-- to one line per engine).
function W.lines(samples, rows, width, head, empty, small)
  local out
  local function start() out = {} if head then out[1] = head end end
  -- fewer map rows never take more lines: when one row does not fit,
  -- neither do 2-4, and each try lays every engine out (bench/watch.sh)
  local first = 4
  if #samples > 0 then
    start()
    for _, s in ipairs(samples) do engine_lines(s, width, 1, out, false) end
    if #out > rows then first = 0 end
  end
  for map_rows = first, small and -1 or 0, -1 do -- shrink the owner map, then go compact, then tight
    start()
    for _, s in ipairs(samples) do
      engine_lines(s, width, math.max(map_rows, 0), out, map_rows == 0 or (map_rows < 0 and "tight"))
    end
    if #samples == 0 then out[#out + 1] = empty or " no engine is open - open one: open sim" end
    if #out <= rows then break end
  end
  if small and #out > rows and #samples > 1 then -- the first engines tight, the rest one line each
    for k = #samples - 1, 1, -1 do
      start()
      for i = 1, k do engine_lines(samples[i], width, 0, out, "tight") end
      oneline_lines({ table.unpack(samples, k + 1) }, width, out, true)
      if #out <= rows then break end
    end
  end
  if #out > rows then -- then one line per engine
    start()
    oneline_lines(samples, width, out)
  end
  if #out > rows then
    local more = #out - rows + 1
    for i = #out, rows, -1 do out[i] = nil end
    out[rows] = string.format(" ... %d more lines: make the window taller", more)
  end
  return out
end

local function header(what, width, legend)
  local h = string.format("ringlab %s  %s  %s", what, os.date("%H:%M:%S"),
    legend or "rings: # waiting  c next to take  p next to fill  | both")
  return paint("7", clip(h .. string.rep(" ", width), width))
end

local function frame_string(lines, width, rows)
  local b = { ESC .. "H" }
  for i, l in ipairs(lines) do
    b[#b + 1] = clip(l, width) .. ESC .. "K" .. (i < math.min(#lines, rows) and "\r\n" or "")
  end
  b[#b + 1] = ESC .. "J"
  return table.concat(b)
end

---------------------------------------------------------------------------
-- without a terminal: plain lines

local function plain_line(s)
  if s.info.closed then return s.label .. " closed" end
  local st, rg, parts = s.stats, s.rings, {}
  for _, name in ipairs(sorted_rings(rg)) do
    parts[#parts + 1] = string.format("%s %d/%d", name, rg[name].pending, rg[name].size)
  end
  local l = st.ledger
  return string.format("%s %s: tx %d pkts (%s/s) rx %d pkts (%s/s) drops %d | %s | copied %d referenced %d headers %d kernel_copied %d driver_copied %d touched %d",
    s.label, st.mode, st.tx_pkts, s.rate and human(s.rate.tx_pkts) or "-", st.rx_pkts,
    s.rate and human(s.rate.rx_pkts) or "-", st.drops, table.concat(parts, " "),
    l.copied, l.referenced, l.headers, l.kernel_copied, l.driver_copied, l.touched)
end

local function plain(list, opts)
  for i = 1, opts.count or 3 do
    if opts.tick then opts.tick() end
    local engines = engines_of(list)
    if #engines == 0 then return print("watch: no engine is open - open one: open sim") end -- once
    for _, e in ipairs(engines) do print(plain_line(sample(e))) end
    io.stdout:flush()
    if i < (opts.count or 3) and (opts.interval or 1) > 0 then lab.sleep(opts.interval or 1) end
  end
end

---------------------------------------------------------------------------
-- lab.watch: the whole screen

local function draw_full(list, what)
  local rows, cols = term.size()
  local samples = {}
  for _, e in ipairs(engines_of(list)) do samples[#samples + 1] = sample(e) end
  local lines = W.lines(samples, rows, cols, header(what, cols, W.legend_of(samples)))
  term.write(frame_string(lines, cols, rows))
end

local function loop(list, opts)
  local interval = opts.interval or 0.2
  local frames = 0
  while true do
    if opts.tick then opts.tick() end
    draw_full(list, "watch - q or Ctrl-C: back to the prompt")
    frames = frames + 1
    if opts.count and frames >= opts.count then return end
    local k = term.key(interval)
    if k and (k:find("[qQ\3\4]") or k == "\27") then return end
  end
end

-- lab.watch(e | {e...} | nil, {interval=, count=, tick=}).
function W.watch(list, opts)
  opts = opts or {}
  -- check the argument before touching the terminal; names are looked up
  -- once, so an engine closed while watched shows as closed
  local got = engines_of(list)
  if type(list) == "string" or type(list) == "table" then list = got end
  if not (term.isatty(1) and term.isatty(0)) or opts.plain then
    return plain(list, opts)
  end
  colour = term.colour()
  term.raw(true)
  term.write(ESC .. "?1049h" .. ESC .. "?25l" .. ESC .. "2J")
  local ok, err = pcall(loop, list, opts)
  term.write(ESC .. "0m" .. ESC .. "?25h" .. ESC .. "?1049l")
  term.raw(false)
  if not ok and not tostring(err):find("interrupted", 1, true) then error(err, 0) end
end

---------------------------------------------------------------------------
-- W.live: a script under the dashboard

local live -- the running live view, or nil

-- Raised into the script (by the hook, or at lab.pause) when q is pressed.
local QUIT = "q pressed: the live view stops the script"

local ok_errors, errors = pcall(require, "ringlab.errors")
local function errtext(msg)
  if msg == QUIT then return msg end
  if ok_errors then return errors.handler(msg) end
  return debug.traceback(msg, 2)
end

-- The script's text gets at least half the screen: the dashboard takes
-- the top rows less one, then a bar (what runs, what stops it), then the
-- text scrolls below (24 rows: 11 + 1 + 12; 48: 23 + 1 + 24).
local function live_setup(st)
  st.rows, st.cols = term.size()
  st.dash = math.max(1, st.rows // 2 - 1)
  term.write(ESC .. "2J" .. ESC .. (st.dash + 2) .. ";" .. st.rows .. "r" .. ESC .. st.rows .. ";1H")
end

local LEGEND = "rings: # waiting  c next to take  p next to fill  | both"

-- The legend of the rings on screen: AF_XDP's, netmap's (nmview.lua:
-- a port opened with personality=netmap), or both.
function W.legend_of(samples)
  local nm, other = false, false
  for _, s in ipairs(samples) do
    if s.netmap then nm = true elseif s.rings then other = true end
  end
  if nm and not other then return "netmap rings: h head  c cur  t tail  (help netmap)" end
  if nm then return "netmap: h head  c cur  t tail   " .. LEGEND end
  return LEGEND
end

-- s padded with spaces (or cut) to w visible columns
local function pad(s, w)
  local shown = #s:gsub("\27%[[%d;?]*%a", "")
  if shown > w then return clip(s, w) end
  return s .. string.rep(" ", w - shown)
end

local function live_draw()
  local st = live
  if not st then return end
  local rows, cols = term.size()
  if rows ~= st.rows or cols ~= st.cols then live_setup(st) end
  local samples = {}
  for _, e in ipairs(engines_of(st.list)) do samples[#samples + 1] = sample(e) end
  local lines
  if st.cols >= 150 and #samples >= 2 then
    -- wide: the engines in two columns, each drawn as on a screen of its own
    local half = st.cols // 2
    local k = (#samples + 1) // 2
    local left = W.lines({ table.unpack(samples, 1, k) }, st.dash, half - 2, nil, st.empty, true)
    local right = W.lines({ table.unpack(samples, k + 1) }, st.dash, st.cols - half - 1, nil, st.empty, true)
    lines = {}
    for i = 1, math.max(#left, #right) do lines[i] = pad(left[i] or "", half - 1) .. " " .. (right[i] or "") end
  else
    lines = W.lines(samples, st.dash, st.cols, nil, st.empty, true)
  end
  local bar = st.what .. "  " .. os.date("%H:%M:%S")
  local legend = W.legend_of(samples)
  if #bar + 2 + #legend <= st.cols then
    bar = bar .. "  " .. legend
  elseif #lines < st.dash then
    lines[#lines + 1] = paint("2", " " .. legend)
  end
  local b = { "\0277", ESC .. "H" }
  for i = 1, st.dash do b[#b + 1] = clip(lines[i] or "", st.cols) .. ESC .. "K\r\n" end
  b[#b + 1] = paint("7", clip(" " .. bar .. string.rep(" ", st.cols), st.cols - 1)) .. ESC .. "K\0278"
  term.write(table.concat(b))
end
W.redraw = live_draw

-- The hook: a key q stops the script (the string is raised in it), else draw.
local function live_hook()
  local st = live
  if not st then return end
  if st.keys and not st.quit then
    local k = term.key(0)
    if k and k:find("[qQ]") then st.quit = true end
  end
  if st.quit then return QUIT end
  live_draw()
end

local function plain_live(f, opts, ...)
  term.hook(function()
    for _, e in ipairs(engines_of(opts.engines)) do print("watch: " .. plain_line(sample(e))) end
  end, opts.interval or 1)
  local res = table.pack(xpcall(f, errtext, ...))
  term.unhook()
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- Run f(...) (or the script file f) with the dashboard above its output.
-- A live view is running (a lesson at the prompt, watch run).
function W.in_live() return live ~= nil end

function W.live(f, opts, ...)
  opts = opts or {}
  if type(f) == "string" then
    local path = f
    f = assert(loadfile(path))
    opts.what = opts.what or ("running " .. path)
  end
  if not opts.what and type(_G.arg) == "table" and _G.arg[0] then opts.what = "running " .. _G.arg[0] end
  if not term.isatty(1) then return plain_live(f, opts, ...) end
  colour = term.colour()
  local saved = live
  local keys = term.isatty(0)
  live = { list = opts.engines, keys = keys, empty = opts.empty,
    what = (opts.what or "live view") .. (keys and " - q or Ctrl-C stops it" or " - Ctrl-C stops it") }
  live_setup(live)
  if keys then term.raw(true, true) end
  -- five frames a second, as watch: at ten, a loop under the dashboard
  -- lost 8-9% of its packets per second here, at five 0-4% (bench/watch.sh)
  term.hook(live_hook, opts.interval or 0.2)
  live_draw()
  local res = table.pack(xpcall(f, errtext, ...))
  term.unhook()
  if keys then term.raw(false) end
  pcall(live_draw)
  term.write(ESC .. "r" .. ESC .. "0m" .. ESC .. live.rows .. ";1H\r\n")
  live = saved
  if saved and saved.keys then term.raw(true, true) end
  if not res[1] and res[2] == QUIT then
    print("stopped with q")
    return
  end
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

---------------------------------------------------------------------------
-- lab.pause and lab.progress

-- Wait for Enter, only when someone is there to press it.
function W.pause(what)
  if what ~= nil and type(what) ~= "string" and type(what) ~= "number" then
    error("pause: the text is a " .. type(what) .. ' - give a string, e.g. lab.pause("next: send")', 2)
  end
  what = what and tostring(what) or "next"
  if live then live_draw() end
  if term.isatty(0) and term.isatty(1) then
    local st = live
    -- cut between words when it is wider than the screen (a lesson's
    -- "next, part 2: ..." ran past 80 columns and broke mid-word)
    local text = " " .. what .. (st and st.keys and " - press Enter (q Enter stops) " or " - press Enter ")
    local lines = views.wrap(text, math.max(40, term.width() - 1) - 1)
    for i, l in ipairs(lines) do lines[i] = paint("7", " " .. l .. " ") end
    io.write(table.concat(lines, "\n"), " ")
    io.stdout:flush()
    if st and st.keys then term.raw(false) end -- a line, echoed
    local line = io.read("l")
    if st and st.keys then term.raw(true, true) end
    if st and st.keys and line and line:match("^%s*[qQ]%s*$") then
      st.quit = true
      error(QUIT, 0)
    end
    return line
  end
  print("== " .. what)
end

local progress = {}

-- lab.progress(label, done, total): a bar with the rate, redrawn at most
-- ten times a second on a terminal; one line at the end otherwise.
function W.progress(label, done, total)
  if type(label) ~= "string" and type(label) ~= "number" then
    error("progress: label is a " .. type(label) .. ' - give lab.progress("sent", done, total)', 2)
  end
  if type(done) ~= "number" or done ~= done or done < 0 then
    error("progress: done=" .. tostring(done) .. ' is not a count - give lab.progress("sent", done, total) with done 0 or more', 2)
  end
  if total ~= nil and (type(total) ~= "number" or total ~= total or total < 0) then
    error("progress: total=" .. tostring(total) .. " is not a count - give a number 0 or more, or leave it out", 2)
  end
  label = tostring(label)
  local now = lab.now()
  local p = progress[label]
  if not p or done < p.done then p = { start = now, shown = 0, done = 0 }; progress[label] = p end
  p.done = done
  local finished = total and done >= total
  local secs = math.max(now - p.start, 1e-9)
  local rate = done / secs
  local tty = term.isatty(1)
  if not finished and (not tty or now - p.shown < 0.1) then return end
  p.shown = now
  local bar = ""
  if total and total > 0 then
    local n = math.floor(math.min(done / total, 1) * 30)
    bar = "[" .. string.rep("#", n) .. string.rep(".", 30 - n) .. "] "
  end
  local line = string.format("%s %s%d%s  %s/s  %.2f s", label, bar, done, total and ("/" .. total) or "",
    human(rate), secs)
  if tty then io.write("\r", line, ESC, "K", finished and "\n" or "") else print(line) end
  io.stdout:flush()
  if finished then progress[label] = nil end
end

---------------------------------------------------------------------------
-- the drawn step: the four rings before and after, the moved slot marked

local function slot_row(r, first, w, mark, mark_ch)
  local cells = {}
  for idx = first, first + w - 1 do
    local pend = ((idx - r.cons) & 0xffffffff) < r.pending
    local ch = pend and "#" or "."
    if idx == mark then ch = paint("7;1", mark_ch) end
    cells[#cells + 1] = ch
  end
  return "[" .. table.concat(cells) .. "]"
end

-- before/after: e:rings() around one e:step() that returned s.
function W.step_view(before, after, s, w)
  colour = term.colour()
  w = w or 16
  -- on a terminal, within its width; elsewhere (pipes, tests) lines stay whole
  local width = term.isatty(1) and math.max(60, term.width() - 1) or math.huge
  local out = {}
  if s.kind == "idle" then return s.what end
  out[1] = string.format("%s %s: %s -> %s%s", s.kind:upper(),
    s.kind == "drop" and "a packet" or ("frame " .. s.frame), s.from, s.to,
    s.len > 0 and string.format(" (%d bytes)", s.len) or "")
  out[2] = string.format("  %-5s %-" .. (w + 14) .. "s  %s", "ring", "before", "after")
  for _, name in ipairs({ "fill", "rx", "tx", "comp" }) do
    local b, a = before[name], after[name]
    if b and a then
      local first = math.min(b.cons, a.cons)
      if a.prod - first > w then first = a.prod - w end
      local mark = (name == s.from and b.cons) or (name == s.to and b.prod) or nil
      local bch = name == s.from and "@" or "o"
      local ach = name == s.from and "o" or "@"
      local row = string.format("  %-5s %s c%-4d p%-4d  %s c%-4d p%-4d", name,
        slot_row(b, first, w, mark, bch), b.cons, b.prod, slot_row(a, first, w, mark, ach), a.cons, a.prod)
      local said = mark and string.format("slot %s[%d] %s frame %d", name, mark % b.size,
        name == s.from and "gave up" or "now holds", s.frame)
      local visible = row:gsub("\27%[[%d;]*m", "")
      local shown = #visible
      if not said then
        out[#out + 1] = row
      elseif shown + 5 + #said <= width then
        out[#out + 1] = row .. "  <- " .. said
      else
        -- too narrow for it beside the row: a caret under the slot in "after"
        local after = visible:find("[", visible:find("]", 1, true), true) -- the "after" row's "["
        local at = after + (mark - first)
        out[#out + 1] = row
        out[#out + 1] = string.rep(" ", at) .. "^ " .. said
      end
    end
  end
  if s.from == "nic" or s.to == "wire" or s.to == "dropped" then
    local where = s.from == "nic" and "nic" or s.to
    if s.kind == "drop" then
      out[#out + 1] = string.format("  %-5s the packet is lost; no frame was used", where)
    else
      out[#out + 1] = string.format("  %-5s frame %d is %s", where, s.frame,
        s.from == "nic" and "back from inside the NIC" or "now inside the NIC, on the wire")
    end
  end
  out[#out + 1] = "  # entry waiting   . empty   @ the moved descriptor   o where it was / will be"
  -- what happened, cut between words within the width
  for _, l in ipairs(views.wrap(s.what, width, "", "  ")) do out[#out + 1] = l end
  return table.concat(out, "\n")
end

return W
