-- cmd_send.lua - the seed question at the prompt (ringlab.cmd_send):
--
--   send tcp DST size=64k strategy=sg [mss=N] [count=N] [to=NAME]
--   send udp DST size=64k strategy=sg [mss=N] [count=N] [to=NAME]
--
-- Data larger than one MTU, cut into packets with a strategy, sent for real:
-- TCP with ringlab.tcp (handshake, segments, ACKs, FIN) to the Linux kernel
-- on a wire engine, or to a second engine of the lab (to=NAME: the prompt
-- listens there itself and compares what arrives); UDP with lab.segment
-- (proto "udp"), one datagram per MSS. It ends with the segments and
-- descriptors of the send, its ledger (copied, referenced, headers,
-- touched) and the receiver's check that the bytes arrived intact.
-- cmd_io.lua's `send` hands a line here when it says tcp or size=.

local lab = require "ringlab"
local C = require "ringlab.cmdkit"

local fail, say = C.fail, C.say

local M = {}

local ALL = { "copy", "reuse", "born", "sg", "tso", "extbuf", "gso" }
local KNOWN = {}
for _, s in ipairs(ALL) do KNOWN[s] = true end

-- What each strategy needs of the engine (e:info().caps), and in words.
local NEEDS = {
  born = { "sg", "a header frame chained in front of region data (multi-buffer)" },
  sg = { "sg", "packets over several frames (multi-buffer / MULTI_SEGS)" },
  tso = { "tso", "TSO: the NIC cuts one large TCP packet" },
  extbuf = { "extbuf", "sending app memory outside the region (DPDK's external mbufs)" },
  gso = { "gso", "GSO: the engine cuts one large TCP packet in software (DPDK)" },
}

