-- wire_help.lua - what the prompt says about the real wire without one
-- (reviewer R2; the namespace side is tests/net/wire_case.sh):
--   help_testbed   help testbed (the command) / netns / ping point at help wire and help
--                  host; help wire says how to make the testbed and start
--                  ringlab in it, within 80 columns and one 24-row screen
--   no_testbed     outside a testbed's lab namespace lab.netns names no
--                  X-lab, so nothing made up names rl-peer: the region hint
--                  of an engine with no wire and sim's host up say no netns;
--                  serve ping on a simulator says where a ping comes from
--   outside        --netns X-lab of a testbed not up names `testbed up
--                  name=X`; dpdk net_af_packet/net_af_xdp iface= of an
--                  interface not here says to run in the lab namespace
-- usage: ringlab wire_help.lua RINGLAB CASE
local T = require "common"

local ringlab, case = arg[1], arg[2]

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function run(...)
  local cmd = { "NO_COLOR=1", q(ringlab) }
  for _, c in ipairs({ ... }) do cmd[#cmd + 1] = "-c " .. q(c) end
  local p = assert(io.popen(table.concat(cmd, " ") .. " 2>&1"))
  local out = p:read("a")
  local _, _, status = p:close()
  return out, status
end

local cases = {}

function cases.help_testbed()
  -- testbed is a prompt command now: its help, pointing at help wire
  local tbh = run("help testbed")
  T.check(tbh:find("^testbed up|down|status") and tbh:find("(help wire)", 1, true)
    and tbh:find("ringlab --netns NAME-lab", 1, true), "help testbed:\n" .. tbh)
  T.eq(run("help netns"), "no help on 'netns' - did you mean: help wire?\n", "help netns")
  T.eq(run("help ping"), "no help on 'ping' - did you mean: help host, help serve?\n", "help ping")
  local out = run("help wire")
  local n = 0
  for line in out:gmatch("([^\n]*)\n") do
    n = n + 1
    T.check(#line < 80, "help wire within 80 columns: " .. line)
  end
  T.check(n <= 23, "help wire on one 80x24 screen with its prompt: " .. n .. " lines")
  for _, want in ipairs({ "`ringlab testbed up`", "`ringlab --netns rl-lab`", "`ringlab testbed down`",
    "touches none of the machine's interfaces", "host up says the command" }) do
    T.check(out:find(want, 1, true), "help wire says " .. want .. ":\n" .. out)
  end
end

function cases.no_testbed()
  local out = run("lua print('netns', lab.netns)")
  local ns = out:match("^netns\t(%S+)")
  T.check(ns == "nil" or not ns:find("%-lab$"), "this test runs in no testbed's lab namespace: " .. out)
  out = run("open sim", "host up")
  T.check(out:find("from an engine wired to it: send icmp 198.18.0.1", 1, true), "sim's host up:\n" .. out)
  T.check(not out:find("rl-peer", 1, true), "no made-up peer namespace:\n" .. out)
  out = run("open sim", "serve ping 1")
  T.check(out:find("answering ARP and ping for 198.18.0.1 for 1 s (Ctrl-C stops) - on no wire, only what "
    .. "the lab sends it arrives: send icmp 198.18.0.1 from an engine wired to it first", 1, true),
    "serve ping on a simulator says where a ping can come from:\n" .. out)
  out = run("open sim", "send udp 198.18.0.2:9999 hi")
  T.check(out:find("send udp: sim#1 has no region - make one: region frames=4096 size=2048\n", 1, true),
    "send udp without a region names the region to make:\n" .. out)
end

-- Outside the testbed: --netns of one that is not there, and a DPDK port
-- over a kernel interface that is not here, say in one line what to run.
function cases.outside()
  local p = assert(io.popen("NO_COLOR=1 " .. q(ringlab) .. " --netns rlR2none-lab -c 'open sim' 2>&1"))
  local out = p:read("a")
  local _, _, status = p:close()
  T.eq(status, 2, "--netns of a testbed not up")
  T.eq(out, "ringlab: --netns rlR2none-lab: there is no such network namespace - make it with "
    .. "`ringlab testbed up name=rlR2none`\n", "the command that makes it")
  p = assert(io.popen("NO_COLOR=1 " .. q(ringlab) .. " --netns rlR2/x -c 'open sim' 2>&1"))
  out = p:read("a")
  p:close()
  T.check(out:find("^ringlab: %-%-netns rlR2/x: [^\n]*\n$"), "a bad name: one line: " .. out)
  local dpdk = false
  for _, x in ipairs(lab.engines()) do if x.name == "dpdk" and x.available then dpdk = true end end
  if not dpdk then print("no usable dpdk engine: its part is skipped") return end
  for _, drv in ipairs({ "net_af_packet0", "net_af_xdp0" }) do
    out = run("open dpdk vdev=" .. drv .. ",iface=rlR2none0")
    T.eq(out, "ringlab: open: vdev \"" .. drv .. ",iface=rlR2none0\": no interface named rlR2none0 in this "
      .. "network namespace - run ringlab where it is (`ringlab testbed up`, then `ringlab --netns "
      .. "rl-lab`)\n", drv .. " over an interface that is not here")
  end
end

T.check(cases[case], "no case " .. tostring(case))
cases[case]()
print("wire_help " .. case .. ": ok")
