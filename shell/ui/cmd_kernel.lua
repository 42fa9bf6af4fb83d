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

local USAGE = "kernel send PATH size=64k [testbed=NAME] [offload=on|off] | kernel compare [size=1m] | kernel tls"

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
      if v ~= "true" and v ~= "false" then fail("%s: capture= is true or false", what) end
      o[k] = v == "true"
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
  return r
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
    elseif sub == "compare" then
      local o = options("kernel compare", args, 2, 1048576)
      local results = {}
      for _, p in ipairs(lab.kernel.paths()) do
        if not ((o.offload or o.capture or o.recv) and p:match("^udp")) then results[#results + 1] = send(o, p) end
      end
      for row in M.table(results):gmatch("[^\n]+") do say("%s", row) end
      if results[1] and results[1].peer_segments then
        local seen = {}
        for _, r in ipairs(results) do
          seen[#seen + 1] = string.format("%s %d of <= %d B", r.path, r.peer_segments, r.peer_max_segment)
        end
        say("TCP segments the peer saw%s: %s", o.offload and (" (TSO/GSO " .. o.offload .. ")") or "",
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

C.topics.kernel = [[
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
offload=on|off: the lab veth's TSO/GSO (ethtool -K), and the peer counts
the TCP segments that arrive (capture=true: count only). recv=splice|
zerocopy: the peer receives socket -> pipe -> file, or TCP_ZEROCOPY_RECEIVE.
kernel send PATH size=64k | kernel compare size=1m | kernel tls [testbed=]
Try: testbed up name=rl, then kernel compare size=1m testbed=rl]]

return M
