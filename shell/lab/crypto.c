/*
 * lab/crypto.c - lab.crypto: a real cipher writing straight into frames.
 *
 *   lab.crypto.key()                                  a fresh random key
 *   lab.crypto.encrypt_into(buf, off, plaintext, key, nonce)
 *                                                     -> bytes written
 *   lab.crypto.decrypt(ciphertext, key, nonce)        -> plaintext or nil
 *
 * ChaCha20-Poly1305 (IETF) from libsodium. encrypt_into reads the
 * plaintext once and writes ciphertext and tag directly into region memory
 * (a buffer from r:alloc) in one pass: no staging buffer, but still a new
 * copy of every byte, different for every key - which is why HTTPS bodies
 * cannot be shared between clients or sent without a copy. The ledger
 * counts the plaintext's bytes as copied. Lesson 7 and the HTTPS server in
 * ringlab.http use it.
 */
#include <string.h>

#include <sodium.h>

#include "shell.h"

#define KEYBYTES crypto_aead_chacha20poly1305_ietf_KEYBYTES
#define NPUBBYTES crypto_aead_chacha20poly1305_ietf_NPUBBYTES
#define TAGBYTES crypto_aead_chacha20poly1305_ietf_ABYTES

static const unsigned char *check_key(lua_State *L, int idx)
{
	size_t len;
	const char *k = luaL_checklstring(L, idx, &len);

	if (len != KEYBYTES)
		luaL_error(L, "crypto: a key is %d bytes, this one %d - make one with "
		              "lab.crypto.key()",
		           (int)KEYBYTES, (int)len);
	return (const unsigned char *)k;
}

static void nonce_of(lua_State *L, int idx, unsigned char nonce[NPUBBYTES])
{
	lua_Integer n = luaL_optinteger(L, idx, 0);

	memset(nonce, 0, NPUBBYTES);
	for (int i = 0; i < 8; i++)
		nonce[i] = (unsigned char)((uint64_t)n >> (8 * i));
}

static int crypto_key(lua_State *L)
{
	unsigned char k[KEYBYTES];

	crypto_aead_chacha20poly1305_ietf_keygen(k);
	lua_pushlstring(L, (const char *)k, sizeof(k));
	return 1;
}

/* encrypt_into(buf, off, plaintext, key, nonce): ciphertext and tag land
 * in the buffer at off; returns the bytes written (#plaintext + 16). */
static int crypto_encrypt_into(lua_State *L)
{
	struct lab_buffer *b = lab_test_buffer(L, 1);
	lua_Integer off = luaL_checkinteger(L, 2);
	size_t len;
	const unsigned char *m = (const unsigned char *)luaL_checklstring(L, 3, &len);
	const unsigned char *k = check_key(L, 4);
	unsigned char nonce[NPUBBYTES];
	unsigned long long clen;
	struct lab_engine *eng;
	struct rl_ledger *l;

	if (!b)
		return luaL_error(L, "encrypt_into: give a buffer from r:alloc(n), not a %s",
		                  luaL_typename(L, 1));
	if (b->freed)
		return luaL_error(L, "encrypt_into: this buffer was freed - allocate one");
	if (off < 0 || (uint64_t)off + len + TAGBYTES > b->len)
		return luaL_error(L, "encrypt_into: %I + %d bytes (text + tag) do not fit "
		                     "this %I-byte buffer - allocate a larger one",
		                  off, (int)(len + TAGBYTES), (lua_Integer)b->len);
	nonce_of(L, 5, nonce);
	eng = lab_handle_engine(L, 1, "encrypt_into");
	crypto_aead_chacha20poly1305_ietf_encrypt(
	    rl_region_ptr(lab_engine_region(L, eng, "encrypt_into"), b->addr + (uint64_t)off),
	    &clen, m, len, NULL, 0, NULL, nonce, k);
	l = lab_engine_ledger(eng);
	if (l)
		/* read once, written once: a copy, made to send */
		rl_ledger_count(l, RL_LEDGER_COPIED, len, RL_DIR_TX);
	lua_pushinteger(L, (lua_Integer)clen);
	return 1;
}

static int crypto_decrypt(lua_State *L)
{
	size_t len;
	const unsigned char *c = (const unsigned char *)luaL_checklstring(L, 1, &len);
	const unsigned char *k = check_key(L, 2);
	unsigned char nonce[NPUBBYTES];
	unsigned long long mlen;
	luaL_Buffer out;
	unsigned char *m;

	nonce_of(L, 3, nonce);
	if (len < TAGBYTES)
		return luaL_error(L, "decrypt: %d bytes is shorter than the tag", (int)len);
	m = (unsigned char *)luaL_buffinitsize(L, &out, len);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(m, &mlen, NULL, c, len, NULL, 0,
	                                              nonce, k) != 0) {
		lua_pushnil(L);
		return 1;
	}
	luaL_pushresultsize(&out, (size_t)mlen);
	return 1;
}

static const luaL_Reg crypto_funcs[] = {
    {"key", crypto_key},
    {"encrypt_into", crypto_encrypt_into},
    {"decrypt", crypto_decrypt},
    {NULL, NULL},
};

void lab_crypto_register(lua_State *L)
{
	if (sodium_init() < 0)
		luaL_error(L, "libsodium failed to start - check the libsodium installation");
	luaL_newlib(L, crypto_funcs);
	lua_setfield(L, -2, "crypto");
}
