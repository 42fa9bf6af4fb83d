-- send tcp|udp DST size=64k at the prompt on DPDK: a net_ring pair (rb
-- wired to ra, one region) does every strategy but tso, extbuf and gso
-- included, with the exact ledger and the receiver's check; a refusal of
-- tso names what the pair can do; net_null (no MULTI_SEGS) can only copy
-- or reuse, and says so. Owners are conserved.
-- usage: ringlab dpdk_send_at_prompt.lua /path/to/ringlab
local T = require "common"

local ringlab = arg[1] or error("usage: ringlab dpdk_send_at_prompt.lua RINGLAB")
local input = {
  "open dpdk vdev=net_ring0 name=ra log=emergency",
  "open dpdk peer=ra name=rb log=emergency",
  "send tcp 198.18.0.2:8080 size=64k strategy=sg to=ra",
  "send tcp 198.18.0.2:8080 size=64k strategy=extbuf to=ra",
  "send tcp 198.18.0.2:8080 size=64k strategy=gso to=ra",
  "send tcp 198.18.0.2:8080 size=64k strategy=reuse count=2 to=ra",
  "send tcp 198.18.0.2:8080 size=64k strategy=tso to=ra",
  "send udp 198.18.0.2:9999 size=64k strategy=extbuf to=ra",
  "send udp 198.18.0.2:9999 size=64k strategy=sg to=ra",
  "print('owners', lab.get('rb'):owners().frames)",
  "print('held', lab.get('rb'):owners().app - lab.get('rb'):owners().free)",
  "open dpdk vdev=net_null0 name=nn log=emergency",
  "send tcp 198.18.0.2:8080 size=64k strategy=sg",
  "send udp 198.18.0.2:9999 size=64k strategy=copy",
  "print('owners nn', lab.get('nn'):owners().frames)",
  "quit",
}
local out = T.ringlab_stdin(ringlab, input, { "NO_COLOR=1", "COLUMNS=80" })
print(out)

local function block(head)
  local b = out:match("send " .. head:gsub("%p", "%%%0") .. "[^\n]*\n.-\nreceiver: [^\n]*")
  return b or error("no output block for " .. head)
end
local function has(b, text, what)
  T.check(b:find(text, 1, true), what .. " (" .. text .. ")")
end

local sg = block("tcp 198.18.0.2:8080: 65536 bytes, strategy sg, from rb")
has(sg, "result: 45 segments in", "sg: 45 segments")
has(sg, "ledger: copied 0  referenced 65536  headers 2430", "sg: the ledger")
has(sg, "receiver: 65536 bytes in 45 segments arrived intact (ra", "sg: intact on ra")

local x = block("tcp 198.18.0.2:8080: 65536 bytes, strategy extbuf, from rb")
has(x, "the data: in app memory outside the region (lab.appmem)", "extbuf: where the data is")
has(x, "result: 45 segments in 90 descriptors", "extbuf: a header frame + the external data each")
has(x, "ledger: copied 0  referenced 65536", "extbuf: nothing copied")
has(x, "receiver: 65536 bytes in 45 segments arrived intact", "extbuf: intact")

local g = block("tcp 198.18.0.2:8080: 65536 bytes, strategy gso, from rb")
has(g, "result: 3 big packets in", "gso: 3 packets of up to 16 MSS handed to the engine")
has(g, "ledger: copied 0  referenced 65536", "gso: nothing copied")
has(g, "receiver: 65536 bytes in 45 segments arrived intact", "gso: the engine cut them into 45 segments")
local hdr = tonumber(g:match("headers (%d+)"))
T.check(hdr > 2430, "gso: the engine's copies of the headers are counted too: " .. hdr)

local ru = block("tcp 198.18.0.2:8080: 65536 bytes x 2, strategy reuse, from rb")
has(ru, "send 1: 45 segments in 45 descriptors to the NIC, all ACKed - copied 65536", "reuse: staged once")
has(ru, "send 2: 45 segments in 45 descriptors to the NIC, all ACKed - copied 0", "reuse: headers only")
has(ru, "receiver: 131072 bytes in 90 segments arrived intact", "reuse: intact")

T.eq(out:match("error: send tcp: rb cannot do tso [^\n]*it can do: (%w[%w, ]*%w)"),
  "copy, reuse, born, sg, extbuf, gso", "tso refused, naming what the pair can do")

local ux = block("udp 198.18.0.2:9999: 65536 bytes, strategy extbuf")
has(ux, "result: 46 datagrams in 92 descriptors, the largest 1448 bytes", "udp extbuf: 46 datagrams")
has(ux, "receiver: 46 datagrams, 65536 bytes arrived intact (ra", "udp extbuf: intact")
local us = block("udp 198.18.0.2:9999: 65536 bytes, strategy sg")
has(us, "ledger: copied 0  referenced 65536", "udp sg: nothing copied")
has(us, "receiver: 46 datagrams, 65536 bytes arrived intact (ra", "udp sg: intact")

T.eq(out:match("error: send tcp: nn cannot do sg [^\n]*it can do: (%w[%w, ]*%w)"), "copy, reuse",
  "net_null: only one-descriptor strategies")
T.check(out:find("error: send tcp: nn cannot do sg [^\n]*RTE_ETH_TX_OFFLOAD_MULTI_SEGS"), "net_null: says why")
local nc = out:match("send udp 198.18.0.2:9999: 65536 bytes, strategy copy, from nn.-\nreceiver: [^\n]*")
T.check(nc and nc:find("ledger: copied 65536  referenced 0", 1, true), "net_null: udp copy sends")
T.check(out:find("owners\t4096\n", 1, true), "the pair's region conserved")
T.check(out:find("held\t0\n", 1, true), "no frame of the pair's region left held by the program")
T.check(out:find("owners nn\t4096\n", 1, true), "net_null's region conserved")
T.check(out:find("exit=0", 1, true), "exit status")
T.done("dpdk_send_at_prompt")
