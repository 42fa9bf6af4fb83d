-- Errors and a packet's bytes in a real 80x24 terminal (issue 10, parts 5
-- and 6): ringlab runs in a detached tmux session on a private tmux server
-- (killed at the end); keys go in with send-keys, the screen comes back
-- with capture-pane.
-- usage: ringlab errors_in_tmux.lua RINGLAB CASE
--   ctrl_c_loop      Ctrl-C in a long Lua loop: "interrupted" alone, no
--                    traceback, the prompt back and working
--   one_line_error   a user error is exactly one line, then the prompt
--   sned             sned suggests send; valid Lua still runs
--   show_packet_hex  show packet 1 hex after a sim send/recv: the rows with
--                    the headers marked, each within 80 columns
--   q_leaves_watch   q stops ringlab --watch (exit 0, "stopped with q") and
--                    watch run (back at the prompt); Ctrl-C: "interrupted"
-- Exits 77 (skipped) when tmux is not installed. (bash -c, not sh -c, runs
-- ringlab --watch: bash goes on after a child that caught Ctrl-C.)
local T = require "common"

local ringlab, case = arg[1], arg[2]
local X = require "tmux"
X.skip_without_tmux()
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local S -- the session of tmux.lua; start() makes one
local function start(cmd) S = X.start(cmd, 80, 24) end
local function tmux(args) return S.tmux(args) end
local function keys(...) return S.keys(...) end
local function screen() return S.screen() end
local function wait(what, ok, secs) return S.wait(what, ok, secs) end
local has = X.has

local function lines_of(s)
  local t = {}
  for l in (s .. "\n"):gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

-- The screen line that contains text, and the line after it.
local function line_with(s, text)
  local ls = lines_of(s)
  for i, l in ipairs(ls) do
    if l:find(text, 1, true) then return l, ls[i + 1] end
  end
end

local function at_prompt()
  start(ringlab)
  wait("the prompt", has("ringlab>"))
end

local function script(body)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(body)
  f:close()
  return path
end

local cases = {}

function cases.ctrl_c_loop()
  at_prompt()
  keys("for i = 1, 1e13 do local x = i * 2 end", "Enter")
  lab.sleep(0.5)
  keys("C-c")
  local s = wait("interrupted", has("interrupted"))
  local line, after = line_with(s, "interrupted")
  T.eq(line, "interrupted", "the line says interrupted and nothing more")
  T.check(after:find("^ringlab>"), "the prompt is back on the next line: " .. s)
  T.check(not s:find("traceback", 1, true) and not s:find("error:", 1, true), "no traceback, no error: " .. s)
  keys("print(6 * 7)", "Enter")
  wait("the prompt working again", has("\n42\n"))
end

function cases.one_line_error()
  at_prompt()
  keys("open sim", "Enter")
  wait("the engine", has("ringlab[sim"))
  keys("C-l")
  lab.sleep(0.3)
  keys("fill 3", "Enter")
  local s = wait("the error", has("error:"))
  local line, after = line_with(s, "error:")
  T.eq(line, "error: fill: no region yet - make one first: region (Lua: e:region{})", "one line")
  T.check(after:find("^ringlab%[sim[^%]]*%]>%s*$"), "then the prompt: " .. s)
  keys("lua e:fill('many')", "Enter")
  s = wait("the second error", function(x) return select(2, x:gsub("error:", "")) == 2 end)
  line, after = line_with(s, "lua e:fill('many')")
  local ls = lines_of(s)
  for i, l in ipairs(ls) do
    if l == line then
      line, after = ls[i + 1], ls[i + 2]
      break
    end
  end
  T.check(line:find("^error: fill: ") and after:find("^ringlab%["), "a Lua call's error: one line, then the prompt: " .. s)
  T.check(not s:find("traceback", 1, true) and not s:find("ringlab/", 1, true), "no traceback, no position: " .. s)
end

