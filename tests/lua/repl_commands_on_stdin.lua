-- The prompt, fed from a pipe: commands and Lua lines run in order, values
-- print, an error prints as "error: ..." and the REPL carries on.
-- usage: ringlab repl_commands_on_stdin.lua /path/to/ringlab
local T = require "common"

local ringlab = arg[1] or error("usage: ringlab repl_commands_on_stdin.lua RINGLAB")
local input = {
  "open sim step=true",
  "region frames=64 size=2048",
  "fill 8",
  "send udp 198.18.0.2:9999 hello projector",
  "step",
  "show rings json",
  "fill 5000",
  "step 3",
  "show owners",
  "show caps",
  "recv",
  "show packet 1 json",
  "lua print('still here', 20 + 22)",
  "#last",
  "for i = 1, 2 do",
  "  print('loop ' .. i)",
  "end",
  "quit",
  "print('after quit')",
}
local out = T.ringlab_stdin(ringlab, input, { "NO_COLOR=1" })

local function has(text, what)
  if not out:find(text, 1, true) then
    error(string.format("output lacks %s (%q):\n%s", what, text, out), 2)
  end
end

has("engine sim#1 (copy, no region yet) is now the current engine", "open")
has("region of sim#1: 64 frames x 2048 bytes, headroom 256, 64 free", "region")
has("offered 8 frames to the NIC (fill ring 8 of 2048)", "fill")
has("sent udp 198.18.0.1:9000 > 198.18.0.2:9999 len 57 (1 segment)", "send")
has("TX: the NIC took descriptor tx[0]", "step")
-- show rings json after one TX step
local json = out:match("\n(%{\"comp\":.-)\n") or error("no rings json in:\n" .. out)
T.check(json:find('"tx":{"cons":1,"need_wakeup":true,"order":4,"pending":0,"prod":1,"size":2048}', 1, true),
  "tx ring after one step: " .. json)
T.check(json:find('"fill":{"cons":0,"need_wakeup":false,"order":1,"pending":8,"prod":8,"size":2048}', 1, true),
  "fill ring after one step: " .. json)
has("error: fill: the fill ring has room for 2040 entries, not 5000", "the error line")
has("COMPLETE: the NIC is done sending frame", "the REPL carried on after the error")
has("RX: a 57-byte packet arrived", "rx step")
has("IDLE: nothing to do", "idle step")
has("sum 64 = frames 64 (conserved)", "owners")
has("step      yes  one hardware action at a time (step)", "show caps")
has("extbuf    no   sends app memory outside the region", "show caps")
-- the kTLS row says what the kernel's own probe (lab.kernel.tls: TCP_ULP "tls") finds
has(string.format("ktls      %-3s  this kernel has kTLS", lab.kernel.tls().available and "yes" or "no"),
  "show caps: kTLS row agrees with lab.kernel.tls")
has("1: udp 198.18.0.1:9000 > 198.18.0.2:9999 len 57 (1 segment), payload 15 bytes, checksums ok", "recv")
has('"payload_len":15', "show packet json")
has("still here\t42", "lua line")
has("\n1\n", "expression value")
has("loop 1\nloop 2\n", "a multi-line chunk")
has("exit=0", "exit status")
T.check(not out:find("after quit", 1, true), "quit leaves")
T.check(not out:find("ringlab%["), "no prompt when stdin is not a terminal")
T.done("repl_commands_on_stdin")
