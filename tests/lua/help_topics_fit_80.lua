-- help strategies | mtu | gso | tso: each topic says what it must (the
-- strategies, each with its drawing and what it needs), every line fits 80
-- columns; help for an unknown word suggests the nearest topics or
-- commands in one line instead of printing the whole list.
-- usage: ringlab help_topics_fit_80.lua /path/to/ringlab
local T = require "common"

local ringlab = arg[1] or error("usage: ringlab help_topics_fit_80.lua RINGLAB")

local function run(cmd)
  local p = assert(io.popen(string.format("NO_COLOR=1 COLUMNS=80 '%s' -c '%s' 2>&1", ringlab, cmd)))
  local out = p:read("a")
  p:close()
  return out
end

local function fits(out, what)
  local n = 0
  for line in out:gmatch("[^\n]*") do
    n = n + 1
    T.check(#line <= 80, what .. ": a line of " .. #line .. " columns: " .. line)
  end
  return n
end

local s = run("help strategies")
fits(s, "help strategies")
for _, w in ipairs({ "copy", "reuse", "born", "sg", "extbuf", "gso", "tso" }) do
  T.check(s:find("\n" .. w .. " ", 1, true), "help strategies explains " .. w)
end
T.check(s:find("[H|ddd]", 1, true), "a drawing of a frame with headers and data")
T.check(s:find("[H]->[ddd]", 1, true), "a drawing of a header frame chained to data")
T.check(s:find("(your memory: ddd)", 1, true), "a drawing of an external buffer")
T.check(s:find("headroom", 1, true), "born: the headroom")
T.check(s:find("AF_XDP sg=true, DPDK MULTI_SEGS", 1, true), "what born and sg need")
T.check(s:find("send tcp 198.18.0.2:8080 size=64k strategy=sg", 1, true), "something to try")

local m = run("help mtu")
fits(m, "help mtu")
T.check(m:find("MSS = 1500 - 40 = 1460", 1, true), "mtu: the MSS")
T.check(m:find("45 segments at\nMSS 1460, 46 at 1448", 1, true), "mtu: 64 KiB in segments")

local g = run("help gso")
fits(g, "help gso")
T.check(g:find("rte_gso_segment", 1, true) and g:find("MULTI_SEGS", 1, true), "gso: DPDK's and what it needs")
local t = run("help tso")
fits(t, "help tso")
T.check(t:find("wire:    [H1|ddd] [H2|ddd]", 1, true), "tso: the drawing of the wire")

local list = run("help")
T.check(list:find("strategies | mtu", 1, true) and list:find("| gso | tso", 1, true), "help lists the new topics")

T.eq(run("help stratgies"), "no help on 'stratgies' - did you mean: help strategies?\n", "a typo")
T.eq(run("help strategy"), "no help on 'strategy' - did you mean: help strategies?\n", "a near word")
T.eq(run("help tcp"), "no help on 'tcp' - did you mean: help send, help strategies?\n", "a word people try")
local none = run("help xyzzy")
T.check(none:find("^no help on 'xyzzy' %- topics: [%w ]*strategies[%w ]*; help alone lists the commands"),
  "nothing near: the topics in one line, not the command list: " .. none)
T.eq(select(2, none:gsub("\n", "")), 1, "one line")
T.done("help_topics_fit_80")
