-- What a newcomer met on the DPDK engine, each now said or done right.
--   ring_loop       net_ring0 alone receives what it sends: segs:send
--                   returns once its packets arrived (e:rx takes them, at
--                   the sent addresses); segments sharing a frame stop
--                   with an error that says to receive first; show caps
--                   says it; send + recv at the prompt get the packet
--   fill_size       fill on dpdk prints the mempool and the real RX
--                   descriptor count (rx_desc=), not "fill ring 8 of 0"
--   memif_link      a memif server with no client: a send is refused in
--                   one line (the link is down, what to do) and the packet
--                   stays the program's; with the client open it arrives
--   null_invented   net_null's received packets are labelled invented by
--                   recv and show packet, not dissected as Ethernet
--   peer_close_quiet closing a peer= pair prints no "EAL:" line, even
--                   with log=error given (which prints DPDK's lines)
--   peer_again      a net_ring0 pair wired, used and closed three times in
--                   one ringlab, from Lua and at the prompt (close all):
--                   the second peer= failed with "no port net_ring0 over
--                   rings", so lesson 8 ran once per session
-- usage: ringlab dpdk_traps.lua RINGLAB CASE
local T = require "common"

local ringlab, case = arg[1], arg[2]

local function write_tmp(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

-- What ringlab prints (stdout and stderr) for these prompt lines.
local function prompt(lines)
  local path = write_tmp(table.concat(lines, "\n") .. "\n")
  local p = assert(io.popen(string.format("NO_COLOR=1 '%s' < '%s' 2>&1", ringlab, path)))
  local out = p:read("a")
  p:close()
  os.remove(path)
  return out
end

local function has(out, text, what)
  T.check(out:find(text, 1, true), string.format("%s: the output lacks %q:\n%s", what, text, out))
end

local DST = "198.18.0.2:9999"
local cases = {}

function cases.ring_loop()
  local e <close> = lab.open("dpdk", { vdev = "net_ring0", log = "emergency" })
  local r = e:region { frames = 256, frame_size = 2048, headroom = 256 }
  local data = string.rep("0123456789abcdef", 625) -- 10000 bytes
  local segs = lab.segment(data, { proto = "udp", mss = 1400, dst = DST, region = r, strategy = "copy" })
  T.eq(#segs, 8, "segments")
  local t0 = lab.now()
  T.eq(segs:send(e), 8, "segs:send returns every segment sent")
  T.check(lab.now() - t0 < 1, "segs:send did not wait for the 2 s stall")
  T.owners(e, { rx = 8 }, "the 8 frames wait on this port's own rx")
  local got = e:rx(64)
  T.eq(#got, 8, "e:rx takes the 8 packets")
  T.eq(e:stats().rx_same_buffer, 8, "each at the very address it was sent from (measured)")
  local back = {}
  for i, p in ipairs(got) do
    back[i] = p:payload()
    p:release()
  end
  T.check(table.concat(back) == data, "the data came back intact")
  segs:free()
  T.owners(e, {}, "all back")
  -- sg over a buffer: segments share frames, and a shared frame is free
  -- again only once received - the error says what to do
  local buf = r:alloc(6000)
  buf:write(0, string.rep("z", 6000))
  local sg = lab.segment(buf, { proto = "udp", mss = 1400, dst = DST, strategy = "sg" })
  T.raises({ "send:", "wait on a receiving rx ring", "free again only once received", "e:rx() them (recv)",
    "segs:send(e) again" }, sg.send, sg, e)
  local rounds, n = 0, 0
  repeat -- receive, send again: it finishes
    for _, p in ipairs(e:rx(64)) do n = n + 1; p:release() end
    local ok = pcall(sg.send, sg, e)
    rounds = rounds + 1
  until ok or rounds > 40
  for _, p in ipairs(e:rx(64)) do n = n + 1; p:release() end
  T.eq(n, #sg, "every segment arrived, round by round")
  sg:free()
  buf:free()
  T.owners(e, {}, "all back after sg")
  -- the prompt: show caps says it; a send comes back to recv
  local out = prompt({ "open dpdk vdev=net_ring0 log=emergency", "region frames=256", "show caps",
    "send udp " .. DST .. " hello", "recv" })
  has(out, "net_ring alone is wired to itself: what it sends arrives on its own rx", "show caps")
  has(out, "recv (e:rx()) what you send", "show caps says what to do")
  has(out, "1: udp 198.18.0.1:9000 > " .. DST .. " len 47 (1 segment), payload 5 bytes, checksums ok", "recv")
end

function cases.fill_size()
  local out = prompt({ "open dpdk vdev=net_ring0 log=emergency", "region frames=512", "fill 8",
    "lua print('rxq0 ' .. e:rings().rxq0.size .. ' mempool ' .. e:rings().mempool.pending)",
    "open dpdk vdev=net_null0 rx_desc=128", "region frames=512", "fill 16" })
  T.check(not out:find("of 0)", 1, true), "no fill ring of size 0:\n" .. out)
  has(out, "offered 8 frames: dpdk's fill puts them in the mempool (8 wait there) for the PMD's 256 RX descriptors to take",
    "fill on net_ring0")
  has(out, "rxq0 256 mempool 8", "the numbers are e:rings()'s")
  has(out, "offered 16 frames: dpdk's fill puts them in the mempool (16 wait there) for the PMD's 128 RX descriptors to take",
    "fill with rx_desc=128")
end

function cases.memif_link()
  local dir = os.tmpname() -- a unique name; the socket goes beside it
  local sock = dir .. ".memif"
  local function vdev(n, role)
    return string.format("net_memif%d,role=%s,id=3,socket=%s,socket-abstract=no", n, role, sock)
  end
  local s <close> = lab.open("dpdk", { vdev = vdev(0, "server"), log = "emergency" })
  local rs = s:region { frames = 512, frame_size = 2048 }
  s:fill(256)
  local p = lab.packet.udp { dst = DST, payload = "anyone there?", region = rs }
  local err = T.raises({ "tx:", "net_memif0: the link is down (no peer on its socket)",
    "open the other end (the other role=, the same socket=), then send" }, s.tx, s, p)
  T.check(not err:find("\n"), "one line: " .. err)
  T.eq(p:state(), "held", "the packet is still the program's")
  T.owners(s, { fill = s:owners().fill }, "nothing left pending on tx")
  T.eq(s:rings().tx.pending, 0, "nothing staged")
  -- the client end, in this process: the link comes up and the send goes
  local c <close> = lab.open("dpdk", { vdev = vdev(1, "client") })
  local rc = c:region { frames = 512, frame_size = 2048 }
  c:fill(256)
  local q = lab.packet.udp { dst = DST, payload = "hello server", region = rc }
  T.eq(c:tx(q), 1, "the client's send (waits for the link)")
  T.eq(c:stats().link_up, 1, "link_up")
  local got = {}
  for _ = 1, 2000 do
    c:kick()
    got = s:rx(8)
    if #got > 0 then break end
    lab.sleep(0.001)
  end
  T.eq(#got, 1, "the server received it")
  T.eq(got[1]:payload(), "hello server", "payload")
  got[1]:release()
  T.eq(s:tx(p), 1, "the server's held packet goes now")
  for _ = 1, 2000 do
    s:kick()
    got = c:rx(8)
    if #got > 0 then break end
    lab.sleep(0.001)
  end
  T.eq(#got, 1, "the client received the packet the server kept")
  got[1]:release()
  c:complete()
  s:complete()
  T.conserved(s, "server")
  T.conserved(c, "client")
  os.remove(dir)
  os.remove(sock)
end

function cases.null_invented()
  local out = prompt({ "open dpdk vdev=net_null0 log=emergency", "region frames=512", "fill 64", "recv 2",
    "show packet 1", "show packet 2 json", "lua print('invented ' .. e:stats().rx_invented)" })
  has(out, "1: 64 bytes invented by net_null (1 segment), not dissected", "recv")
  has(out, "net_null makes up what it receives: a length, and whatever bytes the buffer held - no wire sent them",
    "recv says why")
  has(out, "64 bytes invented by net_null, not dissected: it makes up what it receives", "show packet")
  has(out, '"invented":"net_null"', "show packet json")
  has(out, "invented 2", "e:stats().rx_invented counts them")
  T.check(not out:find("ethernet type 0x0000", 1, true), "not dissected as Ethernet type 0:\n" .. out)
  -- a real wire's packet is still dissected (net_ring)
  out = prompt({ "open dpdk vdev=net_ring0 log=emergency", "region frames=256", "send udp " .. DST .. " hi", "recv",
    "show packet 1" })
  has(out, "  udp   9000 > 9999 len 10", "net_ring's packet is dissected")
  T.check(not out:find("invented", 1, true), "nothing invented on net_ring:\n" .. out)
end

function cases.peer_close_quiet()
  for _, log in ipairs({ "error", "" }) do
    local opt = log ~= "" and (", log = '" .. log .. "'") or ""
    local script = write_tmp(string.format([[
local a = lab.open("dpdk", { vdev = "net_ring0"%s })
local r = a:region { frames = 64, frame_size = 2048 }
local b = lab.open("dpdk", { peer = a })
a:fill(8)
b:fill(8)
a:tx(lab.packet.udp { dst = "198.18.0.2:9", payload = "x", region = r })
a:kick()
assert(#b:rx(8) == 1, "b received")
b:close()
a:close()
local c = lab.open("dpdk", { vdev = "net_ring1" }) -- a second pair, closed by the collector
c:region { frames = 64, frame_size = 2048 }
local d = lab.open("dpdk", { peer = c })
a, b = nil, nil
collectgarbage()
c, d = nil, nil
collectgarbage()
collectgarbage()
print("closed both pairs")
]], opt))
    local p = assert(io.popen(string.format("'%s' '%s' 2>&1", ringlab, script)))
    local out = p:read("a")
    p:close()
    os.remove(script)
    has(out, "closed both pairs", "the script ran (log=" .. log .. ")")
    T.check(not out:find("EAL:", 1, true), "no EAL line (log=" .. log .. "):\n" .. out)
    T.check(not out:find("Cannot find plugged device", 1, true), "no unplug complaint:\n" .. out)
  end
end

function cases.peer_again()
  for round = 1, 3 do
    local a = lab.open("dpdk", { vdev = "net_ring0", log = "emergency", name = "a" .. round })
    local r = a:region { frames = 64, frame_size = 2048 }
    local b = lab.open("dpdk", { peer = a, name = "b" .. round })
    a:fill(8)
    b:fill(8)
    a:tx(lab.packet.udp { dst = "198.18.0.2:9", payload = "round " .. round, region = r })
    a:kick()
    local got = {}
    for _ = 1, 100 do
      got = b:rx(8)
      if #got > 0 then break end
      lab.sleep(0.001)
    end
    T.eq(#got, 1, "round " .. round .. ": b received")
    T.eq(got[1]:payload(), "round " .. round, "round " .. round .. ": the payload")
    got[1]:release()
    T.conserved(a)
    b:close()
    a:close()
  end
  -- the same at the prompt, with close all between
  local line = { "open dpdk vdev=net_ring0 name=a log=emergency", "region", "open dpdk peer=a name=b",
    "use a", "send udp 198.18.0.2:9 hello", "use b", "recv", "close all" }
  local lines = {}
  for _ = 1, 3 do for _, l in ipairs(line) do lines[#lines + 1] = l end end
  local out = prompt(lines)
  T.check(not out:find("no port", 1, true) and not out:find("Invalid argument", 1, true),
    "peer= again at the prompt:\n" .. out)
  local n = select(2, out:gsub("\n1: udp 198%.18%.0%.1:9000 > 198%.18%.0%.2:9 len 47", ""))
  T.eq(n, 3, "b received the packet in each of the 3 rounds:\n" .. out)
end

local f = cases[case] or error("usage: ringlab dpdk_traps.lua RINGLAB ring_loop|fill_size|memif_link|null_invented|peer_close_quiet|peer_again")
f()
print("ok - " .. case)
