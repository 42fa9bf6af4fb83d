-- common.lua - helpers for the Lua tests (run by the ringlab binary, found
-- through RINGLAB_PLUGIN_PATH, which the tests' CMakeLists points here).

local T = {}

-- Fail with a message that names what was checked, at the caller's line.
function T.eq(got, want, what)
  if got ~= want then
    error(string.format("%s: expected %s, got %s", what, tostring(want), tostring(got)), 2)
  end
end

function T.check(cond, what)
  if not cond then error(what, 2) end
end

-- Owners sum to frames, and the library's own recount agrees (e:owners()
-- raises when rl_region_check fails). Returns the owners table.
function T.conserved(e, label)
  local o = e:owners()
  local sum = o.app + o.fill + o.nic + o.rx + o.tx + o.comp
  if sum ~= o.frames then
    error(string.format("%s: owners sum to %d, frames %d (app %d fill %d nic %d rx %d tx %d comp %d)",
      label or "owners", sum, o.frames, o.app, o.fill, o.nic, o.rx, o.tx, o.comp), 2)
  end
  return o
end

-- Expect owners to be exactly these (missing keys: 0; app defaults to the rest).
function T.owners(e, want, label)
  local o = T.conserved(e, label)
  for _, k in ipairs({ "fill", "nic", "rx", "tx", "comp" }) do
    T.eq(o[k], want[k] or 0, (label or "owners") .. " " .. k)
  end
  if want.free then T.eq(o.free, want.free, (label or "owners") .. " free") end
  return o
end

-- Expect one ring's indices.
function T.ring(e, name, prod, cons, label)
  local r = e:rings()[name]
  T.eq(r.prod, prod, (label or "") .. " " .. name .. ".prod")
  T.eq(r.cons, cons, (label or "") .. " " .. name .. ".cons")
  T.eq(r.pending, prod - cons, (label or "") .. " " .. name .. ".pending")
end

-- f(...) must raise an error whose text contains every word; returns it.
function T.raises(words, f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("expected an error containing '" .. table.concat(words, "', '") .. "', got none", 2) end
  err = tostring(err)
  for _, w in ipairs(words) do
    if not err:find(w, 1, true) then
      error(string.format("error text lacks '%s': %s", w, err), 2)
    end
  end
  return err
end

function T.done(name)
  print("ok - " .. name)
end

-- Prompt lines run in this process as the prompt runs them (C.run), with
-- what they print captured: the text, and the first error (the lines
-- after it are not run).
function T.prompt(...)
  local C = require "ringlab.commands"
  local out, real = {}, print
  print = function(...)
    local t = {}
    for i = 1, select("#", ...) do t[i] = tostring(select(i, ...)) end
    out[#out + 1] = table.concat(t, "\t")
  end
  local err
  for _, line in ipairs({ ... }) do
    local ok, e = pcall(C.run, line)
    if not ok then err = tostring(e); break end
  end
  print = real
  return table.concat(out, "\n"), err
end

-- The ringlab program at path, its stdin these lines (a file from
-- os.tmpname, mkstemp), env words such as {"NO_COLOR=1", "COLUMNS=80"}
-- in front; its stdout and stderr, then "exit=N".
function T.ringlab_stdin(path, lines, env)
  local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
  local input = os.tmpname()
  local f = assert(io.open(input, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  local words = {}
  for _, w in ipairs(env or {}) do words[#words + 1] = q(w) end
  local p = assert(io.popen(string.format("env %s %s < %s 2>&1; echo \"exit=$?\"",
    table.concat(words, " "), q(path), q(input))))
  local out = p:read("a")
  p:close()
  os.remove(input)
  return out
end

return T
