-- send tcp|udp DST size=64k strategy=S at the prompt, on a pair of
-- simulators (the second one named with to=): the real TCP exchange with
-- each strategy the simulator can do, its exact ledger and the receiver's
-- check; count=2 with reuse; the refusals of what the simulator cannot do
-- (naming only what it can); gso (the simulator's kernel) and tso (a sim
-- opened with tso=true) with their ledgers; UDP cut into datagrams of at most the MSS;
-- the old one-datagram send; bad words, one line each; owners conserved.
-- usage: ringlab send_size_at_prompt.lua /path/to/ringlab
local T = require "common"

local ringlab = arg[1] or error("usage: ringlab send_size_at_prompt.lua RINGLAB")
local input = {
  "a = lab.open('sim')",
  "open sim peer=a",
  "region",
  "show caps",
  "send tcp 198.18.0.2:8080 size=64k strategy=sg to=a",
  "send tcp 198.18.0.2:8080 size=65536 strategy=copy to=a",
  "send tcp 198.18.0.2:8080 size=64k strategy=reuse count=2 to=a",
  "send tcp 198.18.0.2:8080 size=64k strategy=born mss=1448 to=sim#1",
  "send tcp 198.18.0.2:8080 size=1m strategy=sg to=a",
  "send tcp 198.18.0.2:8080 size=64k strategy=copy mss=4000 to=a",
  "send tcp 198.18.0.2:8080 size=64k strategy=sg mss=4000 to=a",
  "send tcp 198.18.0.2:8080 size=4m strategy=copy to=a",
  "send tcp 198.18.0.2:8080 size=16m strategy=sg to=a",
  "send udp 198.18.0.2:9999 size=2m strategy=reuse count=2 to=a",
  "send tcp 198.18.0.2:8080 size=64k strategy=tso to=a",
  "send tcp 198.18.0.2:8080 size=64k strategy=extbuf to=a",
  "send tcp 198.18.0.2:8080 size=64k strategy=gso to=a",
  "send udp 198.18.0.2:9999 size=64k strategy=sg to=a",
  "send udp 198.18.0.2:9999 size=64k strategy=copy to=a",
  "send udp 198.18.0.2:9999 hello projector",
  "send tcp 198.18.0.2:8080 size=64q to=a",
  "send tcp 198.18.0.2:8080 size=64k strategy=fast to=a",
  "send tcp 198.18.0.2:8080 size=64k mss=big to=a",
  "send tcp 198.18.0.2:8080 size=64k colour=red",
  "send tcp 198.18.0.2:8080 size=64k to=nobody",
  "send tcp size=64k",
  "print('owners', cur:owners().frames, a:owners().frames)",
  "print('held', cur:owners().app - cur:owners().free, a:owners().app - a:owners().free)",
  "print('complete', table.concat(require('ringlab.repl').complete('', 'send tcp 198.18.0.2:8080 strategy=', 34), ' '))",
  "print('complete to', table.concat(require('ringlab.repl').complete('t', 'send udp 198.18.0.2:9999 t', 25), ' '))",
  "open sim name=lone",
  "send tcp 198.18.0.2:8080 size=64k",
  "open sim name=wired peer=lone",
  "send tcp 198.18.0.2:8080 size=4k strategy=copy",
  "open sim name=small",
  "region frames=64",
  "open sim name=tiny peer=small",
  "region frames=64",
  "send tcp 198.18.0.1:8080 size=64k strategy=copy to=small",
  "send tcp 198.18.0.1:8080 size=64k strategy=sg to=small",
  "print('small owners', lab.get('small'):owners().frames, lab.get('tiny'):owners().frames)",
  "open sim name=tr",
  "open sim name=tt tso=true peer=tr",
  "send tcp 198.18.0.2:8080 size=64k strategy=tso to=tr",
  "print('tso owners', lab.get('tt'):owners().frames, lab.get('tr'):owners().frames)",
  "quit",
}
local out = T.ringlab_stdin(ringlab, input, { "NO_COLOR=1", "COLUMNS=80" })
print(out)

