-- tmux.lua - drive ringlab in a real terminal for the Lua tests: a private
-- tmux server (-S, a socket in a lab.tempdir() directory of its own, both
-- removed when the server is killed) with one detached session of
-- a fixed size; keys go in with send-keys, the screen comes back with
-- capture-pane. T.skip_without_tmux() exits 77 (ctest: skipped).
local M = {}

function M.skip_without_tmux()
  if os.execute("command -v tmux >/dev/null 2>&1") ~= true then
    print("SKIP: needs tmux")
    os.exit(77)
  end
end

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- A session running cmd in a cols x rows terminal. Each start has a server
-- of its own: a killed server lives on until ringlab, which closes its
-- engines on SIGHUP, has exited, and a client that reaches it meanwhile
-- fails ("server exited unexpectedly").
-- opts: join=true reads the screen with wrapped rows joined (capture-pane
-- -J: a line wider than the terminal comes back as one line), secs= how
-- long wait() waits by default (10).
local starts = 0
function M.start(cmd, cols, rows, opts)
  opts = opts or {}
  local pid = io.open("/proc/self/stat"):read("l"):match("^(%d+)")
  starts = starts + 1
  local dir = lab.tempdir()
  local t = { sock = dir .. "/tmux", sess = "s" .. pid }
  function t.tmux(args)
    local out = sh("tmux -S " .. q(t.sock) .. " " .. args)
    if args == "kill-server" or args:match("^kill%-session") then -- one session a server
      os.remove(t.sock)
      os.remove(dir)
    end
    return out
  end
  function t.keys(...)
    local k = {}
    for i, s in ipairs({ ... }) do k[i] = q(s) end
    t.tmux("send-keys -t " .. t.sess .. " " .. table.concat(k, " "))
  end
  function t.screen() return t.tmux("capture-pane -p " .. (opts.join and "-J " or "") .. "-t " .. t.sess) end
  -- poll the screen until ok(screen), for up to secs seconds
  function t.wait(what, ok, secs)
    local deadline, s = lab.now() + (secs or opts.secs or 10), ""
    repeat
      s = t.screen()
      if ok(s) then return s end
      lab.sleep(0.1)
    until lab.now() > deadline
    t.tmux("kill-server")
    error("timed out waiting for " .. what .. "; the screen was:\n" .. s, 2)
  end
  -- a command typed at the prompt, then wait for the prompt after it
  -- (a bare prompt line below the line typed); returns the screen
  function t.command(line)
    t.keys(line, "Enter")
    return t.wait("the prompt after " .. line, function(s)
      local lines, typed = {}, nil
      for l in (s .. "\n"):gmatch("([^\n]*)\n") do
        lines[#lines + 1] = l
        if l:find("> " .. line, 1, true) then typed = #lines end
      end
      if not typed then return false end
      for i = typed + 1, #lines do
        if lines[i]:match("^ringlab%S*>%s*$") then return true end
      end
      return false
    end)
  end
  function t.finish() t.tmux("kill-server") end
  t.tmux(string.format("new-session -d -s %s -x %d -y %d %s", t.sess, cols, rows, q(cmd)))
  return t
end

function M.has(p) return function(s) return s:find(p, 1, true) ~= nil end end

return M
