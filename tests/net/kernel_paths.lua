--[[
kernel_paths.lua - every kernel send path (lab.kernel.send) sends 64 KiB and
1 MiB from the lab namespace to the peer's Linux stack, which answers the
sha256 of what it read; each result's ledger must be sane for its path.

  ringlab --netns NAME-lab kernel_paths.lua SHA64K SHA1M [TESTBED]

SHA64K and SHA1M are the sha256 of the `send tcp` body of 65536 and
1048576 bytes, computed by kernel_case.sh with python3 (not by ringlab):
the peer's hash must equal them. TESTBED given: testbed= is passed;
absent: lab.kernel finds the testbed from the namespace ringlab runs in.
--]]
local sha64k, sha1m, testbed = ...
assert(sha64k and sha1m, "usage: kernel_paths.lua SHA64K SHA1M [TESTBED]")
local want = { [65536] = sha64k, [1048576] = sha1m }
local bad = 0

local function check(cond, what, r)
  if not cond then
    bad = bad + 1
    print(string.format("FAIL: %s %d: %s", r.path, r.size, what))
  end
end

local seen = {}
for _, path in ipairs(lab.kernel.paths()) do
  seen[path] = true
  for _, size in ipairs { 65536, 1048576 } do
    local r = lab.kernel.send { path = path, size = size, testbed = testbed }
    print(string.format("%-12s %7d sent %d received %d program %d kernel %d %s calls %d "
      .. "cpu %.3f ms/MiB %.1f MiB/s %s%s", path, size, r.sent, r.received, r.program_copied,
      r.kernel_copied, r.kernel_how, r.syscalls, r.cpu_ms_per_mib, r.mib_s,
      r.intact and "intact" or "NOT INTACT",
      r.zc_sends and string.format(" zc %d/%d copied %d ranges %d/%d", r.zc_completions,
        r.zc_sends, r.zc_copied_sends, r.zc_copied_ranges, r.zc_ranges) or ""))
    check(r.intact, "the peer's sha256 differs from the sent one", r)
    check(r.received == r.sent, "received " .. r.received .. " of " .. r.sent, r)
    check(r.program_copied == 0, "the program copied " .. r.program_copied, r)
    check(r.syscalls >= 1, "no syscalls counted", r)
    check(r.cpu_s >= 0 and r.cpu_ms_per_mib >= 0, "negative CPU time", r)
    check(#r.kernel_why > 20, "no reason for the kernel's figure", r)
    if not path:match("^udp") then
      check(r.peer_recv == "read" and r.peer_calls >= 1 and r.peer_cpu_ms_per_mib >= 0, "the peer's read", r)
    end
    local l = r.ledger
    check(l.copied == 0 and l.kernel_copied == r.kernel_copied and l.headers == r.headers
      and l.referenced + l.kernel_copied == r.sent, "the ledger: referenced + kernel_copied = sent", r)
    if path == "writev" then
      check(r.headers == 32 and r.sent == size + 32, "writev sends header + body", r)
      check(r.kernel_copied == size + 32 and r.kernel_how == "derived", "writev: kernel copies all", r)
    else
      check(r.sent == size, "sent " .. r.sent, r)
      check(r.sha256 == want[size], "the peer's sha256 " .. r.sha256 .. " is not python's " .. want[size], r)
    end
    if path == "write" then
      check(r.kernel_copied == size and r.kernel_how == "derived", "write: the kernel copies N", r)
      check(r.syscalls == size // 65536 + 1, "write: one call per 64 KiB + shutdown", r)
    elseif path == "sendfile" or path == "splice" then
      check(r.kernel_copied == 0 and r.kernel_how == "derived", "by reference, derived", r)
    elseif path == "vmsplice" then
      check(r.vmsplice_probe == "referenced" or r.vmsplice_probe == "copied", "the probe ran", r)
      check(r.kernel_how == "measured", "vmsplice: measured by the probe", r)
      check(r.kernel_copied == (r.vmsplice_probe == "copied" and size or 0), "probe and figure agree", r)
    elseif path == "udp" or path == "udp_gso" then
      local seg = r.udp_segment
      local n = (size + seg - 1) // seg
      check(seg == 1472, "a 1500-byte MTU carries 1472-byte datagrams", r)
      check(r.kernel_copied == size and r.kernel_how == "derived", "UDP: the kernel copies N", r)
      check(r.peer_datagrams == n and r.peer_max_datagram == seg, "the peer got " .. n .. " datagrams of " .. seg, r)
      if path == "udp" then
        check(r.syscalls == 1 + n, "udp: IP_MTU + one send per datagram", r)
      else
        check(r.syscalls == 2 + (size + 44 * seg - 1) // (44 * seg), "udp_gso: one send per 44 datagrams", r)
      end
    elseif path == "msg_zerocopy" then
      check(r.kernel_how == "measured", "msg_zerocopy: measured", r)
      check(r.zc_sends >= size // 65536, "one send per 64 KiB at least", r)
      check(r.zc_completions == r.zc_sends, "every send completed", r)
      check(r.zc_ranges >= 1 and r.zc_ranges <= r.zc_sends, "completion ranges counted", r)
      check(r.zc_copied_ranges <= r.zc_ranges, "copied verdicts <= ranges", r)
      -- the kernel's verdicts are the figure: all copied -> N, none -> 0
      if r.zc_copied_sends == r.zc_sends then
        check(r.kernel_copied == size, "all sends copied -> kernel copied N", r)
      elseif r.zc_copied_sends == 0 then
        check(r.kernel_copied == 0, "no send copied -> 0", r)
      end
    end
  end
end
for _, p in ipairs { "write", "writev", "sendfile", "splice", "vmsplice", "msg_zerocopy", "udp", "udp_gso" } do
  if not seen[p] then bad = bad + 1 print("FAIL: no path " .. p) end
end
local t = lab.kernel.tls { testbed = testbed }
print(t.line)
if not t.line:match("^kTLS: ") then bad = bad + 1 print("FAIL: kTLS line") end
if not t.available and t.errno == 0 then bad = bad + 1 print("FAIL: kTLS no errno") end
print(bad == 0 and "kernel paths: all intact" or ("kernel paths: " .. bad .. " failures"))
os.exit(bad == 0 and 0 or 1)
