-- lab.appmem(n):fill takes a byte or a pattern string, as a region
-- buffer's b:fill does; anything else is one line saying what to give.
local T = require "common"

local m = lab.appmem(10)
T.eq(m:fill("x"), 10, "fill(\"x\") fills all 10 bytes")
T.eq(m:string(), "xxxxxxxxxx", "ten x")
m:fill("abc")
T.eq(m:string(), "abcabcabca", "a pattern repeats and is cut at the end")
m:fill("-", 2, 3)
T.eq(m:string(), "ab---cabca", "off, n: only those bytes")
m:fill(0x41, 8)
T.eq(m:string(), "ab---cabAA", "a byte still works")
T.raises({ "fill:", "the pattern is empty" }, m.fill, m, "")
T.raises({ "fill:", "300 is not a byte", "0 .. 255 or a pattern string" }, m.fill, m, 300)
T.raises({ "fill:", "give a byte (0 .. 255) or a pattern string, not a table", 'm:fill("x")' }, m.fill, m, {})
T.raises({ "fill:", "run past the end" }, m.fill, m, "x", 8, 5)
T.eq(m:string(), "ab---cabAA", "refused fills wrote nothing")
-- the same pattern through a region buffer gives the same bytes
local e <close> = lab.open("sim")
local r = e:region { frames = 4, frame_size = 2048 }
local b = r:alloc(10)
b:fill("abc")
T.eq(b:read(), "abcabcabca", "b:fill and m:fill agree")
print("ok")
