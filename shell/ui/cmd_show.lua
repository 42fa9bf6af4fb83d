-- cmd_show.lua - show TOPIC: the views of the current engine, drawn or as JSON (ringlab.cmd_show).

local lab = require "ringlab"
local C = require "ringlab.cmdkit"

local fail, def, say, current = C.fail, C.def, C.say, C.current
local number, keyvalues, region_of, is_engine = C.number, C.keyvalues, C.region_of, C.is_engine

local json = require "ringlab.json"
local views = require "ringlab.views"

local shows = {}

function shows.rings(e)
  -- a netmap port (open sim personality=netmap): its rings in netmap's terms
  local nm = e:netmap()
  if nm then return nm, require("ringlab.nmview").text(e, nm, require("ringlab.term").width() - 1) end
  local t = e:rings(); return t, views.rings(t)
end
-- show slots tx|rx [FROM] [N]: a netmap port's slots (cmd_netmap.lua)
function shows.slots(e, which, args)
  local function n(i) return args[i] and args[i] ~= "json" and number("show slots", args[i]) or nil end
  return C.netmap_slots(e, which, n(3), n(4))
end
function shows.owners(e)
  local o, map, refs = e:owners(), e:owner_map(), e:refs_map()
  local j = {}
  for k, v in pairs(o) do j[k] = v end
  j.map, j.refs = map, refs
  return j, views.owners(o, map, refs)
end
function shows.engines() -- the open engines (also: engines); json: a list, [] when none
  local rows, text = C.engines_view()
  return setmetatable(rows, json.array), text
