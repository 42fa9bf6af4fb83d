-- topics.lua - the help topics of the prompt (ringlab.topics): help NAME.

return {
  rings = [[
rings: how the program and the NIC talk. Each ring has a producer index
(prod) and a consumer index (cons); prod - cons entries are pending.
  fill  program -> NIC: empty frames to receive into      (fill N)
  rx    NIC -> program: frames that now hold a packet      (recv)
  tx    program -> NIC: frames to send                     (send)
  comp  NIC -> program: sent frames, free to reuse         (complete)
need_wakeup means the NIC sleeps until the program kicks it. Try: show rings]],
  owners = [[
owners: every frame of the region has exactly one owner at any moment:
A held by the program, . free in the pool, F on the fill ring, N inside
the NIC, R on the rx ring, T on the tx ring, C on the completion ring.
Frames only change owner, they are never lost: the counts always sum to
the number of frames (the conservation invariant). Try: show owners]],
  ledger = [[
ledger: every byte that moves is counted once:
  copied      memcpy by the lab or a script (a string payload, pkt:payload())
  referenced  sent without a copy (a buffer born in the region: r:alloc)
  headers     header bytes written
  kernel_copied / driver_copied  copies below the program, measured or
              derived from the mode (the why says which)
  touched     payload read but not copied (checksums)
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
Try: open sim mode=copy, send, show ledger; then open sim mode=zerocopy]],
  lua = [[
lua: anything that is not a command is Lua, with the same API scripts use:
  e = lab.open("sim")   r = e:region{}   e:fill(64)
  p = lab.packet.udp{dst="198.18.0.2:9999", payload="hi", region=r}
  e:tx(p)  e:kick()  e:rx()  e:rings()  e:owners()  e:stats()
An expression's value is printed; `lua CODE` forces Lua.]],
}

