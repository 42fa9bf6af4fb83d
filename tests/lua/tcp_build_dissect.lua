-- lab.packet.tcp builds what pkt:dissect() and lab.dissect() read back:
-- every field and option, flags as letters and numbers, a string payload
-- (copied) and a born one (referenced), checksum offload left partial.
local T = require "common"

local e = lab.open("sim")
local r = e:region { frames = 64 }

local syn = lab.packet.tcp { src = "198.18.0.1:40000", dst = "198.18.0.2:8080", seq = 4000000000, ack = 0,
  flags = "S", window = 64240, mss = 1460, wscale = 7, sack_ok = true, ts_val = 123456, ts_ecr = 0, region = r }
local d = syn:dissect()
T.check(d.ip and d.ip.csum_ok, "ip checksum")
local t = d.tcp
T.eq(t.src_port, 40000, "src_port")
T.eq(t.dst_port, 8080, "dst_port")
T.eq(t.seq, 4000000000, "seq")
T.eq(t.flags, 0x02, "flags number")
T.eq(t.flag_str, "S", "flag_str")
T.eq(t.window, 64240, "window")
T.eq(t.mss, 1460, "mss option")
T.eq(t.wscale, 7, "wscale option")
T.eq(t.sack_ok, true, "sack_ok option")
T.eq(t.ts_val, 123456, "ts_val")
T.eq(t.ts_ecr, 0, "ts_ecr")
T.eq(t.hlen, 40, "hlen with options")
T.check(t.csum_ok, "tcp checksum")
T.eq(d.payload_off, 14 + 20 + 40, "payload_off")
T.eq(d.payload_len, 0, "payload_len")
T.eq(lab.dissect(syn:bytes()).tcp.flag_str, "S", "lab.dissect of the bytes")

for _, f in ipairs { { "SA", 0x12 }, { "A", 0x10 }, { "PA", 0x18 }, { "FA", 0x11 }, { "R", 0x04 }, { 0x19, 0x19 } } do
  local p = lab.packet.tcp { dst = "198.18.0.2:8080", flags = f[1], region = r }
  T.eq(p:dissect().tcp.flags, f[2], "flags " .. tostring(f[1]))
  p:release()
end

local l0 = e:stats().ledger
local text = string.rep("GET / HTTP/1.1\r\n", 200) -- 3200 bytes: a chain of two frames
local p = lab.packet.tcp { dst = "198.18.0.2:8080", flags = "PA", seq = 7, ack = 9, payload = text, region = r }
local l1 = e:stats().ledger
T.eq(l1.copied - l0.copied, #text, "string payload copied")
T.eq(l1.headers - l0.headers, 54, "headers")
d = p:dissect()
T.check(d.tcp.csum_ok, "checksum over a chain")
T.eq(d.payload_len, #text, "payload_len")
T.eq(d.tcp.ack, 9, "ack")
local l2 = e:stats().ledger
T.check(p:payload_equals(text), "payload_equals")
T.check(not p:payload_equals(text .. "x"), "payload_equals longer")
T.check(not p:payload_equals(text:sub(1, -2) .. "X"), "payload_equals differs")
T.eq(e:stats().ledger.copied - l2.copied, 0, "payload_equals copies nothing")
T.check(e:stats().ledger.touched > l2.touched, "payload_equals is counted touched")

local b = r:alloc(3000)
b:fill("born")
l0 = e:stats().ledger
local q = lab.packet.tcp { dst = "198.18.0.2:8080", flags = "PA", payload = b }
l1 = e:stats().ledger
T.eq(l1.copied - l0.copied, 0, "born payload copies nothing")
T.eq(l1.referenced - l0.referenced, 3000, "born payload referenced")
T.check(q:dissect().tcp.csum_ok, "born checksum")

local o = lab.packet.tcp { dst = "198.18.0.2:8080", flags = "PA", payload = "x", region = r, csum = "offload" }
T.check(not o:dissect().tcp.csum_ok, "offload leaves the checksum to the NIC")

T.raises({ "flags", "F S R P A U" }, lab.packet.tcp, { dst = "198.18.0.2:8080", flags = "SX", region = r })
T.raises({ "dst", "port" }, lab.packet.tcp, { dst = "198.18.0.2", region = r })
T.raises({ "unknown field 'bogus'" }, lab.packet.tcp, { dst = "198.18.0.2:1", region = r, bogus = 1 })
T.raises({ "csum" }, lab.packet.tcp, { dst = "198.18.0.2:1", region = r, csum = "maybe" })
local view = require "ringlab.views"
T.check(view.packet(syn:dissect(), syn:segments()):find("tcp   40000 > 8080 [S]", 1, true), "show packet has a tcp line")
T.conserved(e)
T.done("tcp_build_dissect")
