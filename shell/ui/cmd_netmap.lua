-- cmd_netmap.lua - the prompt's commands for netmap's model (ringlab.cmd_netmap):
-- txsync, rxsync, advance, forward, show slots, and help netmap. They work
-- on a sim engine opened with personality=netmap (open sim
-- personality=netmap [pool=NAME]); the same calls scripts use: e:txsync(),
-- e:rxsync(), e:ring("tx").head, lab.netmap.swap(rx:slot(i), tx:slot(j)).

local lab = require "ringlab"
local C = require "ringlab.cmdkit"
local NV = require "ringlab.nmview"

local fail, def, say, current, number, keyvalues = C.fail, C.def, C.say, C.current, C.number, C.keyvalues

-- The netmap state of e, or one line saying how to get a netmap port.
local function netmap_of(e, what)
  local nm = e:netmap()
  if not nm then
    fail("%s: %s is not a netmap port - open one: open sim personality=netmap (help netmap)", what,
      e:info().name)
  end
  return nm
end

local function width() return math.max(60, require("ringlab.term").width() - 1) end

-- The ring's row and marks after a command, indented.
local function ring_after(e, name)
  local r = e:netmap()[name]
  local w = math.min(64, width() - 4)
  return string.format("  %s  %s\n  %s  %s", name, NV.strip(r, w), string.rep(" ", #name), NV.marks(r, w))
end

def("txsync", "txsync", "netmap: TXSYNC - hand the tx slots before head to the NIC (it sends them) and move tail over the slots sent; the kick of netmap (kick does the same)",
  function()
    local e = current()
    netmap_of(e, "txsync")
    local before = e:netmap().tx.tail
    local r = e:txsync()
    say("txsync: %d slot%s handed to the NIC, %d packet%s sent%s; tail %d -> %d (%d slot%s back to the program)\n%s",
      r.taken, r.taken == 1 and "" or "s", r.sent, r.sent == 1 and "" or "s",
      r.lost > 0 and string.format(" (%d lost on the wire)", r.lost) or "", before, r.tail, r.reported,
      r.reported == 1 and "" or "s", ring_after(e, "tx"))
  end)

def("rxsync", "rxsync", "netmap: RXSYNC - take back the rx slots before head (empty again) and move tail over what arrived; the poll of netmap (recv does it first)",
  function()
    local e = current()
    netmap_of(e, "rxsync")
    local before = e:netmap().rx.tail
    local r = e:rxsync()
    say("rxsync: %d slot%s given back to the kernel, %d packet%s received%s; tail %d -> %d\n%s",
      r.released, r.released == 1 and "" or "s", r.received, r.received == 1 and "" or "s",
      r.dropped > 0 and string.format(" (%d dropped: no free slot)", r.dropped) or "", before, r.tail,
      ring_after(e, "rx"))
  end)

def("advance", "advance tx|rx [N]", "netmap: move head and cur N slots on (rx default: up to tail, giving back every packet read; tx default 1) - the kernel sees it at the next txsync / rxsync",
  function(args)
    local e = current()
    local which = args[1]
    if which ~= "tx" and which ~= "rx" then fail("advance: which ring? - advance rx [N] or advance tx [N]") end
    local nm = netmap_of(e, "advance")
    local r = nm[which]
    local owned = (r.tail - r.head) % r.num_slots
    local n = args[2] and number("advance", args[2]) or (which == "rx" and owned or 1)
    if n < 0 then fail("advance: %d? - give how many slots on, 0 or more", n) end
    if n > owned then
      fail("advance: %d slots would pass tail - the program owns %d %s slot%s (head %d .. tail %d); %s", n, owned,
        which, owned == 1 and "" or "s", r.head, r.tail,
        which == "rx" and "rxsync to receive more" or "txsync to get sent slots back")
    end
    e:ring(which).head = (r.head + n) % r.num_slots
    say("%s: head %d -> %d (cur too); the kernel sees it at the next %s\n%s", which, r.head,
      (r.head + n) % r.num_slots, which == "rx" and "rxsync" or "txsync", ring_after(e, which))
  end)

-- Swap every received packet's slots (whole packets) on from's rx ring
-- into to's tx ring at head, then txsync to and give from's rx slots back.
-- Returns packets, slots and bytes forwarded.
function C.netmap_forward(from, to, max)
  local rx, tx = from:ring("rx"), to:ring("tx")
  local pkts, slots, bytes = 0, 0, 0
  local i = rx.head
  while i ~= rx.tail and pkts < (max or math.huge) do
    -- the packet's slots: up to the first without NS_MOREFRAG
    local n, j = 1, i
    while rx:slot(j).morefrag and rx:next(j) ~= rx.tail do j, n = rx:next(j), n + 1 end
    if tx:space() < n then break end
    for _ = 1, n do
      local s = rx:slot(i)
      bytes = bytes + s.len
      lab.netmap.swap(s, tx:slot(tx.head))
      tx.head = tx:next(tx.head)
      i = rx:next(i)
    end
    rx.head = i
    pkts, slots = pkts + 1, slots + n
  end
  to:txsync()
  from:rxsync()
  return pkts, slots, bytes
end

def("forward", "forward [to=NAME]", "netmap: forward the received packets (forward N: the first N) to port NAME (default: this one) by swapping each rx slot's buf_idx with a tx slot's - no byte copied; then txsync there, rxsync here",
  function(args)
    local e = current()
    netmap_of(e, "forward")
    local kv, max = {}, nil
    for _, a in ipairs(args) do
      if a:find("=", 1, true) then
        local k, v = a:match("^([%w_]+)=(.*)$")
        if k ~= "to" then fail("forward: '%s'? - forward [N] [to=NAME]", a) end
        kv.to = v
      else
        max = number("forward", a)
      end
    end
    local to = kv.to and C.engine_named("forward", kv.to) or e
    local nm_to = netmap_of(to, "forward")
    if nm_to.pool ~= e:netmap().pool or (nm_to.pool == "" and to ~= e) then
      fail("forward: %s and %s have pools of their own - a buffer moves only between ports of one pool: "
        .. "open both with the same pool=NAME", e:info().name, to:info().name)
    end
    local copied0 = e:stats().ledger.copied + (to ~= e and to:stats().ledger.copied or 0)
    local waiting = (e:netmap().rx.tail - e:netmap().rx.head) % e:netmap().rx.num_slots
    if waiting == 0 then
      e:rxsync()
      waiting = (e:netmap().rx.tail - e:netmap().rx.head) % e:netmap().rx.num_slots
      if waiting == 0 then fail("forward: nothing received on %s - send to it first, then forward", e:info().name) end
    end
    local pkts, slots, bytes = C.netmap_forward(e, to, max)
    local copied = e:stats().ledger.copied + (to ~= e and to:stats().ledger.copied or 0) - copied0
    say("forward: %d packet%s (%d slot%s, %d bytes) from %s's rx ring to %s's tx ring by swapping buf_idx, "
      .. "%d bytes copied\n%s\n%s", pkts, pkts == 1 and "" or "s", slots, slots == 1 and "" or "s", bytes,
      e:info().name, to:info().name, copied, ring_after(e, "rx"), ring_after(to, "tx"))
  end)

-- show slots tx|rx [FROM] [N]: each slot's buffer, length and flags.
function C.netmap_slots(e, which, from, n)
  local nm = netmap_of(e, "show slots")
  if which ~= "tx" and which ~= "rx" then fail("show slots: which ring? - show slots rx [FROM] [N] (or tx)") end
  local r = nm[which]
  from = from or r.head
  n = math.min(n or 16, r.num_slots)
  if from < 0 or from >= r.num_slots then fail("show slots: slot %d is not in the ring - give 0 .. %d", from, r.num_slots - 1) end
  local rows, out = {}, { string.format("%s ring of %s: %s", which, e:info().name, NV.owns(which, r)),
    "  slot buf_idx   len  flags             owner" }
  local what = { A = "app (the program's)", a = "app (past head)", T = "tx (at the NIC)", C = "comp (sent)",
    R = "rx (the program's)", r = "rx (past head)", N = "nic (arrived)", F = "fill (empty)" }
  for k = 0, n - 1 do
    local i = (from + k) % r.num_slots
    local f = r.flags[i + 1]
    local fl = {}
    if f & lab.netmap.NS_BUF_CHANGED ~= 0 then fl[#fl + 1] = "BUF_CHANGED" end
    if f & lab.netmap.NS_MOREFRAG ~= 0 then fl[#fl + 1] = "MOREFRAG" end
    local marks = (i == r.head and " h" or "") .. (i == r.cur and " c" or "") .. (i == r.tail and " t" or "")
    rows[#rows + 1] = { slot = i, buf_idx = r.buf_idx[i + 1], len = r.len[i + 1], flags = f,
      owner = what[r.map:sub(i + 1, i + 1)] }
    out[#out + 1] = string.format("  %4d %7d %5d  %-16s  %s%s", i, r.buf_idx[i + 1], r.len[i + 1],
      #fl > 0 and table.concat(fl, ",") or "-", rows[#rows].owner, marks)
  end
  return rows, table.concat(out, "\n")
end

C.topics.netmap = [[
netmap: netmap's rings, simulated here (netmap itself needs its kernel
module): open sim personality=netmap [pool=NAME] [ring_size=N]
A port has a tx and an rx ring; every slot holds a buffer (buf_idx), a
len and flags. The program owns slots head..tail-1, moves head (and cur)
on to hand slots over, and syncs; the kernel moves tail:
  tx  fill slots from head, advance tx, txsync: the NIC sends them;
      the next txsync moves tail over the slots sent
  rx  rxsync: tail moves over what arrived; read head..tail-1, advance
      rx, rxsync gives them back
Owners: tx slots A the program's, T at the NIC, C sent (tail not past);
rx slots R the program's, N arrived, F empty. Ports with one pool=NAME
share the buffers: forward swaps buf_idx between an rx and a tx slot
(NS_BUF_CHANGED), no byte copied. NS_MOREFRAG: a packet over several
slots. Try: open sim personality=netmap pool=fw / send udp 198.18.0.2 hi
/ rxsync / show slots rx / forward / show rings]]

return true