function cases.sned()
  at_prompt()
  keys("sned 198.18.0.2:9 hello", "Enter")
  local s = wait("the suggestion", has("did you mean"))
  T.check(line_with(s, "error: unknown command 'sned' - did you mean send?"), "sned -> send: " .. s)
  keys("sned", "Enter", "x = 40", "Enter", "print(x + 2)", "Enter", "frobnicate now", "Enter")
  s = wait("Lua and the fallback", has("type help"))
  local _, n = s:gsub("did you mean send%?", "")
  T.eq(n, 2, "sned alone suggests send too")
  T.check(s:find("\n42\n", 1, true), "x = 40 and print(x + 2) ran as Lua: " .. s)
  T.check(line_with(s, "error: unknown command 'frobnicate' - type help for the list"), "nothing near: " .. s)
end

function cases.show_packet_hex()
  at_prompt()
  keys("open sim", "Enter", "region frames=64 size=2048", "Enter", "fill 4", "Enter",
    "send udp 198.18.0.2:9 hello, tmux!", "Enter", "step 2", "Enter", "recv", "Enter")
  wait("the packet received", has("in `last`"))
  keys("C-l")
  lab.sleep(0.3)
  keys("show packet 1 hex", "Enter")
  local s = wait("the hex rows", has("payload 002a"))
  local want = {
    "eth     0000  02 00 00 00 00 02 02 00 00 00 00 01 08 00        ..............",
    "udp     0022  23 28 00 09 00 14 ",
    "payload 002a  68 65 6c 6c 6f 2c 20 74 6d 75 78 21              hello, tmux!",
  }
  for _, w in ipairs(want) do T.check(s:find("\n" .. w, 1, true), "row on screen: " .. w .. "\n" .. s) end
  T.check(s:find("\nipv4    000e  45 00 00 28 ", 1, true), "the IPv4 header marked: " .. s)
  T.check(s:find("\n%-%- descriptor 1 of 1: frame %d+, addr 0x%x+ %(%+%d+ in the frame%), 54 bytes\n"),
    "the descriptor's frame and address: " .. s)
  for _, l in ipairs(lines_of(s)) do T.check(#l < 80, "no row reaches column 80: " .. l) end
end

function cases.q_leaves_watch()
  local loop = script([[
local e = lab.open("sim")
e:region { frames = 64 }
print("script is looping")
local n = 0
while true do n = n + 1 end
]])
  start("bash -c " .. q(q(ringlab) .. " --watch " .. q(loop) .. "; echo \"rc=$?\"; sleep 60"))
  wait("the dashboard and the loop", function(s) return s:find("q or Ctrl-C stops it", 1, true) and s:find("script is looping", 1, true) end)
  keys("q")
  local s = wait("the exit", has("rc="))
  T.check(line_with(s, "stopped with q"), "says it stopped with q: " .. s)
  T.check(line_with(s, "rc=0"), "q is a normal end: " .. s)
  tmux("kill-session -t " .. S.sess)
  -- Ctrl-C under --watch: interrupted, 130
  start("bash -c " .. q(q(ringlab) .. " --watch " .. q(loop) .. "; echo \"rc=$?\"; sleep 60"))
  wait("the loop again", has("script is looping"))
  keys("C-c")
  s = wait("the exit", has("rc="))
  T.check(line_with(s, "interrupted"), "interrupted: " .. s)
  T.check(line_with(s, "rc=130"), "Ctrl-C exits 130: " .. s)
  T.check(not s:find("traceback", 1, true), "no traceback: " .. s)
  tmux("kill-session -t " .. S.sess)
  -- watch run at the prompt: q brings the prompt back, the engines stay usable
  at_prompt()
  keys("watch run " .. loop, "Enter")
  wait("the loop under watch run", has("script is looping"))
  keys("q")
  s = wait("the prompt after q", function(x)
    local at = x:find("stopped with q", 1, true)
    return at and x:find("\nringlab[^\n]*>", at)
  end)
  T.check(not s:find("traceback", 1, true), "no traceback after q: " .. s)
  keys("print(6 * 7)", "Enter")
  wait("the prompt answering", has("\n42\n"))
  os.remove(loop)
end

local fn = cases[case] or error("usage: ringlab errors_in_tmux.lua RINGLAB ctrl_c_loop|one_line_error|sned|show_packet_hex|q_leaves_watch")
local ok, err = pcall(fn)
tmux("kill-server")
if not ok then error(err, 0) end
T.done("errors_in_tmux " .. case)