local function has(text, what)
  if not out:find(text, 1, true) then
    error(string.format("output lacks %s (%q)", what, text), 2)
  end
end

-- The block a command printed: from its first line to the receiver's verdict.
local function block(head, n)
  local seen = 0
  for b in out:gmatch("send " .. head:gsub("%p", "%%%0") .. "[^\n]*\n.-\nreceiver: [^\n]*") do
    seen = seen + 1
    if seen == (n or 1) then return b end
  end
  error("no output block for " .. head)
end

local sg = block("tcp 198.18.0.2:8080: 65536 bytes, strategy sg")
T.check(sg:find("handshake: 198%.18%.0%.1:%d+ > 198%.18%.0%.2:8080 done, MSS 1460"), "sg: the handshake line with the MSS")
T.check(sg:find("result: 45 segments in %d+ descriptors, MSS 1460"), "sg: 45 segments at MSS 1460")
T.check(sg:find("ledger: copied 0  referenced 65536  headers 2430", 1, true), "sg: the ledger\n" .. sg)
T.check(sg:find("FIN sent and ACKed", 1, true), "sg: the FIN line")
T.check(sg:find("receiver: 65536 bytes in 45 segments arrived intact", 1, true), "sg: the receiver's check")
local descs = tonumber(sg:match("in (%d+) descriptors"))
T.check(descs > 45, "sg: a header frame chained in front of the payload: more descriptors than segments")

local copy = block("tcp 198.18.0.2:8080: 65536 bytes, strategy copy")
T.check(copy:find("result: 45 segments in 45 descriptors", 1, true), "copy: one descriptor per segment")
T.check(copy:find("ledger: copied 65536  referenced 0  headers 2430", 1, true), "copy: the ledger\n" .. copy)
T.check(copy:find("receiver: 65536 bytes in 45 segments arrived intact", 1, true), "copy: intact")

local reuse = block("tcp 198.18.0.2:8080: 65536 bytes x 2, strategy reuse")
T.check(reuse:find("send 1: 45 segments in 45 descriptors to the NIC, all ACKed - copied 65536",
  1, true), "reuse: the first send stages (copies) the data\n" .. reuse)
T.check(reuse:find("send 2: 45 segments in 45 descriptors to the NIC, all ACKed - copied 0",
  1, true), "reuse: the second only rewrites headers")
T.check(reuse:find("ledger: copied 65536  referenced 65536", 1, true), "reuse: copied once, then referenced")
T.check(reuse:find("receiver: 131072 bytes in 90 segments arrived intact", 1, true), "reuse: both sends arrived intact")

local born = block("tcp 198.18.0.2:8080: 65536 bytes, strategy born")
T.check(born:find("MSS 1448", 1, true), "born: mss=1448 was negotiated")
T.check(born:find("result: 46 segments", 1, true), "born: 46 segments at MSS 1448")
T.check(born:find("ledger: copied 0  referenced 65536  headers 2484", 1, true), "born: the ledger\n" .. born)
T.check(born:find("receiver: 65536 bytes in 46 segments arrived intact (sim#1", 1, true), "born: to=sim#1 found the engine")

local big = block("tcp 198.18.0.2:8080: 1048576 bytes, strategy sg")
T.check(big:find("result: 719 segments", 1, true), "1m: 719 segments at MSS 1460")
T.check(big:find("ledger: copied 0  referenced 1048576", 1, true), "1m: nothing copied")
T.check(big:find("receiver: 1048576 bytes in 719 segments arrived intact", 1, true), "1m: intact")

