-- cmd_engine.lua - the prompt commands that list, open, name and close engines: engines, open, use, close, region (ringlab.cmd_engine).

local lab = require "ringlab"
local C = require "ringlab.cmdkit"

local fail, def, say, current = C.fail, C.def, C.say, C.current
local number, keyvalues, region_of, is_engine = C.number, C.keyvalues, C.region_of, C.is_engine

local function human(n)
  if n >= 1e9 then return string.format("%.1fG", n / 1e9) end
  if n >= 1e6 then return string.format("%.1fM", n / 1e6) end
  if n >= 1e5 then return string.format("%.0fk", n / 1e3) end
  return tostring(n)
end

-- One line per open engine: name, kind, mode, region, packets, ledger.
-- Returns the rows (for show engines json) and the text.
function C.engines_view()
  local list, rows = lab.opened(), {}
  if #list == 0 then return rows, "no engine is open - open one: open sim (or open sim name=copy)" end
  -- the name column as wide as the longest name, up to 14 (80 columns);
  -- a longer name is cut with ~, as compare cuts its columns
  local nw = 10
  for _, e in ipairs(list) do nw = math.max(nw, #e:info().name) end
  nw = math.min(nw, 14)
  local function cut(name) return #name > nw and (name:sub(1, nw - 1) .. "~") or name end
  local out = { string.format("  %-" .. nw .. "s %-5s %-8s %-9s %6s %6s %7s %7s %7s", "name", "kind", "mode",
    "region", "sent", "recv", "copied", "refd", "headers") }
  for _, e in ipairs(list) do
    local i, st = e:info(), e:stats()
    local l = st.ledger
    local region, row = "none yet", { name = i.name, kind = i.kind, id = i.id, mode = st.mode,
      current = e == C.cur, tx_pkts = st.tx_pkts, rx_pkts = st.rx_pkts, ledger = l }
    if i.has_region then
      local r = e:region()
      region = string.format("%dx%d", r.frames, r.frame_size)
      row.frames, row.frame_size = r.frames, r.frame_size
    end
    rows[#rows + 1] = row
    out[#out + 1] = string.format("%s %-" .. nw .. "s %-5s %-8s %-9s %6s %6s %7s %7s %7s", e == C.cur and "*" or " ",
      cut(i.name), i.kind, st.mode, region, human(st.tx_pkts), human(st.rx_pkts), human(l.copied),
      human(l.referenced), human(l.headers))
  end
  out[#out + 1] = "  (* current; sent/recv in packets, the ledger in bytes; more: compare)"
  for _, row in ipairs(rows) do
    if row.mode == "netmap" then -- say it plainly: the model, not netmap
      out[#out + 1] = "  (mode netmap: netmap's model, simulated - open sim personality=netmap)"
      break
    end
  end
  return rows, table.concat(out, "\n")
end

-- The kinds this build has and whether each can open here.
local function available(long)
  if not long then
    local yes, no = {}, {}
    for _, en in ipairs(lab.engines()) do
      local t = en.available and yes or no
      t[#t + 1] = en.name
    end
    local line = string.format("can open here: %s%s", #yes > 0 and table.concat(yes, ", ") or "none",
      #no > 0 and ("   not here: " .. table.concat(no, ", ") .. " (engines available says why)") or "")
    -- the netmap note where it fits in 80 columns (engines available has it too)
    local note = "; netmap's model: sim personality=netmap"
    say("%s", #line + #note < 80 and line .. note or line)
    return
  end
  -- the summary and the why wrapped under their column, within the screen
  local width = math.max(60, require("ringlab.term").width() - 1)
  local function column(first, text)
    local lines = require("ringlab.views").wrap(text, width, first, string.rep(" ", #first))
    say("%s", #lines > 0 and table.concat(lines, "\n") or first)
  end
  for _, en in ipairs(lab.engines()) do
    column(string.format("%-8s %-13s ", en.name, en.available and "available" or "not here"), en.summary)
    if not en.available then column(string.format("%-8s %-13s ", "", ""), "why: " .. en.why) end
    if en.path ~= "built in" then column(string.format("%-8s %-13s ", "", ""), "from " .. en.path) end
  end
  -- netmap is no engine of its own: the simulator plays its model
  column(string.format("%-8s %-13s ", "netmap", "simulated"), "netmap's rings (head/cur/tail, buf_idx, one "
    .. "buffer pool for its ports): its model, simulated - open sim personality=netmap. netmap itself needs "
    .. "its kernel module, which cannot be loaded here")
end

def("engines", "engines [available]", "list the open engines (name, kind, mode, region, packets, ledger) and the kinds that can open here; engines available: every kind this ringlab can load, and why one cannot open here",
  function(args)
    if args[1] == "available" then return available(true) end
    if args[1] then fail("engines: '%s'? - engines lists the open ones, engines available the kinds", args[1]) end
    say("%s", select(2, C.engines_view()))
    available(false)
  end)

def("open", "open ENGINE [name=NAME] [key=value...]", "open an engine (sim, afxdp, dpdk) and make it current; name= names it (default KIND#N, e.g. sim#1), e.g. open sim name=copy step=true",
  function(args)
    local name = args[1] or fail("open: which engine? - e.g. open sim (list them with: engines)")
    local opts = keyvalues("open", args, 2)
    if opts.peer then
      local peer = C.find_engine(opts.peer)
      if not peer then
        if #lab.opened() == 0 then
          fail("open: no engine is open to be peer=%s - open it first: open %s name=%s",
            opts.peer, name, opts.peer:match("^%a[%w_.-]*$") and #opts.peer <= 23 and opts.peer or "left")
        end
        fail("open: peer=%s is not an open engine - open ones: %s (or a Lua variable holding one)",
          opts.peer, C.open_names())
      end
      opts.peer = peer
      -- a sim has one peer: say which engine holds it and what to open
      if name == "sim" then
        local with = C.opened[peer] and C.opened[peer].peer
        for other, o in pairs(C.opened) do
          if o.peer == peer and not other:info().closed then with = other end
        end
        if is_engine(with) and not with:info().closed then
          fail("open: %s is already wired to %s (a sim has one peer) - open a new pair: open sim name=rx2, "
            .. "then open sim peer=rx2", peer:info().name, with:info().name)
        end
      end
    end
    local ok, e = pcall(lab.open, name, opts)
    if not ok then
      -- the engines give their examples in Lua (lab.open("afxdp",
      -- {ifname="rl0"}), vdev="net_ring0"); at the prompt, say them as typed here
      local msg = tostring(e):gsub('lab%.open%("([%w_]+)", {([%w_]+)="([^"]*)"}%)', "open %1 %2=%3")
        :gsub('e%.g%. vdev="([^"]*)", "([^"]*)" or "([^"]*)"', "e.g. open dpdk vdev=%1 (or vdev=%2, vdev=%3)")
      error(msg, 0)
    end
    C.opened[e] = opts
    C.use(e)
    -- a dpdk peer= shares its partner's region: it needs none of its own
    local next = C.region_hint(e)
    if e:netmap() then -- netmap's model: the pool and the rings' buffers are there
      next = "send udp 198.18.0.2:9999 hi, then rxsync and show rings (help netmap)"
    elseif e:info().has_region then
      next = string.format("fill %d, then send udp 198.18.0.2:9999 (the region is shared with %s)",
        math.max(1, math.min(64, e:region().frames // 2)), opts.peer and tostring(opts.peer) or "its peer")
    end
    say("%s is now the current engine (cur, e)\n  next: %s", tostring(e), next)
  end)

def("use", "use NAME|#N", "make another open engine the current one (the prompt shows its name), e.g. use copy or use #2",
  function(args)
    if not args[1] and #lab.opened() == 0 then fail("use: no engine is open - open one: open sim name=copy") end
    local name = args[1] or fail("use: which engine? - use NAME (open ones: %s)", C.open_names())
    local e = C.use(name)
    say("%s is now the current engine (cur, e)", tostring(e))
  end)

-- Close e; forget what the prompt kept of it.
local function close_one(e)
  local name = e:info().name
  local h = C.hosts[e]
  if h then pcall(h.stop, h) end
  C.hosts[e] = nil
  e:close()
  C.opened[e] = nil
  return name
end

def("close", "close [NAME|all]", "close the current engine, the one called NAME, or all of them (its frames and rings are gone)",
  function(args)
    local which = args[1]
    local list
    if which == "all" then
      list = lab.opened()
      if #list == 0 then fail("close all: no engine is open") end
    elseif which then
      list = { C.engine_named("close", which) }
    else
      list = { current() }
    end
    local names = {}
    for i = #list, 1, -1 do table.insert(names, 1, close_one(list[i])) end
    say("closed %s", table.concat(names, ", "))
    C.refresh()
  end)

def("region", "region [frames=N] [size=N] [headroom=N]", "make the current engine's packet memory (default 4096 frames of 2048 bytes - 4096 on a DPDK net_af_packet port -, headroom 256)",
  function(args)
    local e = current()
    local nm = e:netmap()
    if nm then -- netmap: the pool came with the port
      _G.r = e:region()
      fail("region: a netmap port has its buffer pool from open (pool %s: %d buffers of %d bytes) - "
        .. "give buffers= and buf_size= to open; r is the pool", nm.pool ~= "" and nm.pool or "of its own",
        nm.buffers, nm.buf_size)
    end
    local kv = keyvalues("region", args, 1)
    local p = {}
    for k, v in pairs(kv) do
      if k == "size" then k = "frame_size" end
      p[k] = number("region", v)
    end
    -- a DPDK net_af_packet port needs 4096-byte frames for a 1500-byte MTU
    if not p.frame_size and C.frame_size_for(e) ~= 2048 then p.frame_size = C.frame_size_for(e) end
    _G.r = e:region(p)
    -- a fill that fits: at most 64, and half the frames (the rest to send)
    local n = math.max(1, math.min(64, _G.r.frames // 2))
    say("%s\n  next: fill %d, then send udp 198.18.0.2:9999", tostring(_G.r), n)
  end)
