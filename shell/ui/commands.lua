-- commands.lua - the prompt's commands (ringlab.commands).
--
-- Every command is a small Lua function over the same API scripts use:
-- `fill 64` is cur:fill(64), `send udp ...` is lab.packet.udp{} + cur:tx()
-- + cur:kick(). The commands are grouped by concern: cmd_engine.lua (open,
-- region, engines, use, close), cmd_io.lua (fill, send, recv, step, host ...),
-- cmd_show.lua (show), livecmds.lua (watch, lessons); cmdkit.lua holds the
-- table they are registered in and the helpers they share.

local C = require "ringlab.cmdkit"
local def = C.def

C.topics = require "ringlab.topics"

def("help", "help [COMMAND|topic|all]", "list the commands on one screen; help COMMAND explains one, help all explains each, a topic explains an idea (rings owners ledger step modes lua strategies mtu gso tso wire)",
  function(args) C.say("%s", C.help(args[1])) end) -- a line wider than the terminal: cut between words

require "ringlab.cmd_engine"
require "ringlab.cmd_io"
require "ringlab.cmd_show"
require "ringlab.cmd_kernel"
require "ringlab.cmd_netmap" -- txsync, rxsync, advance, forward (personality=netmap)
require("ringlab.drops").install(C) -- explain

def("clear", "clear", "clear the screen (also Ctrl-L)", function()
  if require("ringlab.term").isatty(1) then io.write("\27[H\27[2J\27[3J") io.flush() end
end)
def("quit", "quit", "leave ringlab (also exit, or Ctrl-D)", function() return "quit" end)
def("exit", "exit", "leave ringlab", function() return "quit" end)
-- At the prompt repl.lua runs `lua CODE` itself; this is -c 'lua CODE'.
def("lua", "lua CODE", "run CODE as Lua even if it starts like a command", function(_, rest)
  local f, err = load("return " .. rest, "=(command line)", "t")
  if not f then f, err = load(rest, "=(command line)", "t") end
  if not f then C.fail("lua: %s", (err:gsub("^%(command line%):%d+: ", ""))) end
  local res = table.pack(f())
  if res.n > 0 then print(require("ringlab.repl").format(table.unpack(res, 1, res.n))) end
end)

