-- lab.segment reads only the options it is given (one pass over the table)
-- and takes the defaults of those left out without looking them up; a
-- table with a metatable is read key by key through its __index, as any
-- table was before. arg[1] names the case:
--   defaults   - left out, given explicitly with the default values, and
--                answered by an __index: the same packets, byte for byte
--                as lab.dissect shows them (addresses, ports, MACs, ttl,
--                id, seq, window, flags, checksums), for tcp and udp,
--                copy and sg, csum software and offload
--   index      - values that only an __index holds are used (ttl=7) and
--                checked (ttl=0 is refused in one line)
local T = require "common"

local e = lab.open("sim", { csum = true })
local r = e:region { frames = 512 }
local buf = r:alloc(20000)
buf:testdata()
local dst = "198.18.0.2:8080"

-- a table as one sorted line, nested tables too
local function flat(v)
  if type(v) ~= "table" then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "=" .. flat(v[k]) end
  return "{" .. table.concat(out, ",") .. "}"
end

local function packets(data, opts)
  local s = lab.segment(data, opts)
  local all = { flat(s:info()) }
  for i = 1, #s do all[#all + 1] = flat(s:dissect(i)) end
  s:free()
  return all
end

local cases = {}

function cases.defaults()
  local n = 0
  for _, proto in ipairs { "tcp", "udp" } do
    for _, st in ipairs { "copy", "sg" } do
      for _, csum in ipairs { "software", "offload" } do
        local short = { dst = dst, region = r, strategy = st, proto = proto, csum = csum }
        local full = { dst = dst, region = r, strategy = st, proto = proto, csum = csum,
                       mss = proto == "tcp" and 1448 or 1472,
                       src = proto == "tcp" and "198.18.0.1:40000" or "198.18.0.1:9000",
                       src_mac = "02:00:00:00:00:01", dst_mac = "02:00:00:00:00:02",
                       ttl = 64, id = 0, max = 0, engine = e }
        if proto == "tcp" then
          full.seq, full.ack, full.window, full.flags, full.urg = 0, 0, 65535, 0, 0
        end
        local a = packets(buf, short)
        local b = packets(buf, full)
        local c = packets(buf, setmetatable({}, { __index = full }))
        T.check(#a > 10, proto .. " " .. st .. " " .. csum .. ": several segments")
        T.eq(#b, #a, "segment count, explicit defaults")
        T.eq(#c, #a, "segment count, defaults through __index")
        for i = 1, #a do
          T.eq(b[i], a[i], proto .. " " .. st .. " " .. csum .. " packet " .. i .. " (explicit)")
          T.eq(c[i], a[i], proto .. " " .. st .. " " .. csum .. " packet " .. i .. " (__index)")
          n = n + 1
        end
      end
    end
  end
  T.check(n > 80, "packets compared: " .. n)
end

function cases.index()
  local s = lab.segment(buf, setmetatable({ region = r, strategy = "sg" },
    { __index = { dst = dst, ttl = 7, seq = 1000 } }))
  local d = s:dissect(1)
  T.eq(flat(d):match("ttl=(%d+)"), "7", "ttl from __index")
  T.eq(s:segments()[1].seq, 1000, "seq from __index")
  s:free()
  local free0 = e:owners().free
  T.raises({ "segment: ttl= must be a whole number 1 .. 255, not 0" }, lab.segment, buf,
    setmetatable({ dst = dst, region = r }, { __index = { ttl = 0 } }))
  T.eq(e:owners().free, free0, "no frame taken")
end

local f = assert(cases[arg[1]], "unknown case " .. tostring(arg[1]))
f()
T.conserved(e)
T.done("segment_options_" .. arg[1])
