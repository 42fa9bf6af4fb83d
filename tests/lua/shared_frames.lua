-- A frame in several descriptors (issue 14.1) on the simulator: sg and born
-- segments that share a payload frame go out together, the frame counts
-- one reference per descriptor and is the program's again only with the
-- last completion; nothing takes, fills or writes it meanwhile; owners are
-- conserved and the sim's recount of its rings agrees with the region's
-- counts after every step.
--   rounds_sg, rounds_born  64 KiB at MSS 1448: <= 2 kicks, body intact
--   step                    one hardware action at a time, checked each
--   not_reused              alloc/fill never give it, writes refused
-- (a packet built on a buffer whose frame is on its way: errors.lua)
local T = require "common"
local case = assert(arg[1], "give a case")

local N, MSS = 65536, 1448
local SEGS = (N + MSS - 1) // MSS -- 46

local function body()
  local t = {}
  for i = 0, N - 1 do t[#t + 1] = string.char((i * 7 + i // 509) % 256) end
  return table.concat(t)
end

-- The region's counts and the sim's own recount of its rings agree.
local function refs_ok(e, label)
  local o = T.conserved(e, label)
  local st = e:stats()
  T.eq(st.ref_errors or 0, 0, label .. ": frames whose descriptors the rings and the region count differently")
  if o.shared > 0 then T.eq(st.shared_frames, o.shared, label .. ": shared_frames") end
  -- the map says it too: a digit on every shared frame, on a frame on its way
  local map, refs, n = e:owner_map(), e:refs_map(), 0
  for f = 1, #refs do
    local c = refs:sub(f, f)
    if c ~= "." then
      n = n + 1
      T.check(map:sub(f, f):match("[TNC]"), label .. ": shared frame " .. (f - 1) .. " is on its way")
    end
  end
  T.eq(n, o.shared, label .. ": digits in e:refs_map()")
  return o
end

local function segs_of(strategy, e, r, src)
  local b = r:alloc(N)
  b:write(0, src)
  local s = lab.segment(b, { strategy = strategy, dst = "198.18.0.2:8080", seq = 1, mss = MSS, region = r })
  return s, b
end

local cases = {}

local function rounds(strategy)
  local a = lab.open("sim")
  local rcv = lab.open("sim", { peer = a })
  local r = a:region { frames = 1024, frame_size = 2048, headroom = 256 }
  rcv:region { frames = 1024 }
  rcv:fill(512)
  local src = body()
  local s, b = segs_of(strategy, a, r, src)
  T.eq(#s, SEGS, "segments")
  T.check(s:info().shared >= 40, "most segments share a frame with the one before: " .. s:info().shared)
  T.eq(s:ready(), SEGS, "every segment is ready at once (the shared frames too)")
  local k0 = a:stats().kicks
  T.eq(s:send(a), SEGS, "send")
  local kicks = a:stats().kicks - k0
  T.check(kicks >= 1 and kicks <= 2, strategy .. ": 64 KiB sent in " .. kicks .. " rounds, want <= 2")
  local o = refs_ok(a, "after send")
  T.eq(o.shared, 0, "no frame is shared once all completed")
  T.eq(o.tx + o.nic + o.comp, 0, "every frame back")
  -- the receiver got every segment, in order, and the body is intact
  local pkts = rcv:rx(1024)
  T.eq(#pkts, SEGS, "packets received")
  local rd <close> = lab.reader(rcv, { mode = "inplace" })
  for i, p in ipairs(pkts) do
    local pd = p:dissect()
    T.check(pd.tcp and pd.tcp.csum_ok and pd.ip.csum_ok, "packet " .. i .. " checksums")
    T.eq(pd.tcp.seq, 1 + (i - 1) * MSS, "packet " .. i .. " seq")
    rd:push(p)
  end
  local v = rd:read(N)
  T.check(v:equals(src), "the reassembled body equals the source")
  rd:release()
  s:free()
  b:free()
  T.owners(a, { free = 1024 }, "sender at the end")
  T.conserved(rcv, "receiver at the end")
end

function cases.rounds_sg() rounds("sg") end
function cases.rounds_born() rounds("born") end

-- One hardware action at a time: after each, owners are conserved, the
-- counts agree with the rings, and a shared frame goes back to app only
-- when the last of its descriptors completed.
function cases.step()
  local e = lab.open("sim", { step = true })
  local r = e:region { frames = 512, frame_size = 2048, headroom = 256 }
  local s, b = segs_of("sg", e, r, body())
  local total = s:info().descriptors
  T.eq(s:tx(e), SEGS, "all 46 segments queued at once")
  local o = refs_ok(e, "queued")
  -- 32 payload frames, each with the end of one segment and the start of
  -- the next (or three segments' bytes): in two or three descriptors
  T.check(o.shared >= 30, "shared frames on the tx ring: " .. o.shared)
  T.check(o.shared_refs >= 2 * o.shared, "each shared frame in two descriptors or more")
  T.eq(e:rings().tx.pending, total, "every descriptor on the tx ring")
  -- show owners: the shared frames as digits (64 KiB in 512 frames: one
  -- cell per frame), the shared line, 80 columns
  local txt = require("ringlab.views").owners(o, e:owner_map(), e:refs_map()):gsub("\27%[[%d;]*m", "")
  T.check(txt:find(string.format("shared: %d frames in %d descriptors; a digit", o.shared, o.shared_refs), 1, true),
    "show owners has the shared line: " .. txt)
  T.check(txt:find("\n%s+0  [23]+[23]"), "the map starts with digits: " .. txt)
  for l in txt:gmatch("[^\n]+") do T.check(#l <= 80, "80 columns: " .. l) end
  -- the dashboard (watch): its shared line at 80x24 (a map cell is 2
  -- frames there: no digits), and at 160x48, one cell per frame, digits
  local W = require "ringlab.watch"
  for _, size in ipairs({ { 24, 80 }, { 48, 160 } }) do
    local dash = table.concat(W.lines({ W.sample(e) }, size[1], size[2]), "\n"):gsub("\27%[[%d;]*m", "")
    T.check(dash:find(string.format(" shared: %d frames in %d descriptors", o.shared, o.shared_refs), 1, true),
      "the dashboard has the shared line: " .. dash)
    for l in dash:gmatch("[^\n]+") do T.check(#l <= size[2], size[2] .. " columns: " .. l) end
    if size[2] == 160 then
      T.check(dash:find("\n%s+0  [23]+[23]"), "the dashboard's map starts with digits: " .. dash)
    end
  end
  local peak, steps, came_back = 0, 0, 0
  while true do
    local before = e:owner_map()
    local st = e:step()
    if st.kind == "idle" then break end
    steps = steps + 1
    e:complete() -- the program reaps as it goes
    o = refs_ok(e, "step " .. steps .. " (" .. st.kind .. ")")
    peak = math.max(peak, o.shared)
    -- a frame that left tx/nic/comp had no descriptor left in flight
    local after = e:owner_map()
    for f = 1, #after do
      if before:sub(f, f):match("[TNC]") and after:sub(f, f) == "A" then came_back = came_back + 1 end
    end
    T.check(steps < 10000, "the NIC finishes")
  end
  T.check(came_back > 0, "frames came back to the program")
  o = refs_ok(e, "idle")
  T.eq(o.shared, 0, "nothing shared at the end")
  T.eq(o.tx + o.nic + o.comp, 0, "every frame back at the end")
  T.eq(e:stats().tx_pkts, SEGS, "46 packets sent")
  s:free()
  b:free()
  T.owners(e, { free = 512 }, "at the end")
end

-- While a descriptor points into a frame it is not handed out again:
-- r:alloc and e:fill take only free frames, b:write and a packet built on
-- the buffer are refused, and the NIC's receive never writes into it.
function cases.not_reused()
  local e = lab.open("sim", { step = true })
  local r = e:region { frames = 128, frame_size = 2048, headroom = 256 }
  local src = body()
  local s, b = segs_of("born", e, r, src)
  T.eq(s:tx(e), SEGS, "queued")
  local o = refs_ok(e, "queued")
  local map0, refs0 = e:owner_map(), e:refs_map()
  T.check(o.shared > 0, "born segments share frames")
  -- every free frame taken: none of the referenced ones among them
  local got = {}
  while true do
    local ok, x = pcall(r.alloc, r, 1)
    if not ok then
      T.check(tostring(x):find("no run of 1", 1, true) or tostring(x):find("free", 1, true), "alloc runs out: " .. tostring(x))
      break
    end
    got[#got + 1] = x
  end
  T.eq(#got, o.free, "alloc hands out exactly the free frames")
  local map1 = e:owner_map()
  for f = 1, #map0 do
    if map0:sub(f, f) == "T" then T.eq(map1:sub(f, f), "T", "frame " .. (f - 1) .. " stays on its way") end
  end
  for _, x in ipairs(got) do x:free() end
  -- the fill ring gets free frames only
  T.eq(e:fill(o.free), o.free, "fill the free frames")
  local map2 = e:owner_map()
  for f = 1, #refs0 do
    if refs0:sub(f, f) ~= "." then T.check(map2:sub(f, f) ~= "F", "shared frame " .. (f - 1) .. " not on the fill ring") end
  end
  T.raises({ "still in", "descriptors", "complete" }, b.write, b, 0, "x")
  T.raises({ "still in" }, b.fill, b, 0)
  -- the NIC sends and receives everything (loopback) and completes it
  while e:step().kind ~= "idle" do e:complete(); refs_ok(e, "walk") end
  e:complete()
  o = refs_ok(e, "done")
  T.eq(o.shared, 0, "nothing shared")
  T.check(b:read(0, N) == src, "the born body is as written: nothing wrote into it while it was sent")
  local pkts = e:rx(4096)
  T.check(#pkts > 0, "loopback received what fit on the fill ring")
  for _, p in ipairs(pkts) do p:release() end
  -- now the buffer may be written again
  b:write(0, "y")
  s:free()
  b:free()
  T.conserved(e, "at the end")
end

T.check(cases[case], "unknown case " .. case)
cases[case]()
T.done("shared_frames_" .. case)
