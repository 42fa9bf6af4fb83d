-- Engines by name and side by side, in a real 80x24 terminal (tmux):
--   names_use     the prompt shows the current engine's name; use, engines
--                 and close change and show it
--   compare_two   compare of two wired sims fits 80x24, no line wrapped,
--                 with the figures the engines report
--   watch_many    watch with 6 engines: one line each, every one on screen
-- usage: ringlab names_in_tmux.lua RINGLAB CASE (77 = skipped: no tmux)
local T = require "common"
local X = require "tmux"

local ringlab, case = arg[1], arg[2]
X.skip_without_tmux()
local t

local function lines_of(s)
  local out = {}
  for l in (s:gsub("\n$", "") .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

local cases = {}

function cases.names_use()
  t = X.start(ringlab, 80, 24)
  t.wait("the prompt", X.has("ringlab>"))
  t.command("open sim name=copy")
  local s = t.command("open sim name=zc mode=zerocopy")
  T.check(s:find("\nringlab%[zc%]>%s*$"), "the prompt shows zc:\n" .. s)
  s = t.command("use copy")
  T.check(s:find("engine copy (sim#1, copy, no region yet) is now the current engine", 1, true), "use says:\n" .. s)
  T.check(s:find("\nringlab%[copy%]>%s*$"), "the prompt shows copy:\n" .. s)
  s = t.command("engines")
  T.check(s:find("\n%* copy%s+sim%s+copy%s+none yet"), "engines marks copy current:\n" .. s)
  T.check(s:find("\n  zc%s+sim%s+zerocopy"), "engines lists zc:\n" .. s)
  T.check(s:find("can open here: sim", 1, true), "engines says what can open:\n" .. s)
  s = t.command("open sim name=copy")
  T.check(s:find("error: open: an engine called 'copy' is open already (sim#1)", 1, true),
    "a duplicate name is one error line:\n" .. s)
  s = t.command("close")
  T.check(s:find("closed copy\ncopy is closed - the current engine is now zc", 1, true), "close says:\n" .. s)
  T.check(s:find("\nringlab%[zc%]>%s*$"), "the prompt falls back to zc:\n" .. s)
  s = t.command("lua e:close()")
  T.check(s:find("zc is closed - no engine is open now (open sim)", 1, true),
    "a close from Lua is noticed at the prompt:\n" .. s)
  T.check(s:find("\nringlab>%s*$"), "no engine: the plain prompt:\n" .. s)
  t.finish()
end

function cases.compare_two()
  t = X.start(ringlab, 80, 24)
  t.wait("the prompt", X.has("ringlab>"))
  for _, l in ipairs({ "open sim name=a", "region frames=64", "open sim name=b peer=a", "region frames=64",
    "fill 8", "use a", "send udp 198.18.0.2:9999 hello", "send udp 198.18.0.2:9999 hello", "use b", "recv",
    "release" }) do
    t.command(l)
  end
  t.command("lua print(string.rep('-', 10))") -- scroll a little more
  local s = t.command("compare")
  local L = lines_of(s)
  local first
  for i, l in ipairs(L) do if l:match("^engine ") then first = i end end
  T.check(first, "the compare table is on screen:\n" .. s)
  local want = { "engine", "kind, mode", "packets sent", "packets recv", "drops", "ledger in bytes", "copied",
    "  per sent/recv", "referenced", "  per sent/recv", "headers", "  per sent/recv", "kernel_copied",
    "  per sent/recv", "  kernel", "driver_copied", "  per sent/recv", "  driver", "touched", "  per sent/recv" }
  for i, label in ipairs(want) do
    T.eq(L[first + i - 1]:sub(1, #label), label, "row " .. i .. " (no line wrapped at 80 columns)")
  end
  T.check(L[first + #want]:match("^ringlab%[b%]>"), "the prompt right after the table:\n" .. s)
  local function row(i) return L[first + i - 1]:sub(17):gsub("^%s+", ""):gsub("%s+", " ") end
  T.eq(row(1), "a b", "the columns are a and b")
  T.eq(row(3), "2 0", "packets sent")
  T.eq(row(4), "0 2", "packets received")
  T.eq(row(11), "84 0", "headers: 2 x 42 sent by a")
  T.eq(row(12), "42/- -/0", "headers per packet sent / received")
  T.eq(row(13), "94 94", "kernel_copied: 2 x 47 each side")
  T.eq(row(14), "47/- -/47", "kernel_copied per packet sent / received")
  t.finish()
end

function cases.watch_many()
  t = X.start(ringlab, 80, 24)
  t.wait("the prompt", X.has("ringlab>"))
  local names = { "copy", "zc", "third", "fourth", "fifth", "sixth" }
  for i, n in ipairs(names) do
    t.command("open sim name=" .. n .. (n == "zc" and " mode=zerocopy" or ""))
    t.command("region frames=64")
    t.command("fill 8")
    for _ = 1, i do t.command("send udp 198.18.0.2:9999 hello") end
  end
  t.keys("watch", "Enter")
  local s = t.wait("the dashboard", X.has("ringlab watch"))
  s = t.wait("one line per engine", X.has("one line per engine: 6"))
  local L = lines_of(s)
  T.check(#L <= 24, "the screen has 24 rows")
  for i, n in ipairs(names) do
    local line
    for _, l in ipairs(L) do if l:match("^ " .. n .. " ") then line = l end end
    T.check(line, n .. " has its line on screen:\n" .. s)
    T.check(#line <= 80, "its line fits: " .. line)
    local mode, sent = line:match("^ %S+%s+(%S+)%s+(%d+)")
    T.eq(mode, n == "zc" and "zerocopy" or "copy", n .. ": its mode")
    T.eq(tonumber(sent), i, n .. ": packets sent")
  end
  T.check(s:find(" engine    mode       sent   recv", 1, true), "column heads:\n" .. s)
  t.keys("q")
  t.wait("the prompt again", function(x) return x:find("ringlab[sixth]>", 1, true) and not x:find("ringlab watch", 1, true) end)
  -- two named engines do fit in full
  t.keys("watch copy zc", "Enter")
  s = t.wait("watch of two named engines", X.has("-- zc "))
  T.check(s:find("-- copy (sim)  mode copy", 1, true), "copy in full, its kind by its name:\n" .. s)
  T.check(not s:find("third", 1, true), "only the named ones:\n" .. s)
  t.keys("q")
  t.wait("the prompt again", X.has("ringlab[sixth]>"))
  t.finish()
end

local fn = cases[case] or error("usage: ringlab names_in_tmux.lua RINGLAB names_use|compare_two|watch_many")
local ok, err = pcall(fn)
if not ok then
  if t then pcall(t.finish) end
  error(err, 0)
end
T.done("names_in_tmux " .. case)