-- A command's usage, indented, on one line when it fits the width, else
-- one line per form (the " | " between them): `show rings|...|packet N`,
-- then `show ledger --svg FILE`, rather than one wrapped by the terminal.
local function usage_lines(usage, indent, width)
  if #indent + #usage <= width then return { indent .. usage } end
  local lines = {}
  for form in (usage .. " | "):gmatch("(.-) | ") do lines[#lines + 1] = indent .. form end
  return lines
end

-- help alone: every command's usage, grouped by what it is for, on one
-- screen (80x24); help COMMAND explains one, help all every one. A command
-- in no group is listed under "other", so none is ever left out.
local GROUPS = {
  { "engines", { "open", "use", "close", "engines", "compare" } },
  { "memory", { "region", "fill", "release", "queue" } },
  { "packets", { "send", "recv", "kick", "complete", "step", "txsync", "rxsync", "advance", "forward" } },
  { "look", { "show", "watch", "explain" } },
  { "host", { "host", "serve" } },
  { "learn", { "lessons", "lesson", "help" } },
}

function C.help_short()
  local width = math.max(60, require("ringlab.term").width() - 1)
  local out = { "commands - help COMMAND explains one, help all explains each; Tab completes" }
  local seen = {}
  local function group(label, names)
    local line = string.format(" %-8s ", label)
    local fresh = true
    for _, n in ipairs(names) do
      local c = C.byname[n]
      if c and not seen[n] then
        seen[n] = true
        for form in (c.usage .. " | "):gmatch("(.-) | ") do
          if not fresh and #line + 3 + #form > width then
            out[#out + 1] = line
            line, fresh = string.rep(" ", 10), true
          end
          line = line .. (fresh and "" or "   ") .. form
          fresh = false
        end
      end
    end
    if not fresh then out[#out + 1] = line end
  end
  for _, g in ipairs(GROUPS) do group(g[1], g[2]) end
  local rest = {}
  for _, c in ipairs(C.list) do
    if not seen[c.name] then rest[#rest + 1] = c.name end
  end
  group("other", rest)
  out[#out + 1] = "topics: help rings | owners | ledger | step | modes | lua | strategies | mtu"
  out[#out + 1] = "        | gso | tso | wire | kernel | netmap. Anything else is Lua."
  return table.concat(out, "\n")
end

function C.help(topic)
  if topic and C.topics[topic] then return C.topics[topic] end
  if topic and C.byname[topic] then
    local c = C.byname[topic]
    local extra = C.topics[topic] and ("\n" .. C.topics[topic]) or ""
    local width = math.max(40, require("ringlab.term").width() - 1)
    local lines = usage_lines(c.usage, "", width)
    for _, l in ipairs(require("ringlab.views").wrap(c.line, width, "  ")) do lines[#lines + 1] = l end
    return table.concat(lines, "\n") .. extra
  end
  if topic and topic ~= "all" then return C.no_help(topic) end
  if not topic then return C.help_short() end
  local out = {}
  local width = math.max(40, require("ringlab.term").width() - 1)
  for _, c in ipairs(C.list) do
    for _, u in ipairs(usage_lines(c.usage, "  ", width)) do out[#out + 1] = u end
    for _, l in ipairs(require("ringlab.views").wrap(c.line, width, "      ")) do out[#out + 1] = l end
  end
  out[#out + 1] = "topics: help rings | owners | ledger | step | modes | lua | strategies | mtu"
  out[#out + 1] = "        | gso | tso | wire | kernel | netmap. Anything else is Lua."
  return table.concat(out, "\n")
end

local distance = C.distance -- the one of "did you mean" (cmdkit.lua)

-- Words people try that are not topics, and where they are explained.
local ALSO = {
  tcp = { "send", "strategies" }, udp = { "send", "mtu" }, mss = { "mtu", "strategies" },
  segment = { "strategies", "mtu" }, segmentation = { "strategies", "tso", "gso" },
  offload = { "tso", "gso" }, copy = { "strategies", "modes", "ledger" }, zerocopy = { "modes", "ledger" },
  extbuf = { "strategies" }, sg = { "strategies" }, born = { "strategies" }, reuse = { "strategies" },
  caps = { "show", "strategies" }, frame = { "owners", "mtu" }, ring = { "rings" },
  mac = { "wire", "host" }, arp = { "wire", "host" }, neighbour = { "wire" }, address = { "wire" },
  testbed = { "wire" }, netns = { "wire" }, namespace = { "wire" }, veth = { "wire" },
  xdp = { "wire", "modes" }, ping = { "host", "serve" }, peer = { "wire", "host" },
  drop = { "explain" }, drops = { "explain" }, dropped = { "explain" }, lost = { "explain" },
  loss = { "explain" }, statistics = { "explain" }, wakeup = { "explain", "rings" },
}

-- help WORD for a word that is neither a topic nor a command: the nearest
-- names (a prefix of one, or a letter or two away), in one line.
function C.no_help(word)
  local w = word:lower()
  local names = {}
  for k in pairs(C.topics) do names[#names + 1] = k end
  for _, c in ipairs(C.list) do names[#names + 1] = c.name end
  table.sort(names)
  local near, seen = {}, {}
  for _, n in ipairs(names) do
    local d = distance(w, n)
    local common = 0
    while common < math.min(#w, #n) and w:byte(common + 1) == n:byte(common + 1) do common = common + 1 end
    local prefix = #w >= 2 and (common == #w or common == #n and #n >= 3 or common >= math.max(4, #w - 2))
    if not seen[n] and (prefix or d <= (#w <= 4 and 1 or 2)) then
      near[#near + 1] = { n = n, d = prefix and 0 or d }
      seen[n] = true
    end
  end
  for _, n in ipairs(ALSO[w] or {}) do
    if not seen[n] then near[#near + 1] = { n = n, d = 0 } seen[n] = true end
  end
  table.sort(near, function(x, y) return x.d < y.d or x.d == y.d and x.n < y.n end)
  local say = {}
  for i = 1, math.min(#near, 4) do say[i] = "help " .. near[i].n end
  if #say > 0 then
    return string.format("no help on '%s' - did you mean: %s?", word, table.concat(say, ", "))
  end
  local topics = {}
  for k in pairs(C.topics) do topics[#topics + 1] = k end
  table.sort(topics)
  return string.format("no help on '%s' - topics: %s; help alone lists the commands", word,
    table.concat(topics, " "))
end


-- watch, watch run, lessons, lesson, the drawn step, show ledger --svg
require("ringlab.livecmds").install(C, def, C.current)

return C
