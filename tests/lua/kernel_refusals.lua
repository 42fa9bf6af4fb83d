-- kernel_refusals.lua - lab.kernel and the `kernel` command refuse bad
-- input in one line each, without root or a testbed (the sending itself is
-- tests/net/kernel_case.sh, as root); and the kTLS probe answers anyway.
local T = require "common"

local paths = lab.kernel.paths()
T.eq(table.concat(paths, ","), "write,writev,sendfile,splice,vmsplice,msg_zerocopy,udp,udp_gso", "paths")

local function one_line(err)
  T.check(not err:find("\n"), "one line: " .. err)
  T.check(not err:find("traceback"), "no traceback: " .. err)
end
one_line(T.raises({ "no path 'nope'", "give one of write, writev" }, lab.kernel.send,
  { path = "nope", size = 1 }))
one_line(T.raises({ "size= is the body's bytes" }, lab.kernel.send, { path = "write", size = 0 }))
one_line(T.raises({ "size= is the body's bytes" }, lab.kernel.send, { path = "write", size = "x" }))
one_line(T.raises({ "chunk= is the bytes per call" }, lab.kernel.send,
  { path = "write", size = 10, chunk = 1 }))
one_line(T.raises({ "dst= 'x:y' is not ADDR:PORT" }, lab.kernel.send,
  { path = "write", size = 10, dst = "x:y" }))
one_line(T.raises({ "testbed= is a testbed's name" }, lab.kernel.send,
  { path = "write", size = 10, testbed = "a/b" }))
-- no testbed named and ringlab not in an X-lab namespace
if not (type(lab.netns) == "string" and lab.netns:match("%-lab$")) then
  one_line(T.raises({ "which testbed? give testbed=NAME" }, lab.kernel.send,
    { path = "write", size = 10 }))
end

-- kTLS: a run-time answer whatever the kernel
local t = lab.kernel.tls()
T.check(t.line:match("^kTLS: not in this kernel %(TCP_ULP tls: ") or t.line:match("^kTLS: in this kernel %(TCP_ULP tls"),
  "kTLS line: " .. t.line)
T.eq(t.connected, false, "no testbed: an unconnected socket")
if not t.available then T.check(t.errno ~= 0 and #t.error > 0, "kTLS: errno when absent") end

-- the prompt: one error line each
local C = require "ringlab.commands"
for line, want in pairs {
  ["kernel"] = "kernel: say what - kernel send PATH size=64k",
  ["kernel sned"] = "kernel: no 'sned' - did you mean kernel send?",
  ["kernel send"] = "kernel send: say which path - one of write, writev",
  ["kernel send write"] = "kernel send: say how much - e.g. kernel send write size=64k",
  ["kernel send write size=2z"] = "kernel send: size=2z is not a size",
  ["kernel send write size=1k colour=red"] = "kernel send: colour= is not known",
  ["kernel compare size=1k speed"] = "kernel compare: 'speed' is not key=value",
  ["kernel tls fast"] = "kernel tls: 'fast' is not known - it takes testbed=NAME",
} do
  local ok, err = pcall(C.run, line)
  T.check(not ok, line .. ": no error")
  T.check(tostring(err):find(want, 1, true), line .. ": " .. tostring(err))
  one_line(tostring(err))
end
T.done("kernel_refusals")
