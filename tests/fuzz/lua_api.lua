-- lua_api.lua - a seeded fuzzer of the `lab` Lua API on simulator engines.
--
-- It keeps pools of engines (some wired in pairs), regions, buffers,
-- packets, segmentations, readers, views, batches and app memory, and runs
-- random calls on them with random arguments. Some arguments are hostile:
-- option tables and lists whose __index/__len run "chaos" (close an engine,
-- release a packet, free a buffer or segs, close a reader, collect garbage),
-- and garbage whose __gc finalizer runs chaos at whatever allocation the
-- collector picks - inside the bindings. After every step:
--   - a call that failed failed with one line of text (never a crash);
--   - every open engine with a region is conserved (owners sum to frames,
--     and e:owners() raises when the core's recount disagrees).
-- At the end everything is closed; the counts of calls made, failed and
-- chaos run are printed.
-- usage: ringlab lua_api.lua SEED SECONDS
local T = require "common"

local seed, secs = tonumber(arg[1]) or 1, tonumber(arg[2]) or 3
math.randomseed(seed)
local R = math.random

local S = { engines = {}, regions = {}, bufs = {}, pkts = {}, segs = {}, readers = {}, views = {},
  batches = {}, mems = {} }
local stats = { calls = 0, failed = 0, chaos = 0, steps = 0 }
local failures = {}

local function pick(t)
  if #t > 0 then return t[R(#t)] end
end

local function open(e)
  local ok, info = pcall(e.info, e)
  return ok and not info.closed
end

local function keep(list, v, max)
  list[#list + 1] = v
  if #list > (max or 24) then table.remove(list, R(#list)) end -- dropped: garbage for the collector
  return v
end

-- What hostile Lua does while a binding runs.
local chaos_acts = {
  function() local e = pick(S.engines) if e then e:close() end end,
  function() local p = pick(S.pkts) if p then p:release() end end,
  function() local b = pick(S.bufs) if b then b:free() end end,
  function() local s = pick(S.segs) if s then s:free() end end,
  function() local rd = pick(S.readers) if rd then rd:close() end end,
  function() local bt = pick(S.batches) if bt then bt:release() end end,
  function() collectgarbage("step") end,
}
local chaos_on = true
local function chaos(p)
  if chaos_on and R() < p then
    stats.chaos = stats.chaos + 1
    pcall(chaos_acts[R(#chaos_acts)])
  end
end

-- Garbage whose finalizer runs chaos now and then and makes more garbage.
local fin
fin = function()
  setmetatable({}, { __gc = fin })
  chaos(0.02)
end
for _ = 1, 50 do setmetatable({}, { __gc = fin }) end

-- An options table: plain, or one whose every read may run chaos.
local function opts(t)
  if R(4) > 1 then return t end
  return setmetatable({}, { __index = function(_, k) chaos(0.3) return t[k] end,
    __pairs = function() chaos(0.3) return next, t, nil end })
end

-- A list of packets: plain, or one whose __len/__index may run chaos.
local function list(t)
  if R(3) > 1 then return t end
  return setmetatable({}, { __len = function() chaos(0.3) return #t end,
    __index = function(_, i) chaos(0.3) return t[i] end })
end

local DST = { "198.18.0.2:9", "198.18.0.2:9999", "198.18.0.1:1", "10.0.0.1:80", "198.18.0.2",
  "bogus", "198.18.0.2:70000" }
local STRATEGIES = { "copy", "reuse", "born", "sg", "tso", "extbuf", "gso", "nope" }
local function dst() return DST[R(#DST)] end
local function size() return ({ 0, 1, 7, 64, 1400, 1500, 3000, 9000, 20000, 70000 })[R(10)] end
local function payload()
  local b = pick(S.bufs)
  if b and R(2) == 1 then return b end
  return string.rep(string.char(R(0, 255)), size())
end
local function region_of()
  local r = pick(S.regions)
  if r and R(5) > 1 then return r end
  return nil
end

local acts = {
  open = function()
    if #S.engines >= 5 then return end
    local peer = R(2) == 1 and pick(S.engines) or nil
    local e = lab.open("sim", opts({ peer = peer, mode = ({ "copy", "zerocopy" })[R(2)],
      step = R(4) == 1, tso = R(3) == 1, csum = R(3) == 1, gso = R(4) ~= 1 }))
    keep(S.engines, e, 8)
  end,
  region = function()
    local e = pick(S.engines)
    if not e then return end
    keep(S.regions, e:region(opts({ frames = ({ 8, 16, 64, 128 })[R(4)],
      frame_size = ({ 2048, 4096, 1000 })[R(3)], headroom = ({ 0, 128, 256 })[R(3)] })))
  end,
  fill = function() local e = pick(S.engines) if e then e:fill(R(0, 80)) end end,
  alloc = function() local r = pick(S.regions) if r then keep(S.bufs, r:alloc(size())) end end,
  buffer_ops = function()
    local b = pick(S.bufs)
    if not b then return end
    local k = R(4)
    if k == 1 then b:write(R(0, 100), "hello") elseif k == 2 then b:read(0, R(0, 200))
    elseif k == 3 then b:testdata() else b:free() end
  end,
  udp = function()
    keep(S.pkts, lab.packet.udp(opts({ dst = dst(), payload = payload(), region = region_of(),
      engine = pick(S.engines), csum = R(2) == 1 })))
  end,
  tcp = function()
    keep(S.pkts, lab.packet.tcp(opts({ dst = dst(), src = "198.18.0.1:40000", seq = R(0, 2 ^ 32 - 1),
      flags = ({ "S", "SA", "A", "PA", "R", 300 })[R(6)], mss = ({ 0, 1, 536, 1460, 65535, 70000 })[R(6)],
      wscale = R(0, 15),
      payload = payload(), region = region_of(), engine = pick(S.engines) })))
  end,
  icmp = function()
    keep(S.pkts, lab.packet.icmp(opts({ type = ({ "request", "reply", "x" })[R(3)],
      dst = "198.18.0.2", payload = payload(), region = region_of(), engine = pick(S.engines) })))
  end,
  packet_ops = function()
    local p = pick(S.pkts)
    if not p then return end
    local k = R(8)
    if k == 1 then p:dissect() elseif k == 2 then p:payload() elseif k == 3 then p:bytes()
    elseif k == 4 then p:hexdump() elseif k == 5 then p:payload_equals(R(2) == 1 and "x" or 12)
    elseif k == 6 then p:segments() elseif k == 7 then p:state() else p:release() end
  end,
  tx = function()
    local e = pick(S.engines)
    if not e then return end
    local t = {}
    for i = 1, R(0, 4) do t[i] = pick(S.pkts) end
    if R(2) == 1 and t[1] then e:tx(t[1]) else e:tx(list(t)) end
  end,
  kick_complete = function()
    local e = pick(S.engines)
    if not e then return end
    e:kick()
    e:complete(R(0, 64))
  end,
  step = function() local e = pick(S.engines) if e then e:step() end end,
  rx = function()
    local e = pick(S.engines)
    if not e then return end
    for _, p in ipairs(e:rx(R(0, 32), R(3) == 1 and opts({}) or nil)) do keep(S.pkts, p, 48) end
  end,
  segment = function()
    local data = payload()
    if type(data) == "string" and R(3) == 1 then
      local m = keep(S.mems, lab.appmem(#data + 1), 4)
      m:write(0, data)
      data = m
    end
    keep(S.segs, lab.segment(data, opts({ proto = ({ "tcp", "udp" })[R(2)], mss = ({ 0, 1, 536, 1448, 9000 })[R(5)],
      strategy = STRATEGIES[R(#STRATEGIES)], dst = dst(), region = region_of(), engine = pick(S.engines),
      csum = ({ "software", "offload" })[R(2)] })))
  end,
  segs_ops = function()
    local s = pick(S.segs)
    if not s then return end
    local k = R(7)
    local e = pick(S.engines)
    if k == 1 then s:tx(e) elseif k == 2 then s:send(e) elseif k == 3 then s:ready()
    elseif k == 4 then s:dissect(R(0, 8)) elseif k == 5 then s:resend(opts({ dst = dst(), seq = R(0, 1000) }))
    elseif k == 6 then s:info() else s:free() end
  end,
  reader = function()
    local e = pick(S.engines)
    if e then keep(S.readers, lab.reader(e, opts({ mode = ({ "inplace", "copy" })[R(2)] }))) end
  end,
  reader_ops = function()
    local rd = pick(S.readers)
    if not rd then return end
    local k = R(8)
    if k == 1 then local p = pick(S.pkts) if p then rd:push(p) end
    elseif k == 2 then local v = rd:read(R(0, 3000)) if type(v) ~= "string" then keep(S.views, v) end
    elseif k == 3 then keep(S.views, rd:peek(R(0, 3000)))
    elseif k == 4 then rd:copy(R(0, 3000)) elseif k == 5 then rd:find(R(2) == 1 and "x" or 7)
    elseif k == 6 then rd:release() elseif k == 7 then rd:avail(); rd:frames() else rd:close() end
  end,
  view_ops = function()
    local v = pick(S.views)
    if not v then return end
    local k = R(4)
    if k == 1 then v:string() elseif k == 2 then v:equals("abc") elseif k == 3 then v:pieces() else v:valid() end
  end,
  batch = function()
    local e = pick(S.engines)
    keep(S.batches, lab.batch(R(2) == 1 and e or (pick(S.regions) or e), R(0, 40)))
  end,
  batch_ops = function()
    local bt = pick(S.batches)
    if not bt then return end
    local k = R(6)
    if k == 1 then bt:udp(opts({ dst = dst(), payload = R(2) == 1 and "hi" or string.rep("z", 3000) }), R(0, 40))
    elseif k == 2 then bt:tx() elseif k == 3 then bt:rx(pick(S.engines))
    elseif k == 4 then bt:dissect(R(0, 4)) elseif k == 5 then bt:count() else bt:release() end
  end,
  views = function()
    local e = pick(S.engines)
    if not e then return end
    e:rings(); e:stats(); e:info()
    if open(e) and e:info().has_region then e:owner_map() end
  end,
  close = function() if R(4) == 1 then local e = pick(S.engines) if e then e:close() end end end,
  gc = function() collectgarbage(R(2) == 1 and "collect" or "step") end,
}
local names = {}
for k in pairs(acts) do names[#names + 1] = k end
table.sort(names) -- the same sequence for the same seed

local function conserved_all(label)
  chaos_on = false
  for _, e in ipairs(S.engines) do
    if open(e) and e:info().has_region then T.conserved(e, label) end
  end
  chaos_on = true
end

-- Closed engines leave the pool (one is kept a while: calls on it must
-- say it is closed); so do most objects of closed engines, by keep()'s cap.
local function prune()
  local kept, closed = {}, 0
  for _, e in ipairs(S.engines) do
    if open(e) then kept[#kept + 1] = e
    elseif closed == 0 and R(4) > 1 then kept[#kept + 1] = e closed = 1 end
  end
  S.engines = kept
end

local t0 = lab.now()
while lab.now() - t0 < secs do
  stats.steps = stats.steps + 1
  prune()
  if #S.engines < 2 then pcall(acts.open) pcall(acts.region) end
  local name = names[R(#names)]
  stats.calls = stats.calls + 1
  local ok, err = pcall(acts[name])
  if not ok then
    stats.failed = stats.failed + 1
    T.check(type(err) == "string", name .. ": an error that is not text: " .. tostring(err))
    T.check(not err:find("\n"), name .. ": an error of more than one line: " .. err)
    local key = name .. ": " .. err:gsub("%d+", "N")
    failures[key] = (failures[key] or 0) + 1
  end
  conserved_all("step " .. stats.steps .. " (" .. name .. ")")
end

chaos_on = false
for _, e in ipairs(S.engines) do
  if open(e) and e:info().has_region then T.conserved(e, "at the end") end
end
for k in pairs(S) do S[k] = {} end
for _, e in ipairs(lab.opened()) do e:close() end
collectgarbage()
collectgarbage()
print(string.format("lua_api seed %d: %d steps, %d calls failed with one line, %d chaos acts",
  seed, stats.steps, stats.failed, stats.chaos))
local kinds = {}
for k, n in pairs(failures) do kinds[#kinds + 1] = string.format("%6d  %s", n, k) end
table.sort(kinds)
if os.getenv("LUA_API_VERBOSE") then print(table.concat(kinds, "\n")) end
T.check(stats.steps > 100, "too few steps: " .. stats.steps)
T.check(stats.chaos > 0, "no chaos ran: the hostile cases were not tried")
T.done("fuzz_lua_api_seed_" .. seed)
