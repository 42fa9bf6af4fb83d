-- cmd_engine.lua - the prompt commands that list, open and equip engines: engines, open, region (ringlab.cmd_engine).

local lab = require "ringlab"
local C = require "ringlab.cmdkit"

local fail, def, say, current = C.fail, C.def, C.say, C.current
local number, keyvalues, region_of, is_engine = C.number, C.keyvalues, C.region_of, C.is_engine

def("engines", "engines", "list the engines this ringlab can load, and why one cannot open here",
  function()
    for _, en in ipairs(lab.engines()) do
      say("%-8s %-13s %s", en.name, en.available and "available" or "not here", en.summary)
      if not en.available then say("%-8s %-13s why: %s", "", "", en.why) end
      if en.path ~= "built in" then say("%-8s %-13s from %s", "", "", en.path) end
    end
  end)

def("open", "open ENGINE [key=value...]", "open an engine (sim, afxdp, dpdk) and make it current, e.g. open sim step=true",
  function(args)
    local name = args[1] or fail("open: which engine? - e.g. open sim (list them with: engines)")
    local opts = keyvalues("open", args, 2)
    if opts.peer then
      local peer = _G[opts.peer]
      if not is_engine(peer) then
        fail("open: peer=%s is not an engine - open one and name its variable: a = lab.open(\"sim\") then open sim peer=a",
          opts.peer)
      end
      opts.peer = peer
    end
    local e = lab.open(name, opts)
    C.cur, _G.cur, _G.e, _G.r = e, e, e, nil
    C.opened[e] = opts
    say("%s is now the current engine (cur, e) - next: region frames=4096 size=2048", tostring(e))
  end)

def("region", "region [frames=N] [size=N] [headroom=N]", "make the current engine's packet memory (default 4096 frames of 2048 bytes, headroom 256)",
  function(args)
    local e = current()
    local kv = keyvalues("region", args, 1)
    local p = {}
    for k, v in pairs(kv) do
      if k == "size" then k = "frame_size" end
      p[k] = number("region", v)
    end
    _G.r = e:region(p)
    say("%s - next: fill 64, then send udp 198.18.0.2:9999", tostring(_G.r))
  end)
