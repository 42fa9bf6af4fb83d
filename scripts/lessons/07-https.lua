-- Lesson 7: HTTPS and why it cannot be zero-copy
-- each client's bytes are its own ciphertext: written per client, never shared
--
-- Plain HTTP can send one body, staged once, to every client (lesson 5).
-- With TLS every client has its own key, so the bytes on the wire differ
-- per client: the cipher must read the body and write new bytes for each
-- one. The best it can do is write them straight into the frame, in one
-- pass (ChaCha20-Poly1305 from libsodium here) - still one copy per byte
-- per client, and the ledger shows it.
-- Run: ringlab scripts/lessons/07-https.lua   (or: lesson 7)
local L = require "ringlab.lesson"
L.args(...)

L.title("Lesson 7: HTTPS and why it cannot be zero-copy")
local BODY, CLIENTS = 1400, 3
local body = string.rep("secret! ", BODY // 8)

local e = lab.open("sim", { mode = "zerocopy" })
local r = e:region { frames = 64 }
e:fill(16)

L.part("plain HTTP: one staged body, sent to three clients")
local plain = r:alloc(BODY)
plain:write(0, body)
for c = 1, CLIENTS do
  e:tx(lab.packet.udp { dst = string.format("198.18.0.%d:80", 10 + c), payload = plain })
  e:kick()
  e:complete()
end
local lp = e:stats().ledger
L.eq(lp.copied, BODY, "copied: the one staging copy")
L.eq(lp.referenced, BODY * CLIENTS, "referenced: the same bytes sent three times")

L.part("HTTPS: a key per client, ciphertext written straight into a frame")
local cts = {}
for c = 1, CLIENTS do
  local key = lab.crypto.key()
  local b = r:alloc(BODY + 16) -- the ciphertext and the 16-byte tag
  L.eq(lab.crypto.encrypt_into(b, 0, body, key, c), BODY + 16, "bytes written for client " .. c)
  e:tx(lab.packet.udp { dst = string.format("198.18.0.%d:443", 10 + c), payload = b })
  e:kick()
  e:complete()
  cts[c] = { b = b, key = key }
end
local lt = e:stats().ledger
L.eq(lt.copied - lp.copied, BODY * CLIENTS, "copied by the cipher: every byte, once per client")

L.part("the three ciphertexts differ: nothing can be shared")
local seen = {}
for c = 1, CLIENTS do
  local ct = cts[c].b:read() -- reading it back to prove it (a copy, after the count above)
  L.check(not seen[ct], "client " .. c .. " has bytes of its own")
  seen[ct] = true
  L.eq(lab.crypto.decrypt(ct, cts[c].key, c), body, "client " .. c .. " decrypts to the body")
end
L.say [[
  Zero copy needs bytes that already exist in the right form. Encryption
  makes new bytes per client, so the floor is one pass per byte per
  client. What kernel TLS offload and NIC TLS offload change is who makes
  that pass, not whether it happens.]]
for _, p in ipairs(e:rx(64)) do p:release() end
L.conserved(e)
L.done("7")
