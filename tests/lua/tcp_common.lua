-- tcp_common.lua - what the TCP/HTTP Lua tests share: two simulators wired
-- back to back, each with a userspace TCP (a = 198.18.0.1, b = 198.18.0.2),
-- and data that shows where a byte went missing.
local tcp = require "ringlab.tcp"

local C = {}

-- opts: loss=, reorder= (both wires), mode=, frames=
function C.pair(opts)
  opts = opts or {}
  local o = { mode = opts.mode or "zerocopy", loss = opts.loss, reorder = opts.reorder }
  local a = lab.open("sim", o)
  o.peer = a
  local b = lab.open("sim", o)
  for _, e in ipairs({ a, b }) do
    e:region { frames = opts.frames or 4096, frame_size = 2048, headroom = 256 }
  end
  tcp.stack(a, { ip = "198.18.0.1" })
  tcp.stack(b, { ip = "198.18.0.2" })
  return a, b
end

-- n bytes, every 16 of them naming their own offset.
function C.data(n)
  local t = {}
  for i = 0, n // 16 - 1 do t[#t + 1] = string.format("%015x\n", i * 16) end
  return table.concat(t):sub(1, n) .. string.rep("#", n % 16)
end

-- The data as the strategy wants it: a string, or a buffer born in e's region.
function C.payload(e, data, strategy)
  if strategy == "born" or strategy == "sg" or strategy == "tso" then
    local b = e:region():alloc(#data)
    b:write(0, data)
    return b
  end
  return data
end

function C.str(v)
  if v == nil or type(v) == "string" then return v end
  return v:string()
end

return C
