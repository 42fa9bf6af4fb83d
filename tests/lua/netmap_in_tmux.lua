-- show rings of a netmap port (open sim personality=netmap) in a real
-- 80x24 terminal (a private tmux server, killed at the end): two ports of
-- one pool, two packets received and forwarded by swapping buf_idx; the
-- rings are drawn in netmap's terms - head/cur/tail, the slots' owners -
-- not as producer/consumer, and no row is wider than 80 columns.
-- Case watch_160: the live dashboard of the same two ports at 160x48 (and
-- watch_80 at 80x24): each ring as its slots with head/cur/tail under them.
-- usage: ringlab netmap_in_tmux.lua RINGLAB [show_rings_80|watch_80|watch_160]
--        (exits 77 without tmux)
local T = require "common"

local ringlab = arg[1] or error("usage: ringlab netmap_in_tmux.lua RINGLAB [CASE]")
local case = arg[2] or "show_rings_80"
local X = require "tmux"
X.skip_without_tmux()
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local cols, rows = 80, 24
if case == "watch_160" then cols, rows = 160, 48 end
local S = X.start("NO_COLOR=1 " .. q(ringlab), cols, rows, { secs = 15 })
local has = X.has
-- clear the screen, and wait for the bare prompt at its top
local function clear()
  S.keys("clear", "Enter")
  S.wait("the cleared screen", function(sc) return sc:match("^ringlab%S*>%s*\n") ~= nil end)
end
S.wait("the prompt", has("ringlab"))
S.command("open sim personality=netmap pool=fw ring_size=16 name=in")
S.command("open sim personality=netmap pool=fw ring_size=16 name=out")
S.command("use in")
S.command("send udp 198.18.0.2:9999 hello")
S.command("send udp 198.18.0.2:9999 world")
clear()
local s = S.command("rxsync")
T.check(s:find("2 packets received; tail 0 -> 2", 1, true), "rxsync says what arrived:\n" .. s)
if case ~= "show_rings_80" then
  clear()
  S.keys("watch in out", "Enter")
  s = S.wait("the dashboard", function(sc) return sc:find("-- out (sim)  mode netmap", 1, true) ~= nil end)
  print(s)
  T.check(s:find("-- in (sim)  mode netmap", 1, true), "in's panel")
  T.check(s:find("\n rx [RRFFFFFFFFFFFFFF] head 0 cur 0 tail 2  2 to read\n     h t\n", 1, true),
    "in's rx ring in netmap's terms, head and tail marked")
  T.check(s:find("\n tx [ACAAAAAAAAAAAAAA] head 2 cur 2 tail 1  15 free\n      th\n", 1, true),
    "in's tx ring: the slot at tail is the kernel's")
  T.check(s:find("\n tx [AAAAAAAAAAAAAAAC] head 0 cur 0 tail 15  15 free\n", 1, true), "out's tx ring")
  T.check(s:find("owners: app", 1, true) or s:find("owners ", 1, true), "the owners under the rings")
  for line in s:gmatch("[^\n]+") do T.check(#line <= cols, "wider than the screen: " .. line) end
  S.keys("q")
  S.wait("the prompt again", function(sc) return sc:find("ringlab%[in%]>%s*$") ~= nil end)
  S.finish()
  return T.done("netmap_in_tmux " .. case)
end
clear()
s = S.command("show rings")
print(s)
T.check(s:find("netmap port in - netmap's model, simulated", 1, true), "says it is netmap's model, simulated")
T.check(s:find("pool fw: ", 1, true) and s:find("2 ports", 1, true), "the shared pool")
T.check(s:find("rx  16 slots  head 0 cur 0 tail 2  2 slots (0..1) to read", 1, true), "rx in netmap's terms")
T.check(s:find("  [RRFFFFFFFFFFFFFF]\n   h t\n", 1, true), "the rx slots and the head/tail marks")
T.check(s:find("tx  16 slots  head 2 cur 2 tail 1  15 slots (2..0) free to fill", 1, true), "tx in netmap's terms")
T.check(s:find("  [ACAAAAAAAAAAAAAA]\n    th\n", 1, true), "the tx slots: the slot at tail is the kernel's")
T.check(not s:find("prod", 1, true) and not s:find("cons", 1, true), "no producer/consumer")
for line in s:gmatch("[^\n]+") do T.check(#line <= 80, "wider than 80 columns: " .. line) end
clear()
s = S.command("forward to=out")
T.check(s:find("forward: 2 packets (2 slots, 94 bytes)", 1, true) and s:find("0 bytes copied", 1, true), "forward: 0 bytes copied:\n" .. s)
clear()
S.command("use out")
clear()
s = S.command("show slots tx 0 4")
T.check(s:find("tx ring of out: 15 slots (2..0) free to fill\n  slot buf_idx   len  flags             owner\n", 1, true)
  and s:find("\n     1 +%d+    47  %-                 comp %(sent%) t\n"), "show slots: each slot, the one at tail sent:\n" .. s)
S.finish()
T.done("netmap_in_tmux")
