-- Errors are never silent (issue 11, section 6): a write that fails says
-- so, and a careless argument gets one line naming it - never a success
-- reported for a lost capture, never a different value used quietly.
-- usage: ringlab errors_never_silent.lua RINGLAB CASE
--   pcap_dev_full       lab.pcap(e, "/dev/full"): cap:flush(), cap:close()
--                       and e:close() raise "No space left on device"
--   plot_dev_full_args  lab.plot to /dev/full raises; wrong width=, title=,
--                       series=, engines=, history= are named
--   progress_pause_args lab.progress / lab.pause with wrong arguments
--   icmp_type_numbers   icmp{type=8} and {type=0} are the echoes; type=3 is
--                       refused; a received type 3 shows its type, not an address
--   ttl_range           ttl=0 refused (1 .. 255) by lab.packet, lab.segment,
--                       bt:udp; ttl=1 and 255 honoured
--   opened_300          #lab.opened() is 300 with 300 open (was capped at 256)
--   offsets_extreme     b:read/b:write, r:read/r:write, mem:string/mem:fill with
--                       math.maxinteger / math.mininteger: one line, no overflow
--   command_line        33+ -e options all run; -c '' says to give a command
--   history_unwritable  at the prompt (tmux), an unwritable history file is
--                       said once, in one line; the session goes on
local T = require "common"

