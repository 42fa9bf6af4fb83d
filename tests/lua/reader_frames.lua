-- The in-place reader gives frames back as it moves: read part of the
-- stream, release, and the frames behind the position are in the pool,
-- where e:fill() offers them again; views die with their frames; find,
-- peek and copy; a reader in copy mode copies out and returns at once.
local T = require "common"

local a = lab.open("sim")
local b = lab.open("sim", { peer = a })
local ra = a:region { frames = 256 }
b:region { frames = 64 }
T.eq(b:fill(64), 64, "fill every frame of b")

local msg = {}
for i = 1, 40 do msg[i] = string.format("line %04d %s\n", i, string.rep("x", 89)) end
msg = table.concat(msg) -- 4000 bytes
local segs = lab.segment(msg, { strategy = "copy", mss = 1000, dst = "198.18.0.2:8080", region = ra })
T.eq(segs:send(a), 4, "sent")
local pkts = b:rx(64)
T.eq(#pkts, 4, "received")
T.eq(b:owners().free, 0, "no free frame while the packets are held")

local rd = lab.reader(b)
T.eq(rd:mode(), "inplace", "mode")
for _, p in ipairs(pkts) do rd:push(p) end
T.raises({ "reader" }, pkts[1].dissect, pkts[1])
T.raises({ "already a reader's" }, rd.push, rd, pkts[1])
T.eq(rd:frames(), 4, "reader owns 4 frames")
T.eq(rd:find("line 0011"), 1000, "find across the stream")
T.eq(rd:find("nothing like this"), nil, "find misses")
local pk = rd:peek(5)
T.check(pk:equals("line "), "peek")
T.eq(rd:avail(), 4000, "peek consumes nothing")

local v = rd:read(2500)
T.eq(#v, 2500, "view bytes")
T.eq(#v:pieces(), 3, "the view spans three frames")
T.check(v:equals(msg:sub(1, 2500)), "view equals")
local l0 = b:stats().ledger
T.eq(v:string(), msg:sub(1, 2500), "view:string")
T.eq(b:stats().ledger.copied - l0.copied, 2500, "view:string counted copied")

T.eq(rd:release(), 2, "two frames wholly read go back")
T.check(not v:valid() and not pk:valid(), "older views are invalid")
T.raises({ "no longer valid" }, v.string, v)
T.eq(b:owners().free, 2, "frames are in the pool again")
T.eq(b:fill(2), 2, "fill reuses them")
T.eq(rd:frames(), 2, "reader still owns the rest")

T.eq(rd:copy(1500), msg:sub(2501), "copy out the rest")
T.eq(rd:avail(), 0, "all read")
rd:close()
T.raises({ "closed" }, rd.avail, rd)
T.eq(b:owners().free, 2, "closing gives back what the reader held")

-- copy mode: each read copies out and frames return at once
segs:free()
segs = lab.segment(msg, { strategy = "copy", mss = 1000, dst = "198.18.0.2:8080", region = ra })
T.eq(segs:send(a), 4, "sent again")
local rc = lab.reader(b, { mode = "copy" })
for _, p in ipairs(b:rx(64)) do rc:push(p) end
local before = b:owners().free
T.eq(rc:read(2000), msg:sub(1, 2000), "copy-mode read is a string")
T.eq(b:owners().free, before + 2, "copy mode gives frames back as it goes")
rc:close()
T.conserved(a, "a")
T.conserved(b, "b")
T.done("reader_frames")
