-- send tcp size=64k at the prompt in a real 80x24 terminal (a private
-- tmux server, killed at the end): on a pair of simulators, strategy sg
-- shows its exchange and "copied 0" on the screen, the receiver's verdict
-- is there, and nothing was wrapped (every row of the screen holds one
-- line the program printed, none wider than 80).
-- usage: ringlab send_in_tmux.lua RINGLAB      (exits 77 without tmux)
local T = require "common"

local ringlab = arg[1] or error("usage: ringlab send_in_tmux.lua RINGLAB")
local X = require "tmux"
X.skip_without_tmux()
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local S = X.start("NO_COLOR=1 " .. q(ringlab), 80, 24, { join = true, secs = 15 })
local keys, wait, tmux, has = S.keys, S.wait, S.tmux, X.has
wait("the prompt", has("ringlab"))
keys("a = lab.open('sim')", "Enter", "open sim peer=a", "Enter")
keys("send tcp 198.18.0.2:8080 size=64k strategy=sg to=a", "Enter")
local s = wait("the receiver's verdict", has("\nreceiver:"))
print(s)
T.check(s:find("ledger: copied 0  referenced 65536", 1, true), "copied 0 for sg on the screen")
T.check(s:find("result: 45 segments in %d+ descriptors, MSS 1460"), "the segments and descriptors")
T.check(s:find("handshake: 198.18.0.1:%d+ > 198.18.0.2:8080 done, MSS 1460"), "the handshake line")
T.check(s:find("FIN sent and ACKed", 1, true), "the FIN line")
T.check(s:find("receiver: 65536 bytes in 45 segments arrived intact", 1, true), "the receiver's check")
-- capture-pane -J joins wrapped rows: a line longer than 80 shows as one
for line in s:sub(s:find("send tcp 198.18.0.2:8080: ", 1, true)):gmatch("[^\n]+") do
  if not line:find("^ringlab") then T.check(#line <= 80, "wider than 80 columns: " .. line) end
end
keys("send tcp 198.18.0.2:8080 size=64k strategy=tso to=a", "Enter")
s = wait("the refusal", has("cannot do tso"))
T.check(s:find("it can do: copy, reuse, born, sg, gso", 1, true), "the refusal names what sim can do")
T.check(s:find("open sim tso=true", 1, true), "and how to get a NIC that cuts\n" .. s)
tmux("kill-server")
T.done("send_in_tmux")
