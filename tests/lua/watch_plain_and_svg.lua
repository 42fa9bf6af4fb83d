-- Without a terminal: lab.watch prints plain summary lines with the same
-- numbers as e:stats()/e:rings(); lab.plot and `show ledger --svg` write
-- SVG that parses as XML; `lessons` lists the lessons and `step` draws the
-- rings with the moved slot marked (the REPL fed on standard input).
-- usage: ringlab watch_plain_and_svg.lua RINGLAB
local T = require "common"
local ringlab = arg[1] or error("usage: ringlab watch_plain_and_svg.lua RINGLAB")

local function xml_ok(file)
  local cmd = string.format("python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); "
    .. "assert d.documentElement.tagName == \"svg\"; print(len(d.getElementsByTagName(\"rect\")))' '%s'", file)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  T.check(ok, "the SVG " .. file .. " parses as XML: " .. out)
  return tonumber(out:match("%d+"))
end

-- lab.watch, plain
local e = lab.open("sim")
local r = e:region { frames = 64 }
e:fill(8)
for i = 1, 5 do e:tx(lab.packet.udp { dst = "198.18.0.2:9999", payload = "p" .. i, region = r }) end
e:kick()
local out = {}
local print0 = print
print = function(s) out[#out + 1] = s end -- luacheck: ignore
lab.watch(e, { count = 2, interval = 0 })
print = print0 -- luacheck: ignore
T.eq(#out, 2, "plain lines (count=2)")
local st, rg = e:stats(), e:rings()
local line = out[2]
T.check(line:find(string.format("tx %d pkts", st.tx_pkts), 1, true), "tx_pkts in: " .. line)
T.check(line:find(string.format("rx %d pkts", st.rx_pkts), 1, true), "rx_pkts in: " .. line)
T.check(line:find(string.format("fill %d/%d", rg.fill.pending, rg.fill.size), 1, true), "fill ring in: " .. line)
T.check(line:find(string.format("kernel_copied %d", st.ledger.kernel_copied), 1, true), "ledger in: " .. line)

-- lab.watch by name, as `watch NAME` at the prompt; an unknown name says
-- which are open
local named = lab.open("sim", { name = "named" })
out = {}
print = function(s) out[#out + 1] = s end -- luacheck: ignore
lab.watch("named", { count = 1, interval = 0 })
lab.watch({ "named", e:info().name }, { count = 1, interval = 0 })
print = print0 -- luacheck: ignore
T.eq(#out, 3, "one line for the name, two for the list")
T.check(out[1]:find("^named ") and out[2]:find("^named ") and out[3]:find("^" .. e:info().name .. " "),
  "the lines name the engines: " .. table.concat(out, "\n"))
local ok, err = pcall(lab.watch, "nosuch", { count = 1 })
T.check(not ok and err:find("watch: no open engine is called 'nosuch' - open ones: ", 1, true)
  and err:find("named", 1, true), "an unknown name: " .. tostring(err))
named:close()

-- lab.plot
local base = os.tmpname()
local svg = base .. ".svg"
local e2 = lab.open("sim", { mode = "zerocopy" })
e2:region { frames = 64 }
require("ringlab.watch").sample(e)
require("ringlab.watch").sample(e2)
lab.plot { file = svg, title = "copy <vs> zerocopy & more" }
local rects = xml_ok(svg)
T.check(rects >= 12, "bars for 6 categories x 2 engines: " .. tostring(rects) .. " rects")
os.remove(svg)
os.remove(base)

-- the REPL: lessons, step, show ledger --svg
local svg2 = base .. "-2.svg"
local input = table.concat({ "lessons", "open sim step=true", "region frames=64", "fill 4",
  "send udp 198.18.0.2:9999 hi", "step 3", "show ledger --svg " .. svg2, "watch count=1 interval=0" }, "\n")
local path = os.tmpname()
local f = assert(io.open(path, "w"))
f:write(input, "\n")
f:close()
local p = assert(io.popen(string.format("'%s' < '%s' 2>&1", ringlab, path)))
local text = p:read("a")
p:close()
os.remove(path)
for _, want in ipairs({ " 1  Lesson 1: a UMEM and its four rings", " 9  Lesson 9: forwarding between two ports",
  "TX frame 4: tx -> wire", "<- slot tx[0] gave up frame 4", "<- slot rx[0] now holds frame 0",
  "wrote " .. svg2, "sim#1 copy: tx 1 pkts" }) do
  T.check(text:find(want, 1, true), "REPL output lacks '" .. want .. "':\n" .. text)
end
xml_ok(svg2)
os.remove(svg2)
T.done("watch_plain_and_svg")
