-- commands.lua - the prompt's commands (ringlab.commands).
--
-- Every command is a small Lua function over the same API scripts use:
-- `fill 64` is cur:fill(64), `send udp ...` is lab.packet.udp{} + cur:tx()
-- + cur:kick(). The current engine is C.cur (also the globals `cur` and
-- `e`; its region is `r`; the packets of the last `recv` are `last`).
-- A command raises error("what - what to do", 0); the REPL prints it as
-- "error: ..." and carries on.

local lab = require "ringlab"
local json = require "ringlab.json"
local views = require "ringlab.views"

local C = { list = {}, byname = {}, opened = {}, hosts = {} }

local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

local function def(name, usage, line, fn)
  local c = { name = name, usage = usage, line = line, fn = fn }
  C.list[#C.list + 1] = c
  C.byname[name] = c
end

function C.is_command(word)
  return C.byname[word] ~= nil
end

local function current()
  if not C.cur then fail("no engine is open - open one first: open sim") end
  return C.cur
end

local function region_of(e, what)
  if not e:info().has_region then
    fail("%s: this engine has no region yet - make one first: region frames=4096 size=2048", what)
  end
  return e:region()
end

local function number(what, s, default)
  if s == nil then return default end
  local n = math.tointeger(tonumber(s))
  if not n then fail("%s: '%s' is not a whole number - e.g. %s 64", what, s, what) end
  return n
end

-- key=value words from args[first..]; values stay strings.
local function keyvalues(what, args, first)
  local kv = {}
  for i = first, #args do
    local k, v = args[i]:match("^([%a_][%w_]*)=(.*)$")
    if not k then fail("%s: '%s' is not key=value - e.g. %s mode=copy", what, args[i], what) end
    kv[k] = v
  end
  return kv
end

local function is_engine(v)
  local mt = getmetatable(v)
  return type(v) == "userdata" and type(mt) == "table" and mt.__name == "ringlab.engine"
end

local function say(fmt, ...) print(string.format(fmt, ...)) end

---------------------------------------------------------------------------

def("help", "help [topic]", "list the commands, or explain one (topics: rings owners ledger step modes lua)",
  function(args) print(C.help(args[1])) end)

def("engines", "engines", "list the engines this ringlab can load, and why one cannot open here",
  function()
    for _, en in ipairs(lab.engines()) do
      say("%-8s %-13s %s", en.name, en.available and "available" or "not here", en.summary)
      if not en.available then say("%-8s %-13s why: %s", "", "", en.why) end
      if en.path ~= "built in" then say("%-8s %-13s from %s", "", "", en.path) end
    end
  end)

def("open", "open ENGINE [key=value...]", "open an engine (sim, afxdp, dpdk) and make it current, e.g. open sim step=true",
  function(args)
    local name = args[1] or fail("open: which engine? - e.g. open sim (list them with: engines)")
    local opts = keyvalues("open", args, 2)
    if opts.peer then
      local peer = _G[opts.peer]
      if not is_engine(peer) then
        fail("open: peer=%s is not an engine - open one and name its variable: a = lab.open(\"sim\") then open sim peer=a",
          opts.peer)
      end
      opts.peer = peer
    end
    local e = lab.open(name, opts)
    C.cur, _G.cur, _G.e, _G.r = e, e, e, nil
    C.opened[e] = opts
    say("%s is now the current engine (cur, e) - next: region frames=4096 size=2048", tostring(e))
  end)

def("region", "region [frames=N] [size=N] [headroom=N]", "make the current engine's packet memory (default 4096 frames of 2048 bytes, headroom 256)",
  function(args)
    local e = current()
    local kv = keyvalues("region", args, 1)
    local p = {}
    for k, v in pairs(kv) do
      if k == "size" then k = "frame_size" end
      p[k] = number("region", v)
    end
    _G.r = e:region(p)
    say("%s - next: fill 64, then send udp 198.18.0.2:9999", tostring(_G.r))
  end)

def("fill", "fill [N]", "offer N free frames to the NIC for receiving (default: as many as fit)",
  function(args)
    local e = current()
    local n = e:fill(number("fill", args[1]))
    local f = e:rings().fill
    say("offered %d frames to the NIC (fill ring %d of %d)", n, f and f.pending or n, f and f.size or 0)
  end)

local builders = { udp = true, icmp = true, arp = true }

def("send", "send udp|icmp|arp DST [PAYLOAD...]", "build a packet in the region, queue it on tx and kick the NIC",
  function(args, rest)
    local e = current()
    local proto, dst = args[1], args[2]
    if not builders[proto or ""] then fail("send: say what to send - send udp 198.18.0.2:9999 hello") end
    if not dst then fail("send: say where to - send %s 198.18.0.2%s", proto, proto == "udp" and ":9999" or "") end
    if proto == "udp" and not dst:find(":") then dst = dst .. ":9999" end
    local payload = rest:match("^%s*%S+%s+%S+%s+(.-)%s*$")
    if proto == "udp" and (payload == nil or payload == "") then payload = "hello from ringlab" end
    local spec = { dst = dst, region = region_of(e, "send") }
    if proto ~= "arp" then spec.payload = payload end
    local p = lab.packet[proto](spec)
    local line = tostring(p)
    e:tx(p)
    e:kick()
    local step = C.opened[e] and C.opened[e].step == "true"
    say("sent %s%s", line, step and " - the NIC moves on: step" or "")
  end)

def("recv", "recv [MAX]", "receive packets from the rx ring (kept in `last`; see one with show packet N)",
  function(args)
    local e = current()
    local h = C.hosts[e]
    local pkts = h and h:take(number("recv", args[1], 64)) or e:rx(number("recv", args[1], 64))
    _G.last = pkts
    if #pkts == 0 then
      say("nothing received - the rx ring is empty (give the NIC frames with fill; in step mode, step first)")
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

def("kick", "kick", "wake the NIC: it transmits the tx ring and posts completions",
  function() current():kick(); say("kicked") end)

def("complete", "complete [MAX]", "take sent frames back from the completion ring",
  function(args)
    local n = current():complete(number("complete", args[1]))
    say("took back %d frame%s from the completion ring", n, n == 1 and "" or "s")
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

local function host_up(e, kv)
  if C.hosts[e] then return C.hosts[e] end
  local opened = C.opened[e] or {}
  if opened.steer and opened.steer ~= "all" then
    say("note: this engine was opened with steer=%s, so ARP and pings reach the kernel, not the host", opened.steer)
  end
  local h = require("ringlab.host").new(e, { ip = kv.ip, mac = kv.mac,
    ifname = kv.ifname or opened.ifname })
  C.hosts[e] = h
  if not _G.r then _G.r = e:region() end
  return h
end

def("host", "host up|down|status [ip=198.18.0.1] [mac=..]", "a minimal IPv4 host on the current engine: answers ARP and ping (between prompts), learns ARP; try ping from the peer",
  function(args)
    local e = current()
    local sub = args[1] or "status"
    if sub == "up" then
      local h = host_up(e, keyvalues("host", args, 2))
      say("%s is up: it answers ARP for its address and pings while the prompt waits "
        .. "(peer: ip netns exec rl-peer ping 198.18.0.1); see: show arp", h.ip)
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
    local secs = number("serve", args[2], 10)
    local log = h.log
    h.log = function(line)
      local rg = e:rings()
      local function idx(n) local x = rg[n] return x and string.format("%s %d/%d", n, x.prod, x.cons) or "" end
      say("%s\n    rings (prod/cons): %s  %s  %s  %s", line, idx("fill"), idx("rx"), idx("tx"), idx("comp"))
    end
    say("answering ARP and ping for %s for %d s (Ctrl-C stops)", h.ip, secs)
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

local shows = {}

function shows.rings(e) local t = e:rings(); return t, views.rings(t) end
function shows.owners(e)
  local o, map = e:owners(), e:owner_map()
  local j = {}
  for k, v in pairs(o) do j[k] = v end
  j.map = map
  return j, views.owners(o, map)
end
function shows.stats(e) local t = e:stats(); return t, views.stats(t) end
function shows.ledger(e)
  local st = e:stats()
  return st.ledger, views.ledger(st.ledger, st.tx_pkts + st.rx_pkts)
end
function shows.arp(e)
  local t = host_of(e, "show arp"):arp_table()
  local lines, ips = { "neighbours the host learned from ARP (ip, mac, seconds since seen):" }, {}
  for ip in pairs(t) do ips[#ips + 1] = ip end
  table.sort(ips)
  for _, ip in ipairs(ips) do
    lines[#lines + 1] = string.format("  %-15s %s  %.1f s", ip, t[ip].mac, t[ip].age)
  end
  if #ips == 0 then lines[#lines + 1] = "  (none yet - the peer pings, or h:resolve(\"198.18.0.2\"))" end
  return t, table.concat(lines, "\n")
end
function shows.tcp(_)
  local tcp = package.loaded["ringlab.tcp"]
  if not tcp then return {}, "no TCP yet - lab.tcp.connect(e, \"198.18.0.2:8080\") or lab.tcp.listen(e, 8080)" end
  local rows = {}
  for _, c in ipairs(tcp.connections()) do rows[#rows + 1] = c:stats() end
  return rows, tcp.show()
end
local CAP_MEANING = {
  { "zerocopy", "packets move without a copy (as it is bound now)" },
  { "sg", "a packet over several frames (scatter-gather)" },
  { "extbuf", "sends app memory outside the region (strategy extbuf)" },
  { "gso", "cuts one large TCP packet in software (strategy gso)" },
  { "tso", "cuts one large TCP packet in the NIC (strategy tso)" },
  { "gro", "merges received TCP segments (e:rx(max, {gro=true}))" },
  { "step", "one hardware action at a time (step)" },
  { "peer", "two engines wired back to back (peer=)" },
  { "wire", "a real interface: needs root and a testbed" },
}
function shows.caps(e)
  local i = e:info()
  local lines = { string.format("what %s can do as it is open:", tostring(e)) }
  for _, c in ipairs(CAP_MEANING) do
    lines[#lines + 1] = string.format("  %-8s %-3s  %s", c[1], i.caps[c[1]] and "yes" or "no", c[2])
  end
  if i.caps_why ~= "" then lines[#lines + 1] = "why not: " .. i.caps_why end
  return { caps = i.caps, why = i.caps_why }, table.concat(lines, "\n")
end
function shows.packet(_, n)
  local last = _G.last or {}
  local i = number("show packet", n)
  if not i then fail("show packet: which one? - show packet 1 (packets from the last recv)") end
  local p = last[i]
  if not p then fail("show packet: there is no packet %d - the last recv kept %d", i, #last) end
  local d, segs = p:dissect(), p:segments()
  return { dissect = d, segments = segs }, views.packet(d, segs)
end

def("show", "show rings|owners|stats|ledger|caps|arp|tcp|packet N [json]", "draw the rings, the owner of every frame, counters, the ledger, what the engine can do, the host's ARP table, TCP connections or a packet",
  function(args)
    local topic = args[1]
    if not shows[topic or ""] then fail("show: show what? - show rings, owners, stats, ledger, caps, arp, tcp or packet N") end
    local as_json = args[#args] == "json"
    local data, text = shows[topic](current(), args[2] ~= "json" and args[2] or nil)
    print(as_json and json.encode(data) or text)
  end)

def("quit", "quit", "leave ringlab (also exit, or Ctrl-D)", function() return "quit" end)
def("exit", "exit", "leave ringlab", function() return "quit" end)
def("lua", "lua CODE", "run CODE as Lua even if it starts like a command", function() end)

---------------------------------------------------------------------------

C.topics = {
  rings = [[
rings: how the program and the NIC talk. Each ring has a producer index
(prod) and a consumer index (cons); prod - cons entries are pending.
  fill  program -> NIC: empty frames to receive into      (fill N)
  rx    NIC -> program: frames that now hold a packet      (recv)
  tx    program -> NIC: frames to send                     (send)
  comp  NIC -> program: sent frames, free to reuse         (complete)
need_wakeup means the NIC sleeps until the program kicks it. Try: show rings]],
  owners = [[
owners: every frame of the region has exactly one owner at any moment:
A held by the program, . free in the pool, F on the fill ring, N inside
the NIC, R on the rx ring, T on the tx ring, C on the completion ring.
Frames only change owner, they are never lost: the counts always sum to
the number of frames (the conservation invariant). Try: show owners]],
  ledger = [[
ledger: every byte that moves is counted once:
  copied      memcpy by the lab or a script (a string payload, pkt:payload())
  referenced  sent without a copy (a buffer born in the region: r:alloc)
  headers     header bytes written
  kernel_copied / driver_copied  copies below the program, measured or
              derived from the mode (the why says which)
  touched     payload read but not copied (checksums)
Try: send udp 198.18.0.2 hi, then show ledger]],
  step = [[
step: open the simulator with step=true and the NIC moves only when you
say so. Each step is one hardware action, in this order of priority:
COMPLETE a sent frame > RX (or DROP) a packet from the wire > TX a packet.
Try: open sim step=true / region / fill 4 / send udp 198.18.0.2 / step 4]],
  modes = [[
modes: copy - the kernel copies each packet between your frames and its
own buffer (kernel_copied grows by the packet size); zerocopy - the NIC
reads and writes your frames directly (kernel_copied stays 0).
Try: open sim mode=copy, send, show ledger; then open sim mode=zerocopy]],
  lua = [[
lua: anything that is not a command is Lua, with the same API scripts use:
  e = lab.open("sim")   r = e:region{}   e:fill(64)
  p = lab.packet.udp{dst="198.18.0.2:9999", payload="hi", region=r}
  e:tx(p)  e:kick()  e:rx()  e:rings()  e:owners()  e:stats()
An expression's value is printed; `lua CODE` forces Lua.]],
}

function C.help(topic)
  if topic and C.topics[topic] then return C.topics[topic] end
  if topic and C.byname[topic] then
    local c = C.byname[topic]
    local extra = C.topics[topic] and ("\n" .. C.topics[topic]) or ""
    return c.usage .. "\n  " .. c.line .. extra
  end
  local out = {}
  if topic then out[1] = string.format("no help on '%s' - here is what there is:", topic) end
  local width = math.max(40, require("ringlab.term").width() - 1)
  for _, c in ipairs(C.list) do
    out[#out + 1] = "  " .. c.usage
    local line = "      "
    for word in c.line:gmatch("%S+") do
      if #line + #word + 1 > width and #line > 6 then
        out[#out + 1] = line
        line = "      "
      end
      line = line .. (#line > 6 and " " or "") .. word
    end
    out[#out + 1] = line
  end
  out[#out + 1] = "topics: help rings | owners | ledger | step | modes | lua. Anything else is Lua."
  return table.concat(out, "\n")
end

-- Run one command line. Returns "quit" to leave.
function C.run(line)
  local args = {}
  for w in line:gmatch("%S+") do args[#args + 1] = w end
  local name = table.remove(args, 1)
  local rest = line:match("^%s*%S+(.*)$") or ""
  local c = C.byname[name or ""]
  if not c then fail("'%s' is not a command - type help for the list", tostring(name)) end
  return c.fn(args, rest)
end

C.shows = { "rings", "owners", "stats", "ledger", "arp", "tcp", "packet" }

-- watch, watch run, lessons, lesson, the drawn step, show ledger --svg
require("ringlab.livecmds").install(C, def, current)

return C
