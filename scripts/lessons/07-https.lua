-- Lesson 7: HTTPS and why it cannot be zero-copy
-- each client's bytes are its own ciphertext: written per client, never shared
--
-- The teaching is on the screen (L.part); this header only says how to run.
-- Engines: "http" and "https", side by side on the dashboard (sim: rings of
-- 16; dpdk: net_ring0 and net_ring1, 32 descriptors). The cipher is
-- ChaCha20-Poly1305 from libsodium (lab.crypto).
-- Run: ringlab scripts/lessons/07-https.lua [dpdk]   (or: lesson 7 [dpdk])
local L = require "ringlab.lesson"
local A = L.args(...)
local crc32 = require("ringlab.cmd_send").crc32

L.title("Lesson 7: HTTPS and why it cannot be zero-copy")
local OPTS = {
  sim = function(name) return { name = name, mode = "zerocopy", ring_size = 16 } end,
  dpdk = function(name)
    return { name = name, vdev = name == "http" and "net_ring0" or "net_ring1",
      rx_desc = 32, tx_desc = 32 }
  end,
}
local kind = A.engine or "sim"
if not OPTS[kind] then
  L.say(kind .. ": lesson 7 runs on sim or dpdk (two engines side by side) - run: lesson 7")
  return
end

local BODY, CLIENTS = 1400, 3
local body = string.rep("secret! ", BODY // 8)

local function open(name)
  local e = L.open(A, OPTS[kind](name))
  if not e then return nil end
  local r = e:region { frames = 32 }
  if e:rings().fill then e:fill(8) end
  return e, r
end
local http, rh = open("http")
if not http then return end
local https, rt = open("https")
if not https then return end

-- send one packet to a client and take the frame back when it is sent
local function send(e, port, c, payload)
  e:tx(lab.packet.udp { dst = string.format("198.18.0.%d:%d", 10 + c, port), payload = payload })
  e:kick()
  e:complete()
  for _, p in ipairs(e:rx(16)) do p:release() end -- what came back (loopback)
end

-- the engines the dashboard draws in full first (the framework's L.show)
local function show(...) if L.show then L.show(...) end end

local function hex(s)
  return (s:gsub(".", function(ch) return string.format("%02x ", ch:byte()) end))
end

L.part("plain HTTP: one body, staged once, sent to three clients", [[
  The body is written into the http engine's region once (that is the one
  copy), then three packets point at the same bytes, one per client: the
  NIC reads them where they lie. Lesson 5 does the same with TCP.

  Dashboard: http's copied stays at 1.4k while referenced grows.]])
show(http, https)
local plain = rh:alloc(BODY)
plain:write(0, body)
L.printf("   the body: %d bytes '%s...' crc32 %08x", BODY, body:sub(1, 16), crc32(body))
for c = 1, CLIENTS do send(http, 80, c, plain) end
local lp = http:stats().ledger
L.eq(lp.copied, BODY, "copied: the one staging copy")
L.eq(lp.referenced, BODY * CLIENTS, "referenced: the same bytes sent three times")
L.result("%d bytes copied once, %d referenced: three clients, one copy",
  lp.copied, lp.referenced)

L.part("HTTPS: a key per client, ciphertext written into the frame", [[
  With TLS every client has its own key, so the bytes on the wire differ
  per client. The cipher must read the body and write new bytes for each
  one; the best it can do is write them straight into the frame, in one
  pass (lab.crypto.encrypt_into: ChaCha20-Poly1305, plus a 16-byte tag).

  Dashboard: https's copied grows by 1.4k per client.]])
show(https, http)
local cts = {}
local c0 = https:stats().ledger.copied
for c = 1, CLIENTS do
  local key = lab.crypto.key()
  local b = rt:alloc(BODY + 16) -- the ciphertext and the 16-byte tag
  L.eq(lab.crypto.encrypt_into(b, 0, body, key, c), BODY + 16, "bytes written for client " .. c)
  send(https, 443, c, b)
  cts[c] = { b = b, key = key }
end
local lt = https:stats().ledger
L.eq(lt.copied - c0, BODY * CLIENTS, "copied by the cipher: every byte, once per client")
L.result("%d bytes copied by the cipher (%d per client): one pass per byte per "
  .. "client, against http's one copy in all", lt.copied - c0, BODY)

L.part("the three ciphertexts differ: nothing can be shared", [[
  Read back, each client's bytes differ (first bytes, crc32), yet each
  decrypts with its own key to the same body: no frame could serve two.
  (Reading them back is a copy too: https's copied grows by 4.2k more.)]])
local seen, digests = {}, {}
for c = 1, CLIENTS do
  local ct = cts[c].b:read() -- reading it back to show it (a copy, after the count above)
  local d = crc32(ct)
  L.printf("   client %d: %d bytes  %s...  crc32 %08x", c, #ct, hex(ct:sub(1, 8)), d)
  L.check(not seen[ct], "client " .. c .. " has bytes of its own")
  seen[ct] = true
  digests[#digests + 1] = string.format("%08x", d)
  L.check(lab.crypto.decrypt(ct, cts[c].key, c) == body, "client " .. c .. " decrypts to the body")
end
L.result("3 different ciphertexts (crc32 %s), each decrypts to the body "
  .. "(crc32 %08x)", table.concat(digests, ", "), crc32(body))

L.part("who makes the pass: kernel TLS, NIC TLS", [[
  Zero copy needs bytes that already exist in the right form. Encryption
  makes new bytes per client, so the floor is one pass per byte per client.
  Kernel TLS and NIC TLS offload change who makes that pass (the kernel,
  the NIC), not whether it happens.]])
local frames = 0
for _, e in ipairs({ http, https }) do
  for _, p in ipairs(e:rx(64)) do p:release() end
  frames = frames + L.conserved(e).frames
end
L.result("%d clients, %d passes over the body: %d bytes of ciphertext, none "
  .. "shareable; all %d frames of both engines accounted for",
  CLIENTS, CLIENTS, (BODY + 16) * CLIENTS, frames)
L.done("7")
