-- cmd_io.lua - the prompt commands that move packets: fill, send, recv, release, kick,
-- complete, step, and the host (host, serve) that answers ARP and ping
-- between prompts (ringlab.cmd_io).

local lab = require "ringlab"
local C = require "ringlab.cmdkit"

local fail, def, say, current = C.fail, C.def, C.say, C.current
local number, keyvalues, region_of, is_engine = C.number, C.keyvalues, C.region_of, C.is_engine

-- queue=K (or queue=all) among a command's words: taken out of args (and
-- of rest, the line after the command); nil when there is none.
local function queue_word(what, args)
  for i = #args, 1, -1 do
    local v = args[i]:match("^queue=(.*)$")
    if v then
      table.remove(args, i)
      if v == "all" then return "all" end
      local k = tonumber(v)
      if not k or k < 0 or k ~= math.floor(k) then
        fail("%s: queue=%s is not a queue - give its number, e.g. queue=1, or queue=all", what, v)
      end
      return math.floor(k)
    end
  end
  return nil
end

-- Run fn with queue q selected on e (nil: as it is), then select back.
local function on_queue(e, q, fn)
  if q == nil then return fn() end
  local was = e:queue(q)
  local ok, err = pcall(fn)
  pcall(e.queue, e, was)
  if not ok then error(err, 0) end
  return err
end
C.queue_word, C.on_queue = queue_word, on_queue

