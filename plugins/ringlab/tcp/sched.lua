--[[
tcp/sched.lua - the scheduler of ringlab.tcp: tcp.poll, tcp.wait,
tcp.spawn, tcp.run.

Nothing runs in the background. Whoever waits (connect, send, recv,
accept, close, or tcp.run) polls every stack - each takes its packets and
runs its timers - and resumes the tasks started with tcp.spawn, which are
coroutines that yield whenever they wait in turn.
--]]

local I = require "ringlab.tcp.base"
local lab = I.lab
local M = I.M
local now = I.now

---------------------------------------------------------------------------
-- The scheduler: every stack is polled, every task resumed, by whoever waits.

M.stacks = {}      -- in order of creation
local tasks = {}   -- coroutines started with M.spawn
local running      -- the task being resumed, if any

-- One round: every stack takes its packets and runs its timers, then every
-- task runs until it waits again. Returns the packets received.
function M.poll()
	local n = 0
	for i = #M.stacks, 1, -1 do
		local st = M.stacks[i]
		if st.e:info().closed then
			table.remove(M.stacks, i)
		else
			n = n + st:poll()
		end
	end
	-- an error raised between a resume and its return (Ctrl-C's
	-- "interrupted" comes from a hook, anywhere) must not leave a task
	-- marked running for ever: no task would ever run again
	if running and coroutine.status(running.co) ~= "running" then running = nil end
	if running == nil then
		for i = #tasks, 1, -1 do
			local t = tasks[i]
			running = t
			local ok, err = coroutine.resume(t.co)
			running = nil
			if not ok then
				t.error = debug.traceback(t.co, tostring(err))
				table.remove(tasks, i)
			elseif coroutine.status(t.co) == "dead" then
				t.done = true
				table.remove(tasks, i)
			end
		end
	end
	return n
end

-- Wait until cond() is true: inside a task, by yielding to the scheduler;
-- otherwise by polling everything. Raises "<what> timed out" after timeout
-- seconds (nil: no limit).
function M.wait(cond, timeout, what)
	local deadline = timeout and now() + timeout
	while not cond() do
		if deadline and now() > deadline then
			error(string.format("%s timed out after %g s", what or "tcp: wait", timeout), 0)
		end
		if running and coroutine.running() == running.co then
			coroutine.yield()
		elseif M.poll() == 0 then
			lab.sleep(0.0002)
		end
	end
end

-- Run fn(...) as a task; it runs whenever anything waits. Returns the task:
-- t.done, t.error.
function M.spawn(fn, ...)
	local args = table.pack(...)
	local t = { co = coroutine.create(function() return fn(table.unpack(args, 1, args.n)) end) }
	tasks[#tasks + 1] = t
	return t
end

-- Poll for `seconds`, or until every task has finished (seconds = nil).
function M.run(seconds)
	local stop = seconds and now() + seconds
	M.wait(function()
		if stop then return now() >= stop end
		return #tasks == 0
	end)
end

return true