-- a send that fails after the handshake (copy cannot put 4000 bytes in a
-- 2048-byte frame) leaves nothing behind that takes the next one's place
has("error: send tcp: copy puts one segment per frame, but 4000 payload + 54 header bytes do not fit a "
  .. "2048-byte frame after 256 bytes of headroom - use mss <= 1738 or larger frames", "mss too big for copy")
local sg4 = block("tcp 198.18.0.2:8080: 65536 bytes, strategy sg, from sim#2", 2)
T.check(sg4:find("MSS 4000", 1, true) and sg4:find("result: 17 segments", 1, true), "sg chains 4000-byte segments")
T.check(sg4:find("receiver: 65536 bytes in 17 segments arrived intact", 1, true),
  "the receiver read the new connection, not the one the failed send left\n" .. sg4)

-- more than the region holds: copy goes a piece at a time (pieces of whole
-- segments), sg cannot (the data lies in the region) and says what fits
local four = block("tcp 198.18.0.2:8080: 4194304 bytes, strategy copy")
T.check(four:find("result: 2873 segments in 2873 descriptors", 1, true), "4m: 2873 segments, no short ones")
T.check(four:find("receiver: 4194304 bytes in 2873 segments arrived intact", 1, true), "4m: intact")
T.check(out:find("error: send tcp: sg keeps the data in the region: 16777216 bytes need 8192 frames in a row, %d+ of "
  .. "its 4096 are free %- say size=%d+k or less, or use copy"), "16m sg: what fits")
local ur = block("udp 198.18.0.2:9999: 2097152 bytes x 2, strategy reuse")
T.check(ur:find("ledger: copied 2097152  referenced 2097152", 1, true), "udp reuse: staged once, resent")
T.check(ur:find("receiver: 2898 datagrams, 4194304 bytes arrived intact", 1, true),
  "udp reuse 2 x 2m: every datagram arrived (the sender does not outrun the receiver's fill ring)")

-- refusals: only what the simulator can do
for _, s in ipairs({ "tso", "extbuf" }) do
  local line = out:match("error: send tcp: sim#2 cannot do " .. s .. " [^\n]*")
  T.check(line, s .. ": refused")
  local can = line:match("it can do: (%w[%w, ]*%w)")
  T.eq(can, "copy, reuse, born, sg, gso", s .. ": the strategies the simulator can do")
end
T.check(out:find("error: send tcp: sim#2 cannot do tso (no tso here - open sim tso=true for a NIC that cuts TCP)",
  1, true),
  "tso: the refusal says how to get a NIC that cuts")

-- gso: the simulator's kernel cuts 16-MSS packets in software, a copy of
-- the headers per segment (45 x 54) besides the lab's (3 x 54), and reads
-- the payload for the checksums; tso: the NIC cuts, the lab writes 3 headers
local gso = block("tcp 198.18.0.2:8080: 65536 bytes, strategy gso")
T.check(gso:find("result: 3 big packets in %d+ descriptors, cut in software: 45 segments, MSS 1460"),
  "gso: 3 big packets, 45 segments\n" .. gso)
T.check(gso:find("ledger: copied 0  referenced 65536  headers 2592  touched 65536", 1, true), "gso: the ledger\n" .. gso)
T.check(gso:find("receiver: 65536 bytes in 45 segments arrived intact", 1, true), "gso: intact")
local tso = block("tcp 198.18.0.2:8080: 65536 bytes, strategy tso, from tt")
T.check(tso:find("result: 3 big packets in %d+ descriptors, cut by the NIC: 45 segments, MSS 1460"),
  "tso: 3 big packets, 45 segments\n" .. tso)
T.check(tso:find("ledger: copied 0  referenced 65536  headers 162  touched 0", 1, true), "tso: the lab's ledger\n" .. tso)
T.check(tso:find("receiver: 65536 bytes in 45 segments arrived intact (tr", 1, true), "tso: intact")
has("tso owners\t4096\t4096\n", "owners conserved on the tso pair")