end
function shows.stats(e)
  local t = e:stats()
  local text = views.stats(t)
  -- the host on this engine (host up, or a TCP stack's): what it dropped
  local h = C.hosts[e] or require("ringlab.host").of(e)
  if h then
    local c = h.counts
    t.host = { inbox = #h.inbox, inbox_max = h.inbox_max, inbox_dropped = c.inbox_dropped,
      handler_dropped = c.handler_dropped }
    text = text .. string.format("\nhost %s: inbox %d/%d; dropped: %d inbox full, %d after a handler error",
      h.ip, #h.inbox, h.inbox_max, c.inbox_dropped, c.handler_dropped)
  end
  return t, text
end
function shows.ledger(e)
  local st = e:stats()
  return st.ledger, views.ledger(st.ledger, st.tx_pkts, st.rx_pkts)
end
function shows.arp(e)
  if not C.hosts[e] then -- no host: what this engine's packets were sent to
    local r, ips = require("ringlab.host").resolved(e), {}
    for ip in pairs(r) do ips[#ips + 1] = ip end
    if #ips == 0 then C.host_of(e, "show arp") end -- says to start one
    table.sort(ips)
    local lines = { "neighbours this engine sent to (ip, mac; no host runs: host up answers ARP):" }
    for _, ip in ipairs(ips) do lines[#lines + 1] = string.format("  %-15s %s", ip, r[ip]) end
    return r, table.concat(lines, "\n")
  end
  local t = C.host_of(e, "show arp"):arp_table()
  local lines, ips = { "neighbours the host learned from ARP (ip, mac, seconds since seen):" }, {}
  for ip in pairs(t) do ips[#ips + 1] = ip end
  table.sort(ips)
  for _, ip in ipairs(ips) do
    lines[#lines + 1] = string.format("  %-15s %s  %.1f s", ip, t[ip].mac, t[ip].age)
  end
  if #ips == 0 then
    lines[#lines + 1] = "  (none yet - ping from the peer, or send udp 198.18.0.2:9999 hi)"
  end
  return t, table.concat(lines, "\n")
end
function shows.tcp(_)
  local tcp = package.loaded["ringlab.tcp"]
  if not tcp then return {}, "no TCP yet - lab.tcp.connect(e, \"198.18.0.2:8080\") or lab.tcp.listen(e, 8080)" end
  local rows = {}
  for _, c in ipairs(tcp.connections()) do rows[#rows + 1] = c:stats() end
  local term = require "ringlab.term"
  return rows, tcp.show(term.isatty(1) and term.width() or nil)
end
local CAP_MEANING = {
  { "zerocopy", "packets move without a copy (as it is bound now)" },
  { "sg", "a packet over several frames (scatter-gather)" },
  { "extbuf", "sends app memory outside the region (strategy extbuf)" },
  { "gso", "cuts one large TCP packet in software (strategy gso)" },
  { "tso", "cuts one large TCP packet in the NIC (strategy tso)" },
  { "csum", "the NIC fills checksums (csum=\"offload\")" },
  { "gro", "merges received TCP segments (e:rx(max, {gro=true}))" },
  { "unaligned", "a descriptor may cross frames (unaligned=true)" },
  { "shared", "a frame in several descriptors at once" },
  { "step", "one hardware action at a time (step)" },
  { "peer", "two engines wired back to back (peer=)" },
  { "wire", "a real interface: needs root and a testbed" },
}
function shows.caps(e)
  local i = e:info()
  local lines = { string.format("what %s can do as it is open:", tostring(e)) }
  for _, c in ipairs(CAP_MEANING) do
    lines[#lines + 1] = string.format("  %-9s %-3s  %s", c[1], i.caps[c[1]] and "yes" or "no", c[2])
  end
  -- not the engine's: whether this kernel has kTLS (lab.kernel.tls, a TCP_ULP probe on an
  -- unconnected socket - no namespace, no network)
  local ok_tls, tls = pcall(lab.kernel.tls)
  local ktls = ok_tls and tls.available or false
  local ktls_json = nil -- JSON: true/false, absent when the probe failed
  if ok_tls then ktls_json = ktls end
  lines[#lines + 1] = string.format("  %-9s %-3s  %s", "ktls", ok_tls and (ktls and "yes" or "no") or "?",
    "this kernel has kTLS, TLS in the kernel (kernel tls)")
  -- the engine cannot know the name the lab gave it: put it in
  if i.caps_why ~= "" then lines[#lines + 1] = "why: " .. i.caps_why:gsub("THIS_ENGINE", i.name) end
  local strategies = require("ringlab.cmd_send").strategies(e, "tcp")
  lines[#lines + 1] = "strategies it can send with (help strategies): " .. table.concat(strategies, ", ")
  return { caps = i.caps, why = i.caps_why, strategies = strategies, ktls = ktls_json }, table.concat(lines, "\n")
end
-- show drops: explain's rows (ringlab.drops): each drop counter, its cause and remedy
function shows.drops(e)
  local text, rows = require("ringlab.drops").text(e)
  return setmetatable(rows, json.array), text
end
-- show packet N [hex]: a packet of the last recv, dissected, or its bytes
-- (p:hexdump(): offsets, hex, ASCII, the headers marked, each descriptor's
-- frame).
function shows.packet(_, n, args)
  local last = _G.last or {}
  local i = number("show packet", n)
  if not i then fail("show packet: which one? - show packet 1 [hex] (packets from the last recv)") end
  local p = last[i]
  if not p then fail("show packet: there is no packet %d - the last recv kept %d", i, #last) end
  local how = args and args[3]
  if how and how ~= "hex" and how ~= "json" then
    fail("show packet: '%s'? - show packet %d, show packet %d hex, or add json", how, i, i)
  end
  -- made up by the driver (net_null): no headers to dissect
  local from = C.last_from and C.last_from.pkts == last and C.last_from.e
  local inventor = from and C.invented and C.invented(from)
  if how == "hex" then
    local text = p:hexdump()
    if inventor then
      -- the bytes as they are, not marked as headers they are not: the
      -- first line says who made them, the rows are labelled "bytes"
      local out, first = {}, true
      for line in text:gmatch("[^\n]+") do
        if #out == 0 then
          local n = #p:segments()
          line = string.format("%d bytes invented by %s (%d segment%s), not dissected", p:len(), inventor, n,
            n == 1 and "" or "s")
        elseif line:match("^%a") and line:sub(9, 12):match("^%x%x%x%x$") then
          line = string.format("%-8s", first and "bytes" or "") .. line:sub(9)
          first = false
        end
        out[#out + 1] = line
      end
      text = table.concat(out, "\n")
    end
    return { segments = p:segments(), hexdump = text, invented = inventor }, text
  end
  if inventor then
    local segs = p:segments()
    local lines = { string.format("%d bytes invented by %s, not dissected: it makes up what it receives -", p:len(),
      inventor), "  a length, and whatever bytes the buffer held; no wire sent them",
      string.format("  (show packet %d hex shows them)", i) }
    for k, sg in ipairs(segs) do
      lines[#lines + 1] = string.format("  segment %d: frame %d addr %d len %d", k, sg.frame, sg.addr, sg.len)
    end
    return { invented = inventor, len = p:len(), segments = segs }, table.concat(lines, "\n")
  end
  local d, segs = p:dissect(), p:segments()
  return { dissect = d, segments = segs }, views.packet(d, segs)
end

def("show", "show rings|owners|stats|ledger|drops|caps|arp|tcp|engines [json] | show packet N [hex] [json]", "draw the rings, the owner of every frame, counters, the ledger, where packets were dropped (as explain), what the engine can do, the host's ARP table, TCP connections, the open engines or a packet",
  function(args)
    local topic = args[1]
    if not shows[topic or ""] then
      local near = topic and C.nearest(topic, C.show_topics())
      if near then fail("show: there is no '%s' to show - did you mean show %s?", topic, near) end
      fail("show: show what? - one of %s", (table.concat(C.show_topics(), ", "):gsub("packet", "packet N")))
    end
    local as_json = args[#args] == "json"
    local data, text = shows[topic](topic ~= "engines" and current() or nil, args[2] ~= "json" and args[2] or nil, args)
    -- JSON stays one line; a text line wider than the terminal (show caps'
    -- why) is cut between words, as every command's answer is (C.say)
    if as_json then print(json.encode(data)) else C.say("%s", text) end
  end)

-- lab.compare(e | name, ...) / compare NAME...: the ledgers side by side
-- (views.compare) of these engines, or of every open one; a table of
-- engines or names works too. Returns the text.
-- The kernel's paths sit beside them: "kernel:PATH" is the last result of
-- that path sent at the prompt (kernel send, kernel compare), "kernel:all"
-- every one; a result of lab.kernel.send works as it is.
local function is_kernel_result(x)
  return type(x) == "table" and type(x.ledger) == "table" and type(x.path) == "string"
end

local function kernel_column(r)
  local udp = r.path:match("^udp") ~= nil
  return { name = r.path, kind = "kernel", mode = udp and "UDP" or "TCP", kernel = r,
    stats = { tx_pkts = r.wire_packets or r.peer_datagrams, rx_pkts = 0, drops = 0,
      ledger = { copied = r.ledger.copied, referenced = r.ledger.referenced, headers = r.ledger.headers,
        kernel_copied = r.ledger.kernel_copied, kernel_how = r.ledger.kernel_how, driver_copied = 0,
        driver_how = "-", touched = r.ledger.touched } } }
end

local function kernel_results(name)
  local K = require "ringlab.cmd_kernel"
  local path = name:match("^kernel:(.*)$")
  local out = {}
  if path == "all" then
    for _, p in ipairs(lab.kernel.paths()) do
      if K.results[p] then out[#out + 1] = K.results[p] end
    end
    if #out == 0 then fail("compare: no kernel result yet - run kernel compare size=64k (or kernel send PATH) first") end
    return out
  end
  local known = false
  for _, p in ipairs(lab.kernel.paths()) do known = known or p == path end
  if not known then
    fail("compare: no kernel path '%s' - say kernel:PATH with one of %s, or kernel:all", path,
      table.concat(lab.kernel.paths(), ", "))
  end
  if not K.results[path] then
    fail("compare: no result for kernel:%s yet - run kernel send %s size=64k first", path, path)
  end
  return { K.results[path] }
end

function C.compare_text(...)
  local list = select("#", ...) == 1 and type(...) == "table" and not is_kernel_result(...) and (...) or { ... }
  if #list == 0 then list = lab.opened() end
  local cols = {}
  local expanded = {}
  for _, x in ipairs(list) do
    if type(x) == "string" and x:match("^kernel:") then
      for _, r in ipairs(kernel_results(x)) do expanded[#expanded + 1] = r end
    else
      expanded[#expanded + 1] = x
    end
  end
  for i, x in ipairs(expanded) do
    local e = type(x) == "string" and C.engine_named("compare", x) or x
    if is_kernel_result(e) then
      cols[#cols + 1] = kernel_column(e)
    else
      if not is_engine(e) then
        fail("compare: argument %d is a %s - give engines or their names, or kernel:PATH", i, type(x))
      end
      local info = e:info()
      if info.closed then fail("compare: %s is closed - compare open engines (engines lists them)", info.name) end
      cols[#cols + 1] = { name = info.name, kind = info.kind, mode = e:stats().mode, stats = e:stats() }
    end
  end
  return views.compare(cols, require("ringlab.term").width())
end

def("compare", "compare [NAME...]", "the ledgers of several engines side by side: packets sent and received, every ledger category in bytes and per packet sent / received (default: every open engine); kernel:PATH adds the last kernel send of that path (kernel:all: every one)",
  function(args) print(C.compare_text(table.unpack(args))) end)

-- The topics of show, from the table itself (Tab completion, messages).
function C.show_topics()
  local names = {}
  for k in pairs(shows) do names[#names + 1] = k end
  table.sort(names)
  return names
end
C.shows = C.show_topics()

return true
