-- The ledger per direction and side by side (README "Compare engines"):
-- the ledger knows the path of every byte, so show ledger gives each
-- category's total, its send part and receive part, and each part divided
-- by the packets of its own path; compare puts several engines' ledgers in
-- columns that fit 80 columns (4 engines in one table); e:stats().ledger
-- has tx= and rx= parts that add up to the totals; after send tcp
-- strategy=copy on a sim pair the sender's copies are all on the send path
-- and the receiver's on the receive path; frames stay conserved.
-- usage: ringlab compare_ledger.lua CASE
local T = require "common"
local views = require "ringlab.views"

local run = T.prompt

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
  -- columns: total, sent part, recv part, per sent, per recv
  local h = cells(line_of(out, "headers "), "headers")
  T.eq(table.concat(h, " ", 1, 5), HDR .. " " .. HDR .. " 0 42.0 0.0",
    "headers: all written to send, 42 per packet sent, none on receive")
  local k = cells(line_of(out, "kernel_copied "), "kernel_copied")
  T.eq(k[1], tostring(2 * FRAME), "the sim's kernel copied the frame out and in")
  T.eq(table.concat(k, " ", 2, 5), FRAME .. " " .. FRAME .. " 47.0 47.0",
    "kernel_copied: one frame out on send, one in on receive, 47 per packet each way (not 94)")
  T.eq(st.ledger.tx.kernel_copied, FRAME, "stats: kernel_copied on the send path")
  T.eq(st.ledger.rx.kernel_copied, FRAME, "stats: kernel_copied on the receive path")
  T.eq(st.ledger.tx.headers .. " " .. st.ledger.rx.headers, HDR .. " 0", "stats: headers only sent")
  for _, c in ipairs(views.LEDGER_ROWS) do
    T.eq(st.ledger.tx[c[1]] + st.ledger.rx[c[1]], st.ledger[c[1]], c[1] .. ": tx + rx = the total")
  end
  T.check(out:find("per sent: sent / 1 packet sent; per recv: recv / 1 packet received", 1, true),
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
  T.eq(h[4], "42.0", "a: per packet sent")
  T.eq(h[5], "-", "a: nothing received, no per-received figure")
  k = cells(line_of(out, "kernel_copied "), "kernel_copied")
  T.eq(table.concat(k, " ", 1, 3), (3 * FRAME) .. " " .. (3 * FRAME) .. " 0", "a: kernel copies of 3 frames sent")
  T.eq(k[4], "47.0", "a: kernel_copied per sent")
  run("use b")
  out = run("show ledger")
  k = cells(line_of(out, "kernel_copied "), "kernel_copied")
  T.eq(table.concat(k, " ", 1, 3), (3 * FRAME) .. " 0 " .. (3 * FRAME), "b: kernel copies of 3 frames received")
  T.eq(k[4], "-", "b: nothing sent")
  T.eq(k[5], "47.0", "b: per packet received")
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

-- send tcp size=64k strategy=copy from A to B (a sim pair): A copied the
-- 64 KiB into its frames to send it - none of that is receive; B's reads
-- of what arrived are receive; each kernel copy out on one side is a
-- kernel copy in on the other.
function cases.send_tcp_copy_directions()
  local out, err = run("open sim name=B", "region frames=512", "open sim name=A peer=B", "region frames=512",
    "send tcp 198.18.0.2:8080 size=64k strategy=copy to=B")
  T.eq(err, nil, "send tcp")
  T.check(out:find("65536 bytes in 45 segments arrived intact", 1, true), "B got it all:\n" .. out)
  local a, b = lab.get("A"), lab.get("B")
  local sa, sb = a:stats(), b:stats()
  T.eq(sa.ledger.copied, 65536, "A copied the data into frames")
  T.eq(sa.ledger.tx.copied, 65536, "A: all of it on the send path")
  T.eq(sa.ledger.rx.copied, 0, "A: none on the receive path")
  T.eq(sa.ledger.rx.headers, 0, "A: headers are written to send")
  T.eq(sb.ledger.rx.referenced, 65536, "B: the 64 KiB read where it arrived")
  T.eq(sb.ledger.tx.referenced, 0, "B: sent none of it")
  T.eq(sb.ledger.tx.touched, 0, "B: touched only what it received")
  T.eq(sb.ledger.rx.kernel_copied, sa.ledger.tx.kernel_copied, "B's kernel copied in what A's copied out")
  T.eq(sa.ledger.rx.kernel_copied, sb.ledger.tx.kernel_copied, "and the other way (B's ACKs)")
  T.eq(sa.ledger.tx.kernel_copied + sa.ledger.rx.kernel_copied, sa.ledger.kernel_copied, "A: tx + rx = total")
  -- the screen says it: A's copied per sent, and nothing per received
  run("use A")
  out = run("show ledger")
  local c = cells(line_of(out, "copied "), "copied")
  T.eq(table.concat(c, " ", 1, 5), string.format("65536 65536 0 %.1f 0.0", 65536 / sa.tx_pkts),
    "A's show ledger: copied all sent")
  out = run("compare A B")
  local rows = {}
  for l in out:gmatch("[^\n]+") do rows[#rows + 1] = l; T.check(#l <= 80, "fits 80: " .. l) end
  for i, l in ipairs(rows) do
    if l:match("^copied") then
      T.eq(table.concat(cells(rows[i + 1], "  per sent/recv"), " "),
        string.format("%.0f/0 0/0", 65536 / sa.tx_pkts), "compare: copied per sent / per recv of A, B")
    end
  end
  -- B reads a received packet's payload out: a copy on the receive path
  run("use B", "fill 8", "use A", "send udp 198.18.0.2:9999 hello")
  local got = b:rx(8)
  local before = b:stats().ledger
  T.eq(got[1]:payload(), "hello", "B received hello")
  local after = b:stats().ledger
  T.eq(after.rx.copied - before.rx.copied, 5, "B: the payload read out is copied on receive")
  T.eq(after.tx.copied - before.tx.copied, 0, "B: nothing copied to send")
  T.eq(got[1]:ledger().rx.copied, 5, "the packet's own ledger: received, copied out")
  for _, p in ipairs(got) do p:release() end
  T.conserved(a, "A")
  T.conserved(b, "B")
  run("close all")
  T.done("send_tcp_copy_directions")
end

local case = arg[1] or error("usage: compare_ledger.lua CASE")
assert(cases[case], "no case " .. case)()
