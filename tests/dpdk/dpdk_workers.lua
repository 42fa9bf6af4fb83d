-- A worker per queue on its own lcore (issue 14.3): net_null with queues=2
-- and lcores=0-1. arg[1] picks the case:
--   two      txonly, rxdrop and fwd with two workers (queue 0 on lcore 0,
--            queue 1 on lcore 1) for 0.3 s: both move packets, the queues'
--            counters grew by what they report, owners conserved after
--            each run; one worker too; the prompt's `workers` command
--   lcores   the EAL on lcore 0 only: two workers are refused in one line
--            saying which lcores= to open with; one worker runs
--   errors   bad arguments, one line each
--   interrupt  (arg[2]: the ringlab program) a SIGINT 1 s into
--            workers{seconds=30} stops both workers: "interrupted", exit
--            130, well before 30 s
local T = require "common"

local cases = {}

local function check_run(e, r, loop, n, what)
  T.eq(r.loop, loop, what .. " loop")
  T.eq(#r.workers, n, what .. " workers")
  local sum = 0
  for i, w in ipairs(r.workers) do
    T.eq(w.queue, i - 1, what .. " worker " .. i .. " queue")
    T.eq(w.lcore, i - 1, what .. " worker " .. i .. " lcore")
    T.check(w.packets > 0, string.format("%s: worker on queue %d moved packets (%d)", what, w.queue, w.packets))
    T.check(w.bytes >= 60 * w.packets, what .. " bytes counted")
    T.check(w.seconds > 0.2 and w.seconds < 2, what .. " ran about 0.3 s (" .. w.seconds .. ")")
    sum = sum + w.packets
  end
  T.eq(r.packets, sum, what .. " total is the sum")
  T.check(r.mpps > 0, what .. " Mpps")
  local o = T.conserved(e, what .. ": owners after the join")
  T.eq(o.nic + o.rx + o.tx + o.comp, 0, what .. ": every frame back with the driver or the program")
end

function cases.two()
  local e <close> = lab.open("dpdk", { vdev = "net_null0", queues = 2, lcores = "0-1", log = "emergency" })
  e:region { frames = 1024, frame_size = 2048 }
  for _, loop in ipairs { "txonly", "rxdrop", "fwd" } do
    local before = e:queues()
    local r = e:workers { loop = loop, queues = 2, seconds = 0.3 }
    check_run(e, r, loop, 2, loop)
    local after = e:queues()
    for q = 1, 2 do
      local k = loop == "txonly" and "tx_pkts" or "rx_pkts"
      T.eq(after[q][k] - before[q][k], r.workers[q].packets, loop .. " queue " .. (q - 1) .. " counter")
    end
  end
  check_run(e, e:workers { loop = "txonly", queues = { 0 }, seconds = 0.3 }, "txonly", 1, "one worker")
  check_run(e, e:workers { loop = "rxdrop", seconds = 0.3 }, "rxdrop", 2, "queues of the engine")
  local r = e:workers { loop = "rxdrop", queues = 2, packets = 1000 }
  for _, w in ipairs(r.workers) do T.check(w.packets >= 1000 and w.packets < 1000 + 64, "packets=1000 stops it") end
  T.conserved(e, "after packets=")
  -- the prompt
  local out, perr = T.prompt("use " .. e:info().name, "workers txonly queues=2 seconds=0.3")
  T.check(not perr, "prompt: " .. tostring(perr))
  T.check(out:find("2 workers, txonly"), "prompt: heading\n" .. out)
  T.check(out:find("queue 0 on lcore 0: %d+ packets") and out:find("queue 1 on lcore 1: %d+ packets"),
    "prompt: a line per worker\n" .. out)
  T.check(out:find("= frames"), "prompt: owners sum to frames\n" .. out)
  -- the engine still works the ordinary way afterwards
  e:queue(0)
  T.check(e:fill(8) >= 0, "fill after workers")
  T.conserved(e, "at the end")
end

function cases.lcores()
  local e <close> = lab.open("dpdk", { vdev = "net_null0", queues = 2, log = "emergency" })
  e:region { frames = 1024, frame_size = 2048 }
  T.raises({ "workers: queue 1 needs lcore 1 but the EAL runs on lcores 0",
      "open the first dpdk engine with lcores=0-1" }, e.workers, e, { loop = "txonly", queues = 2, seconds = 0.3 })
  T.conserved(e, "after the refusal")
  local r = e:workers { loop = "txonly", queues = 1, seconds = 0.3 }
  T.check(r.workers[1].packets > 0, "one worker on the main lcore runs")
  T.conserved(e, "after one worker")
end

function cases.errors()
  local e <close> = lab.open("dpdk", { vdev = "net_null0", queues = 2, lcores = "0-1", log = "emergency" })
  T.raises({ "workers: the dpdk engine has no region yet", "e:region" }, e.workers, e, { seconds = 0.1 })
  e:region { frames = 1024, frame_size = 2048 }
  T.raises({ "loop=spin", "rxdrop, txonly or fwd" }, e.workers, e, { loop = "spin" })
  T.raises({ "3 workers for 2 queue(s)" }, e.workers, e, { queues = 3 })
  T.raises({ "queue 5", "queues 0 to 1" }, e.workers, e, { queues = { 0, 5 } })
  T.raises({ "queue 1 twice" }, e.workers, e, { queues = { 1, 1 } })
  T.raises({ "seconds=", "at most 60" }, e.workers, e, { seconds = 0 })
  local s <close> = lab.open("sim")
  T.raises({ "the sim engine has no workers" }, s.workers, s, { seconds = 0.1 })
  T.conserved(e, "after the errors")
end

function cases.interrupt()
  local prog = assert(arg[2], "give the ringlab program")
  local code = 'local e = lab.open("dpdk", {vdev="net_null0", queues=2, lcores="0-1", log="emergency"}) ' ..
    'e:region{frames=1024} e:workers{loop="txonly", queues=2, seconds=30} print("not stopped")'
  local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
  local t0 = lab.now()
  local p = assert(io.popen("timeout --preserve-status -s INT 1 " .. q(prog) .. " -e " .. q(code) .. " 2>&1; echo exit=$?"))
  local out = p:read("a")
  p:close()
  local took = (lab.now()) - t0
  T.check(out:find("interrupted"), "says interrupted:\n" .. out)
  T.check(not out:find("not stopped"), "the call did not run to its end:\n" .. out)
  T.check(out:find("exit=130"), "exit 130:\n" .. out)
  T.check(took < 10, "stopped in " .. took .. " s, not 30")
end

local f = cases[arg[1]]
T.check(f, "no case " .. tostring(arg[1]))
f()
T.done("dpdk_workers " .. arg[1])
