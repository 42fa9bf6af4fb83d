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

def("help", "help [topic]", "list the commands, or explain one (topics: rings owners ledger step modes lua)",
  function(args) print(C.help(args[1])) end)

require "ringlab.cmd_engine"
require "ringlab.cmd_io"
require "ringlab.cmd_show"

def("quit", "quit", "leave ringlab (also exit, or Ctrl-D)", function() return "quit" end)
def("exit", "exit", "leave ringlab", function() return "quit" end)
def("lua", "lua CODE", "run CODE as Lua even if it starts like a command", function() end)

function C.help(topic)
  if topic and C.topics[topic] then return C.topics[topic] end
  if topic and C.byname[topic] then
    local c = C.byname[topic]
    local extra = C.topics[topic] and ("\n" .. C.topics[topic]) or ""
    return c.usage .. "\n  " .. c.line .. extra
  end
  local out = {}
  if topic then out[1] = string.format("no help on '%s' - here is what there is:", topic) end
  local width = math.max(40, require("ringlab.term").width() - 1)
  for _, c in ipairs(C.list) do
    out[#out + 1] = "  " .. c.usage
    local line = "      "
    for word in c.line:gmatch("%S+") do
      if #line + #word + 1 > width and #line > 6 then
        out[#out + 1] = line
        line = "      "
      end
      line = line .. (#line > 6 and " " or "") .. word
    end
    out[#out + 1] = line
  end
  out[#out + 1] = "topics: help rings | owners | ledger | step | modes | lua. Anything else is Lua."
  return table.concat(out, "\n")
end


-- watch, watch run, lessons, lesson, the drawn step, show ledger --svg
require("ringlab.livecmds").install(C, def, C.current)

return C
