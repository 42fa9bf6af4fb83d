-- What a newcomer meets following the README, checked where it went wrong:
--   help_fits_80        help: every command on one 80x24 screen; help all
--                       and help show within 80 columns, show's forms on
--                       lines of their own
--   engines_available   engines available: every line within 80 columns;
--                       show engines json a list, [] with none open
--   host_up_sim         host up on a simulator (no interface, no mac=): up
--                       with a made-up MAC, and in an 80x24 terminal (tmux)
--                       it answers a ping sent from the engine wired to it
--   peer_taken          open sim peer=X when X already has its peer: one
--                       line naming both and what to open instead
--   null_invented_hex   dpdk net_null's invented packet in show packet N hex:
--                       labelled invented, no Ethernet header made up; show
--                       caps of net_ring alone says peer=ITS_NAME
--   lesson_pause_80     help WORD, lessons and lesson 1's pause line at
--                       80x24: cut between words
--   complete_open       Tab after open KIND, peer= and region: their key=
--                       words, the open engines (no peer=peer=)
--   watch_none          watch with no engine open: one line, at once
--   none_current        engines open (a lesson's, lab.open's) but none current:
--                       a command says use NAME, not "no engine is open"
--   open_hints          open's refusals say their examples as prompt commands
--   show_tcp_80         show tcp at 80x24: labelled figures, not a 110-column
--                       table; a pipe still gets the table
--   watch_one_80        watch NAME at 80x24: the owners line keeps "= 4096"
--   step_80             step at 80x24: the slot note under the row, the
--                       sentence cut between words (beside it at 160x48)
--   send_count          send udp DST PAYLOAD count=3: three packets, not a
--                       payload ending in count=3
--   compare_copy_sg     two sim pairs, send tcp 64k with copy and with sg:
--                       compare shows copied 65536 against 0
-- usage: ringlab newcomer_readme.lua RINGLAB CASE
local T = require "common"

