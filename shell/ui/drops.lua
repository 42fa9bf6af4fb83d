-- drops.lua - where did my packet go? (ringlab.drops)
--
-- Every drop counter an engine keeps, attributed to its cause and the
-- remedy, in words a student can act on:
--
--   lab.drops(e [, "all"])  -> rows {counter=, count=, label=, kind=,
--                              cause=, remedy=}, the non-zero ones (all:
--                              every counter the engine has, zeros too)
--   lab.explain(e [, "all"]) -> the text the prompt's `explain` prints
--   explain [NAME] [all], show drops [json]   at the prompt
--
-- kind: "drop"  packets lost (the counters of the engine: sim's own, the
--               kernel's XDP_STATISTICS on afxdp, rte_eth_stats on dpdk)
--       "stall" work that stopped or was refused (the ring was full, the
--               program must act), counted
--       "wait"  what sits on a ring now because nobody acted (read from
--               e:rings(): not kicked, not collected, not received)
--       "note"  a counter that is not a loss (shown with `all` only)

local lab = require "ringlab"

local D = {}

local FILL = "give it frames: fill 16, and fill again after every recv"
local RECV = "recv more often, or open with a bigger rx_size="

-- The counters of each engine, in the order they are shown. count(st)
-- may compute the figure (nil: st[counter]).
local SPECS = {
  sim = {
    { "rx_fill_ring_empty_descs", "fill ring empty", "drop",
      "packets arrived when the NIC had no frame (or too few) to write into", FILL },
    { "rx_ring_full", "rx ring full", "drop",
      "packets arrived with the rx ring full: the program had not taken the ones before", RECV },
    { "rx_dropped", "too big for the fill ring", "drop",
      "packets that need more frames than the fill ring can ever hold",
      "bigger frames (region frame_size=) or a bigger fill ring (fill_size=)",
      count = function(st) -- the sim's rx_dropped includes the two above
        local n = (st.rx_dropped or 0) - (st.rx_fill_ring_empty_descs or 0) - (st.rx_ring_full or 0)
        return n > 0 and n or 0
      end },
    { "tx_invalid_descs", "tx descriptor invalid", "drop",
      "descriptors the NIC refused (bytes outside their frame), packet discarded",
      "send packets built in this engine's frames (lab.packet, send)" },
    { "wire_drops", "wire full", "drop",
      "packets sent into a full wire (the receiver did not take them) or to a closed peer",
      "recv on the receiver (its wire holds wire_capacity= packets)" },
    { "wire_lost", "lost on the wire", "drop",
      "packets the wire lost on purpose (the sender's loss=N)",
      "that is the exercise: the protocol must send again; open without loss= for none" },
    { "tx_ring_full", "tx ring full", "stall",
      "packets a send could not queue: no free slot, they stayed with the program",
      "kick, complete, then send the rest; or a bigger tx_size=" },
    { "comp_ring_full", "comp ring full", "stall",
      "times the NIC stopped: it could not post a completion, the comp ring was full",
      "complete (e:complete()) after every kick" },
    { "tx_ring_empty_descs", "tx ring empty when kicked", "note",
      "kicks that found the tx ring empty (not a loss)", "nothing to do" },
  },
  afxdp = {
    { "rx_fill_ring_empty_descs", "fill ring empty", "drop",
      "times the kernel found no frame on the fill ring: the packet was dropped", FILL },
    { "rx_dropped", "rx dropped", "drop",
      "packets the kernel could not place: too few frames on the fill ring for all of one, or longer than a frame without sg=true",
      "fill 16 and refill after every recv; for jumbo frames open with sg=true",
      count = function(st) -- copy mode counts a fill ring found empty in both: show the rest
        local n = st.rx_dropped or 0
        if st.mode == "copy" then n = math.max(0, n - (st.rx_fill_ring_empty_descs or 0)) end
        return n
      end },
    { "rx_ring_full", "rx ring full", "drop",
      "packets dropped because the rx ring was full: the program had not taken the ones before", RECV },
    { "rx_invalid_descs", "fill entry invalid", "drop",
      "fill ring entries the kernel refused (an address outside the UMEM)",
      "fill only frames of this engine's region (fill N does)" },
    { "tx_invalid_descs", "tx descriptor invalid", "drop",
      "tx descriptors the kernel refused: outside the UMEM, longer than a frame, or a chain without sg",
      "send packets built in this region; chains need sg=true" },
    { "tx_ring_full", "tx ring full", "stall",
      "packets a send could not queue: no free slot, they stayed with the program",
      "kick, complete, then send the rest" },
    { "xdp_no_socket", "no socket on the queue", "note",
      "packets our XDP program could not redirect: no socket was bound to their queue, the kernel stack got them",
      "open the engine on the queue they arrive on (queue=)" },
    { "tx_ring_empty_descs", "tx ring empty when woken", "note",
      "times the kernel was woken to send and found the tx ring empty (not a loss)", "nothing to do" },
  },
  dpdk = {
    { "pmd_rx_nombuf", "no mbuf to receive into", "drop",
      "the PMD wanted a buffer for an arriving packet and the pool had none (DPDK's empty fill ring)",
      "give the pool frames: fill 16; release received packets" },
    { "pmd_imissed", "rx queue full (imissed)", "drop",
      "packets the NIC dropped: no free RX descriptor, the program did not receive fast enough",
      "recv more often, or open with a bigger rx_desc=" },
    { "pmd_ierrors", "rx errors", "drop",
      "packets received with errors (a bad checksum, longer than the buffer)",
      "check the MTU against the frame size" },
    { "pmd_oerrors", "tx errors", "drop",
      "packets the PMD failed to send",
      "the receiver must recv; send fewer at once" },
    { "tx_burst_short", "tx burst short", "stall",
      "offers rte_eth_tx_burst did not take (its TX queue was full): ringlab keeps them and offers again",
      "kick to offer them again and complete; a bigger tx_desc=" },
    { "tx_ring_full", "tx ring full", "stall",
      "packets a send could not queue: the staging queue before the PMD was full, they stayed with the program",
      "kick and complete, then send the rest" },
  },
}

local function engine_of(e, what)
  if type(e) == "string" then
    local c = require "ringlab.cmdkit"
    e = c.engine_named(what, e)
  end
  local mt = getmetatable(e)
  if type(e) ~= "userdata" or type(mt) ~= "table" or mt.__name ~= "ringlab.engine" then
    error(string.format("%s: give an engine or its name, not a %s", what, type(e)), 3)
  end
  if e:info().closed then error(what .. ": the engine is closed - open one (open sim)", 3) end
  return e
end

local function row(spec, n)
  return { counter = spec[1], label = spec[2], kind = spec[3], count = n, cause = spec[4], remedy = spec[5] }
end

local function has(rows, counter)
  for _, r in ipairs(rows) do if r.counter == counter then return true end end
  return false
end

-- What sits on a ring now because nobody acted.
local function waits(e, kind, rows)
  local ok, r = pcall(e.rings, e)
  if not ok or type(r) ~= "table" then return end
  local tx, comp, rx, fill, wire = r.tx, r.comp, r.rx, r.fill, r.wire
  local comp_full = comp and comp.size > 0 and comp.pending >= comp.size
  if tx and tx.pending > 0 then
    if kind == "dpdk" then
      rows[#rows + 1] = { counter = "tx", label = "tx waits", kind = "wait", count = tx.pending,
        cause = "packets the PMD has not taken yet", remedy = "kick (offers them again)" }
    elseif comp_full then
      rows[#rows + 1] = { counter = "tx", label = "tx waits", kind = "wait", count = tx.pending,
        cause = "queued, but the NIC cannot send: the comp ring is full",
        remedy = "complete (e:complete()), then kick" }
    elseif tx.need_wakeup then
      rows[#rows + 1] = { counter = "tx", label = "tx waits", kind = "wait", count = tx.pending,
        cause = "queued, but the ring says NEED_WAKEUP and nobody kicked: the NIC sleeps",
        remedy = "kick after every send (e:kick())" }
    else
      rows[#rows + 1] = { counter = "tx", label = "tx waits", kind = "wait", count = tx.pending,
        cause = "descriptors queued, not sent yet", remedy = "kick (e:kick())" }
    end
  end
  if comp and comp.pending > 0 then
    local full = comp_full
    rows[#rows + 1] = { counter = "comp", label = full and "comp ring full now" or "comp waits", kind = "wait",
      count = comp.pending,
      cause = "sent frames not collected, the program cannot reuse them"
        .. (full and "; the NIC cannot complete more" or ""),
      remedy = "complete (e:complete())" }
  end
  if rx and rx.size > 0 and rx.pending >= rx.size then
    rows[#rows + 1] = { counter = "rx", label = "rx ring full now", kind = "wait", count = rx.pending,
      cause = "packets arrived and not taken: the next one is dropped", remedy = "recv" }
  end
  if fill and fill.pending == 0 and fill.need_wakeup and not has(rows, "rx_fill_ring_empty_descs") then
    rows[#rows + 1] = { counter = "fill", label = "fill ring empty now", kind = "wait", count = 0,
      cause = "the NIC says NEED_WAKEUP: the next packet has nowhere to go",
      remedy = FILL:gsub("fill 16", "fill " .. math.min(16, fill.size)) }
  end
  if wire and wire.pending > 0 then
    rows[#rows + 1] = { counter = "wire", label = "wire waits", kind = "wait", count = wire.pending,
      cause = "packets on the cable, not received yet", remedy = "recv (e:rx())" }
  end
end

-- The rows of e's counters: the non-zero ones, or with "all" every one.
function D.rows(e, all)
  e = engine_of(e, "drops")
  if all ~= nil and all ~= "all" and all ~= true then
    error(string.format("drops: '%s'? - lab.drops(e) or lab.drops(e, \"all\")", tostring(all)), 2)
  end
  all = all ~= nil
  local kind = e:info().kind
  local st = e:stats()
  local rows = {}
  local ok, rings = pcall(e.rings, e)
  local fill = ok and type(rings) == "table" and rings.fill
  local give = fill and math.max(1, math.min(16, fill.size - fill.pending)) or 16
  for _, spec in ipairs(SPECS[kind] or {}) do
    local n = spec.count and spec.count(st) or st[spec[1]]
    if n and (n > 0 and spec[3] ~= "note" or all) then
      local r = row(spec, n)
      if fill and fill.pending >= fill.size then -- full now: nothing more fits
        r.remedy = r.remedy:gsub("give it frames: fill 16, and fill again", "keep the fill ring full (it is now): fill again")
                           :gsub("fill 16 and refill", "keep the fill ring full and refill")
      end
      r.remedy = r.remedy:gsub("fill 16", "fill " .. give) -- what fits the fill ring now
      rows[#rows + 1] = r
    end
  end
  if not SPECS[kind] and (st.drops or 0) > 0 then
    rows[#rows + 1] = { counter = "drops", label = "dropped", kind = "drop", count = st.drops,
      cause = "packets this engine lost; it names no cause", remedy = "see show stats" }
  end
  waits(e, kind, rows)
  return rows
end

local function width()
  local term = require "ringlab.term"
  local w = term.isatty(1) and term.width() or 80
  if not w or w < 40 then w = 80 end
  return math.min(w, 100) - 1 -- a wide screen: lines a class can still follow
end

-- The text `explain` prints: one entry per row, cut at the screen width;
-- also the rows and the packets dropped.
function D.text(e, all)
  e = engine_of(e, "explain")
  local rows = D.rows(e, all)
  local info, st = e:info(), e:stats()
  local V = require "ringlab.views"
  local w = width()
  local lost = 0
  for _, r in ipairs(rows) do if r.kind == "drop" then lost = lost + r.count end end
  local out = {}
  local head
  if #rows == 0 then
    head = string.format("nothing dropped on %s (%s): %d packets sent, %d received", info.name, info.kind,
      st.tx_pkts, st.rx_pkts)
  else
    local kinds = {}
    for _, r in ipairs(rows) do kinds[r.kind] = true end
    head = string.format("%s (%s): %d sent, %d received; %s", info.name, info.kind, st.tx_pkts, st.rx_pkts,
      (kinds.drop and "dropped:" or "nothing dropped, but:"))
  end
  for _, l in ipairs(V.wrap(head, w, "", "  ")) do out[#out + 1] = l end
  for _, r in ipairs(rows) do
    local what = (r.kind == "wait" and r.count == 0) and r.label or string.format("%s %d", r.label, r.count)
    local text = string.format("%s: %s - %s", what, r.cause, r.remedy)
    if r.kind == "note" or (all and r.count == 0 and r.kind ~= "wait") then
      text = string.format("%s: %s", what, r.cause)
    end
    for _, l in ipairs(V.wrap(text, w, "  ", "    ")) do out[#out + 1] = l end
  end
  return table.concat(out, "\n"), rows, lost
end

-- lab.explain(e [, "all"]) -> the text alone
function D.explain(e, all)
  return (D.text(e, all))
end

-- The prompt's command and show drops.
function D.install(C)
  C.def("explain", "explain [NAME] [all]",
    "where did my packets go: every drop counter of the engine that is not zero, with its cause and the remedy; also what waits on a ring because nobody kicked, collected or received (all: every counter, zeros too; show drops is the same)",
    function(args)
      local name, all
      for _, a in ipairs(args) do
        if a == "all" then all = "all"
        elseif not name then name = a
        else C.fail("explain: '%s'? - explain [NAME] [all]", a) end
      end
      local e = name and C.engine_named("explain", name) or C.current()
      print((D.text(e, all)))
    end)
end

return D
