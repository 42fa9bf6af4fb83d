-- Errors read like a tool's (issue 10, part 5) and a packet's bytes can be
-- looked at (part 6), without a terminal: ringlab is run as a child with -c,
-- --debug, RINGLAB_DEBUG, a buggy script and lines on stdin, and p:hexdump()
-- is checked in this process.
-- usage: ringlab errors_one_line.lua RINGLAB CASE
--   c_error_one_line     -c with a user error: exit 1, one line on stderr
--   c_unknown_suggests   -c sned: "unknown command 'sned' - did you mean send?"
--   debug_traceback      --debug / RINGLAB_DEBUG=1: the traceback; =0: one line
--   script_file_line     a script's own error keeps its file:line, one line
--   prompt_lines         at the prompt (stdin): one line per error, sned and
--                        opn suggested, valid Lua still Lua, p:bytes() escaped
--   hexdump_udp          p:hexdump() of a known UDP packet: every row exact,
--                        checked against p:bytes(); counted touched
--   hexdump_chain        a packet over two frames: a line per descriptor with
--                        its frame and address, offsets run on, "*" rows
--   complete_show        Tab after "show " offers every show topic, caps too
--   hexdump_hostile      a finalizer closes the engine during p:hexdump()
local T = require "common"

local ringlab, case = arg[1], arg[2]

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Run ringlab with these words (and stdin, env); -> exit code, stdout, stderr.
local function run(words, opts)
  opts = opts or {}
  local out, err = os.tmpname(), os.tmpname()
  local cmd = {}
  for k, v in pairs(opts.env or {}) do cmd[#cmd + 1] = k .. "=" .. q(v) end
  cmd[#cmd + 1] = q(ringlab)
  for _, w in ipairs(words) do cmd[#cmd + 1] = q(w) end
  local input
  if opts.stdin then
    input = os.tmpname()
    local f = assert(io.open(input, "w"))
    f:write(opts.stdin)
    f:close()
    cmd[#cmd + 1] = "< " .. q(input)
  else
    cmd[#cmd + 1] = "< /dev/null"
  end
  cmd[#cmd + 1] = "> " .. q(out) .. " 2> " .. q(err)
  local _, _, code = os.execute("env NO_COLOR=1 " .. table.concat(cmd, " "))
  local function slurp(path)
    local f = assert(io.open(path))
    local s = f:read("a")
    f:close()
    os.remove(path)
    return s
  end
  if input then os.remove(input) end
  return code, slurp(out), slurp(err)
end

local function lines(s)
  local t = {}
  for l in s:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

local function one_line(s, what)
  T.eq(#lines(s), 1, what .. " is one line: [" .. s .. "]")
  T.check(s:sub(-1) == "\n", what .. " ends its line")
  T.check(not s:find("traceback", 1, true), what .. " has no traceback")
end

local cases = {}

function cases.c_error_one_line()
  local code, out, err = run({ "-c", "open sim", "-c", "fill 3" })
  T.eq(code, 1, "exit status of a failed -c")
  T.check(out:find("now the current engine", 1, true), "the first -c ran: " .. out)
  one_line(err, "stderr")
  T.eq(err, "ringlab: fill: no region yet - make one first: region (Lua: e:region{})\n", "the line")
  code, out, err = run({ "-c", "open sim", "-c", "region frames=8", "-c", "send udp 300.1.1.1:9 x" })
  T.eq(code, 1, "exit status of a bad send")
  one_line(err, "a bad address")
  T.check(err:find("^ringlab: [^\n]*300%.1%.1%.1"), "says which address: " .. err)
  T.check(not err:find("ringlab/", 1, true), "no position inside ringlab: " .. err)
  code, out, err = run({ "-e", "error('boom')" })
  T.eq(code, 1, "exit status of -e error")
  T.eq(err, "ringlab: boom\n", "-e error without (command line):1:")
  code, out, err = run({ "-e", "x = = 1" })
  T.eq(code, 1, "exit status of -e that is not Lua")
  T.eq(err, "ringlab: -e: unexpected symbol near '='\n", "-e syntax error, one line")
end

function cases.c_unknown_suggests()
  local code, _, err = run({ "-c", "sned 198.18.0.2" })
  T.eq(code, 1, "exit status")
  T.eq(err, "ringlab: unknown command 'sned' - did you mean send?\n", "sned")
  code, _, err = run({ "-c", "relase" })
  T.eq(err, "ringlab: unknown command 'relase' - did you mean release?\n", "relase")
  code, _, err = run({ "-c", "qwertyuiop" })
  T.eq(code, 1, "exit status")
  T.eq(err, "ringlab: unknown command 'qwertyuiop' - type help for the list\n", "nothing near")
end

function cases.debug_traceback()
  for _, how in ipairs({ { words = { "--debug" } }, { env = { RINGLAB_DEBUG = "1" } } }) do
    local words = {}
    for _, w in ipairs(how.words or {}) do words[#words + 1] = w end
    for _, w in ipairs({ "-c", "open sim", "-c", "fill 3" }) do words[#words + 1] = w end
    local code, _, err = run(words, { env = how.env })
    local label = how.words and "--debug" or "RINGLAB_DEBUG=1"
    T.eq(code, 1, label .. ": exit status")
    T.check(err:find("^ringlab: [^\n]*fill: no region yet"), label .. ": the message first: " .. err)
    T.check(err:find("\nstack traceback:\n", 1, true), label .. ": a traceback: " .. err)
    T.check(#lines(err) > 2, label .. ": more than one line")
  end
  local code, _, err = run({ "-c", "open sim", "-c", "fill 3" }, { env = { RINGLAB_DEBUG = "0" } })
  T.eq(code, 1, "RINGLAB_DEBUG=0: exit status")
  one_line(err, "RINGLAB_DEBUG=0")
  -- at the prompt: lab.debug turns the traceback on and off
  code, out, err = run({}, { stdin = "open sim\nfill 3\nlab.debug = true\nfill 3\nlab.debug = false\nfill 3\n" })
  local _, n = out:gsub("stack traceback:", "")
  T.eq(n, 1, "one traceback, while lab.debug was true:\n" .. out)
end

function cases.script_file_line()
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write([[
local e = lab.open("sim")
local function fill_too_many()
  e:region{frames = 8}
  e:fill(100)
end
fill_too_many()
]])
  f:close()
  local code, _, err = run({ path })
  T.eq(code, 1, "exit status of a failing script")
  one_line(err, "the script's error")
  T.eq(err, "ringlab: " .. path .. ":4: fill: only 8 frames are free in the region, not 100 - release received packets or complete sent ones first\n",
    "a binding's error says the script's line")
  f = assert(io.open(path, "w"))
  f:write("local t = nil\nprint(t.x)\n")
  f:close()
  code, _, err = run({ path })
  T.eq(code, 1, "exit status")
  T.eq(err, "ringlab: " .. path .. ":2: attempt to index a nil value (local 't')\n", "Lua's own error, as Lua says it")
  f = assert(io.open(path, "w"))
  f:write("-- an address:port in the message is no file:line\nerror('198.18.0.2:9999: refused', 0)\n")
  f:close()
  code, _, err = run({ path })
  T.eq(err, "ringlab: " .. path .. ":2: 198.18.0.2:9999: refused\n", "the script's line in front of an address")
  f = assert(io.open(path, "w"))
  f:write("local t = nil\nprint(t.x)\n")
  f:close()
  code, _, err = run({ "--debug", path })
  T.check(err:find("\nstack traceback:\n", 1, true) and err:find(path .. ":2: in main chunk", 1, true),
    "--debug: the traceback names the script's line: " .. err)
  os.remove(path)
end

function cases.prompt_lines()
  local input = table.concat({
    "sned",
    "sned 198.18.0.2:9 hello",
    "opn sim",
    "xyzzy plugh",
    "e",
    "last",
    "x = 20",
    "print(x + 22)",
    "open sim",
    "e:rings().tx.size",
    "fill 3",
    "show packt 1",
    "region frames=64 size=2048",
    "error('boom')",
    "p = lab.packet.udp{dst='198.18.0.2:7', payload='hi'}",
    "p:bytes()",
    "{p:bytes()}",
    "'plain text'",
  }, "\n") .. "\n"
  local code, out, err = run({}, { stdin = input })
  T.eq(code, 0, "the prompt ends well at end of input")
  T.eq(err, "", "nothing on stderr")
  local want = {
    "error: unknown command 'sned' - did you mean send?",
    "error: unknown command 'sned' - did you mean send?",
    "error: unknown command 'opn' - did you mean open?",
    "error: unknown command 'xyzzy' - type help for the list",
    "nil (no engine is open yet - open sim)",
    "nil (nothing received yet - recv)",
    "42",
    "2048",
    "error: fill: no region yet - make one first: region (Lua: e:region{})",
    "error: show: there is no 'packt' to show - did you mean show packet?",
    "error: boom",
  }
  local at = 1
  for _, w in ipairs(want) do
    local i = out:find(w, at, true)
    T.check(i, "in order: " .. w .. "\n" .. out)
    at = i + #w
  end
  for l in out:gmatch("[^\n]+") do
    if l:find("^error:") then
      T.check(not l:find("stdin:", 1, true) and not l:find("ringlab/", 1, true), "no position at the prompt: " .. l)
    end
  end
  T.check(not out:find("traceback", 1, true), "no traceback at the prompt")
  -- the bytes, escaped with their length, never raw
  T.check(out:find('\n"\\x02\\x00\\x00\\x00\\x00\\x02\\x02\\x00\\x00\\x00\\x00\\x01\\x08\\x00E\\x00', 1, true),
    "p:bytes() shown escaped:\n" .. out)
  T.check(out:find('#(\\x00\\x07\\x00\\n', 1, true), "a 0x0a byte shows as \\n, not a new line")
  T.check(out:find('hi" (44 bytes)\n', 1, true), "with its length")
  T.check(out:find('{\n  "\\x02', 1, true), "escaped inside a table too")
  T.check(out:find("\nplain text\n", 1, true), "text is printed as text")
  T.check(not out:find("[%z\1-\9\11-\31\127-\255]"), "no raw control or high byte reached the terminal")
end

local function setup()
  local e = lab.open("sim")
  local r = e:region { frames = 8, frame_size = 2048, headroom = 256 }
  return e, r
end

-- The hex and ASCII of row text, as bytes.
local function row_bytes(hex)
  return (hex:gsub("%s", ""):gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

function cases.hexdump_udp()
  local e, r = setup()
  local p = lab.packet.udp { src = "198.18.0.1:9000", dst = "198.18.0.2:7", payload = "hello, hexdump!", region = r }
  local seg = p:segments()[1]
  local before = e:stats().ledger
  local dump = p:hexdump()
  local after = e:stats().ledger
  local want = table.concat({
    "udp 198.18.0.1:9000 > 198.18.0.2:7 len 57 (1 segment)",
    string.format("-- descriptor 1 of 1: frame %d, addr 0x%x (+256 in the frame), 57 bytes", seg.frame, seg.addr),
    "eth     0000  02 00 00 00 00 02 02 00 00 00 00 01 08 00        ..............",
    "ipv4    000e  45 00 00 2b 00 00 40 00 40 11 ae 9a c6 12 00 01  E..+..@.@.......",
    "        001e  c6 12 00 02                                      ....",
    "udp     0022  23 28 00 07 00 17 93 a4                          #(......",
    "payload 002a  68 65 6c 6c 6f 2c 20 68 65 78 64 75 6d 70 21     hello, hexdump!",
  }, "\n")
  T.eq(dump, want, "the dump")
  T.eq(seg.addr, seg.frame * 2048 + 256, "the descriptor starts after the headroom")
  -- every row's bytes are the packet's, at the row's offset
  local bytes = p:bytes()
  local n = 0
  for line in dump:gmatch("[^\n]+") do
    local off = line:match("^%w*%s+(%x%x%x%x)  ")
    if off then
      local hex = line:sub(15, 61) -- label 8, offset 4, 2 spaces; 16 x "hh "
      local b = row_bytes(hex)
      T.eq(b, bytes:sub(tonumber(off, 16) + 1, tonumber(off, 16) + #b), "row at " .. off)
      T.check(#line <= 79, "fits 80 columns: " .. line)
      n = n + #b
    end
  end
  T.eq(n, #p, "every byte shown once")
  -- the IPv4 header checksum on screen, summed here
  local sum = 0
  for i = 15, 34, 2 do sum = sum + bytes:byte(i) * 256 + bytes:byte(i + 1) end
  while sum > 0xffff do sum = (sum & 0xffff) + (sum >> 16) end
  T.eq(sum, 0xffff, "the IPv4 header on screen sums to 0xffff")
  -- the ledger: read where it lies, touched (57 shown + 15 checksummed), nothing copied
  T.eq(after.touched - before.touched, 57 + 15, "touched by hexdump")
  T.eq(after.copied - before.copied, 0, "nothing copied by hexdump")
  p:release()
  T.raises({ "hexdump", "released" }, function() return p:hexdump() end)
  T.conserved(e)
  e:close()
end

function cases.hexdump_chain()
  local e, r = setup()
  local b = r:alloc(3000)
  b:fill("x")
  local p = lab.packet.udp { dst = "198.18.0.2:7", payload = b, region = r }
  local segs = p:segments()
  T.eq(#segs, 2, "a chain of two descriptors")
  local dump = p:hexdump()
  local d = {}
  for i, frame, addr, len in dump:gmatch("%-%- descriptor (%d) of 2: frame (%d+), addr 0x(%x+) %(%+%d+ in the frame%), (%d+) bytes") do
    d[#d + 1] = { frame = tonumber(frame), addr = tonumber(addr, 16), len = tonumber(len) }
  end
  T.eq(#d, 2, "a line per descriptor:\n" .. dump)
  for i = 1, 2 do
    T.eq(d[i].frame, segs[i].frame, "descriptor " .. i .. " frame")
    T.eq(d[i].addr, segs[i].addr, "descriptor " .. i .. " addr")
    T.eq(d[i].len, segs[i].len, "descriptor " .. i .. " len")
  end
  -- the second descriptor's first row continues the offsets of the first
  local first2 = dump:match("descriptor 2 of 2[^\n]*\n%s+(%x+)")
  T.eq(tonumber(first2, 16), segs[1].len, "offsets run on across descriptors")
  T.check(dump:find("\n        %*\n"), "rows like the one before are one *")
  T.check(dump:find("\npayload 002a  78 78", 1, true), "the payload marked where it starts")
  local _, rows = dump:gsub("\n", "")
  T.check(rows < 20, "3042 bytes of x fit a screen: " .. rows .. " lines")
  for line in dump:gmatch("[^\n]+") do T.check(#line <= 79, "fits 80 columns: " .. line) end
  p:release()
  b:free()
  T.conserved(e)
  e:close()
end

-- Hostile Lua: a finalizer closes the engine while packets are dumped; each
-- p:hexdump() either returns the text or raises "closed", never reads freed
-- region memory (run under ASan to see the difference).
function cases.hexdump_hostile()
  local all_done, all_closed = 0, 0
  for round = 1, 20 do
    local e = lab.open("sim")
    local r = e:region { frames = 64, frame_size = 2048 }
    local pkts = {}
    for i = 1, 16 do
      pkts[i] = lab.packet.udp { dst = "198.18.0.2:7", payload = string.rep("z", 100 + i * 50), region = r }
    end
    setmetatable({}, { __gc = function() e:close() end }) -- garbage that closes e when collected
    collectgarbage("incremental", 100, 1000)
    local done, closed = 0, 0
    for i = 1, 16 do
      for _ = 1, round do local _ = { string.rep("g", 64) } end -- make the collector run
      local ok, res = pcall(pkts[i].hexdump, pkts[i])
      if ok then
        T.check(res:find("^udp ") and res:find("\npayload 002a  7a 7a", 1, false), "a whole dump: " .. res:sub(1, 200))
        done = done + 1
      else
        T.check(tostring(res):find("closed", 1, true), "the only error is the engine closed: " .. tostring(res))
        closed = closed + 1
      end
    end
    T.eq(done + closed, 16, "every call answered")
    all_done, all_closed = all_done + done, all_closed + closed
    if not e:info().closed then T.conserved(e) e:close() end
  end
  collectgarbage("incremental", 200, 100)
  print(string.format("dumps %d, refused after the finalizer closed the engine %d", all_done, all_closed))
  T.check(all_done > 0 and all_closed > 0, "the finalizer ran between dumps in some rounds")
end

-- Tab after "show " offers every topic of the show command's own table
-- (caps included), and after "show packet N " hex and json.
function cases.complete_show()
  local R = require "ringlab.repl"
  local C = require "ringlab.commands"
  local got = R.complete("", "show ", 5)
  local want = C.show_topics()
  T.eq(table.concat(got, " "), table.concat(want, " "), "show <Tab> offers the show table's topics")
  local set = {}
  for _, t in ipairs(got) do set[t] = true end
  for _, t in ipairs({ "caps", "ledger", "owners", "packet", "rings", "stats" }) do
    T.check(set[t], "show <Tab> offers " .. t .. ": " .. table.concat(got, " "))
  end
  for _, t in ipairs(want) do -- each one is a topic show accepts
    local ok, err = pcall(C.run, "show " .. t)
    T.check(ok or not tostring(err):find("show what?", 1, true), "show " .. t .. " is a topic: " .. tostring(err))
  end
  T.eq(table.concat(R.complete("c", "show c", 5), " "), "caps", "show c<Tab>")
  T.eq(table.concat(R.complete("", "show packet 1 ", 14), " "), "hex json", "show packet 1 <Tab>")
end

local fn = cases[case] or error("usage: ringlab errors_one_line.lua RINGLAB " ..
  "c_error_one_line|c_unknown_suggests|debug_traceback|script_file_line|prompt_lines|hexdump_udp|hexdump_chain|" ..
  "complete_show|hexdump_hostile")
fn()
T.done("errors_one_line " .. case)