local ringlab, case = arg[1], arg[2]

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- ringlab -c for each command; the output (stdout and stderr) and status
local function run(...)
  local cmd = { "NO_COLOR=1", q(ringlab) }
  for _, c in ipairs({ ... }) do cmd[#cmd + 1] = "-c " .. q(c) end
  local p = assert(io.popen(table.concat(cmd, " ") .. " 2>&1"))
  local out = p:read("a")
  local _, _, status = p:close()
  return out, status
end

local function fits(out, what)
  for line in out:gmatch("[^\n]*") do
    T.check(#line <= 80, what .. ": a line of " .. #line .. " columns: " .. line)
  end
end

local cases = {}

function cases.help_fits_80()
  -- help alone: every command on one 80x24 screen, grouped
  local short = run("help")
  fits(short, "help")
  local n = select(2, short:gsub("\n", ""))
  T.check(n <= 23, "help fits 24 rows, not " .. n .. ":\n" .. short)
  local C = require "ringlab.commands"
  for _, c in ipairs(C.list) do
    T.check(short:find("[ \n]" .. c.name:gsub("%p", "%%%0") .. "[ \n]"), "help lists " .. c.name .. ":\n" .. short)
  end
  T.check(short:find("\n look     show rings|owners|stats|ledger|drops|caps|arp|tcp|engines [json]\n"
    .. "          show packet N [hex] [json]   show ledger --svg FILE\n", 1, true), "help: show's forms:\n" .. short)
  T.check(short:find("help COMMAND explains one, help all explains each", 1, true), "says how to get more")
  -- help all: each command explained, within 80 columns
  local all = run("help all")
  fits(all, "help all")
  T.check(all:find("\n  show rings|owners|stats|ledger|drops|caps|arp|tcp|engines [json]\n  show packet N [hex] [json]\n"
    .. "  show ledger --svg FILE\n", 1, true), "help all: show's forms one a line:\n" .. all)
  T.check(all:find("\n  use NAME|#N\n      make another open engine", 1, true)
    and all:find("\n  compare [NAME...]\n", 1, true), "help all explains use and compare")
  local show = run("help show")
  fits(show, "help show")
  T.check(show:find("^show rings|[^\n]*engines %[json%]\nshow packet N %[hex%] %[json%]\nshow ledger %-%-svg FILE\n  draw the rings"),
    "help show:\n" .. show)
end

function cases.engines_available()
  -- show engines json is a list: [] with nothing open (it was {})
  T.eq(run("show engines json"), "[]\n", "no engine open: an empty list")
  T.check(run("open sim name=a", "show engines json"):find('\n%[{"current":true,"id":1,"kind":"sim"'), "one engine")
  -- engines: a long name widens the name column up to 14, then is cut with ~
  local e = run("open sim name=abcdefghijklmnopqrstuvw", "open sim name=zc", "engines")
  fits(e:match("\n(  name .*)$") or "", "engines with a long name")
  T.check(e:find("\n  abcdefghijklm~ sim   copy     none yet ", 1, true)
    and e:find("\n* zc             sim   copy ", 1, true), "aligned:\n" .. e)
  local out = run("engines available")
  fits(out, "engines available")
  T.check(out:find("^sim      available     software NIC"), "sim first:\n" .. out)
  -- the summary goes on under its column, not from the left edge
  for line in out:gmatch("[^\n]+") do
    T.check(line:find("^%a") or line:find("^                       %S"), "wrapped under the column: " .. line)
  end
end

function cases.host_up_sim()
  local out, st = run("open sim", "host up", "host status")
  T.eq(st, 0, "host up on a sim succeeds: " .. out)
  T.check(out:find("198.18.0.1 is up", 1, true) and out:find("send icmp 198.18.0.1", 1, true),
    "host up says how to ping it from the lab:\n" .. out)
  T.check(out:find("host 198.18.0.1 (02:00:00:00:00:01)", 1, true), "a made-up MAC:\n" .. out)
  T.check(not out:find("netns", 1, true), "no namespace on a sim:\n" .. out)
  out, st = run("open sim", "serve ping x")
  T.eq(st, 1, "serve ping x refused")
  T.check(out:find("ringlab: serve ping: 'x' is not a whole number - e.g. serve ping 64\n", 1, true), "its example:\n" .. out)

  local X = require "tmux"
  X.skip_without_tmux()
  local t = X.start(ringlab, 80, 24)
  t.wait("the prompt", X.has("ringlab>"))
  for _, l in ipairs({ "open sim name=a", "region frames=64", "fill 8", "host up", "open sim name=b peer=a",
    "region frames=64", "fill 8", "send icmp 198.18.0.1" }) do
    t.command(l)
  end
  -- a's host answered between the prompts; b receives the reply
  local s
  for _ = 1, 20 do
    lab.sleep(0.2)
    s = t.command("recv")
    s = s:match(".*> recv\n(.*)$") -- what the last recv printed
    if not s:find("nothing received", 1, true) then break end
  end
  T.check(s:find("1: icmp echo reply 198.18.0.1 > ", 1, true), "b got the echo reply:\n" .. s)
  s = t.command("lua print(#lab.get('a'):rings() and lab.get('a'):owners().frames)")
  T.check(s:find("\n64\n", 1, true), "a's frames conserved:\n" .. s)
  t.finish()
end

function cases.peer_taken()
  local out, st = run("open sim name=rx", "open sim name=copy peer=rx", "open sim name=sg peer=rx")
  T.eq(st, 1, "refused")
  local line = "ringlab: open: rx is already wired to copy (a sim has one peer) - open a new pair: "
    .. "open sim name=rx2, then open sim peer=rx2\n"
  T.check(out:find(line, 1, true), "one line naming both:\n" .. out)
  T.eq(select(2, out:gsub("ringlab: ", "")), 1, "one error line")
  -- once copy is closed, rx takes a new peer
  out, st = run("open sim name=rx", "open sim name=copy peer=rx", "close copy", "open sim name=sg peer=rx",
    "send tcp 198.18.0.2:8080 size=8k strategy=copy to=rx")
  T.eq(st, 0, "after close copy, sg wires to rx: " .. out)
  T.check(out:find("8192 bytes in 6 segments arrived intact (rx compared them)", 1, true), out)
end

-- The README's two strategies side by side: each sender on its own sim
-- pair, compare shows copy's 65536 copied against sg's 0 (the prompt makes
-- sg's data in the region in place, b:testdata(), not by a copy).
function cases.compare_copy_sg()
  local out, st = run("open sim name=rx1", "open sim name=copy peer=rx1",
    "send tcp 198.18.0.2:8080 size=64k strategy=copy", "open sim name=rx2", "open sim name=sg peer=rx2",
    "send tcp 198.18.0.2:8080 size=64k strategy=sg", "compare copy sg")
  T.eq(st, 0, out)
  T.check(out:find("\ncopied%s+65536%s+0\n"), "compare: copied 65536 for copy, 0 for sg:\n" .. out)
  T.check(out:find("\nreferenced%s+0%s+65536\n"), "compare: referenced 0 for copy, 65536 for sg:\n" .. out)
  out, st = run("open sim name=rx", "open sim name=sg peer=rx", "send tcp 198.18.0.2:8080 size=64k strategy=sg",
    "lua local l = lab.get('sg'):stats().ledger print('sg ledger', l.copied, l.referenced)")
  T.eq(st, 0, out)
  T.check(out:find("\nsg ledger\t0\t65536\n", 1, true), "the engine's own ledger: nothing copied:\n" .. out)
  -- b:testdata(): the bytes send tcp compares, made in place, counted nowhere
  local e = lab.open("sim")
  local b = e:region{ frames = 64 }:alloc(100001)
  b:testdata()
  T.eq(e:stats().ledger.copied, 0, "testdata copies nothing")
  local want = {}
  for i = 0, 100001 // 16 - 1 do want[#want + 1] = string.format("%015x\n", i * 16) end
  T.eq(b:read(), table.concat(want) .. string.rep("#", 100001 % 16), "testdata's bytes")
  e:close()
end

-- DPDK net_null invents what it receives: show packet N hex labels the
-- bytes as invented, not as an Ethernet header of type 0x0000.
function cases.null_invented_hex()
  local have
  for _, en in ipairs(lab.engines()) do
    if en.name == "dpdk" and en.available then have = true end
  end
  if not have then
    print("SKIP: the dpdk engine is not built here")
    os.exit(77)
  end
  local out, st = run("open dpdk name=null vdev=net_null0", "region frames=512", "fill 8", "recv 1",
    "show packet 1", "show packet 1 hex")
  T.eq(st, 0, out)
  fits(out:match("\n(64 bytes invented by net_null, not dissected.*)$"), "show packet of an invented packet")
  T.check(out:find("\n64 bytes invented by net_null (1 segment), not dissected\n-- descriptor 1 of 1: frame ", 1, true),
    "hex: who made the bytes:\n" .. out)
  T.check(out:find("\nbytes   0000  ", 1, true), "the first row labelled bytes:\n" .. out)
  T.check(not out:find("ethernet type", 1, true) and not out:find("\neth ", 1, true),
    "no Ethernet header made up:\n" .. out)
  -- show caps on net_ring alone names the engine to wire to by its name
  out, st = run("open dpdk name=ring vdev=net_ring0", "show caps")
  T.eq(st, 0, out)
  T.check(out:find("wire a second port to this one: open dpdk peer=ring\n", 1, true), "peer=NAME:\n" .. out)
end

-- lesson 1 at 80x24: its pause line ("next, part 2: ... - press Enter")
-- is cut between words, not broken mid-word by the terminal; lessons too.
function cases.lesson_pause_80()
  local X = require "tmux"
  X.skip_without_tmux()
  local t = X.start(ringlab, 80, 24)
  t.wait("the prompt", X.has("ringlab>"))
  -- help for a word it does not know: its one line cut between words
  local h = t.command("help xyzzy")
  T.check(h:find("no help on 'xyzzy' - topics: gso kernel ledger lua modes mtu netmap owners\n  rings step strategies tso wire;", 1,
    true), "help xyzzy cut between words:\n" .. h)
  t.keys("lessons", "Enter") -- 24 rows: one line a lesson, the whole list on the screen
  local s = t.wait("the lessons", X.has("run one: lesson N"))
  T.check(s:find("\n 1  a UMEM and its four rings\n 2  the read path, step by step\n", 1, true)
    and s:find("\n 4  why not mmap per packet\n", 1, true), "lessons one line each, all on screen:\n" .. s)
  T.check(s:find("run one: lesson N [ENGINE] [part M] [--check]; a taller window also shows what\n  each is about", 1,
    true), "the last line cut between words:\n" .. s)
  t.keys("lesson 1", "Enter")
  s = t.wait("lesson 1's first pause", X.has("Enter stops)"))
  T.check(s:find(" next, part 2: the fill ring: lend 8 empty frames to the NIC - press Enter (q\n"
    .. " Enter stops)", 1, true), "the pause cut between words:\n" .. s)
  t.keys("q", "Enter")
  t.wait("the lesson stopped", X.has("stopped with q"))
  t.finish()
end

-- Tab after open KIND offers that engine's key= words, after peer= the open
-- engines (not peer=peer=), after region its three; each key is one open
-- accepts (an unknown one would be refused).
function cases.complete_open()
  local R = require "ringlab.repl"
  local C = require "ringlab.commands"
  local function tab(line, text) return table.concat(R.complete(text, line, #line - #text), " ") end
  T.eq(tab("open sim pe", "pe"), "peer=", "open sim pe<Tab>")
  T.check((" " .. tab("open sim ", "") .. " "):find(" name= .* step= ", 1) ~= nil, "open sim <Tab>: name= ... step=")
  T.eq(tab("open dpdk v", "v"), "vdev=", "open dpdk v<Tab>")
  T.eq(tab("region ", ""), "frames= headroom= size=", "region <Tab>")
  T.eq(tab("open sim mode=", ""), "", "a value: nothing offered")
  C.run("open sim name=copy")
  C.run("open sim name=zc")
  T.eq(tab("open sim peer=", ""), "copy zc", "open sim peer=<Tab>: the open engines")
  T.eq(tab("open sim peer=c", "c"), "copy", "open sim peer=c<Tab>")
  -- every key= offered for sim is an option the simulator takes
  for _, k in ipairs(R.complete("", "open sim ", 9)) do
    local v = ({ name = "x1", mode = "copy", step = "false", peer = "zc", need_wakeup = "true",
      ring_size = "64", fill_size = "64", comp_size = "64", rx_size = "64", tx_size = "64",
      wire_capacity = "64", loss = "0", reorder = "0", tso = "true", gso = "false", csum = "true" })[k:sub(1, -2)]
    T.check(v, "a value to try for " .. k)
    local ok, err = pcall(C.run, "open sim " .. k .. v)
    T.check(ok, "open sim " .. k .. v .. ": " .. tostring(err))
    C.run("close")
  end
end

-- watch with no engine open: one line saying what to open, at once (it
-- drew an empty dashboard on a terminal; without one printed the line
-- three times over two seconds)
function cases.watch_none()
  local t0 = lab.now()
  local out, st = run("watch")
  T.eq(st, 1, "refused")
  T.eq(out, "ringlab: watch: no engine is open - open one first: open sim (or watch run SCRIPT)\n", "one line")
  local p = assert(io.popen(string.format("%s -e 'lab.watch(nil, {count=3, interval=0.5})' 2>&1", q(ringlab))))
  T.eq(p:read("a"), "watch: no engine is open - open one: open sim\n", "lab.watch: once")
  p:close()
  T.check(lab.now() - t0 < 1, "at once, not after the intervals")
end

-- step at 80x24 (the tour): the moved slot's note goes under the row
-- ("^ slot tx[0] gave up frame 4") when it does not fit beside it, and
-- the sentence after is cut between words; at 160 columns it stays beside
function cases.step_80()
  local X = require "tmux"
  X.skip_without_tmux()
  for _, size in ipairs({ { 80, 24 }, { 160, 48 } }) do
    local t = X.start(ringlab, size[1], size[2])
    t.wait("the prompt", X.has("ringlab>"))
    for _, l in ipairs({ "open sim step=true", "region frames=64 size=2048", "fill 4",
      "send udp 198.18.0.2:9999 hello" }) do
      t.command(l)
    end
    local s = t.command("step")
    if size[1] == 80 then
      T.check(s:find("\n  tx    %[@%.+%] c0    p1     %[o%.+%] c1    p1 *\n"
        .. "                                         %^ slot tx%[0%] gave up frame 4\n"), "the caret:\n" .. s)
      T.check(s:find("and put the packet on the\n  wire; frame 4 is now owned", 1, true), "cut between words:\n" .. s)
    else
      T.check(s:find("c1    p1     <- slot tx[0] gave up frame 4\n", 1, true), "beside at 160:\n" .. s)
    end
    t.finish()
  end
end

-- watch NAME at 80x24 after a 64 KiB send: the owners line keeps its sum
-- ("= 4096", the conservation) on screen instead of losing it to the edge
function cases.watch_one_80()
  local X = require "tmux"
  X.skip_without_tmux()
  local t = X.start(ringlab, 80, 24)
  t.wait("the prompt", X.has("ringlab>"))
  for _, l in ipairs({ "open sim name=rx1", "open sim name=copy peer=rx1",
    "send tcp 198.18.0.2:8080 size=64k strategy=copy" }) do
    t.command(l)
  end
  t.keys("watch copy", "Enter")
  local s = t.wait("the dashboard", X.has("-- copy (sim)"))
  s = t.wait("the owners line", X.has(" owners: app "))
  T.check(s:find("\n owners: app 2048 %(held 0, free 2048%) fill 2048 nic 0 rx 0 tx 0 comp 0 = 4096\n"),
    "the owners line whole:\n" .. s)
  t.keys("q")
  t.wait("the prompt again", function(x) return x:find("ringlab%[copy%]>%s*$") ~= nil end)
  t.finish()
end

-- engines open but none current (a lesson leaves its engines open; Lua's
-- lab.open does not make one current): a command says to pick one with
-- use, not that no engine is open
function cases.none_current()
  local out, st = run("lesson 2", "show owners")
  T.eq(st, 1, "refused")
  T.check(out:find("the lesson left receiver, sender open", 1, true), "the lesson says what it left:\n" .. out)
  T.check(out:find("ringlab: no engine is the current one - pick one: use sender (open ones: sender, receiver)\n", 1,
    true), "pick one:\n" .. out)
  out, st = run("lua x = lab.open('sim', {name='lua1'})", "fill 1")
  T.check(out:find("ringlab: no engine is the current one - pick one: use lua1 (open ones: lua1)\n", 1, true),
    "after lab.open:\n" .. out)
  out, st = run("lua x = lab.open('sim', {name='lua1'})", "use lua1", "region frames=8", "fill 1")
  T.eq(st, 0, "use makes it current: " .. out)
  T.check(out:find("offered 1 frames", 1, true) or out:find("offered 1 frame", 1, true), out)
end

-- show tcp at 80x24: each connection's figures labelled (the 110-column
-- table lost its alignment when cut to 80); without a terminal the table
function cases.show_tcp_80()
  local out = run("open sim name=rx", "open sim name=tx peer=rx", "send tcp 198.18.0.2:8080 size=8k", "show tcp")
  T.check(out:find("\nlocal%s+remote%s+state%s+mss%s+sent%s+received"), "a pipe gets the table:\n" .. out)
  local X = require "tmux"
  X.skip_without_tmux()
  local t = X.start(ringlab, 80, 24)
  t.wait("the prompt", X.has("ringlab>"))
  for _, l in ipairs({ "open sim name=rx", "open sim name=tx peer=rx", "send tcp 198.18.0.2:8080 size=8k" }) do
    t.command(l)
  end
  local s = t.command("show tcp")
  T.check(s:find("\n198%.18%.0%.1:%d+ > 198%.18%.0%.2:8080 TIME_WAIT mss 1460 sent 8192 received 0\n"
    .. "  in%-flight 0 rtx 0 ooo 0 dup 0\n198%.18%.0%.2:8080  LISTEN  backlog 0/16  refused 0\n"), "labelled, cut between words:\n" .. s)
  t.finish()
end

-- open's refusals give their examples as typed at the prompt (the engines
-- say lab.open("afxdp", {ifname="rl0"}) and vdev="net_ring0"); Lua keeps Lua
function cases.open_hints()
  local out, st = run("open afxdp")
  T.eq(st, 1, "refused")
  -- without root afxdp is refused before its options are looked at, saying so
  T.check(out:find("e.g. open afxdp ifname=rl0 - ", 1, true) or out:find("AF_XDP needs root", 1, true),
    "afxdp:\n" .. out)
  out = run("open dpdk")
  T.check(out:find("e.g. open dpdk vdev=net_ring0 (or vdev=net_null0, vdev=net_af_packet0,iface=veth0)", 1, true),
    "dpdk:\n" .. out)
  T.eq(select(2, out:gsub("\n", "")), 1, "one line")
  local ok, err = pcall(lab.open, "dpdk")
  T.check(not ok and tostring(err):find('vdev="net_ring0"', 1, true), "Lua keeps Lua: " .. tostring(err))
end

-- send udp DST PAYLOAD count=N: N packets, count= an option (it was sent
-- as part of the payload); a bad count is one line
function cases.send_count()
  local out, st = run("open sim name=rx", "region frames=256", "fill 16", "open sim name=tx peer=rx",
    "region frames=256", "send udp 198.18.0.2:9 hi there count=3", "use rx", "recv")
  T.eq(st, 0, "ran:\n" .. out)
  T.check(out:find("sent 3 x udp 198.18.0.1:9000 > 198.18.0.2:9 len 50", 1, true), "3 packets of 'hi there':\n" .. out)
  T.check(out:find("\n3 packets in `last`", 1, true), "the peer got 3:\n" .. out)
  out, st = run("open sim", "region frames=256", "send udp 198.18.0.2:9 x count=0")
  T.eq(st, 1, "refused")
  T.check(out:find("send udp: count=0 is not 1..1000 - e.g. count=3", 1, true), out)
  T.check(out:find("\n[^\n]*count=0[^\n]*\n$") and not out:find("traceback"), "one error line:\n" .. out)
end

local f = cases[case] or error("usage: newcomer_readme.lua RINGLAB " .. "send_count|help_fits_80|engines_available|host_up_sim|peer_taken|compare_copy_sg|null_invented_hex|lesson_pause_80|complete_open|watch_none|step_80|watch_one_80|none_current|show_tcp_80|open_hints")
f()
T.done("newcomer_readme " .. case)
