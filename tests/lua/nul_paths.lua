-- nul_paths.lua - a name or path with a zero byte in it is refused with one
-- line, never cut short at the byte (lab.open("sim\0x") opened sim; a
-- capture or SVG to "a.pcap\0x" wrote a.pcap); lab.pcap(e, "-") is refused
-- (libpcap would write the capture to standard output, among print()'s
-- text).
local T = require "common"

local dir = lab.tempdir()
local function one_line(err) T.check(not err:find("\n"), "one line: " .. err) end
local function absent(path)
  local f = io.open(path)
  if f then f:close() end
  T.check(not f, path .. " was not created")
end

-- engines: the name, and an option's value
local before = #lab.opened()
one_line(T.raises({ "engine name", "zero byte", 'lab.open("sim")' }, lab.open, "sim\0x"))
one_line(T.raises({ "option 'mode'", "zero byte" }, lab.open, "sim", { mode = "copy\0x" }))
-- afxdp where it is built (and this user may open it): its ifname= too
local ok, err = pcall(lab.open, "afxdp", { ifname = "lo\0;x" })
T.check(not ok, "afxdp with ifname=lo\\0;x is refused")
-- (not built, or refused to this user before its options are read: no root)
if not tostring(err):find("no engine called", 1, true) and not tostring(err):find("cannot open here", 1, true) then
  one_line(T.raises({ "option 'ifname'", "zero byte" }, lab.open, "afxdp", { ifname = "lo\0;x" }))
end
T.eq(#lab.opened(), before, "nothing was opened")

-- captures: a NUL in the path; "-" (standard output)
local e = lab.open("sim", { name = "nul" })
e:region { frames = 64 }
one_line(T.raises({ "pcap", "zero byte" }, lab.pcap, e, dir .. "/a.pcap\0x"))
absent(dir .. "/a.pcap")
one_line(T.raises({ "pcap", '"-"', "standard output", "file path" }, lab.pcap, e, "-"))
local cap = lab.pcap(e, dir .. "/ok.pcap") -- a good path still works
cap:close()
T.check(io.open(dir .. "/ok.pcap"), "the good capture exists")

-- the SVG plot, and Lua's own functions that take paths
one_line(T.raises({ "zero byte" }, lab.plot, { file = dir .. "/p.svg\0x", engines = { e } }))
absent(dir .. "/p.svg")
one_line(T.raises({ "io.open", "zero byte" }, io.open, dir .. "/w\0x", "w"))
absent(dir .. "/w")
T.raises({ "io.output", "zero byte" }, io.output, dir .. "/o\0x")
absent(dir .. "/o")
T.raises({ "io.lines", "zero byte" }, io.lines, dir .. "/ok.pcap\0x")
T.raises({ "os.remove", "zero byte" }, os.remove, dir .. "/ok.pcap\0x")
T.check(io.open(dir .. "/ok.pcap"), "os.remove did not remove the cut-short name")
T.raises({ "os.rename", "zero byte" }, os.rename, dir .. "/ok.pcap", dir .. "/n\0x")
T.raises({ "loadfile", "zero byte" }, loadfile, dir .. "/x.lua\0y")
T.raises({ "dofile", "zero byte" }, dofile, dir .. "/x.lua\0y")
-- paths without a zero byte behave as before
local f = assert(io.open(dir .. "/plain.txt", "w")); f:write("x"); f:close()
T.eq(io.lines(dir .. "/plain.txt")(), "x", "io.lines reads a plain path")
T.check(os.rename(dir .. "/plain.txt", dir .. "/renamed.txt"), "os.rename of plain paths")
T.check(os.remove(dir .. "/renamed.txt"), "os.remove of a plain path")
T.conserved(e, "nul")
e:close() -- the capture's file closed, then the directory goes
os.remove(dir .. "/ok.pcap")
os.remove(dir)
T.done("nul_paths")