local ringlab, case = arg[1], arg[2]

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- ringlab with these words; -> exit code, stdout, stderr
local function run(words)
  local dir = lab.tempdir()
  local out, err = dir .. "/out", dir .. "/err"
  local cmd = { q(ringlab) }
  for _, w in ipairs(words) do cmd[#cmd + 1] = q(w) end
  local _, _, code = os.execute("env NO_COLOR=1 " .. table.concat(cmd, " ") ..
    " < /dev/null > " .. q(out) .. " 2> " .. q(err))
  local function slurp(p)
    local f = assert(io.open(p))
    local s = f:read("a")
    f:close()
    os.remove(p)
    return s
  end
  local o, e = slurp(out), slurp(err)
  os.remove(dir)
  return code, o, e
end

local function one_line(s, what)
  local n = select(2, s:gsub("\n", "\n"))
  T.check(n <= 1 and not s:find("\n.", 1), what .. " is one line: [" .. s .. "]")
  T.check(not s:find("traceback", 1, true), what .. " has no traceback")
end

local function udp(e, extra)
  local spec = { engine = e, dst = "198.18.0.2:9", payload = string.rep("x", 1000) }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return lab.packet.udp(spec)
end

local cases = {}

function cases.pcap_dev_full()
  local e = lab.open("sim", { name = "pcapfull" })
  e:region { frames = 64 }
  local cap = lab.pcap(e, "/dev/full")
  for _ = 1, 20 do
    e:tx(udp(e))
    e:kick()
    e:complete()
  end
  local err = T.raises({ "pcap: writing /dev/full failed", "No space left on device",
    "free space or give another path" }, cap.flush, cap)
  one_line(err, "flush")
  T.raises({ "/dev/full failed", "No space" }, cap.close, cap)
  T.conserved(e, "after a failed capture")
  -- e:close() reports a capture that failed, and the engine is closed all the same
  local cap2 = lab.pcap(e, "/dev/full")
  e:tx(udp(e))
  T.raises({ "pcap: writing /dev/full failed", "(1 packet given)" }, e.close, e)
  T.eq(#lab.opened(), 0, "the engine closed even so")
  T.check(tostring(cap2):find("closed", 1, true), "its capture closed: " .. tostring(cap2))
  -- a good capture still reports its count, and no error
  local dir = lab.tempdir()
  local g = lab.open("sim", { name = "pcapgood" })
  g:region { frames = 64 }
  local c3 = lab.pcap(g, dir .. "/ok.pcap")
  g:tx(udp(g))
  c3:flush()
  T.eq(c3:close(), 1, "a good capture: its count")
  g:close()
  local f = assert(io.open(dir .. "/ok.pcap", "rb"))
  T.check(#f:read("a") > 1000, "the good capture holds the packet")
  f:close()
  os.remove(dir .. "/ok.pcap")
  os.remove(dir)
end

function cases.plot_dev_full_args()
  local e <close> = lab.open("sim", { name = "plotargs" })
  e:region { frames = 16 }
  local err = T.raises({ "plot: writing /dev/full failed", "No space left on device" },
    lab.plot, { file = "/dev/full" })
  one_line(err, "plot to a full disk")
  local bad = {
    { { width = "a" }, "width=a is not a width in pixels" },
    { { width = 5 }, "width=5" },
    { { title = 5 }, "title= is a number" },
    { { series = 5 }, "series= is a number" },
    { { series = { 5 } }, "series[1] has no ledger=" },
    { { series = { { ledger = {}, label = 3 } } }, "series[1].label is not a string" },
    { { engines = 3 }, "engines= is a number" },
    { { engines = { 5 } }, "engines[1] is not an open engine" },
    { { history = 3 }, "history= is a number" },
  }
  local dir = lab.tempdir()
  for _, b in ipairs(bad) do
    b[1].file = dir .. "/x.svg"
    one_line(T.raises({ "plot: ", b[2], " - " }, lab.plot, b[1]), b[2])
  end
  T.eq(io.open(dir .. "/x.svg"), nil, "no picture written for a bad argument")
  T.eq(lab.plot { file = dir .. "/x.svg", width = 800.0, engines = { e } }, dir .. "/x.svg", "a good plot")
  os.remove(dir .. "/x.svg")
  os.remove(dir)
end

function cases.progress_pause_args()
  for _, c in ipairs {
    { {}, "progress: label is a nil" },
    { { "sent" }, "progress: done=nil is not a count" },
    { { "sent", "y" }, "done=y is not a count" },
    { { "sent", -1 }, "done=-1 is not a count" },
    { { "sent", 1, "z" }, "total=z is not a count" },
    { { {}, 1, 2 }, "progress: label is a table" },
  } do
    one_line(T.raises({ c[2], " - " }, lab.progress,
      table.unpack(c[1], 1, 3)), c[2])
  end
  T.raises({ "pause: the text is a table", 'lab.pause("' }, lab.pause, {})
  lab.progress("sent", 2, 2) -- right ones still work
end

function cases.icmp_type_numbers()
  local e <close> = lab.open("sim", { name = "icmptypes" })
  e:region { frames = 16 }
  local function summary(t)
    local p = lab.packet.icmp { engine = e, dst = "198.18.0.2", type = t }
    local s = tostring(p)
    p:release()
    return s
  end
  T.check(summary(8):find("echo request", 1, true), "type=8 is the echo request")
  T.check(summary(0):find("echo reply", 1, true), "type=0 is the echo reply")
  T.check(summary("request"):find("echo request", 1, true), "type=\"request\"")
  for _, t in ipairs { 3, "3", "echo", 8.5 } do
    T.raises({ "icmp: type=" .. tostring(t) .. " is not an echo", '"request" (8) or "reply" (0)' },
      lab.packet.icmp, { engine = e, dst = "198.18.0.2", type = t })
  end
  -- a destination unreachable, as it would be received: its type and code
  -- where the echo's words go, not the source address after "type"
  local p = lab.packet.icmp { engine = e, dst = "198.18.0.2" }
  local b = p:bytes()
  p:release()
  local d = lab.dissect(b:sub(1, 34) .. string.char(3, 1) .. b:sub(37))
  T.eq(d.icmp.type, 3, "dissected type")
  T.check(d.summary:find("^icmp type 3 code 1 %(destination unreachable%) 198%.18%.0%.1 > 198%.18%.0%.2"),
    "the summary: " .. d.summary)
  T.check(not d.summary:find("id ", 1, true), "no echo id for a non-echo: " .. d.summary)
  T.conserved(e)
end

function cases.ttl_range()
  local e <close> = lab.open("sim", { name = "ttlrange" })
  e:region { frames = 64 }
  for _, t in ipairs { 0, 256, -1, "x" } do
    one_line(T.raises({ "udp: ttl= must be a whole number 1 .. 255, not " .. tostring(t), "leave it out for 64" },
      udp, e, { ttl = t }), "ttl")
  end
  T.raises({ "segment: ttl= must be a whole number 1 .. 255, not 0" }, lab.segment, string.rep("y", 100),
    { engine = e, dst = "198.18.0.2:9", proto = "udp", ttl = 0 })
  local bt = lab.batch(e, 4)
  T.raises({ "udp: ttl= must be a whole number 1 .. 255, not 0" }, bt.udp, bt,
    { dst = "198.18.0.2:9", payload = "x", ttl = 0 })
  for _, t in ipairs { 1, 255 } do
    local p = udp(e, { ttl = t })
    T.eq(p:dissect().ip.ttl, t, "ttl=" .. t .. " is sent as given")
    p:release()
  end
  local p = udp(e)
  T.eq(p:dissect().ip.ttl, 64, "left out: 64")
  p:release()

  T.conserved(e)
end

function cases.opened_300()
  local keep = {}
  for i = 1, 300 do keep[i] = lab.open("sim") end
  local o = lab.opened()
  T.eq(#o, 300, "#lab.opened() with 300 open")
  for i = 1, 300 do T.eq(o[i], keep[i], "in the order of opening, " .. i) end
  for i = 1, 300, 2 do keep[i]:close() end
  T.eq(#lab.opened(), 150, "#lab.opened() after closing half")
  for i = 2, 300, 2 do keep[i]:close() end
end

function cases.offsets_extreme()
  local e <close> = lab.open("sim", { name = "offsets" })
  local r = e:region { frames = 16 }
  local b = r:alloc(100)
  local big, small = math.maxinteger, math.mininteger
  for _, c in ipairs {
    { b.read, b, small }, { b.read, b, big }, { b.read, b, 0, big }, { b.read, b, 1, big },
    { b.read, b, big, big }, { b.read, b, small, small }, { b.read, b, 50, small },
    { b.write, b, big, "x" }, { b.write, b, small, "x" },
  } do
    one_line(T.raises({ "runs past the end of this 100-byte buffer", "stay inside 0 .. 100" },
      table.unpack(c)), "buffer offsets")
  end
  T.eq(#b:read(100), 0, "read at the end: nothing")
  T.eq(#b:read(40), 60, "read the rest")
  for _, c in ipairs {
    { r.read, r, big, 1 }, { r.read, r, small, 1 }, { r.read, r, 0, big }, { r.read, r, big, big },
    { r.write, r, big, "x" }, { r.write, r, small, "x" },
  } do
    one_line(T.raises({ "is outside the region" }, table.unpack(c)), "region addresses")
  end
  local m = lab.appmem(4096)
  for _, c in ipairs {
    { m.string, m, small }, { m.string, m, big }, { m.string, m, 1, big }, { m.string, m, big, big },
    { m.fill, m, 1, small }, { m.fill, m, 1, 0, big }, { m.fill, m, 1, big, 1 },
  } do
    one_line(T.raises({ "app memory", "stay inside it" }, table.unpack(c)), "app memory spans")
  end
  T.raises({ "app memory" }, m.write, m, big, "x")
  T.raises({ "app memory" }, m.write, m, small, "x")
  T.eq(#m:string(4000), 96, "mem:string(off): the rest")
  b:free()
  T.conserved(e)
end

function cases.command_line()
  local words = {}
  for _ = 1, 40 do
    words[#words + 1] = "-e"
    words[#words + 1] = "n = (n or 0) + 1"
  end
  words[#words + 1] = "-e"
  words[#words + 1] = "print('ran ' .. n)"
  local code, out, err = run(words)
  T.eq(code, 0, "41 -e options: exit status (stderr: " .. err .. ")")
  T.eq(out, "ran 40\n", "every one of 40 -e ran")
  for _, c in ipairs { "", "   " } do
    code, out, err = run { "-c", c }
    T.eq(code, 1, "-c '" .. c .. "': exit status")
    one_line(err, "-c '" .. c .. "'")
    T.check(not err:find("nil", 1, true), "no 'nil' in: " .. err)
    T.check(err:find("give a command", 1, true) and err:find("help", 1, true), "says to give a command: " .. err)
  end
end

function cases.history_unwritable()
  local tmux = require "tmux"
  tmux.skip_without_tmux()
  local home = lab.tempdir()
  -- the history file is a directory: neither append nor write can work
  assert(os.execute("mkdir " .. q(home .. "/.ringlab_history")))
  local t = tmux.start("env HOME=" .. q(home) .. " NO_COLOR=1 " .. q(ringlab), 100, 30)
  t.wait("the prompt", function(s) return s:find("ringlab[^\n]*>") ~= nil end)
  t.keys("x = 1", "Enter")
  local s = t.wait("the history error", tmux.has("cannot save history"))
  T.check(s:find("cannot save history to " .. home .. "/.ringlab_history", 1, true),
    "names the file: " .. s)
  T.check(s:find("kept in memory only", 1, true), "says what happens: " .. s)
  t.keys("print(x + 41)", "Enter")
  s = t.wait("the session goes on", tmux.has("\n42"))
  local _, n = s:gsub("cannot save history", "")
  T.eq(n, 1, "said once")
  t.finish()
  os.execute("rmdir " .. q(home .. "/.ringlab_history") .. " " .. q(home))
end

local f = cases[case]
T.check(f, "no case " .. tostring(case))
f()
T.done("errors_never_silent " .. case)