-- "fill0 512 of 2048, fill1 512 of 2048": the fill rings of an engine on
-- several queues, or nil.
local function queue_fills(rings)
  local parts = {}
  for k = 0, 15 do
    local f = rings["fill" .. k]
    if f then parts[#parts + 1] = string.format("fill%d %d of %d", k, f.pending, f.size) end
  end
  return #parts > 0 and table.concat(parts, ", ") or nil
end

def("fill", "fill [N] [queue=K]", "offer N free frames to the NIC for receiving (default: as many as fit); "
  .. "on an engine with several queues, queue=K offers them to queue K only (default: spread)",
  function(args)
    local e = current()
    local q = queue_word("fill", args)
    local n = on_queue(e, q, function() return e:fill(number("fill", args[1])) end)
    local rings = e:rings()
    local f, pool, rxq = rings.fill, rings.mempool, rings.rxq0
    if queue_fills(rings) then
      say("offered %d frames to the NIC (%s)", n, queue_fills(rings))
    elseif f then
      say("offered %d frames to the NIC (fill ring %d of %d)", n, f.pending, f.size)
    elseif pool then -- dpdk: no fill ring; the PMD takes receive mbufs from the mempool
      say("offered %d frames: dpdk's fill puts them in the mempool (%d wait there) for the PMD's %s to take",
        n, pool.pending, rxq and (rxq.size .. " RX descriptors") or "RX queue")
    else
      say("offered %d frames to the NIC", n)
    end
  end)

local builders = { udp = true, icmp = true, arp = true }

-- send tcp ..., send udp DST size=...: data larger than one MTU, cut by a
-- strategy (cmd_send.lua); otherwise one small packet.
local function cut_by_strategy(args)
  if args[1] == "tcp" then return true end
  for i = 3, #args do
    if args[i]:match("^size=") or args[i]:match("^strategy=") then return true end
  end
  return false
end

def("send", "send udp|icmp|arp DST [PAYLOAD...] [count=N] | send tcp|udp DST size=N [strategy=S] [mss=N] [count=N] [to=NAME]",
  "build a packet in the region, queue it on tx and kick the NIC; with size= (64k, 1m) cut that many bytes "
  .. "into packets and send them (tcp: a real connection) - strategy=copy|reuse|born|sg|tso|extbuf|gso "
  .. "(help strategies), mss=1448, count=N, to=NAME (a lab engine that receives and checks), "
  .. "queue=K (an engine on several queues: send on queue K; default: spread)",
  function(args, rest)
    local q = queue_word("send", args)
    if q ~= nil then
      rest = rest:gsub("%s*queue=%S*", "")
      local e = current()
      return on_queue(e, q, function()
        if cut_by_strategy(args) then return require("ringlab.cmd_send").run(args) end
        return C.byname.send.fn(args, rest)
      end)
    end
    if cut_by_strategy(args) then return require("ringlab.cmd_send").run(args) end
    local e = current()
    local proto, dst = args[1], args[2]
    if not builders[proto or ""] then
      fail("send: say what to send - send udp 198.18.0.2:9999 hello, or send tcp 198.18.0.2:8080 size=64k")
    end
    if not dst then fail("send: say where to - send %s 198.18.0.2%s", proto, proto == "udp" and ":9999" or "") end
    if proto == "udp" and not dst:find(":") then dst = dst .. ":9999" end
    -- count=N (as in the size= form, Scapy's count=): N packets the same;
    -- the word is an option, not part of the payload.
    local count = 1
    for i = #args, 3, -1 do
      local v = args[i]:match("^count=(.*)$")
      if v then
        count = math.tointeger(tonumber(v))
        if not count or count < 1 or count > 1000 then
          fail("send %s: count=%s is not 1..1000 - e.g. count=3", proto, v)
        end
        rest = rest:gsub("%s*count=%S*", "")
        break
      end
    end
    local payload = rest:match("^%s*%S+%s+%S+%s+(.-)%s*$")
    if proto == "udp" and (payload == nil or payload == "") then payload = "hello from ringlab" end
    local spec = { dst = dst, region = region_of(e, "send " .. proto) }
    if proto ~= "arp" then spec.payload = payload end
    local line
    for _ = 1, count do
      local p = lab.packet[proto](spec)
      line = tostring(p)
      e:tx(p)
      e:kick()
    end
    local step = C.opened[e] and C.opened[e].step == "true"
    say("sent %s%s%s", count > 1 and count .. " x " or "", line, step and " - the NIC moves on: step" or "")
  end)

-- The driver whose received packets are made up, not sent by anyone
-- (dpdk's net_null: e:stats().rx_invented), or nil.
function C.invented(e)
  local ok, st = pcall(e.stats, e)
  if not ok or st.rx_invented == nil then return nil end
  return (st.mode_why or ""):match("^(net_%w+)") or "the driver"
end

def("recv", "recv [MAX] [queue=K]", "receive packets from the rx ring (kept in `last`; see one with show packet N); "
  .. "on an engine with several queues, queue=K reads queue K's rx ring only (default: every queue in turn)",
  function(args)
    local e = current()
    local h = C.hosts[e]
    local q = queue_word("recv", args)
    local pkts = h and h:take(number("recv", args[1], 64))
      or on_queue(e, q, function() return e:rx(number("recv", args[1], 64)) end)
    _G.last = pkts
    C.last_from = { pkts = pkts, e = e } -- show packet N: which engine received them
    if #pkts == 0 then
      if e:netmap() then -- netmap: no fill ring, the rx slots are always armed
        say("nothing received - no packet between head and tail (send to this port first; in step mode, step)")
        return
      end
      say("nothing received - the rx ring is empty (give the NIC frames with fill; in step mode, step first)")
      return
    end
    local inventor = C.invented(e)
    if inventor then -- net_null: nothing to dissect
      for i, p in ipairs(pkts) do
        local n = #p:segments()
        say("%d: %d bytes invented by %s (%d segment%s), not dissected", i, p:len(), inventor,
          n, n == 1 and "" or "s")
      end
      say("%s makes up what it receives: a length, and whatever bytes the buffer held - no wire sent them",
        inventor)
      say("%d packet%s in `last`; they hold their frames until: release", #pkts, #pkts == 1 and "" or "s")
      return
    end
    for i, p in ipairs(pkts) do
      local d = p:dissect()
      local ok = true
      for _, l in ipairs({ d.ip, d.udp, d.icmp }) do if l and l.csum_ok == false then ok = false end end
      say("%d: %s, payload %d bytes, checksums %s%s", i, d.summary, d.payload_len, ok and "ok" or "BAD",
        d.problem and (" - " .. d.problem) or "")
    end
    say("%d packet%s in `last`; they hold their frames until: release", #pkts, #pkts == 1 and "" or "s")
  end)

def("release", "release", "give the frames of the packets in `last` back to the pool",
  function()
    local n = 0
    for _, p in ipairs(_G.last or {}) do
      if p:state() == "held" then p:release(); n = n + 1 end
    end
    _G.last = {}
    say("released %d packet%s", n, n == 1 and "" or "s")
  end)

def("kick", "kick [queue=K]", "wake the NIC: it transmits the tx ring and posts completions (queue=K: that queue's only)",
  function(args)
    local e = current()
    local q = queue_word("kick", args)
    on_queue(e, q, function() e:kick() end)
    if e:netmap() then return say("kicked: netmap's kick is txsync (tail %d)", e:netmap().tx.tail) end
    say("kicked")
  end)

def("complete", "complete [MAX] [queue=K]", "take sent frames back from the completion ring (queue=K: that queue's only)",
  function(args)
    local e = current()
    local q = queue_word("complete", args)
    local n = on_queue(e, q, function() return e:complete(number("complete", args[1])) end)
    if e:netmap() then -- no completion ring: tail moves over the slots sent
      return say("tail moved over %d sent tx slot%s (netmap has no completion ring: txsync does this)", n,
        n == 1 and "" or "s")
    end
    say("took back %d frame%s from the completion ring%s", n, n == 1 and "" or "s",
      q ~= nil and q ~= "all" and (" of queue " .. q) or "")
  end)

def("queue", "queue [K|all]", "an engine on several queues (open afxdp queues=2, open dpdk ... queues=2): "
  .. "choose the queue fill, send, recv, kick and complete act on (all: spread), and see each queue's packets",
  function(args)
    local e = current()
    if args[1] then
      local q = queue_word("queue", { "queue=" .. args[1] })
      e:queue(q)
    end
    local qs, sel = e:queues()
    if #qs == 1 and not args[1] then
      say("this engine has one queue (%d): open afxdp queues=2 (on a testbed made with queues=2) for more", qs[1].queue)
    end
    for _, x in ipairs(qs) do
      say("queue %d: rx %d packets, tx %d packets%s", x.queue, x.rx_pkts, x.tx_pkts,
        (sel == x.queue or (sel == "all" and #qs == 1)) and "  <- selected" or "")
    end
    if #qs > 1 then
      say(sel == "all" and "selected: all - fill and send spread over the queues, recv/kick/complete visit each"
        or ("selected: queue " .. sel .. " - fill, send, recv, kick and complete act on it (queue all: spread)"))
    end
  end)

def("workers", "workers [rxdrop|txonly|fwd] [queues=N|0,1] [seconds=S] [packets=N]",
  "a C loop per queue, each on its own core (dpdk: queue k on lcore k), for S seconds (1): "
  .. "rxdrop receives and drops, txonly sends 64-byte UDP frames, fwd sends back what came",
  function(args)
    local e = current()
    local opts = { loop = "rxdrop" }
    local kv = {}
    for _, w in ipairs(args) do
      local k, v = w:match("^([%a_]+)=(.*)$")
      if k then kv[k] = v
      elseif w == "rxdrop" or w == "txonly" or w == "fwd" then opts.loop = w
      else fail("workers: '%s' - give rxdrop, txonly or fwd, then queues=, seconds= or packets=", w) end
    end
    for k, v in pairs(kv) do
      if k == "queues" then
        if v:find(",") then
          local list = {}
          for q in v:gmatch("[^,]+") do
            local n = tonumber(q)
            if not n then fail("workers: queues=%s - give a count (queues=2) or a list (queues=0,1)", v) end
            list[#list + 1] = n
          end
          opts.queues = list
        else
          opts.queues = tonumber(v) or fail("workers: queues=%s - give a count (queues=2) or a list (queues=0,1)", v)
        end
      elseif k == "seconds" or k == "packets" then
        opts[k] = tonumber(v) or fail("workers: %s=%s is not a number", k, v)
      else
        fail("workers: %s= is not an option - give queues=, seconds= or packets=", k)
      end
    end
    if e.workers and not e:info().has_region then
      fail("workers: %s has no region yet - make one: %s", e:info().name, C.region_hint(e))
    end
    local r = e:workers(opts)
    say("%d worker%s, %s, %.2f s:", #r.workers, #r.workers == 1 and "" or "s", r.loop, r.seconds)
    for _, w in ipairs(r.workers) do
      say("  queue %d on lcore %d: %d packets, %.2f Mpps", w.queue, w.lcore, w.packets, w.mpps)
    end
    say("  total: %d packets, %.2f Mpps (%d bytes)", r.packets, r.mpps, r.bytes)
    local o = e:owners() -- checks every frame's owner against the counts
    local sum = o.app + o.fill + o.nic + o.rx + o.tx + o.comp
    say("owners after the join: app %d, fill %d (offered), nic %d (in the port) - %s",
      o.app, o.fill, o.nic, sum == o.frames and ("sum " .. sum .. " = frames")
        or ("sum " .. sum .. " of " .. o.frames .. " frames: a bug, report it"))
  end)

def("step", "step [N]", "let the NIC do one hardware action (or N), and say what moved",
  function(args)
    local e = current()
    for i = 1, number("step", args[1], 1) do
      local s = e:step()
      say("%s", s.what)
      if s.kind == "idle" then break end
    end
  end)


-- A host (ringlab.host) per engine: `host up` makes one that answers ARP
-- and pings between prompts (C.idle); `recv` then reads what it did not
-- answer from its inbox.
local function host_of(e, what)
  local h = C.hosts[e]
  if not h then fail("%s: no host runs on this engine - start one: host up ip=198.18.0.1", what) end
  return h
end

C.host_of = host_of

local function host_up(e, kv)
  if C.hosts[e] then return C.hosts[e] end
  local opened = C.opened[e] or {}
  if opened.steer and opened.steer ~= "all" then
    say("note: this engine was opened with steer=%s, so ARP and pings reach the kernel, not the host", opened.steer)
  end
  local ifname, mac = kv.ifname or opened.ifname, kv.mac
  -- an engine on no wire has no interface to take a MAC from: a made-up
  -- one, as its packets have (02:00:00:00:00:ID)
  if not mac and not ifname and not e:info().caps.wire then
    mac = string.format("02:00:00:00:00:%02x", e:info().id % 256)
  end
  local h = require("ringlab.host").new(e, { ip = kv.ip, mac = mac, ifname = ifname })
  C.hosts[e] = h
  if not _G.r then _G.r = e:region() end
  return h
end

-- testbed at the prompt: the same namespaces `ringlab testbed` makes from
-- a shell. This ringlab stays in the namespace it runs in (it cannot move
-- itself once engines or DPDK's threads run), so the line after `up` says
-- what works from here and how to start one inside the lab side.
def("testbed", "testbed up|down|status [name=rl] [queues=N] [mtu=N] [neigh=false]",
  "the wire AF_XDP and DPDK talk to (root): namespaces NAME-lab and NAME-peer joined by a veth "
  .. "(help wire); kernel send and lesson 12 use it from here, open afxdp needs a ringlab "
  .. "started inside it: ringlab --netns NAME-lab. down force=true removes it while "
  .. "processes still run inside",
  function(args)
    local sub = args[1] or "status"
    if sub ~= "up" and sub ~= "down" and sub ~= "status" then
      fail("testbed: '%s'? - say testbed up, testbed down or testbed status", sub)
    end
    local opts = keyvalues("testbed " .. sub, args, 2)
    for k in pairs(opts) do
      if k ~= "name" and k ~= "queues" and k ~= "mtu" and k ~= "neigh" and k ~= "force" then
        fail("testbed %s: %s= is not known - it takes name=, queues=, mtu=, neigh= and force=", sub, k)
      end
    end
    opts.force = opts.force == "true" or opts.force == "1"
    local tb = require "ringlab.testbed"
    local st = tb[sub](opts)
    for line in tb.describe(st):gmatch("[^\n]+") do say("%s", line) end
    if sub == "up" and lab.netns ~= st.lab then
      say("  this ringlab runs outside it: kernel send and lesson 12 use it from here; "
        .. "for open afxdp ifname=%s quit (Ctrl-D) and start: ringlab --netns %s", st.lab_if, st.lab)
    end
  end)

def("host", "host up|down|status [ip=198.18.0.1] [mac=..]", "a minimal IPv4 host on the current engine: answers ARP and ping (between prompts), learns ARP; try ping from the peer",
  function(args)
    local e = current()
    local sub = args[1] or "status"
    if sub == "up" then
      local h = host_up(e, keyvalues("host", args, 2))
      say("%s is up: it answers ARP for its address and pings while the prompt waits "
        .. "(%s); see: show arp", h.ip, e:info().caps.wire and ("try: " .. C.on_peer("ping " .. h.ip))
        or "from an engine wired to it: send icmp " .. h.ip)
    elseif sub == "down" then
      local h = host_of(e, "host down")
      h:stop()
      C.hosts[e] = nil
      say("host %s stopped: nobody answers ARP or ping now", h.ip)
    elseif sub == "status" then
      local h = host_of(e, "host")
      say("%s%s", tostring(h), h.error and (" - stopped by an error: " .. h.error) or "")
    else
      fail("host: say up, down or status - host up ip=198.18.0.1")
    end
  end)

def("serve", "serve ping [SECONDS]", "answer ARP and ping for SECONDS (default 10), printing every packet answered with the rings after it",
  function(args)
    local e = current()
    if args[1] ~= "ping" then fail("serve: say what to serve - serve ping 10") end
    local h = host_up(e, {})
    local secs = number("serve ping", args[2], 10)
    local log = h.log
    h.log = function(line)
      local rg = e:rings()
      local function idx(n) local x = rg[n] return x and string.format("%s %d/%d", n, x.prod, x.cons) or "" end
      say("%s\n    rings (prod/cons): %s  %s  %s  %s", line, idx("fill"), idx("rx"), idx("tx"), idx("comp"))
    end
    say("answering ARP and ping for %s for %d s (Ctrl-C stops)%s", h.ip, secs,
      e:info().caps.wire and "" or " - on no wire, only what the lab sends it arrives: send icmp "
        .. h.ip .. " from an engine wired to it first")
    local ok, err = pcall(h.serve, h, secs)
    h.log = log
    if not ok then error(err, 0) end
    say("%s", tostring(h))
  end)

function C.idle()
  for e, h in pairs(C.hosts) do
    if e:info().closed then
      C.hosts[e] = nil
    elseif not h.error then
      local ok, err = pcall(h.poll, h)
      if not ok then h.error = tostring(err) end
    end
  end
end
return true
