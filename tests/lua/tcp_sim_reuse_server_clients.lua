-- tcp_sim_reuse_server_clients.lua - one file served to many clients,
-- between two simulators.
--   reuse: the file is copied into frames once; every later client gets
--          the same frames with rewritten headers: copied = file size once,
--          referenced = (clients - 1) x file size.
--   encrypt (HTTPS shown honestly): each client's body is encrypted into
--          the region in one pass and sent from there (sg): copied =
--          clients x file size - per-client ciphertext cannot be shared.
-- Every client's body must equal the file (decrypted with its key).
local T = require "common"
local C = require "tcp_common"
local tcp = require "ringlab.tcp"
local http = require "ringlab.http"

local CLIENTS, N = 5, 1 << 20
local file = C.data(N)

local function run(e_client, e_server, port, opts)
  opts.port, opts.file, opts.clients, opts.background = port, file, CLIENTS, true
  local srv = http.serve(e_server, opts)
  for i = 1, CLIENTS do
    local res = http.get(e_client, "http://198.18.0.2:" .. port .. "/file")
    T.eq(res.status, 200, "client " .. i .. " status")
    local body = C.str(res.body)
    local key = res.headers["x-ringlab-key"]
    if opts.encrypt then
      T.check(key, "client " .. i .. ": a key header")
      T.check(body ~= file .. string.rep("\0", 16), "ciphertext is not the file")
      body = lab.crypto.decrypt(body, http.unhex(key), tonumber(res.headers["x-ringlab-nonce"]))
    end
    T.check(body == file, "client " .. i .. ": the body equals the file")
    if res.close then res.close() end
  end
  tcp.run()
  print(http.summary(srv))
  return srv
end

local a, b = C.pair {}
local srv = run(a, b, 8080, { strategy = "reuse" })
T.eq(srv.served, CLIENTS, "clients served")
T.eq(srv.stagings, 1, "the file was staged once")
T.eq(srv.ledger.copied, N, "reuse: copied = the file size, once")
T.eq(srv.ledger.referenced, (CLIENTS - 1) * N, "reuse: the other clients referenced")

local enc = run(a, b, 8443, { strategy = "sg", encrypt = true })
T.eq(enc.ledger.copied, CLIENTS * N, "encrypted: copied = clients x file size")
print(string.format("figures: reuse copied %d for %d clients; encrypted copied %d (%d x %d)",
  srv.ledger.copied, CLIENTS, enc.ledger.copied, CLIENTS, N))
T.conserved(a, "a")
T.conserved(b, "b")
T.done("tcp_sim_reuse_server_clients")