local udp = block("udp 198.18.0.2:9999: 65536 bytes, strategy sg")
T.check(udp:find("result: 46 datagrams in %d+ descriptors, the largest 1448 bytes of payload"),
  "udp sg: 46 datagrams, none larger than the MSS\n" .. udp)
T.check(udp:find("ledger: copied 0  referenced 65536", 1, true), "udp sg: the ledger")
T.check(udp:find("receiver: 46 datagrams, 65536 bytes arrived intact", 1, true), "udp sg: intact")
local udpc = block("udp 198.18.0.2:9999: 65536 bytes, strategy copy")
T.check(udpc:find("46 datagrams in 46 descriptors", 1, true), "udp copy: one descriptor each")
T.check(udpc:find("ledger: copied 65536  referenced 0", 1, true), "udp copy: the ledger")
T.check(udpc:find("receiver: 46 datagrams, 65536 bytes arrived intact", 1, true), "udp copy: intact")

has("sent udp 198.18.0.1:9000 > 198.18.0.2:9999 len 57 (1 segment)", "the one-datagram send still works")
has("error: send tcp: size=64q is not a size - say e.g. size=64k, size=1m or size=65536\n", "bad size")
has("error: send tcp: strategy=fast is not known - say copy, reuse, born, sg, tso, extbuf or gso", "bad strategy")
has("error: send tcp: mss=big is not 64..9000 - e.g. mss=1448", "bad mss")
has("error: send tcp: colour= is not known - it takes size=, strategy=, mss=, count= and to=", "unknown key")
has("error: send tcp: to=nobody is not an open engine - name one of: sim#1, sim#2", "unknown engine")
has("error: send tcp: say where to - send tcp 198.18.0.2:8080 size=64k strategy=sg", "no address")
has("owners\t4096\t4096", "owners of both engines conserved (e:owners() raises otherwise)")
has("held\t0\t0", "no frame left held by the program after the sends (buffers freed, views released)")
has("error: send tcp: lone is on no wire, so nothing there listens - open a second engine wired to it "
  .. "(open sim peer=lone), then send from that one with to=lone", "a lone simulator: what to do")
local w = block("tcp 198.18.0.2:8080: 4096 bytes, strategy copy, from wired")
T.check(w:find("receiver: lone listens on 198.18.0.2:8080", 1, true), "without to=: the engine wired by peer=")
T.check(w:find("receiver: 4096 bytes in 3 segments arrived intact (lone", 1, true), "and it checked the bytes")
has("complete\tborn copy gso reuse sg\n", "Tab after strategy= offers what this engine can do")
has("complete to\tto=\n", "Tab completes key= words")
has("strategies it can send with (help strategies): copy, reuse, born, sg, gso\n", "show caps lists the strategies")
has("  csum      no   the NIC fills checksums", "show caps: checksum offload")
-- a 64-frame region: copy goes in pieces that fit the free frames, sg
-- (the data lies in the region, each segment a header frame) says what fits
local sm = block("tcp 198.18.0.1:8080: 65536 bytes, strategy copy, from tiny")
T.check(sm:find("receiver: 65536 bytes in 45 segments arrived intact", 1, true), "64 frames: copy in pieces\n" .. sm)
T.check(out:find("error: send tcp: sg keeps the data in the region: 65536 bytes need 32 frames in a row, %d+ of "
  .. "its 64 are free %- say size=%d+k or less, or use copy"), "64 frames: sg says what fits")
T.check(not out:find("say size=0k", 1, true), "never advises size=0k")
has("small owners\t64\t64\n", "owners conserved on the small pair")
has("exit=0", "exit status")

-- every line the sends printed fits a projector's 80 columns
for _, b in ipairs({ sg, copy, reuse, born, big, udp, udpc, four, ur, gso, tso }) do
  for line in b:gmatch("[^\n]+") do T.check(#line <= 80, "a line longer than 80 columns: " .. line) end
end
T.done("send_size_at_prompt")
