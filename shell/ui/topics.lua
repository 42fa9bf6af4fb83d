-- topics.lua - the help topics of the prompt (ringlab.topics): help NAME.

return {
  rings = [[
rings: how the program and the NIC talk. Each ring has a producer index
(prod) and a consumer index (cons); prod - cons entries are pending.
  fill  program -> NIC: empty frames to receive into      (fill N)
  rx    NIC -> program: frames that now hold a packet      (recv)
  tx    program -> NIC: frames to send                     (send)
  comp  NIC -> program: sent frames, free to reuse         (complete)
show rings draws each ring's slots: # an entry waiting, . empty, c the next
to take (cons), p the next to fill (prod); a large ring as the slots
around c and p ("slots 0-28") or in cells of slots ("cell=128").
need_wakeup means the NIC sleeps until the program kicks it. Try: show rings]],
  owners = [[
owners: every frame of the region has exactly one owner at any moment:
A held by the program, . free in the pool, F on the fill ring, N inside
the NIC, R on the rx ring, T on the tx ring, C on the completion ring.
Frames only change owner, they are never lost: the counts always sum to
the number of frames (the conservation invariant). Where the engine
allows it (shared in show caps: sim, afxdp, dpdk) a frame may be in
several descriptors at once, as born/sg segments meeting in a frame are:
it counts once, under the owner of its least advanced descriptor, shows
as a digit (how many), and is the program's again when the last
completes. Try: show owners]],
  ledger = [[
ledger: every byte that moves is counted once:
  copied      memcpy by the lab or a script (a string payload, pkt:payload())
  referenced  sent without a copy (a buffer born in the region: r:alloc)
  headers     header bytes written
  kernel_copied / driver_copied  copies below the program, measured or
              derived from the mode (the why says which)
  touched     payload read but not copied (checksums)
Each byte is also counted on its path: sent (building, segmenting and
sending a packet, the kernel's copy out) or recv (the kernel's copy in, a
received packet read: pkt:payload(), a reader). show ledger gives the
total, the sent and recv parts, and per sent = the sent part / packets
sent, per recv = the recv part / packets received. compare puts several
engines side by side; lua: e:stats().ledger.tx / .rx.
Try: send udp 198.18.0.2 hi, then show ledger]],
  step = [[
step: open the simulator with step=true and the NIC moves only when you
say so. Each step is one hardware action, in this order of priority:
COMPLETE a sent frame > RX (or DROP) a packet from the wire > TX a packet.
Try: open sim step=true / region / fill 4 / send udp 198.18.0.2 / step 4]],
  modes = [[
modes: copy - the kernel copies each packet between your frames and its
own buffer (kernel_copied grows by the packet size); zerocopy - the NIC
reads and writes your frames directly (kernel_copied stays 0).
Try: open sim name=c mode=copy, send, then open sim name=z mode=zerocopy,
send, then compare]],
  lua = [[
lua: anything that is not a command is Lua, with the same API scripts use:
  e = lab.open("sim")   r = e:region{}   e:fill(64)
  p = lab.packet.udp{dst="198.18.0.2:9999", payload="hi", region=r}
  e:tx(p)  e:kick()  e:rx()  e:rings()  e:owners()  e:stats()
  print(p:hexdump())    -- the bytes, headers marked (show packet N hex)
An expression's value is printed (bytes escaped, with their length);
`lua CODE` forces Lua. An error is one line; lab.debug = true (or ringlab
--debug, RINGLAB_DEBUG=1) adds the traceback. Ctrl-C stops what runs.]],
  strategies = [[
strategies: how data larger than one MTU becomes packets, and where the
copies are. H = headers (eth+ip+tcp), d = your data, [..] = one frame.
copy    each MSS of data is copied behind fresh headers      copied = size
          "ddddddd" --memcpy--> [H|ddd] [H|ddd] [H|d]
reuse   copy once into frames, then resend them: only H is rewritten
          [H|ddd] [H|ddd]   H rewritten per send     copied once, then 0
born    data born in the region (r:alloc); H in the headroom in front of
        the first MSS, a header frame chained in front of the others
          [H|ddd|ddd|ddd]  ->  [H|ddd]  [H]->[ddd]  [H]->[ddd]  copied 0
sg      a header frame chained in front of each MSS of region data
          [H]->[ddd]  [H]->[dd][d]   several descriptors per packet
        born and sg need multi-buffer: AF_XDP sg=true, DPDK MULTI_SEGS;
        or unaligned=true (sim, afxdp): one descriptor across frames [H|dd][dd]
extbuf  app memory in no region (a string, lab.appmem) attached as it is
          [H]->(your memory: ddd)   DPDK's external mbufs       copied 0
gso     one big packet per 16 MSS; software cuts it (DPDK, the sim's kernel)
tso     one big packet; the NIC cuts it (open sim tso=true)   help gso, tso
Which ones the current engine can do: show caps (or any refusal says).
Try: send tcp 198.18.0.2:8080 size=64k strategy=sg to=NAME]],
  mtu = [[
mtu: the largest IP packet a link carries: 1500 bytes on Ethernet.
  [eth 14][ip 20][tcp 20 (+12 timestamps)][payload: at most MSS bytes]
  TCP: MSS = 1500 - 40 = 1460 (1448 with timestamps, as Linux sends)
  UDP: 1500 - 28 = 1472 bytes of payload fit one datagram
Data larger than that is cut into segments: 64 KiB is 45 segments at
MSS 1460, 46 at 1448. TCP agrees the MSS in its handshake; a frame of
2048 bytes holds one whole 1514-byte packet. A larger packet (64 KiB for
tso and gso) spans several frames: a chain (help strategies).
UDP does not cut: a datagram larger than the MTU is fragmented by IP; the
lab cuts the data into datagrams of at most mss= bytes (1448 by default).
Try: send tcp 198.18.0.2:8080 size=64k mss=1448 to=NAME
     send udp 198.18.0.2:9999 size=64k to=NAME]],
  gso = [[
gso: segmentation offload done in software, late. The program hands the
engine one big TCP packet (here up to 16 MSS); the engine cuts it:
  [H|dddddddddddd]  --rte_gso_segment-->  [H1]->(ddd) [H2]->(ddd) ...
Each segment gets its own copy of the headers (counted as headers, seq
and checksums fixed); the payload is referenced by indirect mbufs, not
copied. Here DPDK does it, on ports with MULTI_SEGS (net_ring; not
net_null), and the simulator's kernel (unless opened with gso=false).
Linux does the same below its TCP: one big packet walks the stack once
and is cut just before the driver. Without checksum offload the
checksums are computed in software too: the payload is read (touched).
Try: send tcp 198.18.0.2:8080 size=64k strategy=gso to=NAME]],
  tso = [[
tso: TCP segmentation offload: the NIC cuts one big TCP packet into
MSS-sized segments on the wire, writing headers (seq, IP id, checksums)
for each; the CPU touches no payload at all.
  program: [H|dddddddddddd]  one packet, one chain of descriptors
  wire:    [H1|ddd] [H2|ddd] [H3|ddd] [H4|ddd]
It needs a NIC (and driver) that offers it: a simulator opened with
tso=true does (the header bytes it writes count as the engine's, not the
program's). AF_XDP and the DPDK ports made here do not: strategy tso is
refused there, with what the engine can do instead. Checksum offload
alone: open sim csum=true, then csum="offload". See: show caps, help gso]],
  wire = [[
wire: on afxdp, and dpdk on a kernel interface (net_af_packet iface=),
packets reach real machines, so their addresses must be real. What you
leave out is filled in:
  source MAC and IP  the interface's own (the host's, after host up)
  destination MAC    the neighbour's: remembered from before, the
                     host's ARP table, the namespace's neighbour table
                     (the testbed's static entries), else asked by ARP
When nobody answers within 1 s: "no MAC for ... - try host up, or
dst_mac=". In Lua, src=, src_mac= and dst_mac= always win. The
simulator keeps its made-up MACs 02:00:00:00:00:01 and :02.
The testbed is a wire that touches none of the machine's interfaces:
from a shell, as root, `ringlab testbed up` makes namespaces rl-lab
(rl0 198.18.0.1) and rl-peer (rl1 198.18.0.2, the Linux stack) joined
by a veth pair; `ringlab --netns rl-lab` starts the prompt on its lab
side; `ringlab testbed down` removes it all (name=X for X-lab, X-peer).
Try: open afxdp ifname=rl0 / region / send udp 198.18.0.2:9999 hi,
then host up and ping it from the peer: ip netns exec rl-peer ping
198.18.0.1 (host up says the command for the testbed you are in).]],
}

