-- Bad input to lab.segment raises an error that says what to do, takes no
-- frame and counts nothing. arg[1] names the case.
local T = require "common"

local e = lab.open("sim")
local r = e:region { frames = 256 }
local buf = r:alloc(10000)
local free0, l0 = e:owners().free, e:stats().ledger
local dst = "198.18.0.2:8080"

local cases = {
  tso_on_sim = function()
    -- a NIC without TSO: one line saying how to get one
    T.raises({ "segment: strategy tso on this sim engine", "open sim tso=true" }, lab.segment, buf,
      { strategy = "tso", dst = dst, engine = e })
  end,
  bad_strategy = function()
    T.raises({ "strategy 'foo'", "copy, reuse, born, sg" }, lab.segment, "x", { strategy = "foo", dst = dst, region = r })
  end,
  mss_zero = function()
    T.raises({ "mss=0" }, lab.segment, "hello", { mss = 0, dst = dst, region = r })
  end,
  born_from_string = function()
    for _, s in ipairs { "born", "sg", "tso" } do
      T.raises({ "strategy " .. s, "r:alloc" }, lab.segment, "hello", { strategy = s, dst = dst, region = r })
    end
  end,
  no_region = function()
    -- one engine with a region: lab.segment builds there (default_engine.lua);
    -- two: it cannot guess, and says what to give
    local other = lab.open("sim")
    other:region { frames = 64 }
    T.raises({ "2 engines have a region", "say which: region=r" }, lab.segment, "hello", { dst = dst })
    other:close()
  end,
  bad_option = function()
    T.raises({ "unknown option 'flow'" }, lab.segment, "hello", { dst = dst, region = r, flow = 1 })
    T.raises({ "proto=sctp" }, lab.segment, "hello", { dst = dst, region = r, proto = "sctp" })
    T.raises({ "runs past the end" }, lab.segment, { buf, 9000, 2000 }, { dst = dst })
  end,
  freed_segments = function()
    local s = lab.segment("hello", { dst = dst, region = r })
    s:free()
    l0 = e:stats().ledger -- the segmenting above counted its copy
    T.raises({ "freed" }, s.send, s, e)
  end,
}
local f = assert(cases[arg[1]], "unknown case " .. tostring(arg[1]))
f()
T.eq(e:owners().free, free0, "no frame taken")
T.eq(e:stats().ledger.copied, l0.copied, "nothing counted")
T.conserved(e)
T.done("segment_errors_" .. arg[1])