-- The strategies engine e can do for proto, as it is open.
function M.strategies(e, proto)
  local caps = e:info().caps
  local out = {}
  for _, s in ipairs(ALL) do
    local need = NEEDS[s]
    local tcp_only = s == "tso" or s == "gso"
    if (not need or caps[need[1]]) and not (tcp_only and proto ~= "tcp") then out[#out + 1] = s end
  end
  return out
end

-- "copy", or "sim#1" for an engine opened without name=.
local function engine_name(e)
  return e:info().name
end

-- size=64k, 1m, 65536 -> bytes.
function M.size(s)
  local n, unit = tostring(s):lower():match("^(%d+)([km]?)i?b?$")
  n = n and n:gsub("^0+", "")
  n = n and #n <= 12 and math.tointeger(tonumber(n)) -- 12 digits: n * 1 MiB cannot wrap
  if not n or n <= 0 then
    return nil
  end
  return n * (unit == "k" and 1024 or unit == "m" and 1024 * 1024 or 1)
end

local MAX_SIZE = 16 * 1024 * 1024

-- n bytes, every 16 of them naming their own offset (so a wrong byte says
-- where it belongs).
local function pattern(n)
  local t = {}
  for i = 0, n // 16 - 1 do t[#t + 1] = string.format("%015x\n", i * 16) end
  return table.concat(t) .. string.rep("#", n % 16)
end

-- CRC-32 (the one zlib and Ethernet use), to compare with a peer's.
local crc_table
local function crc32(s, times)
  if not crc_table then
    crc_table = {}
    for i = 0, 255 do
      local c = i
      for _ = 1, 8 do c = (c & 1 ~= 0) and (0xEDB88320 ~ (c >> 1)) or (c >> 1) end
      crc_table[i] = c
    end
  end
  local c = 0xFFFFFFFF
  for _ = 1, times or 1 do
    for i = 1, #s, 4096 do
      local bytes = { s:byte(i, math.min(i + 4095, #s)) }
      for j = 1, #bytes do c = crc_table[(c ~ bytes[j]) & 0xFF] ~ (c >> 8) end
    end
  end
  return c ~ 0xFFFFFFFF
end
M.crc32 = crc32

-- The engine to=NAME names (C.find_engine), or one line naming the open ones.
local function find_engine(name, proto)
  local e = C.find_engine(name)
  if e then return e end
  fail("send %s: to=%s is not an open engine - %s", proto, name, #lab.opened() > 0 and
    ("name one of: " .. C.open_names()) or "open two wired to each other: open sim name=b, open sim peer=b")
end

-- The engine wired to e with peer= at the prompt (either way), if open.
local function wired_peer(e)
  local o = C.opened[e]
  if o and C.is_engine(o.peer) and not o.peer:info().closed then return o.peer end
  for x, ox in pairs(C.opened) do
    if ox.peer == e and not x:info().closed then return x end
  end
end

-- The receiving engine: to=NAME, else the one wired to e (peer=), else
-- none: the kernel behind a wire engine. An engine on no wire needs one.
local function receiver_of(e, o)
  local b = o.to and find_engine(o.to, o.proto) or (not e:info().caps.wire and wired_peer(e))
  if b == e then fail("send %s: to=%s is the current engine - name the other one of the pair", o.proto, o.to) end
  if b and (C.opened[b] or {}).step == "true" then
    fail("send %s: %s moves only when you step it (step=true), so it cannot answer - receive on an "
      .. "engine opened without step=true", o.proto, engine_name(b))
  end
  if not b and not e:info().caps.wire and o.proto == "tcp" then
    local n = engine_name(e)
    fail("send tcp: %s is on no wire, so nothing there listens - open a second engine wired to it "
      .. "(open sim peer=%s), then send from that one with to=%s", n, n, n)
  end
  return b or nil
end

-- The words of a `send tcp|udp DST key=value...` line.
local function parse(args)
  local proto, dst = args[1], args[2]
  if not dst or dst:find("=") then
    fail("send %s: say where to - send %s 198.18.0.2:%s size=64k strategy=sg", proto, proto,
      proto == "tcp" and "8080" or "9999")
  end
  local ip, port = dst:match("^(%d+%.%d+%.%d+%.%d+):?(%d*)$")
  if not ip then
    fail("send %s: '%s' is not an address - say IP:PORT, e.g. 198.18.0.2:%s", proto, dst,
      proto == "tcp" and "8080" or "9999")
  end
  port = math.tointeger(tonumber(port)) or (proto == "tcp" and 8080 or 9999)
  if port < 1 or port > 65535 then fail("send %s: port %d is not 1..65535", proto, port) end
  local o = { proto = proto, ip = ip, port = port, dst = ip .. ":" .. port }
  for i = 3, #args do -- in the order typed: the first bad word is the one reported
    local k, v = args[i]:match("^([%a_]+)=(.+)$")
    if not k then
      fail("send %s: '%s' is not key=value - e.g. send %s %s size=64k strategy=sg", proto, args[i],
        proto, dst)
    end
    if k == "size" then
      o.size = M.size(v)
      if not o.size then
        fail("send %s: size=%s is not a size - say e.g. size=64k, size=1m or size=65536", proto, v)
      end
      if o.size > MAX_SIZE then
        fail("send %s: size=%s is more than the lab sends at once (16m) - say size=16m or less", proto, v)
      end
    elseif k == "strategy" then
      if not KNOWN[v] then
        fail("send %s: strategy=%s is not known - say copy, reuse, born, sg, tso, extbuf or gso "
          .. "(help strategies)", proto, v)
      end
      o.strategy = v
    elseif k == "mss" then
      o.mss = math.tointeger(tonumber(v))
      if not o.mss or o.mss < 64 or o.mss > 9000 then
        fail("send %s: mss=%s is not 64..9000 - e.g. mss=1448 (help mtu)", proto, v)
      end
    elseif k == "count" then
      o.count = math.tointeger(tonumber(v))
      if not o.count or o.count < 1 or o.count > 1000 then
        fail("send %s: count=%s is not 1..1000 - e.g. count=2", proto, v)
      end
    elseif k == "to" then
      o.to = v
    else
      fail("send %s: %s= is not known - it takes size=, strategy=, mss=, count= and to=", proto, k)
    end
  end
  o.size = o.size or 65536
  o.count = o.count or 1
  return o
end

-- Refuse a strategy the engine cannot do, naming what it can.
local function check_strategy(e, o)
  local can = M.strategies(e, o.proto)
  o.strategy = o.strategy or (e:info().caps.sg and "sg" or "copy")
  for _, s in ipairs(can) do
    if s == o.strategy then return end
  end
  local need = NEEDS[o.strategy]
  -- the engine's own words, the parts about what this strategy needs
  local why = {}
  for part in (e:info().caps_why .. "; "):gmatch("(.-); ") do
    if need and part:find(need[1], 1, true) then why[#why + 1] = part end
  end
  why = table.concat(why, "; ")
  local what = need and need[2] or "TCP"
  if (o.strategy == "tso" or o.strategy == "gso") and o.proto ~= "tcp" then
    what = "cutting UDP (tso and gso cut TCP only)"
  end
  -- the engine's words say what it lacks and what to do: they replace ours
  fail("send %s: %s cannot do %s (%s) - it can do: %s", o.proto, engine_name(e), o.strategy,
    why ~= "" and why or ("needs " .. what), table.concat(can, ", "))
end

-- An engine without packet memory gets the prompt's default region (as
-- `region` alone would make), and says so.
local function ensure_region(e, proto)
  if e:info().has_region then return e:region() end
  if e:info().caps.wire then -- its driver may want other frames: the user says
    fail("send %s: %s has no region - make one: %s", proto, engine_name(e),
      C.region_hint(e))
  end
  local r = e:region { frames = 4096, frame_size = 2048, headroom = 256 }
  if e == C.cur then _G.r = r end
  say("%s had no region: made one of 4096 frames x 2048 bytes (headroom 256)", engine_name(e))
  return r
end

-- TCP hands the data to c:send in pieces of at most this, each
-- acknowledged before the next, so that a send larger than the region
-- still goes (the frames of one piece come back before the next is cut).
local CHUNK = 512 * 1024

-- The data, where the strategy needs it: born/sg/tso/gso in the region,
-- extbuf in app memory, copy/reuse a Lua string. Returns a function
-- giving the pieces to send (for a piece size), the words, and a function
-- that frees what was allocated.
local function make_data(e, o, bytes)
  local s = o.strategy
  if s == "born" or s == "sg" or s == "tso" or s == "gso" then
    local r = C.region_of(e, "send " .. o.proto)
    local ok, b = pcall(r.alloc, r, #bytes)
    if not ok then
      -- The data needs its frames in one run, and each segment a header
      -- frame (sg) or the room in front of it (born): offer half of what is
      -- free for data, or a larger region when that is too little.
      local free = e:owners().free
      local fits = math.max(0, free // 2 - 1) * r.frame_size // 1024
      local advice = fits >= 4 and string.format("say size=%dk or less", fits)
        or string.format("make a larger region (region frames=%d)", math.max(256, r.frames * 4))
      fail("send %s: %s keeps the data in the region: %d bytes need %d frames in a row, %d of its %d "
        .. "are free - %s, or use copy (it sends from a string, a piece at a time)", o.proto, s,
        #bytes, (#bytes + r.frame_size - 1) // r.frame_size, free, r.frames, advice)
    end
    b:testdata() -- the same bytes as pattern(), made in place: no copy to count
    return function(chunk)
      if #bytes <= chunk then return { b } end
      local parts = {}
      for off = 0, #bytes - 1, chunk do parts[#parts + 1] = { b, off, math.min(chunk, #bytes - off) } end
      return parts
    end, "born in the region (r:alloc), where it is sent from", function() pcall(b.free, b) end
  elseif s == "extbuf" then
    return function(chunk)
      local parts = {}
      for off = 0, #bytes - 1, chunk do
        local n = math.min(chunk, #bytes - off)
        local m = lab.appmem(n)
        m:write(0, bytes:sub(off + 1, off + n))
        parts[#parts + 1] = m
      end
      return parts
    end, "in app memory outside the region (lab.appmem), attached as is", function() end
  end
  if s == "reuse" then
    return function() return { bytes } end, "a Lua string, staged into frames once; resends rewrite headers",
      function() end
  end
  return function(chunk)
    local parts = {}
    for off = 0, #bytes - 1, chunk do parts[#parts + 1] = bytes:sub(off + 1, off + chunk) end
    return parts
  end, "a Lua string, outside the region (copy copies it into frames)", function() end
end

-- Pieces end on a segment boundary: a whole number of MSS. A piece holds
-- a frame per segment until it is acknowledged (copy: the segment itself;
-- sg, born: its header frame), so it is also kept within the frames the
-- region has free now, less a few for ACKs and the fill ring's turnover:
-- a 64-frame region still sends 64 KiB, in pieces.
local function chunk_for(mss, e)
  local segs = math.max(1, e:owners().free - 8)
  return math.max(mss, math.min(CHUNK // mss, segs) * mss)
end

local function add(total, l)
  for _, k in ipairs({ "copied", "referenced", "headers", "touched" }) do
    total[k] = (total[k] or 0) + (l[k] or 0)
  end
end

local function ledger_line(l)
  return string.format("ledger: copied %d  referenced %d  headers %d  touched %d",
    l.copied or 0, l.referenced or 0, l.headers or 0, l.touched or 0)
end

---------------------------------------------------------------------------
-- TCP

-- An engine on no interface (sim, DPDK's net_ring pairs) has no MAC of its
-- own: a locally administered one from its number, as the simulator's.
local function made_up_mac(e)
  local i = e:info()
  if i.caps.wire then return nil end
  return string.format("02:00:00:00:00:%02x", i.id % 256)
end

local listeners = setmetatable({}, { __mode = "k" }) -- engine -> port -> listener
local receiving = setmetatable({}, { __mode = "k" }) -- listener -> the receiver reading from it

-- The receiver on engine b: a lab TCP listening on o.ip:o.port, and a task
-- that reads one connection to its end, comparing it where it lies with
-- the bytes sent.
local function lab_receiver(tcp, b, o, bytes)
  local st = tcp.stack(b, { ip = o.ip, mac = made_up_mac(b) })
  if st.ip ~= o.ip then
    fail("send tcp: %s's TCP has the address %s, not %s - send to %s:%d", engine_name(b), st.ip, o.ip,
      st.ip, o.port)
  end
  listeners[b] = listeners[b] or {}
  local l = listeners[b][o.port]
  if not l or st.listeners[o.port] ~= l then
    if st.listeners[o.port] then
      fail("send tcp: port %d on %s is taken by a listener of your own - send to another port",
        o.port, engine_name(b))
    end
    l = tcp.listen(b, o.port, {})
    listeners[b][o.port] = l
  end
  l.opts.mss = o.mss
  -- a receiver left from a send that was stopped (Ctrl-C) must not take
  -- this send's connection
  if receiving[l] then receiving[l].cancelled = true end
  local res = { bytes = 0 }
  receiving[l] = res
  local size, total = #bytes, #bytes * o.count
  res.task = tcp.spawn(function()
    -- the connection from our sender's port (res.port, known once its
    -- connect returned); one left from a send that failed is let go
    local s
    repeat
      s = l:accept(15)
      tcp.wait(function() return res.port ~= nil or res.cancelled end, 15, "the sender's port")
      if res.cancelled then -- a newer send's connection: hand it back
        table.insert(l.queue, 1, s)
        return
      end
      if s.rport ~= res.port then
        pcall(s.abort, s)
        s = nil
      end
    until s
    while true do
      local v = s:recv(nil, 15)
      if not v then break end
      local n, at = #v, res.bytes
      if not res.bad and at + n <= total then
        -- the expected bytes of [at, at+n), the data repeated count times
        local i = at % size
        local want = bytes:sub(i + 1, i + n)
        while #want < n do want = want .. bytes:sub(1, n - #want) end
        if not v:equals(want) then
          local got = v:string()
          for k = 1, n do
            if got:byte(k) ~= want:byte(k) then res.bad = at + k - 1 break end
          end
        end
      end
      res.bytes = at + n
      s:release()
    end
    res.segs = s:stats().segs_in
    s:close()
  end)
  return res
end

-- A one-line peer command for the kernel's end.
local function peer_hint(e, o)
  local sink = (lab.lessons_dir or ""):gsub("/lessons/?$", "") .. "/tcp_sink.py"
  local f = io.open(sink, "r")
  if f then f:close() else sink = "scripts/tcp_sink.py" end
  return C.on_peer(string.format("python3 %s %s %d", sink, o.ip, o.port))
end

local function tcp_send(e, o)
  local tcp = require "ringlab.tcp"
  local b = receiver_of(e, o)
  local opened = C.opened[e] or {}
  ensure_region(e, "tcp")
  if b then ensure_region(b, "tcp") end
  local st = tcp.stack(e, { ip = o.ip == "198.18.0.1" and "198.18.0.2" or "198.18.0.1",
    ifname = opened.ifname, host = C.hosts[e], mac = made_up_mac(e) })
  local bytes = pattern(o.size)
  local parts_of, where, free = make_data(e, o, bytes)
  say("send tcp %s: %d bytes%s, strategy %s, from %s", o.dst, o.size,
    o.count > 1 and (" x " .. o.count) or "", o.strategy, engine_name(e))
  say("  the data: %s", where)
  local rx
  if b then
    rx = lab_receiver(tcp, b, o, bytes)
    say("  receiver: %s listens on %s (a lab TCP the prompt runs)", engine_name(b), o.dst)
  else
    say("  receiver: the Linux kernel on the wire (a listener on %s)", o.dst)
  end
  local c
  local ok, err = pcall(function()
    c = tcp.connect(e, o.dst, { mss = o.mss, timeout = 5 })
  end)
  if ok and rx then rx.port = c.lport end
  if not ok then
    err = tostring(err)
    free()
    if err:find("refused", 1, true) then
      fail("send tcp: %s refused the connection (RST): nothing listens there - start a listener: %s",
        o.dst, b and "(the lab's own should have)" or peer_hint(e, o))
    elseif err:find("ARP", 1, true) and not b then -- nobody on the wire has that address
      fail("send tcp: no ARP reply for %s through %s - nothing on this wire has that address "
        .. "(the testbed's peer is 198.18.0.2: ringlab testbed status)", o.ip, engine_name(e))
    elseif err:find("ARP", 1, true) or err:find("timed out", 1, true) then
      fail("send tcp: no answer from %s through %s - %s", o.ip, engine_name(e),
        b and ("is " .. engine_name(b) .. " wired to it? (open sim peer=...)")
        or "is the testbed up and the engine on its interface? (ringlab testbed status)")
    end
    fail("send tcp: %s", err)
  end
  local s = c:stats()
  say("  handshake: %s:%d > %s done, MSS %d, window %d", st.ip, c.lport, o.dst, s.mss, s.snd_wnd)
  local data = parts_of(chunk_for(s.mss, e))
  local total, segs, descs, src = {}, 0, 0, nil
  local cut_later = o.strategy == "gso" or o.strategy == "tso"
  ok, err = pcall(function()
    for i = 1, o.count do
      local ledger, info = {}, { count = 0, descriptors = 0 }
      local before = c:stats().retransmits
      for _, part in ipairs(data) do
        local l, inf
        if o.strategy == "reuse" then
          src = src or c:stage(part)
          l, inf = c:send(nil, { source = src })
        else
          l, inf = c:send(part, { strategy = o.strategy })
        end
        c:flush()
        add(ledger, l)
        info.count, info.descriptors = info.count + inf.count, info.descriptors + inf.descriptors
      end
      add(total, ledger)
      segs, descs = segs + info.count, descs + info.descriptors
      local rt = c:stats().retransmits - before
      say("  %s%d %s in %d descriptors to the NIC, all ACKed%s%s",
        o.count > 1 and string.format("send %d: ", i) or "", info.count, cut_later and "big packets"
        or "segments", info.descriptors,
        rt > 0 and string.format(" (%d retransmitted)", rt) or "",
        o.count > 1 and string.format(" - copied %d", ledger.copied or 0) or "")
    end
    c:close()
  end)
  if not ok then
    if c then pcall(c.abort, c) end
    free()
    err = tostring(err):gsub("\n.*", ""):gsub("^[^%s:]+%.lua:%d+: ", ""):gsub("^segment: ", "")
    if err:find("reset by peer", 1, true) and e:info().kind == "dpdk" then
      local ifname = ((C.opened[e] or {}).vdev or ""):match("iface=([%w_%-%.]+)") or "rl0"
      err = err .. string.format(" - a DPDK net_af_packet port is a tap: the lab's kernel saw the "
        .. "peer's answers too and reset the connection; take the lab's address off its interface: "
        .. "ip -n %s-lab addr flush dev %s", ifname:match("^(.-)0$") or "rl", ifname)
    end
    if o.strategy == "reuse" and err:find("free frames but the region has", 1, true) then
      err = err:gsub(" %- .*$", "") .. " - reuse stages all of it at once: say a smaller size="
    end
    fail("send tcp: %s", err)
  end
  say("  FIN sent and ACKed: our side is closed")
  local verdict
  if rx then
    local done = pcall(tcp.wait, function() return rx.task.done or rx.task.error ~= nil end, 10, "receiver")
    if rx.task.error then
      verdict = "receiver failed: " .. tostring(rx.task.error):gsub("\n.*", "")
    elseif not done then
      verdict = string.format("receiver: only %d of %d bytes arrived (timed out)", rx.bytes, o.size * o.count)
    elseif rx.bad then
      verdict = string.format("receiver: byte %d is WRONG (of %d) - the data did not arrive intact", rx.bad,
        rx.bytes)
    elseif rx.bytes ~= o.size * o.count then
      verdict = string.format("receiver: %d bytes arrived, not %d", rx.bytes, o.size * o.count)
    else
      verdict = string.format("receiver: %d bytes in %d segments arrived intact (%s compared them)",
        rx.bytes, rx.segs or 0, engine_name(b))
    end
  else
    -- The kernel's end: tcp_sink.py answers "<bytes> bytes crc32 <hex>".
    local got = {}
    pcall(function()
      while true do
        local v = c:recv(nil, 2)
        if not v then break end
        got[#got + 1] = v:string()
      end
    end)
    pcall(c.release, c)
    local reply = table.concat(got)
    local n, crc = reply:match("(%d+) bytes crc32 (%x+)")
    local want = string.format("%08x", crc32(bytes, o.count))
    if not n then
      verdict = string.format("receiver: the kernel ACKed all %d bytes; for a byte check run there: %s",
        o.size * o.count, peer_hint(e, o))
    elseif tonumber(n) == o.size * o.count and crc:lower() == want then
      verdict = string.format("receiver: %s bytes arrived intact (the peer's crc32 %s is ours)", n, crc)
    else
      verdict = string.format("receiver: the peer got %s bytes, crc32 %s - we sent %d, crc32 %s: NOT intact",
        n, crc, o.size * o.count, want)
    end
  end
  free()
  if cut_later then
    say("result: %d big packets in %d descriptors, cut %s: %d segments, MSS %d", segs,
      descs, o.strategy == "gso" and "in software" or "by the NIC", ((o.size + s.mss - 1) // s.mss) * o.count,
      s.mss)
  else
    say("result: %d segments in %d descriptors, MSS %d", segs, descs, s.mss)
  end
  say("%s", ledger_line(total))
  say("%s", verdict)
  return { segments = segs, descriptors = descs, ledger = total, verdict = verdict }
end

---------------------------------------------------------------------------
-- UDP: lab.segment cuts the data into datagrams of at most mss bytes.

local function udp_send(e, o)
  local mss = o.mss or 1448
  local b = receiver_of(e, o)
  local r = ensure_region(e, "udp")
  if b then ensure_region(b, "udp") end
  local bytes = pattern(o.size)
  local parts_of, where, free = make_data(e, o, bytes)
  say("send udp %s: %d bytes%s, strategy %s, from %s", o.dst, o.size,
    o.count > 1 and (" x " .. o.count) or "", o.strategy, engine_name(e))
  say("  the data: %s", where)
  -- the receiver's fill ring topped up to 256 frames (a DPDK pair shares
  -- one region: filling it all would leave the sender nothing)
  local function top_up()
    local have = b:owners().fill
    if have < 256 then pcall(b.fill, b, 256 - have) end
  end
  if b then top_up() end
  local drops0 = b and b:stats().drops or 0
  local total, segs, descs, biggest, got, at, bad = {}, 0, 0, 0, 0, 0, nil
  -- What arrives is checked and released at once: on a DPDK pair the
  -- receiver holds the sender's very buffers, which complete only then.
  local function consume()
    if not b then return 0 end
    local pkts = b:rx(256)
    for _, p in ipairs(pkts) do
      local d = p:dissect()
      if d.udp and d.udp.dst_port == o.port then
        local n = d.payload_len
        local i = at % o.size
        if not bad and not p:payload_equals(bytes:sub(i + 1, i + n)) then bad = got + 1 end
        at, got = at + n, got + 1
      end
      p:release()
    end
    top_up()
    return #pkts
  end
  -- segs:send, with the receiver served between the rounds: queue what is
  -- ready, kick, complete, until every segment went and every frame is back.
  local function send_all(sg)
    local idle = lab.now()
    local function busy()
      local w = e:owners()
      return w.tx + w.comp + w.nic > 0
    end
    -- 64 at a time: the receiver's 256 fill frames are not outrun
    local k = 0
    while k < #sg or busy() do
      local q = k < #sg and sg:tx(e, k + 1, 64) or 0
      k = k + q
      local moved = q
      e:kick()
      moved = moved + e:complete() + consume()
      if moved > 0 then
        idle = lab.now()
      elseif lab.now() - idle > 2 then
        error(string.format("the engine made no progress for 2 s with %d of %d datagrams queued "
          .. "(show rings, show owners)", k, #sg), 0)
      end
    end
  end
  local data = parts_of(chunk_for(mss, e))
  local reuse, live -- live: segs over the buffer, freed before it (b:free() waits for them)
  local ok, err = pcall(function()
    for i = 1, o.count do
      local sent, info = {}, { count = 0, descriptors = 0 }
      for _, part in ipairs(data) do
        local sg, before
        if reuse then
          before = reuse:ledger()
          reuse:resend { dst = o.dst }
          sg = reuse
        else
          sg = lab.segment(part, { proto = "udp", mss = mss, strategy = o.strategy, dst = o.dst,
            region = r, engine = e })
          live = sg
          if o.strategy == "reuse" then reuse = sg end
        end
        send_all(sg)
        -- this piece's ledger: the segmentation's, or what the resend added
        local l = sg:ledger()
        if before then
          local d = {}
          for k, v in pairs(l) do if type(v) == "number" then d[k] = v - (before[k] or 0) end end
          l = d
        end
        add(sent, l)
        local inf = sg:info()
        info.count, info.descriptors = info.count + inf.count, info.descriptors + inf.descriptors
        for _, x in ipairs(sg:segments()) do biggest = math.max(biggest, x.len) end
        if not reuse then sg:free() end
      end
      add(total, sent)
      segs, descs = segs + info.count, descs + info.descriptors
      say("  %s%d datagrams of at most %d bytes of payload in %d descriptors",
        o.count > 1 and string.format("send %d: ", i) or "", info.count, mss, info.descriptors)
    end
    if reuse then reuse:free() end
  end)
  if live then pcall(live.free, live) end -- a send that failed half way
  free()
  if not ok then
    fail("send udp: %s", (tostring(err):gsub("\n.*", ""):gsub("^[^%s:]+%.lua:%d+: ", ""):gsub("^segment: ", "")))
  end
  local verdict
  if b then
    local deadline = lab.now() + 2
    while got < segs and lab.now() < deadline do
      if consume() == 0 then lab.sleep(0.001) end
    end
    local dropped = b:stats().drops - drops0
    if dropped > 0 then
      verdict = string.format("receiver: %s dropped %d datagrams (its fill ring ran empty) and got %d "
        .. "- UDP does not resend", engine_name(b), dropped, got)
    elseif bad then
      verdict = string.format("receiver: datagram %d is WRONG - the data did not arrive intact", bad)
    elseif got ~= segs or at ~= o.size * o.count then
      verdict = string.format("receiver: %s got %d of %d datagrams (%d bytes) - UDP does not resend",
        engine_name(b), got, segs, at)
    else
      verdict = string.format("receiver: %d datagrams, %d bytes arrived intact (%s compared them)",
        got, at, engine_name(b))
    end
  else
    verdict = "receiver: not checked (UDP has no ACKs) - to=NAME names a lab engine to check"
  end
  say("result: %d datagrams in %d descriptors, the largest %d bytes of payload", segs, descs, biggest)
  say("%s", ledger_line(total))
  say("%s", verdict)
  return { segments = segs, descriptors = descs, ledger = total, verdict = verdict, largest = biggest }
end

-- Tab after `send`: what to send, where to, then key= words, the
-- strategies this engine can do after strategy=, engine names after to=.
function M.complete(words, text)
  local function starting(list)
    local out = {}
    for _, w in ipairs(list) do if w:sub(1, #text) == text then out[#out + 1] = w end end
    table.sort(out)
    return out
  end
  if #words <= 1 then return starting({ "tcp", "udp", "icmp", "arp" }) end
  local proto = words[2]
  if proto ~= "tcp" and proto ~= "udp" then return {} end
  if #words == 2 then return starting({ proto == "tcp" and "198.18.0.2:8080" or "198.18.0.2:9999" }) end
  -- readline breaks words at "=": after "strategy=" the text is what follows
  local key = words[#words]:match("^([%a_]+)=$")
  if key then text = key .. "=" .. text end
  local list = {}
  if text:match("^strategy=") then
    local ok, can = pcall(function() return M.strategies(C.current(), proto) end)
    for _, s in ipairs(ok and can or ALL) do list[#list + 1] = "strategy=" .. s end
  elseif text:match("^to=") then
    for _, e in ipairs(lab.opened()) do
      if e ~= C.cur then list[#list + 1] = "to=" .. engine_name(e) end
    end
  elseif text:match("^size=") then
    list = { "size=64k", "size=1m", "size=65536" }
  else
    list = { "size=", "strategy=", "mss=", "count=", "to=" }
  end
  local out = starting(list)
  if key then
    for i, w in ipairs(out) do out[i] = w:sub(#key + 2) end
  end
  return out
end

function M.run(args)
  local e = C.current()
  local o = parse(args)
  if (C.opened[e] or {}).step == "true" then
    fail("send %s: %s moves only when you step it (step=true) - open one without: open sim", o.proto,
      engine_name(e))
  end
  check_strategy(e, o)
  if o.proto == "tcp" then return tcp_send(e, o) end
  return udp_send(e, o)
end

return M
