-- What `show rings` and `show owners` draw on the defaults, at the prompt
-- (fed on standard input: 80 columns, no colour).
--   rings_defaults    open sim / region (2048-slot rings): fill 7 and a
--                     send show their waiting entries as marks (c###p),
--                     the slots drawn are named, every line fits 80 columns
--   rings_scaled      a full 2048-slot ring (cell=N), a 16-slot ring drawn
--                     whole; the bar agrees with e:rings() slot by slot
--   owners_runs       show owners of 4096 frames: runs of one owner, not 64
--                     rows of cells; fragmented frames fall back to cells of
--                     groups; both fit 80x24 and the owners are conserved
-- usage: ringlab views_rings_owners.lua RINGLAB CASE
local T = require "common"
local views = require "ringlab.views"

local ringlab, case = arg[1], arg[2]

-- The prompt's output for these lines.
local function prompt(lines)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  local p = assert(io.popen(string.format("NO_COLOR=1 '%s' < '%s' 2>&1", ringlab, path)))
  local out = p:read("a")
  p:close()
  os.remove(path)
  return out
end

local function fits(text, cols, what)
  for line in text:gmatch("[^\n]+") do
    T.check(#line <= cols, string.format("%s: a line of %d columns (more than %d):\n%s", what, #line, cols, line))
  end
end

-- The lines between the one that starts with `first` and the prompt's next output.
local function block(out, first, last)
  local s = out:find(first, 1, true)
  T.check(s, "output lacks '" .. first .. "':\n" .. out)
  local e = last and out:find(last, s, true) or #out + 1
  return out:sub(s, e - 1)
end

local cases = {}

function cases.rings_defaults()
  local out = prompt({ "open sim step=true", "region", "fill 7", "send udp 198.18.0.2:9999 hello", "show rings" })
  local rings = block(out, "\nring ")
  fits(rings, 80, "show rings")
  -- fill: 7 entries waiting from slot 0: c and 6 #, then p on slot 7
  local fill = rings:match("\n(fill [^\n]*)")
  T.check(fill, "no fill row:\n" .. rings)
  T.check(fill:find("^fill%s+2048%s+7%s+0%s+7%s+%[c######p%.+%] slots 0%-%d+$"), "fill row: " .. fill)
  local tx = rings:match("\n(tx [^\n]*)")
  T.check(tx:find("^tx%s+2048%s+1%s+0%s+1%s+%[cp%.+%] slots 0%-%d+$"), "tx row: " .. tx)
  local rx = rings:match("\n(rx [^\n]*)")
  T.check(rx:find("%[|%.+%]"), "an empty ring: c and p on one slot: " .. rx)
  T.check(rings:find("# waiting  . empty  c next to take (cons)  p next to fill (prod)", 1, true),
    "the legend:\n" .. rings)
  T.check(rings:find("need_wakeup: the NIC sleeps until the program kicks it", 1, true), "need_wakeup line")
  -- the window is as wide as the row allows and says which slots it shows
  local bar, first, last = fill:match("(%[[^%]]+%]) slots (%d+)%-(%d+)")
  T.eq(tonumber(last) - tonumber(first) + 1, #bar - 2, "the caption names as many slots as drawn")
end

function cases.rings_scaled()
  local e <close> = lab.open("sim", {})
  e:region { frames = 4096, frame_size = 2048 }
  e:fill(2048)
  local r = e:rings().fill
  local bar, caption = views.ring_bar(r, 22)
  T.eq(caption, "cell=128", "a full 2048-slot ring in 16 cells of 128 slots")
  T.eq(bar, "[|###############]", "every cell waits; c and p on slot 0 (full)")
  -- more wait than fit, but far from full: cells small enough that c and p
  -- fall in different cells (before: [|.......] cell=128 hid 64 entries)
  local e2 <close> = lab.open("sim", {})
  e2:region { frames = 4096, frame_size = 2048 }
  e2:fill(64)
  bar, caption = views.ring_bar(e2:rings().fill, 29)
  T.eq(caption, "slots 0-115 cell=4", "64 of 2048 waiting: cells of 4 slots from c's")
  T.eq(bar, "[c###############p............]", "c, 15 cells waiting, p in the 17th: " .. bar)
  bar, caption = views.ring_bar({ size = 2048, cons = 2040, prod = 2104, pending = 64 }, 29)
  T.eq(caption, "slots 2040-107 cell=4", "a window that runs past the ring's end")
  T.eq(bar, "[c###############p............]", "and draws the wrapped entries")
  local small <close> = lab.open("sim", { ring_size = 16, step = true })
  local sr = small:region { frames = 64, frame_size = 2048 }
  small:fill(6)
  for _ = 1, 3 do small:tx(lab.packet.udp { dst = "198.18.0.2:9", payload = "x", region = sr }) end
  for _ = 1, 5 do small:step() end -- the NIC takes from fill and tx, fills rx and comp
  for name, ring in pairs(small:rings()) do
    if ring.size == 16 then
      local b, cap = views.ring_bar(ring, 22)
      T.eq(cap, "", name .. ": a 16-slot ring is drawn whole")
      T.eq(#b, 18, name .. ": one cell per slot")
      for slot = 0, 15 do
        local ch = b:sub(slot + 2, slot + 2)
        local waits = (slot - ring.cons) % 16 < ring.pending
        if slot == ring.cons % 16 and slot == ring.prod % 16 then T.eq(ch, "|", name .. " slot " .. slot)
        elseif slot == ring.cons % 16 then T.eq(ch, "c", name .. " slot " .. slot)
        elseif slot == ring.prod % 16 then T.eq(ch, "p", name .. " slot " .. slot)
        else T.eq(ch, waits and "#" or ".", name .. " slot " .. slot) end
      end
    end
  end
  T.eq(small:rings().fill.pending, 5, "the NIC took one fill entry")
end

function cases.owners_runs()
  local out = prompt({ "open sim", "region", "fill 4", "send udp 198.18.0.2:9999 hello", "show owners",
    "lua keep = {} for i = 1, 600 do keep[i] = lab.packet.udp{dst = '198.18.0.2:9', payload = 'x', region = r} end " ..
    "for i = 1, 600, 2 do keep[i]:release() end",
    "show owners" })
  local first = block(out, "owners of 4096 frames, as runs", "\nlua ")
  first = first:sub(1, first:find("conserved)", 1, true) + #"conserved)" - 1)
  fits(first, 80, "show owners")
  local n = select(2, first:gsub("\n", "")) + 1
  T.eq(n, 4, "4 lines: the title, one line of runs, the counts, the sum:\n" .. first)
  T.check(first:find("\n  0-3 fill, 4 comp, 5-4095 app(free)\n", 1, true), "the runs:\n" .. first)
  T.check(first:find("owners: app 4091 (held 0 + free 4091), fill 4, nic 0, rx 0, tx 0, comp 1", 1, true),
    "the counts:\n" .. first)
  T.check(first:find("sum 4096 = frames 4096 (conserved)", 1, true), "conserved")
  -- 600 packets held, every other one released: 600 runs more are too many to tell
  local second = block(out, "owners of 4096 frames in 603 runs; a cell = 8 frames")
  fits(second, 80, "show owners (fragmented)")
  local lines = select(2, second:gsub("\n", ""))
  T.check(lines <= 20, "the fragmented map fits 24 rows:\n" .. second)
  T.check(second:find("owners: app 4091 (held 300 + free 3791), fill 4, nic 0, rx 0, tx 0, comp 1", 1, true),
    "held 300:\n" .. second)
  T.check(second:find("sum 4096 = frames 4096 (conserved)", 1, true), "conserved")
end

local f = cases[case] or error("usage: ringlab views_rings_owners.lua RINGLAB rings_defaults|rings_scaled|owners_runs")
f()
print("ok - " .. case)
