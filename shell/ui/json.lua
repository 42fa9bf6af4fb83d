-- json.lua - a tiny JSON encoder for `show ... json` (ringlab.json).
--
-- Tables whose keys are exactly 1..n become arrays, other tables objects
-- with their keys sorted (so the output is stable and diffable); strings
-- are escaped; integers print as integers; nil, NaN and infinities become
-- null. Functions and userdata print as their tostring() text.

local M = {}

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
                  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function string_(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function number_(n)
  if math.type(n) == "integer" then return tostring(n) end
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  return string.format("%.14g", n)
end

-- setmetatable(t, M.array): t is a list even when empty ([] not {})
M.array = { __json = "array" }

local function is_array(t)
  local mt = getmetatable(t)
  if mt == M.array then return true end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local encode

local function table_(t, seen)
  if seen[t] then error("json: the table contains itself - cannot encode a cycle", 0) end
  seen[t] = true
  local out = {}
  if is_array(t) then
    for i = 1, #t do out[i] = encode(t[i], seen) end
    seen[t] = nil
    return "[" .. table.concat(out, ",") .. "]"
  end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for i, k in ipairs(keys) do
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    out[i] = string_(k) .. ":" .. encode(v, seen)
  end
  seen[t] = nil
  return "{" .. table.concat(out, ",") .. "}"
end

encode = function(v, seen)
  local ty = type(v)
  if ty == "nil" then return "null" end
  if ty == "boolean" then return tostring(v) end
  if ty == "number" then return number_(v) end
  if ty == "string" then return string_(v) end
  if ty == "table" then return table_(v, seen) end
  return string_(tostring(v))
end

function M.encode(v)
  return encode(v, {})
end

return M
