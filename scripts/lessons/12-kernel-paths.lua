-- Lesson 12: the kernel's own zero-copy paths
-- write, sendfile, splice, MSG_ZEROCOPY, GSO/TSO, receive, kTLS, measured
--
-- The teaching is on the screen (L.part, L.result); this header only says
-- how to run it. It needs root: every part sends a body over a testbed's
-- veth from its lab namespace to the Linux stack in its peer namespace
-- (lab.kernel.send, shell/lab/kernel.c), and the peer checks its sha256.
-- The testbed: the one ringlab runs in (ringlab --netns NAME-lab), else
-- its own, rl12 (testbed=NAME names another), made and taken down here.
-- The last part opens a simulator (zerocopy) for ringlab's own strategy,
-- or with afxdp an AF_XDP socket on the same veth (sg=true; ringlab must
-- run in the testbed's lab namespace: ringlab --netns NAME-lab).
-- Run: sudo ringlab scripts/lessons/12-kernel-paths.lua [afxdp] [testbed=NAME]
--      (or at the prompt, as root: lesson 12 [afxdp])
local L = require "ringlab.lesson"
local A = L.args(...)
local K = require "ringlab.cmd_kernel"

L.title("Lesson 12: the kernel's own zero-copy paths")
if A.engine == "dpdk" then
  L.say("dpdk: lesson 12 uses the kernel's own paths, and sim or afxdp at its end - run: lesson 12")
  return
end
local function is_root()
  local f = io.open("/proc/self/status")
  local s = f and f:read("a") or ""
  if f then f:close() end
  return s:match("\nUid:%s+0%s") ~= nil
end
if not is_root() then
  L.skip("lesson 12 needs root: it sends over a testbed's veth - run: sudo ringlab")
  return
end

-- The testbed: ours if ringlab runs in X-lab, else one made for the lesson.
local name, made
for _, kv in ipairs(A.extra) do
  local v = kv:match("^testbed=(.+)$")
  if not v then error("lesson 12: '" .. kv .. "'? - it takes testbed=NAME", 0) end
  name = v
end
if not name and lab.netns and lab.netns:match("^.+%-lab$") then
  name = lab.netns:gsub("%-lab$", "")
end
name = name or "rl12"
local function exists(ns)
  local f = io.open("/var/run/netns/" .. ns)
  if f then f:close() end
  return f ~= nil
end
if not (exists(name .. "-lab") and exists(name .. "-peer")) then
  local tb = require "ringlab.testbed"
  tb.down { name = name, force = true }
  tb.up { name = name }
  made = tb -- taken down at the end
end

local SIZE = 65536
local function send(path, extra)
  local o = { path = path, size = SIZE, testbed = name }
  for k, v in pairs(extra or {}) do o[k] = v end
  local r = lab.kernel.send(o)
  L.check(r.intact, path .. ": the peer's sha256 equals the sent one's")
  K.results[path] = r -- for `compare kernel:PATH` after the lesson
  return r
end
local kib = K.human -- 65536 -> "64 KiB", 0 -> "0 B"

local ok, err = pcall(function()
  L.part("write: the kernel copies every byte", [[
    A program that write()s a buffer to a TCP socket hands the kernel a
    pointer; the kernel copies the bytes into its own socket buffers (skbs)
    right away, so the program may reuse the buffer when write() returns.
    Here: a 64 KiB body from the testbed's lab namespace to the Linux stack
    in its peer namespace, which checks the sha256 of what it read.]])
  local w = send("write")
  L.eq(w.kernel_copied, SIZE, "write: the kernel copied every byte")
  L.result("write: %s in %d calls, the kernel copied %s (derived: tcp_sendmsg copies into "
    .. "skbs); %.2f ms CPU per MiB; the peer's sha256 matched", kib(SIZE), w.syscalls,
    kib(w.kernel_copied), w.cpu_ms_per_mib)

  L.part("sendfile: where it shines - a static file", [[
    sendfile() sends a file: the kernel attaches the file's page-cache
    pages to the skbs by reference, no copy and no trip through userspace.
    That is what a web server does for static files: the bytes are already
    in the page cache and are the same for every client.]])
  local f = send("sendfile")
  L.eq(f.kernel_copied, 0, "sendfile: no copy")
  L.result("sendfile: %s in %d calls, the kernel copied %s - the page-cache pages went by "
    .. "reference; %.2f ms CPU per MiB against write's %.2f", kib(SIZE), f.syscalls,
    kib(f.kernel_copied), f.cpu_ms_per_mib, w.cpu_ms_per_mib)

  L.part("splice and vmsplice: pipes of pages, and gifted pages", [[
    splice() moves pages file -> pipe -> socket by reference. vmsplice()
    with SPLICE_F_GIFT puts the program's own pages into the pipe. The
    kernel never says when the peer has them: the program must not write
    those pages afterwards, or the peer may get the new bytes. A probe
    shows it: a page written after vmsplice() reads back new in the pipe.]])
  local s = send("splice")
  local v = send("vmsplice")
  L.eq(s.kernel_copied, 0, "splice: no copy")
  L.check(v.vmsplice_probe == "referenced" or v.vmsplice_probe == "copied", "the probe ran")
  L.result("splice: %d calls, %s copied; vmsplice: %d calls, %s copied, and the probe says the "
    .. "pipe holds the program's pages (%s) - so never write them until the peer has them",
    s.syscalls, kib(s.kernel_copied), v.syscalls, kib(v.kernel_copied), v.vmsplice_probe)

  L.part("MSG_ZEROCOPY: completions, and the COPIED verdict", [[
    send(MSG_ZEROCOPY) pins the program's pages; a completion on the error
    queue later says the kernel is done with them, and if it copied after
    all (ZEROCOPY_COPIED). Pins and completions cost per call, so it pays
    only for large sends: 256 KiB as 64 sends of 4 KiB, then 4 of 64 KiB.]])
  local BIG = 262144
  local small = send("msg_zerocopy", { size = BIG, chunk = 4096 })
  local large = send("msg_zerocopy", { size = BIG, chunk = 65536 })
  L.eq(small.zc_completions, small.zc_sends, "every small send completed")
  L.eq(large.zc_completions, large.zc_sends, "every large send completed")
  L.check(small.syscalls > large.syscalls, "small sends make more calls")
  L.result("4 KiB sends: %d sends, %d calls, %.2f ms CPU/MiB; 64 KiB: %d sends, %d calls, "
    .. "%.2f ms CPU/MiB. %d of %d and %d of %d said COPIED: a local socket would hold the "
    .. "sender's pages, so the kernel copies (skb_orphan_frags_rx); a NIC takes them as they are",
    small.zc_sends, small.syscalls, small.cpu_ms_per_mib, large.zc_sends, large.syscalls,
    large.cpu_ms_per_mib, small.zc_copied_sends, small.zc_sends, large.zc_copied_sends, large.zc_sends)

  L.part("UDP GSO and TSO: the sizes on the wire", [[
    With UDP_SEGMENT (UDP GSO) one send() carries 44 datagrams of 1472
    bytes, cut later; TSO does the same for TCP. Who cuts? The peer's
    capture (AF_PACKET) shows it, the lab veth's offloads off, then on: a
    veth passes the large packet on whole, where a NIC would cut it.]])
  local uoff = send("udp_gso", { offload = "off" })
  local uon = send("udp_gso", { offload = "on" })
  local toff = send("write", { offload = "off" })
  local ton = send("write", { offload = "on" })
  L.eq(uoff.wire[1].size, 1472, "UDP GSO, offloads off: 1472-byte datagrams on the wire")
  L.eq(toff.wire[1].size, 1448, "TSO off: MSS-sized segments (1448) on the wire")
  L.check(uon.wire[1].size > 1472 and ton.wire[1].size > 1448, "offloads on: larger packets on the veth")
  L.result("UDP GSO in %d calls. Off: %s. On: %s",
    uoff.syscalls, K.wire(uoff):gsub("^on the wire %(TSO/GSO off%): ", ""),
    K.wire(uon):gsub("^on the wire %(TSO/GSO on%): ", ""))
  L.result("TCP, TSO/GSO off: %s. On: %s",
    K.wire(toff):gsub("^on the wire %(TSO/GSO off%): ", ""),
    K.wire(ton):gsub("^on the wire %(TSO/GSO on%): ", ""))

  L.part("the receive side: read() and TCP_ZEROCOPY_RECEIVE", [[
    read() copies from the socket's skbs into the program's buffer.
    TCP_ZEROCOPY_RECEIVE maps whole pages of payload into the program
    instead, and reports what it could not map and copied. Across a veth
    the skbs hold the sender's own pages, which it will not map.]])
  local rr = send("write", { recv = "read" })
  local rz = send("write", { recv = "zerocopy" })
  L.eq(rz.peer_zc_mapped + rz.peer_zc_copied + rz.peer_zc_read, rz.received, "mapped + copied + read")
  L.result("read(): %d calls, %s copied into the program. TCP_ZEROCOPY_RECEIVE: %s mapped, %s "
    .. "copied by the kernel (its own report), %s left to read()", rr.peer_calls, kib(rr.received),
    kib(rz.peer_zc_mapped), kib(rz.peer_zc_copied), kib(rz.peer_zc_read))

  L.part("kTLS: why HTTPS needs it to keep sendfile", [[
    HTTPS encrypts every byte per client (lesson 7), so a file's pages
    cannot go to the socket as they are: without kernel TLS the program
    reads, encrypts and writes - copies again. With kTLS the kernel (or a
    NIC with TLS offload) encrypts on the way out and sendfile works.
    Is it in this kernel? setsockopt(TCP_ULP, "tls") answers at run time.]])
  local t = lab.kernel.tls { testbed = name }
  L.check(t.line:match("^kTLS: "), "kTLS answered")
  L.result("%s%s", t.line, t.available and " - sendfile can serve HTTPS here"
    or " - HTTPS here is encrypted in userspace, a copy per client: no sendfile")

  L.part("beside ringlab's strategies", [[
    The same 64 KiB body sent by ringlab's sg strategy (lesson 5) on the
    simulator - or on this veth with lesson 12 afxdp: born in the region,
    headers in frames of their own, the payload referenced. Beside it the
    kernel's paths again, same body. After the lesson, compare sg
    kernel:write kernel:sendfile kernel:msg_zerocopy shows every row.]])
  -- the kernel's paths again with the same 64 KiB, captured: their packets
  -- (first: an AF_XDP socket on the veth would take the kernel's TCP)
  local kw = send("write", { capture = true })
  local kf = send("sendfile", { capture = true })
  local kz = send("msg_zerocopy", { capture = true })
  -- testbed= is the lesson's, not the engine's: no extra options
  local e
  if A.engine == "afxdp" then
    e = L.open("afxdp", { name = "sg", ifname = name .. "0", sg = true }, {})
  else
    e = L.open("sim", { name = "sg", mode = "zerocopy", ring_size = 64 }, {})
  end
  if not e then return end
  L.show(e)
  local r = e:region { frames = 256 }
  e:fill(64)
  local data = r:alloc(SIZE)
  data:testdata() -- the same body as the kernel's (%015x\n of every offset), made in place
  local segs = lab.segment(data, { proto = "tcp", mss = 1448, strategy = "sg",
    src = "198.18.0.1:40000", dst = "198.18.0.2:8080" })
  L.eq(segs:send(e), 46, "46 segments sent")
  local got = 0
  local until_t = lab.now() + 0.5 -- sim: its own 46 back; afxdp: the peer's answers, if any
  while got < 46 and lab.now() < until_t do
    local ps = e:rx(64)
    for _, p in ipairs(ps) do p:release() end
    got = got + #ps
    if #ps == 0 then lab.sleep(0.01) end
  end
  segs:free()
  data:free()
  L.conserved(e)
  local l = e:stats().ledger
  L.eq(l.copied, 0, "sg: nothing copied")
  L.pause("next: the table")
  -- the ledger rows that differ, one column each (at the prompt after the
  -- lesson: compare sg kernel:write kernel:sendfile kernel:msg_zerocopy)
  local kind = e:info().kind
  -- the send side's part of the ledger (afxdp also counts the peer's answers it received)
  local tx = type(l.tx) == "table" and l.tx or l
  local cols = { { "sg (" .. kind .. ")", tx.copied, tx.referenced, tx.kernel_copied, e:stats().tx_pkts, "-" } }
  for _, k in ipairs({ kw, kf, kz }) do
    cols[#cols + 1] = { k.path, k.program_copied, k.ledger.referenced, k.kernel_copied, k.wire_packets, k.syscalls }
  end
  local rows = { "", "copied by the program", "referenced", "copied by the kernel", "packets on the wire", "calls" }
  for i, label in ipairs(rows) do
    local line = string.format("   %-22s", label)
    for _, c in ipairs(cols) do line = line .. string.format("%13s", tostring(c[i])) end
    L.print(line)
  end
  L.result("the same 64 KiB: ringlab's sg on %s copied %d bytes and referenced %d%s; the kernel's "
    .. "write copied %d, sendfile %d (but only from a file), msg_zerocopy %d (across the veth, as its "
    .. "completions said); the kernel's %d packets are TSO super-packets the veth passes whole",
    kind, tx.copied, tx.referenced, kind == "afxdp" and tx.kernel_copied > 0
      and string.format(", and the kernel copied %d: AF_XDP on a veth is copy mode (%s)", tx.kernel_copied,
        l.kernel_how) or "",
    kw.kernel_copied, kf.kernel_copied, kz.kernel_copied, kw.wire_packets)
end)
if made then made.down { name = name, force = true } end
if not ok then error(err, 0) end
L.done("12")
