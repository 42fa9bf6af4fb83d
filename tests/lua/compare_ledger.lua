-- The ledger per direction and side by side (README "Compare engines"):
-- show ledger divides by packets sent and by packets received, each on
-- its own; compare puts several engines' ledgers in columns that fit 80
-- columns (4 engines in one table); frames stay conserved throughout.
-- usage: ringlab compare_ledger.lua CASE
local T = require "common"
local C = require "ringlab.commands"
local views = require "ringlab.views"

local function run(...)
  local out, real = {}, print
  print = function(...)
    local t = {}
    for i = 1, select("#", ...) do t[i] = tostring(select(i, ...)) end
    out[#out + 1] = table.concat(t, "\t")
  end
  local err
  for _, line in ipairs({ ... }) do
    local ok, e = pcall(C.run, line)
    if not ok then err = tostring(e); break end
  end
  print = real
  return table.concat(out, "\n"), err
end

local function line_of(text, start)
  for l in text:gmatch("[^\n]+") do
    if l:sub(1, #start) == start then return l end
  end
  error("no line starting '" .. start .. "' in:\n" .. text, 2)
end

-- The words of a line after its label (the label may hold spaces).
local function cells(line, label)
  local t = {}
  for w in line:sub(#label + 1):gmatch("%S+") do t[#t + 1] = w end
  return t
end

local HDR = 14 + 20 + 8 -- ethernet, IPv4, UDP
local FRAME = HDR + 5   -- "hello"

-- a (copy mode) sends n packets of "hello" to b, which receives them all.
local function wired(n)
  run("open sim name=a", "region frames=64", "open sim name=b peer=a", "region frames=64", "fill 8", "use a")
  for _ = 1, n do run("send udp 198.18.0.2:9999 hello") end
  local out, err = run("use b", "recv")
  T.eq(err, nil, "recv on b")
  T.check(out:find(n .. " packets in `last`", 1, true), "b received them all:\n" .. out)
  run("release")
  return lab.get("a"), lab.get("b")
end

local cases = {}

function cases.show_ledger_per_direction()
  -- loopback: one packet is sent and received by the same engine
  run("open sim name=loop", "region frames=64", "fill 8", "send udp 198.18.0.2:9999 hello", "recv")
  local e = lab.get("loop")
  local st = e:stats()
  T.eq(st.tx_pkts, 1, "one sent")
  T.eq(st.rx_pkts, 1, "one received")
  local out = run("show ledger")
  local h = cells(line_of(out, "headers "), "headers")
  T.eq(h[1], tostring(HDR), "headers total")
  T.eq(h[2], "42.0", "headers per packet sent: 42, not 21")
  T.eq(h[3], "42.0", "headers per packet received")
  local k = cells(line_of(out, "kernel_copied "), "kernel_copied")
  T.eq(k[1], tostring(2 * FRAME), "the sim's kernel copied the frame out and in")
  T.eq(k[2], "94.0", "kernel_copied per sent")
  T.check(out:find("per sent: bytes / 1 packet sent; per recv: bytes / 1 packet received", 1, true),
    "the divisors are said:\n" .. out)
  -- the SVG's per-packet bars divide the same way
  local svg = os.tmpname()
  lab.plot { file = svg, engines = { e }, per_packet = true }
  local picture = io.open(svg):read("a")
  os.remove(svg)
  T.check(picture:find("<title>loop copy (per sent) headers: 42</title>", 1, true),
    "lab.plot per_packet: 42 header bytes per packet sent")
  T.conserved(e, "loopback")
  run("release", "close all")

  -- wired: a only sends, b only receives
  local a, b = wired(3)
  run("use a")
  out = run("show ledger")
  h = cells(line_of(out, "headers "), "headers")
  T.eq(h[1], tostring(3 * HDR), "a: headers of 3 packets")
  T.eq(h[2], "42.0", "a: per packet sent")
  T.eq(h[3], "-", "a: nothing received, no per-received figure")
  k = cells(line_of(out, "kernel_copied "), "kernel_copied")
  T.eq(k[1], tostring(3 * FRAME), "a: kernel copies of 3 frames")
  T.eq(k[2], "47.0", "a: kernel_copied per sent")
  run("use b")
  out = run("show ledger")
  k = cells(line_of(out, "kernel_copied "), "kernel_copied")
  T.eq(k[1], tostring(3 * FRAME), "b: kernel copies of 3 frames")
  T.eq(k[2], "-", "b: nothing sent")
  T.eq(k[3], "47.0", "b: per packet received")
  local json = run("show ledger json")
  T.check(json:find('"headers":0', 1, true), "show ledger json still gives the bytes: " .. json)
  T.conserved(a, "a")
  T.conserved(b, "b")
  run("close all")
  T.done("show_ledger_per_direction")
end

function cases.compare_columns()
  local a, b = wired(3)
  local out = run("compare a b")
  for l in out:gmatch("[^\n]+") do T.check(#l <= 80, "compare fits 80 columns: " .. l) end
  T.eq(cells(line_of(out, "engine "), "engine")[1], "a", "column 1 is a")
  T.eq(cells(line_of(out, "engine "), "engine")[2], "b", "column 2 is b")
  local sent = cells(line_of(out, "packets sent"), "packets sent")
  local recv = cells(line_of(out, "packets recv"), "packets recv")
  T.eq(sent[1] .. " " .. sent[2], "3 0", "packets sent by a and b")
  T.eq(recv[1] .. " " .. recv[2], "0 3", "packets received by a and b")
  local h = cells(line_of(out, "headers "), "headers")
  T.eq(h[1] .. " " .. h[2], (3 * HDR) .. " 0", "headers a, b")
  local k = cells(line_of(out, "kernel_copied"), "kernel_copied")
  T.eq(k[1] .. " " .. k[2], (3 * FRAME) .. " " .. (3 * FRAME), "kernel_copied a, b")
  -- the per-packet rows follow their category: headers then its per row
  local rows = {}
  for l in out:gmatch("[^\n]+") do rows[#rows + 1] = l end
  for i, l in ipairs(rows) do
    if l:match("^kernel_copied") then
      T.eq(table.concat(cells(rows[i + 1], "  per sent/recv"), " "), "47/- -/47", "kernel per sent / per recv")
    elseif l:match("^headers") then
      T.eq(table.concat(cells(rows[i + 1], "  per sent/recv"), " "), "42/- -/0", "headers per sent / per recv")
    end
  end
  -- no names: every open engine; four in one table of 80 columns
  run("open sim name=third", "open sim name=a-long-engine-name")
  out = run("compare")
  local engine_rows = select(2, out:gsub("\nengine ", "")) + (out:match("^engine ") and 1 or 0)
  T.eq(engine_rows, 1, "four engines in one table")
  for l in out:gmatch("[^\n]+") do T.check(#l <= 80, "four engines fit 80 columns: " .. l) end
  local names = cells(line_of(out, "engine "), "engine")
  T.eq(#names, 4, "four columns")
  T.eq(names[3], "third", "in the order of opening")
  T.check(names[4]:match("~$"), "a name longer than its column is cut with ~: " .. names[4])
  -- a fifth: still no line over 80
  run("open sim name=fifth")
  out = run("compare")
  for l in out:gmatch("[^\n]+") do T.check(#l <= 80, "five engines fit 80 columns: " .. l) end
  T.check(out:find("fifth", 1, true), "the fifth is shown")
  -- the same from Lua
  local text = lab.compare("a", b)
  T.eq(text, (run("compare a b")), "lab.compare(name, engine) is the compare text")
  T.eq(lab.compare({ a, "b" }), text, "lab.compare{...}")
  T.check(views.compare({}, 80):find("no engine to compare", 1, true), "nothing to compare says so")
  T.conserved(a, "a")
  T.conserved(b, "b")
  run("close all")
  T.done("compare_columns")
end

function cases.compare_errors()
  run("open sim name=a")
  local _, err = run("compare a nope")
  T.eq(err, "compare: no open engine is called 'nope' - open ones: a", "unknown name")
  local ok, e2 = pcall(lab.compare, 42)
  T.check(not ok and e2:find("compare: argument 1 is a number", 1, true), "a number: " .. tostring(e2))
  local a = lab.get("a")
  a:close()
  ok, e2 = pcall(lab.compare, a)
  T.check(not ok and e2:find("compare: a is closed", 1, true), "a closed engine: " .. tostring(e2))
  T.done("compare_errors")
end

local case = arg[1] or error("usage: compare_ledger.lua CASE")
assert(cases[case], "no case " .. case)()
