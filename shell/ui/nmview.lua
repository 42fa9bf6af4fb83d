-- nmview.lua - netmap's rings drawn in netmap's terms (ringlab.nmview):
-- for show rings, step and the live dashboard, on an engine opened with
-- personality=netmap (e:netmap() is its state; nil for any other engine).
--
-- A ring is a row of slots, one letter each, the owner of the buffer in
-- the slot (the letters of show owners), and under it where head (h), cur
-- (c) and tail (t) point:
--   rx  R received, the program's (head..tail-1)   r given back by moving
--       head, rxsync has not taken it yet   N arrived, rxsync has not
--       moved tail over it yet   F empty, the kernel's, waiting for a packet
--   tx  A the program's, free to fill (head..tail-1)   a filled and head
--       moved past it, txsync has not taken it yet   T handed to the NIC
--       C sent, txsync has not moved tail over it yet (the slot at tail
--       is always the kernel's: head never catches up with tail)
-- A ring wider than the screen is drawn in cells of several slots (the
-- letter most of them have, a slot at work winning over idle ones).

local M = {}

M.LEGEND = {
  rx = "rx: R received, the program's  r past head, unsynced  N at the NIC  F empty",
  tx = "tx: A free to fill, the program's  a past head, unsynced  T at the NIC  C sent",
}
M.COLOUR = { A = "33", a = "2;33", F = "34", N = "35", R = "32", r = "2;32", T = "36", C = "31" }

local function plain(_, s) return s end

-- The cell a slot is drawn in, and how many slots a cell holds, for a
-- ring of n slots in w columns.
local function per_cell(n, w)
  return math.max(1, (n + w - 1) // w)
end

-- The row of letters for ring r (e:netmap().rx or .tx) in at most w
-- columns; paint(code, s) colours a letter.
function M.strip(r, w, paint)
  paint = paint or plain
  local n, k = r.num_slots, per_cell(r.num_slots, w)
  local cells = {}
  for first = 1, n, k do
    local counts, best, bestn = {}, ".", -1
    for i = first, math.min(n, first + k - 1) do
      local ch = r.map:sub(i, i)
      counts[ch] = (counts[ch] or 0) + 1
    end
    -- A slot at work (a packet received, handed to the NIC, sent...)
    -- wins the cell over the idle ones (F empty rx, A free tx), so one
    -- packet in 256 slots still shows.
    for _, ch in ipairs({ "R", "r", "N", "a", "T", "C" }) do
      if (counts[ch] or 0) > bestn and (counts[ch] or 0) > 0 then best, bestn = ch, counts[ch] end
    end
    if bestn < 0 then
      for _, ch in ipairs({ "A", "F" }) do
        if (counts[ch] or 0) > bestn then best, bestn = ch, counts[ch] or 0 end
      end
    end
    cells[#cells + 1] = paint(M.COLOUR[best] or "0", best)
  end
  return "[" .. table.concat(cells) .. "]", k
end

-- The marks under the strip: h head, c cur, t tail (head wins a shared
-- cell, then tail; the numbers beside say each).
function M.marks(r, w)
  local k = per_cell(r.num_slots, w)
  local cells = math.ceil(r.num_slots / k)
  local line = {}
  for i = 1, cells + 1 do line[i] = " " end
  local function put(slot, ch) line[slot // k + 2] = ch end
  put(r.cur, "c")
  put(r.tail, "t")
  put(r.head, "h")
  return (table.concat(line):gsub("%s+$", ""))
end

-- What the program owns now, in words.
function M.owns(name, r)
  local n = (r.tail - r.head) % r.num_slots
  if n == 0 then
    return name == "rx" and "nothing to read: rxsync receives" or "no free slot: txsync gives sent ones back"
  end
  local last = (r.tail - 1) % r.num_slots
  local span = n == 1 and tostring(r.head) or string.format("%d..%d", r.head, last)
  return string.format("%d slot%s (%s) %s", n, n == 1 and "" or "s", span,
    name == "rx" and "to read" or "free to fill")
end

local function numbers(r)
  return string.format("head %d cur %d tail %d", r.head, r.cur, r.tail)
end

-- show rings: the port, its pool, both rings with their marks, the wire.
-- e is the engine (for its name and wire), nm = e:netmap().
function M.text(e, nm, width, paint)
  width = math.max(60, width or 80)
  local out = {}
  local info = e:info()
  out[#out + 1] = string.format("netmap port %s - netmap's model, simulated (netmap needs its kernel module)",
    info.name)
  out[#out + 1] = string.format("pool %s: %d buffers of %d bytes, %d free, %d port%s",
    nm.pool ~= "" and nm.pool or "(its own)", nm.buffers, nm.buf_size, nm.free, nm.ports,
    nm.ports == 1 and "" or "s")
  local w = width - 4
  for _, name in ipairs({ "rx", "tx" }) do
    local r = nm[name]
    local strip, k = M.strip(r, w, paint)
    out[#out + 1] = string.format("%s  %d slots%s  %s  %s", name, r.num_slots,
      k > 1 and string.format(" (%d a cell)", k) or "", numbers(r), M.owns(name, r))
    out[#out + 1] = "  " .. strip
    out[#out + 1] = "  " .. M.marks(r, w)
  end
  local wire = e:rings().wire
  if wire then
    out[#out + 1] = string.format("wire: %d packet%s waiting on the cable to this port", wire.pending,
      wire.pending == 1 and "" or "s")
  end
  out[#out + 1] = "h head  c cur  t tail   " .. "(help netmap explains them)"
  out[#out + 1] = M.LEGEND.rx
  out[#out + 1] = M.LEGEND.tx
  return table.concat(out, "\n")
end

-- The dashboard's rings of a netmap port: per ring its strip with the
-- numbers, and (unless tight) the marks under it; then the wire.
function M.watch_lines(s, width, out, compact, paint)
  local nm = s.netmap
  local w = math.max(8, math.min(64, width - 44))
  for _, name in ipairs({ "rx", "tx" }) do
    local r = nm[name]
    local strip = M.strip(r, w, paint)
    local n = (r.tail - r.head) % r.num_slots
    out[#out + 1] = string.format(" %-3s%s %s  %d %s", name, strip, numbers(r), n,
      name == "rx" and "to read" or "free")
    if compact ~= "tight" then out[#out + 1] = "    " .. M.marks(r, w) end
  end
  local wire = s.rings and s.rings.wire
  if wire and compact ~= "tight" then
    out[#out + 1] = string.format(" wire %d waiting  (netmap's model: h head  c cur  t tail)", wire.pending)
  end
end

-- step: the ring the step touched, before and after, and what happened.
function M.step_text(before, after, s, width)
  width = width or 80
  if s.kind == "idle" then return s.what end
  local name = (s.kind == "tx") and "tx" or "rx"
  local w = math.max(8, math.min(32, (width - 20) // 2))
  local b, a = before[name], after[name]
  local out = {}
  out[#out + 1] = string.format("  %-3s before %s  %s", name, M.strip(b, w), numbers(b))
  out[#out + 1] = "             " .. M.marks(b, w)
  out[#out + 1] = string.format("  %-3s after  %s  %s", name, M.strip(a, w), numbers(a))
  out[#out + 1] = "             " .. M.marks(a, w)
  local V = require "ringlab.views"
  for _, l in ipairs(V.wrap(s.what, width - 1, "", "  ")) do out[#out + 1] = l end
  out[#out + 1] = M.LEGEND[name]
  return table.concat(out, "\n")
end

return M
