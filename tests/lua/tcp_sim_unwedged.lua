-- tcp_sim_unwedged.lua CASE - a TCP that cannot be wedged (issue 11, part 3),
-- on two simulators back to back. Each CASE fails on the code before it:
--   backlog  half-open connections that were reset or timed out leave the
--            listener's backlog (before: after 16 of them every SYN dropped)
--   flood    a flood of UDP at a TCP stack is kept in a bounded inbox, the
--            excess released at once and counted (before: the inbox took
--            every frame and the next connect failed on ARP)
--   validate bad ports, addresses and options of tcp.connect, tcp.listen,
--            http.serve and host.new are refused before anything is made
--            (before: a connection with port 70000 poisoned every later call)
--   mss      a peer's MSS option of 1 is raised to 48 and of 0 taken as 536,
--            as Linux does; a send of more segments than the region holds
--            says so
--   handler  a host handler that raises in the middle of a batch: the rest
--            of the batch is released at once and counted
--   abort    c:abort() of a connection mid-send, its first segments ACKed
--            and the rest waiting for a window that the peer keeps shut:
--            no error, the connection leaves the stack and its frames come
--            back (before: "attempt to index a boolean value" in
--            drop_queue, the connection left in the stack for ever - what
--            http.serve's pcall(c.abort, c) hid after an interruption)
-- Owners are conserved on both engines at the end of each.
local T = require "common"
local C = require "tcp_common"
local tcp = require "ringlab.tcp"
local host = require "ringlab.host"

local CASE = arg and arg[1] or "backlog"

-- A raw end (no TCP stack) and a TCP stack at 198.18.0.2 on its peer.
local function raw_pair(frames)
  local a = lab.open("sim", { mode = "zerocopy" })
  local b = lab.open("sim", { mode = "zerocopy", peer = a })
  a:region { frames = frames or 1024, frame_size = 2048, headroom = 256 }
  b:region { frames = frames or 1024, frame_size = 2048, headroom = 256 }
  a:fill(256)
  local st = tcp.stack(b, { ip = "198.18.0.2" })
  local amac = string.format("02:00:00:00:00:%02x", a:info().id % 256)
  local R = {}
  function R.send(f)
    f.src = f.src or "198.18.0.1:5555"
    f.dst = f.dst or "198.18.0.2:8080"
    f.src_mac, f.dst_mac, f.region = amac, st.mac, a:region()
    f.window = f.window or 65535
    T.eq(a:tx(lab.packet.tcp(f)), 1, "raw tx")
    a:kick()
  end
  -- every packet a receives within secs (released; dissections returned)
  function R.rx(secs, want)
    local out = {}
    tcp.wait(function()
      a:complete()
      for _, p in ipairs(a:rx(64)) do
        local d = p:dissect()
        d.len = d.payload_len
        out[#out + 1] = d
        p:release()
        a:fill(1)
      end
      return want and #out >= want
    end, nil)
    return out
  end
  function R.until_(cond, secs, what)
    local got = {}
    tcp.wait(function()
      a:complete()
      for _, p in ipairs(a:rx(64)) do
        got[#got + 1] = p:dissect()
        p:release()
        a:fill(1)
      end
      return cond(got)
    end, secs, what)
    return got
  end
  return a, b, st, R
end

local function settle(a, b)
  tcp.run(0.05)
  a:complete() b:complete()
  T.conserved(a, "a") T.conserved(b, "b")
end

if CASE == "backlog" then
  local a, b, st, R = raw_pair()
  local l = tcp.listen(b, 8080, { backlog = 4, retries = 0, rto_initial = 0.05, rto_min = 0.05 })
  -- 12 half-open connections reset by the client, then 4 that time out
  for i = 1, 16 do
    local port = "198.18.0.1:" .. (6000 + i)
    R.send { src = port, flags = "S", seq = 1000 * i, mss = 1460 }
    local got = R.until_(function(g) return #g > 0 end, 2, "SYN-ACK " .. i)
    local sa = got[1].tcp
    T.eq(sa.flags & 0x12, 0x12, "SYN-ACK " .. i)
    if i <= 12 then
      R.send { src = port, flags = "R", seq = 1000 * i + 1 }
    end
    tcp.run(0.01)
  end
  -- the four not reset time out (one SYN-ACK again, then given up)
  tcp.wait(function() return l.pending == 0 end, 3, "half-open connections timing out")
  T.eq(l.pending, 0, "no half-open connection left in the backlog")
  T.eq(l.counts.half_open_gone, 16, "16 half-open connections gone (12 reset, 4 timed out)")
  T.eq(l.counts.refused, 0, "no SYN refused: never more than 4 half-open at once")
  local refused_before = l.counts.refused
  -- a real client still gets in
  tcp.stack(a, { ip = "198.18.0.1" })
  local c, s
  tcp.spawn(function() s = l:accept(3) end)
  c = tcp.connect(a, "198.18.0.2:8080", { timeout = 3 })
  tcp.wait(function() return s ~= nil end, 3, "accept after 16 half-open")
  T.eq(l.counts.refused, refused_before, "no SYN refused")
  c:send("hello") c:flush()
  T.eq(C.str(s:recv()), "hello", "the connection works")
  s:release()
  c:close() s:close()
  print(tcp.show())
  settle(a, b)
elseif CASE == "flood" then
  local a, b = C.pair { frames = 2048 }
  local sb = tcp.stack(b)
  local flooded = 0
  for _ = 1, 40 do
    local list = {}
    for i = 1, 64 do
      list[i] = lab.packet.udp { src = "198.18.0.1:9", dst = "198.18.0.2:9", payload = "flood",
        src_mac = tcp.stack(a).mac, dst_mac = sb.mac, region = a:region() }
    end
    local n = a:tx(list)
    for i = n + 1, #list do list[i]:release() end
    a:kick()
    flooded = flooded + n
    tcp.poll() tcp.poll()
  end
  for _ = 1, 20 do tcp.poll() end
  local h = sb.host
  print(string.format("flooded %d UDP packets: inbox %d of %s, dropped %s", flooded, #h.inbox,
    tostring(h.inbox_max), tostring(h.counts.inbox_dropped)))
  T.check(flooded >= 2048, "the flood is larger than b's region (" .. flooded .. ")")
  -- TCP still works after it, ARP included (b resolves a)
  local l = tcp.listen(a, 8080)
  local s
  tcp.spawn(function() s = l:accept(3) end)
  local c = tcp.connect(b, "198.18.0.1:8080", { timeout = 3 })
  local o = T.conserved(b, "b after the flood")
  T.check(#h.inbox <= 256, "the inbox is bounded (" .. #h.inbox .. ")")
  T.eq(h.inbox_max, 2048 // 8, "an eighth of the region")
  T.check(h.counts.inbox_dropped > 0, "the excess was dropped and counted")
  T.eq(o.app - o.free, #h.inbox + c.reader:avail(), "frames held: only the inbox's; the dropped ones are back")
  tcp.wait(function() return s ~= nil end, 3, "accept after the flood")
  c:send("after the flood") c:flush()
  T.eq(C.str(s:recv()), "after the flood", "data after the flood")
  s:release()
  local text = tcp.show(160)
  print(text)
  T.check(text:find("dropped " .. h.counts.inbox_dropped, 1, true), "show tcp has the drops")
  local shown, perr = T.prompt("use " .. b:info().name, "show stats")
  print(b:info().name, shown:sub(1, 300))
  T.eq(perr, nil, "show stats at the prompt")
  T.check(shown:find("dropped: " .. h.counts.inbox_dropped .. " inbox full", 1, true),
    "show stats has the drops")
  c:close() s:close()
  settle(a, b)
  for _, p in ipairs(h:take(1000)) do p:release() end
  T.conserved(b, "b")
elseif CASE == "validate" then
  local a, b = C.pair {}
  local before = #tcp.connections()
  local bad = {
    { { "port=70000", "1-65535" }, tcp.connect, a, "198.18.0.2:8080", { port = 70000 } },
    { { "port=0" }, tcp.connect, a, "198.18.0.2:8080", { port = 0 } },
    { { "port=1.5" }, tcp.connect, a, "198.18.0.2:8080", { port = 1.5 } },
    { { "not ip:port" }, tcp.connect, a, "198.18.0.2:70000" },
    { { "not ip:port" }, tcp.connect, a, "300.18.0.2:80" },
    { { "mss=1" }, tcp.connect, a, "198.18.0.2:8080", { mss = 1 } },
    { { "wscale=15" }, tcp.connect, a, "198.18.0.2:8080", { wscale = 15 } },
    { { "dst_mac=zz" }, tcp.connect, a, "198.18.0.2:8080", { dst_mac = "zz" } },
    { { "strategy=bogus" }, tcp.connect, a, "198.18.0.2:8080", { strategy = "bogus" } },
    { { "timeout=x" }, tcp.connect, a, "198.18.0.2:8080", { timeout = "x" } },
    { { "port=70000" }, tcp.listen, b, 70000 },
    { { "port=x" }, tcp.listen, b, "x" },
    { { "backlog=0" }, tcp.listen, b, 8081, { backlog = 0 } },
    { { "reader=view" }, tcp.listen, b, 8082, { reader = "view" } },
  }
  for i, t in ipairs(bad) do
    local err = T.raises(t[1], table.unpack(t, 2))
    T.check(not err:find("\n"), "one line: " .. err)
    print(err)
    T.eq(#tcp.connections(), before, "no connection left by bad call " .. i)
  end
  local lst = 0
  for _ in pairs(tcp.stack(b).listeners) do lst = lst + 1 end
  T.eq(lst, 0, "no listener left")
  -- a fresh engine: a refused call makes no stack, region or host
  local e = lab.open("sim")
  T.raises({ "ip=1.2.3" }, tcp.listen, e, 80, { ip = "1.2.3" })
  T.raises({ "mac=" }, tcp.connect, e, "198.18.0.2:80", { mac = "02:00" })
  T.eq(e:info().has_region, false, "no region made by refused calls")
  T.raises({ "ip=999.0.0.1" }, host.new, e, { ip = "999.0.0.1", mac = "02:00:00:00:00:09" })
  T.raises({ "mac=02:00:00:00:00" }, host.new, e, { ip = "198.18.0.9", mac = "02:00:00:00:00" })
  T.eq(e:info().has_region, false, "no region made by a refused host")
  T.eq(host.of(e), nil, "no host left")
  local http = require "ringlab.http"
  T.raises({ "port=99999" }, http.serve, b, { port = 99999 })
  T.raises({ "strategy=zzz" }, http.serve, b, { port = 8083, strategy = "zzz" })
  T.raises({ "port=99999" }, http.serve, e, { port = 99999 })
  T.eq(e:info().has_region, false, "no stack made by a refused http.serve")
  -- at the prompt: host up with a bad address
  local out, err = T.prompt("open sim name=v1", "host up ip=1.2.3.4.5")
  T.check(err and err:find("ip=1.2.3.4.5", 1, true), "host up ip= refused: " .. tostring(err))
  out, err = T.prompt("host up ip=198.18.0.7 mac=nope")
  T.check(err and err:find("mac=nope", 1, true), "host up mac= refused: " .. tostring(err))
  out, err = T.prompt("host status")
  T.check(err and err:find("no host runs", 1, true), "no host left by refused host up: " .. tostring(err))
  -- a connect nobody answers times out and takes its connection away
  T.raises({ "timed out" }, tcp.connect, a, "198.18.0.99:80",
    { dst_mac = "02:00:00:00:00:99", timeout = 0.3 })
  T.eq(#tcp.connections(), before, "no connection left by a connect that timed out")
  -- and the good calls still work after all that
  local l = tcp.listen(b, 8080)
  local s
  tcp.spawn(function() s = l:accept(3) end)
  local c = tcp.connect(a, "198.18.0.2:8080", { timeout = 3 })
  tcp.wait(function() return s ~= nil end, 3, "accept after bad calls")
  c:send("still fine") c:flush()
  T.eq(C.str(s:recv()), "still fine", "a connection after the refused calls")
  s:release()
  c:close() s:close()
  settle(a, b)
elseif CASE == "mss" then
  local a, b, st, R = raw_pair(1024)
  local l = tcp.listen(b, 8080)
  local function open(port, mss)
    local src = "198.18.0.1:" .. port
    R.send { src = src, flags = "S", seq = 5000, mss = mss }
    local sa = R.until_(function(g) return #g > 0 end, 2, "SYN-ACK")[1].tcp
    R.send { src = src, flags = "A", seq = 5001, ack = (sa.seq + 1) & 0xffffffff }
    return l:accept(2), src
  end
  local s1 = open(5001, 1)
  T.eq(s1.mss, 48, "a peer's MSS of 1 is raised to 48 (tcp_min_snd_mss)")
  T.eq(s1:stats().mss_clamped, 1, "counted")
  local s0 = open(5002, 0)
  T.eq(s0.mss, 536, "a peer's MSS of 0 is taken as no MSS: 536")
  -- 1000 bytes at MSS 48: 21 segments, none larger than 48
  s1:send(string.rep("m", 1000))
  local segs = R.until_(function(g)
    local n = 0
    for _, d in ipairs(g) do n = n + (d.payload_len or 0) end
    return n >= 1000
  end, 3, "the segments at MSS 48")
  local most, total = 0, 0
  for _, d in ipairs(segs) do most = math.max(most, d.payload_len) total = total + d.payload_len end
  T.eq(total, 1000, "all bytes sent")
  T.eq(most, 48, "no segment larger than the clamped MSS")
  -- more segments than the region holds: said, nothing queued
  local err = T.raises({ "segments, more than the region's 1024 frames", "asked for MSS 1" },
    s1.send, s1, string.rep("x", 100000))
  print(err)
  T.check(not err:find("\n"), "one line")
  T.eq(s1:stats().in_flight, 1000, "nothing of the refused send queued")
  -- fewer segments than the region, more than its free frames: said too
  err = T.raises({ "send: 40000 bytes in 834 segments need 834 free frames" }, s1.send, s1,
    string.rep("y", 40000))
  print(err)
  T.check(err:find("^tcp 198%.18%.0%.2:8080 > 198%.18%.0%.1:5001"), "names the connection: " .. err)
  s1:abort() s0:abort()
  settle(a, b)
elseif CASE == "handler" then
  local a = lab.open("sim", { mode = "zerocopy" })
  local b = lab.open("sim", { mode = "zerocopy", peer = a })
  a:region { frames = 512, frame_size = 2048, headroom = 256 }
  local seen = 0
  local h = host.new(b, { ip = "198.18.0.2", mac = "02:00:00:00:00:22", frames = 512,
    on_packet = function(pkt)
      seen = seen + 1
      if seen == 3 then error("handler broke on packet 3") end
      return false
    end })
  local list = {}
  for i = 1, 10 do
    list[i] = lab.packet.udp { src = "198.18.0.1:9", dst = "198.18.0.2:9", payload = "p" .. i,
      src_mac = "02:00:00:00:00:11", dst_mac = h.mac, region = a:region() }
  end
  T.eq(a:tx(list), 10, "10 sent")
  a:kick()
  b:complete()
  local err = T.raises({ "handler broke on packet 3" }, h.poll, h)
  print(err)
  T.eq(seen, 3, "the handler ran for 3 packets")
  local o = T.conserved(b, "b")
  T.eq(o.app - o.free, 1, "only the packet the handler raised on is still the handler's")
  T.eq(h.counts.handler_dropped, 7, "the rest of the batch counted")
  -- a host answering ARP that meets an error gives that packet back too
  h.on_packet = nil
  local P = T.prompt("show stats")
  a:complete()
  T.conserved(a, "a")
end
if CASE == "abort" then
  local a = lab.open("sim")
  local b = lab.open("sim", { peer = a })
  a:region { frames = 1024 }
  local rb = b:region { frames = 4096 }
  tcp.stack(a, { ip = "198.18.0.1" })
  tcp.stack(b, { ip = "198.18.0.2" })
  local l = tcp.listen(b, 8080)
  local cli
  tcp.spawn(function() cli = tcp.connect(a, "198.18.0.2:8080") end)
  local srv = l:accept(5)
  tcp.wait(function() return cli ~= nil end, 5, "the connect")
  -- 1 MiB to a client that reads nothing: its window shuts
  local sender = tcp.spawn(function() srv:send(string.rep("x", 1 << 20), { strategy = "copy" }) end)
  tcp.wait(function() return cli:window() < 1500 end, 5, "the client's window shutting")
  T.check(srv:stats().snd_una ~= srv:stats().snd_nxt, "the send is under way")
  local before = #tcp.connections()
  local ok, err = pcall(srv.abort, srv)
  T.check(ok, "c:abort() mid-send raised: " .. tostring(err))
  T.eq(#tcp.connections(), before - 1, "the aborted connection left the stack")
  cli:abort()
  tcp.run(0.05)
  T.check(sender.error ~= nil or sender.done, "the sending task ended")
  b:complete()
  local o = T.conserved(b, "b")
  T.eq(o.app - o.free, 0, "no frame of the aborted connection still held")
  print(string.format("aborted mid-send: %d of %d frames free on the server's side", o.free, rb.frames))
end
T.done("tcp_sim_unwedged " .. CASE)
