-- cmd_kernel.lua - the `kernel` command (ringlab.cmd_kernel): the kernel's
-- own send paths measured with the ledger (lab.kernel, shell/lab/kernel.c).
--
--   kernel send PATH size=64k [testbed=NAME] [dst=ADDR:PORT] [chunk=64k]
--   kernel compare [size=1m] [testbed=NAME]
--   kernel tls [testbed=NAME]
--
-- Every path sends the body from the testbed's lab namespace to the Linux
-- stack in its peer namespace over a TCP socket; the peer reads it and
-- checks its sha256.

local lab = require "ringlab"
local C = require "ringlab.cmdkit"
local fail, def, say = C.fail, C.def, C.say

local M = {}

local USAGE = "kernel send PATH size=64k [testbed=NAME] [offload=on|off] [capture=] | kernel compare [size=1m] | kernel tls"

-- The last result of every path sent from the prompt (kernel send,
-- kernel compare), by path: `compare kernel:PATH` shows them.
M.results = {}

-- 65536 -> "64 KiB", 1048576 -> "1 MiB", 1000 -> "1000 B".
local function human(n)
  if n >= 1048576 and n % 1048576 == 0 then return string.format("%d MiB", n // 1048576) end
  if n >= 1024 and n % 1024 == 0 then return string.format("%d KiB", n // 1024) end
  return string.format("%d B", n)
end
M.human = human

local KNOWN = { size = true, testbed = true, dst = true, chunk = true, offload = true, capture = true,
  recv = true }

-- key=value words -> the options of lab.kernel.send.
local function options(what, args, first, default_size, example)
  local o = { size = default_size }
  for i = first, #args do
    local k, v = args[i]:match("^([%a_][%w_]*)=(.*)$")
    if not k then fail("%s: '%s' is not key=value - e.g. %s size=64k", what, args[i], what) end
    if not KNOWN[k] then
      fail("%s: %s= is not known - it takes size=, testbed=, dst=, chunk=, offload=on|off, capture=true "
        .. "and recv=read|splice|zerocopy", what, k)
    end
    if k == "size" or k == "chunk" then
      local n = require("ringlab.cmd_send").size(v)
      if not n then fail("%s: %s=%s is not a size - say e.g. %s=64k, %s=1m or %s=65536", what, k, v, k, k, k) end
      o[k] = n
    elseif k == "capture" then
      if v == "" then fail("%s: capture= is true, false or a new file for the pcap - e.g. capture=wire.pcap", what) end
      if v == "true" or v == "false" then o[k] = v == "true" else o[k] = v end
    else
      o[k] = v
    end
  end
  if not o.size then fail("%s: say how much - e.g. %s size=64k", what, example or what) end
  return o
end

-- One line of figures for a result of lab.kernel.send.
function M.line(r)
  return string.format("%-12s %s %s: program copied %s, kernel copied %s (%s), %d calls, "
    .. "%.2f ms CPU/MiB, %.0f MiB/s%s", r.path, human(r.size),
    r.intact and "intact" or "NOT INTACT", human(r.program_copied), human(r.kernel_copied),
    r.kernel_how, r.syscalls, r.cpu_ms_per_mib, r.mib_s,
    r.zc_sends and string.format(", %d/%d completions, %d copied", r.zc_completions,
      r.zc_sends, r.zc_copied_sends) or "")
    .. (r.peer_calls and string.format("; the peer's %s: %d calls, %.2f ms CPU/MiB", r.peer_recv, r.peer_calls,
      r.peer_cpu_ms_per_mib) or "")
    .. (r.peer_zc_mapped and string.format(", mapped %s, the kernel copied %s (its report), read %s",
      human(r.peer_zc_mapped), human(r.peer_zc_copied), human(r.peer_zc_read)) or "")
    .. (r.peer_segments and string.format(", the peer saw %d TCP segments of %d..%d B%s", r.peer_segments,
      r.peer_min_segment, r.peer_max_segment, r.offload and (" (TSO/GSO " .. r.offload .. ")") or "") or "")
    .. (r.peer_datagrams and string.format(", %d datagrams of %d..%d B at the peer", r.peer_datagrams,
      r.peer_min_datagram, r.peer_max_datagram) or "")
end

local function send(o, path)
  local ok, r = pcall(lab.kernel.send, { path = path, size = o.size, testbed = o.testbed,
    dst = o.dst, chunk = o.chunk, offload = o.offload, capture = o.capture, recv = o.recv })
  if not ok then fail("%s", tostring(r):gsub("^[^:]*:%d+: ", "")) end
  M.results[path] = r
  return r
end

-- What the peer's capture saw, in words (nil without a capture): "on the
-- wire: 45 TCP segments of 1448 B + 1 of 376 B" - the most frequent sizes
-- first, three at most, the rest as "N more of A..B B".
function M.wire(r)
  if not r.wire then return nil end
  local list = {}
  for _, w in ipairs(r.wire) do list[#list + 1] = w end
  table.sort(list, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.size > b.size
  end)
  local total, top, lo, hi = r.wire_other or 0, 0, nil, nil
  for i, w in ipairs(list) do
    total = total + w.count
    if i <= 3 then top = top + w.count end
    lo, hi = math.min(lo or w.size, w.size), math.max(hi or w.size, w.size)
  end
  local unit = function(n) return n == 1 and r.wire_unit or r.wire_unit .. "s" end
  if total == 0 then return string.format("on the wire: no %s with data was captured", r.wire_unit) end
  local text
  if #list <= 3 and total == top then
    -- a few sizes: each with its count ("45 TCP segments of 1448 B + 1 of 376 B")
    local parts = {}
    for i, w in ipairs(list) do
      parts[#parts + 1] = i == 1 and string.format("%d %s of %d B", w.count, unit(w.count), w.size)
        or string.format("%d of %d B", w.count, w.size)
    end
    text = table.concat(parts, " + ")
  else
    -- many sizes: the range, and the most frequent one
    text = string.format("%d %s of %d..%d B (%d sizes, %d of %d B)", total, unit(total), lo, hi,
      #list + ((r.wire_other or 0) > 0 and 1 or 0), list[1].count, list[1].size)
  end
  local rtx = r.wire_retransmits or 0
  if rtx > 0 then text = text .. string.format(" (and %d retransmitted)", rtx) end
  return string.format("on the wire%s: %s", r.offload and (" (TSO/GSO " .. r.offload .. ")") or "", text)
end

-- The table over all paths.
function M.table(results)
  local out = { string.format("%-12s %7s %7s %9s %-8s %5s %7s %5s  %s", "path", "size", "program",
    "kernel", "how", "calls", "CPUms/M", "MiB/s", "peer") }
  for _, r in ipairs(results) do
    out[#out + 1] = string.format("%-12s %7s %7s %9s %-8s %5d %7.2f %5.0f  %s", r.path, human(r.size),
      human(r.program_copied), human(r.kernel_copied), r.kernel_how, r.syscalls, r.cpu_ms_per_mib,
      r.mib_s, r.intact and "intact" or "NOT INTACT")
  end
  return table.concat(out, "\n")
end

def("kernel", USAGE,
  "send a body over the kernel's own paths (write, writev, sendfile, splice, vmsplice, msg_zerocopy, "
  .. "udp, udp_gso) "
  .. "from the testbed's lab namespace to its peer, with the ledger: bytes the program and the kernel "
  .. "copied, calls, CPU per MiB; tls: is kTLS in this kernel (help kernel)",
  function(args)
    local sub = args[1]
    if sub == "send" then
      local path = args[2]
      local paths = table.concat(lab.kernel.paths(), ", ")
      if not path or path:find("=") then fail("kernel send: say which path - one of %s", paths) end
      local known = false
      for _, p in ipairs(lab.kernel.paths()) do known = known or p == path end
      if not known then fail("kernel send: no path '%s' - give one of %s", path, paths) end
      local o = options("kernel send", args, 3, nil, "kernel send " .. path)
      local r = send(o, path)
      say("%s", M.line(r))
      say("  kernel copy %s: %s", r.kernel_how, r.kernel_why)
      if o.recv and r.peer_why then say("  the peer: %s", r.peer_why) end
      if r.wire then say("  %s", M.wire(r)) end
      if r.capture_file then
        say("  capture: %s (%d packets, their headers; tshark -r %s)", r.capture_file, r.capture_records,
          r.capture_file)
      end
    elseif sub == "compare" then
      local o = options("kernel compare", args, 2, 1048576)
      if type(o.capture) == "string" then
        fail("kernel compare: capture= is true or false here - a pcap file is one send's: "
          .. "kernel send PATH size=64k capture=FILE")
      end
      local results = {}
      for _, p in ipairs(lab.kernel.paths()) do
        if not (o.recv and p:match("^udp")) then results[#results + 1] = send(o, p) end
      end
      for row in M.table(results):gmatch("[^\n]+") do say("%s", row) end
      if results[1] and results[1].wire then
        local seen = {}
        for _, r in ipairs(results) do
          local w = r.wire[1]
          seen[#seen + 1] = string.format("%s %d of <= %d B", r.path, r.wire_packets, w and w.size or 0)
        end
        say("packets the peer saw on the wire%s: %s", o.offload and (" (TSO/GSO " .. o.offload .. ")") or "",
          table.concat(seen, ", "))
      end
      local zc = {}
      for _, r in ipairs(results) do if r.path == "msg_zerocopy" then zc = r end end
      say("program: bytes the program copied to send; kernel: bytes the kernel copied (measured: "
        .. "it said so, derived: from how the path works - help kernel); peer: sha256 checked")
      if zc.zc_sends then
        say("msg_zerocopy: %d of %d sends completed on the error queue, %d with "
          .. "SO_EE_CODE_ZEROCOPY_COPIED", zc.zc_completions, zc.zc_sends, zc.zc_copied_sends)
      end
    elseif sub == "tls" then
      local o = {}
      for i = 2, #args do
        local k, v = args[i]:match("^(testbed)=(.+)$")
        if not k then fail("kernel tls: '%s' is not known - it takes testbed=NAME", args[i]) end
        o.testbed = v
      end
      local ok, r = pcall(lab.kernel.tls, o)
      if not ok then fail("%s", tostring(r):gsub("^[^:]*:%d+: ", "")) end
      say("%s", r.line)
    else
      local near = sub and C.nearest(sub, { "send", "compare", "tls" })
      if near then fail("kernel: no '%s' - did you mean kernel %s?", sub, near) end
      fail("kernel: say what - %s", USAGE)
    end
  end)

-- (C.topics is ringlab.topics once the prompt's commands are assembled; a
-- lesson may require this module for M.wire and M.results before that)
;(C.topics or require "ringlab.topics").kernel = [[
kernel: the kernel's own ways to send, on the same wire and ledger. From the
testbed's lab namespace to the Linux stack of its peer, over TCP:
  write        the kernel copies every byte into its buffers (skbs)
  writev       header + body in one call, both copied
  sendfile     page-cache pages attached by reference: no copy
  splice       file -> pipe -> socket, by reference
  vmsplice     your pages -> pipe -> socket: do not write them afterwards
  msg_zerocopy your pages by reference, a completion on the error queue
               when done; the kernel says if it had to copy after all -
               across the veth to a local socket it does (measured)
  udp          one send() per datagram (MTU - 28 bytes)
  udp_gso      UDP_SEGMENT: one send() per 44 datagrams, cut later
kernel copied is measured where the kernel says it, else derived (why).
kTLS (TLS inside the kernel, so sendfile works for HTTPS): kernel tls.
offload=on|off: the lab veth's TSO/GSO and UDP GSO (ethtool -K), and the
peer's capture says the sizes on the wire (capture=true: capture only;
capture=FILE: also a pcap of the headers for tshark -r FILE). recv=splice|
zerocopy: the peer receives socket -> pipe -> file, or TCP_ZEROCOPY_RECEIVE.
compare kernel:write kernel:sendfile NAME: the last results beside engines.
kernel send PATH size=64k | kernel compare size=1m | kernel tls [testbed=]
Try: testbed up name=rl, then kernel compare size=1m testbed=rl
lesson 12 walks through every path, measured (root).]]

return M
