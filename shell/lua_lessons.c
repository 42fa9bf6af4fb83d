/*
 * lua_lessons.c - what the lessons and the live view need from C:
 *
 *   lab.opened()          the engines lab.open() gave out that are still
 *                         open, in order of opening (watch shows them all)
 *   lab.bench_mmap(n, size)
 *                         lesson 4: per packet, mmap a fresh buffer, copy
 *                         the packet in and munmap it, against copying it
 *                         into one pre-registered frame; ns per packet each
 *   lab.crypto.key(), lab.crypto.encrypt_into(buf, off, plaintext, key, n),
 *   lab.crypto.decrypt(ciphertext, key, n)
 *                         lesson 7: ChaCha20-Poly1305 (libsodium) writing
 *                         its output straight into region memory in one
 *                         pass - still a copy of every byte, counted copied
 *   lab.watch, lab.plot, lab.pause, lab.progress, lab.lessons_dir
 *                         thin doors into the embedded Lua modules
 *                         (ringlab.watch, ringlab.plot), loaded on first use
 *
 * lab.opened() works by wrapping lab.open in a closure that remembers each
 * new engine in a table with weak values, so a forgotten engine is still
 * collected.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <sodium.h>

#include "shell.h"

/* ---- lab.opened ------------------------------------------------------------ */

/* Upvalues: the real lab.open, the table of engines (weak values, keyed
 * by the handle's address). */
static int tracked_open(lua_State *L)
{
	int n = lua_gettop(L);

	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, n, 1);
	lua_pushlightuserdata(L, lua_touserdata(L, -1));
	lua_pushvalue(L, -2);
	lua_rawset(L, lua_upvalueindex(2));
	return 1;
}

static int by_id(const void *a, const void *b)
{
	const struct lab_engine *x = *(struct lab_engine *const *)a;
	const struct lab_engine *y = *(struct lab_engine *const *)b;

	return x->id - y->id;
}

/* Upvalue 1: the table of engines. */
static int lab_opened(lua_State *L)
{
	struct lab_engine *v[256];
	int n = 0;

	for (lua_pushnil(L); lua_next(L, lua_upvalueindex(1)); lua_pop(L, 1)) {
		struct lab_engine *eng = lab_test_engine(L, -1);

		if (eng && eng->e && n < 256)
			v[n++] = eng;
	}
	qsort(v, (size_t)n, sizeof(v[0]), by_id);
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		lua_pushlightuserdata(L, v[i]);
		lua_rawget(L, lua_upvalueindex(1));
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static void track_open(lua_State *L)
{
	int lab = lua_gettop(L);

	lua_getfield(L, lab, "open");
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushstring(L, "v");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, lab_opened, 1);
	lua_setfield(L, lab, "opened");
	lua_pushcclosure(L, tracked_open, 2);
	lua_setfield(L, lab, "open");
}

/* ---- lab.bench_mmap -------------------------------------------------------- */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Per packet: a fresh mapping, the packet copied in, the mapping gone. */
static double bench_mmap_each(lua_State *L, const char *pkt, size_t size, long n)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++) {
		void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			luaL_error(L, "bench_mmap: mmap failed - try a smaller size");
		memcpy(m, pkt, size);
		__asm__ volatile("" : : "r"(m) : "memory");
		munmap(m, size);
	}
	return (now_ns() - t0) / (double)n;
}

/* Per packet: the packet copied into the same registered frame. */
static double bench_frame(const char *pkt, char *frame, size_t size, long n)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++) {
		memcpy(frame, pkt, size);
		__asm__ volatile("" : : "r"(frame) : "memory");
	}
	return (now_ns() - t0) / (double)n;
}

static int lab_bench_mmap(lua_State *L)
{
	lua_Integer n = luaL_optinteger(L, 1, 10000);
	lua_Integer size = luaL_optinteger(L, 2, 1500);
	char *pkt, *frame;

	if (n < 1 || n > 10000000)
		return luaL_error(L, "bench_mmap: %I packets? - give 1 .. 10000000", n);
	if (size < 1 || size > 65536)
		return luaL_error(L, "bench_mmap: %I bytes? - give 1 .. 65536", size);
	pkt = lua_newuserdatauv(L, (size_t)size, 0);
	frame = lua_newuserdatauv(L, (size_t)size, 0);
	memset(pkt, 0x5a, (size_t)size);
	memset(frame, 0, (size_t)size); /* registered: already faulted in */
	lua_createtable(L, 0, 5);
	lua_pushnumber(L, bench_mmap_each(L, pkt, (size_t)size, (long)n));
	lua_setfield(L, -2, "mmap_ns");
	lua_pushnumber(L, bench_frame(pkt, frame, (size_t)size, (long)n));
	lua_setfield(L, -2, "frame_ns");
	lua_pushinteger(L, n);
	lua_setfield(L, -2, "n");
	lua_pushinteger(L, size);
	lua_setfield(L, -2, "size");
	return 1;
}

/* ---- lab.crypto ------------------------------------------------------------ */

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
		l->copied += len; /* read once, written once: a copy */
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

/* ---- doors into the Lua modules -------------------------------------------- */

/* Upvalues: module name, function name. */
static int lazy_call(lua_State *L)
{
	int n = lua_gettop(L);

	lua_getglobal(L, "require");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_call(L, 1, 1);
	lua_getfield(L, -1, lua_tostring(L, lua_upvalueindex(2)));
	lua_remove(L, -2);
	lua_insert(L, 1);
	lua_call(L, n, LUA_MULTRET);
	return lua_gettop(L);
}

static void door(lua_State *L, const char *name, const char *module, const char *fn)
{
	lua_pushstring(L, module);
	lua_pushstring(L, fn);
	lua_pushcclosure(L, lazy_call, 2);
	lua_setfield(L, -2, name);
}

static void lessons_dir(lua_State *L)
{
	const char *env = getenv("RINGLAB_LESSON_PATH");

	lua_pushstring(L, env && *env ? env : RINGLAB_LESSON_DIR);
	lua_setfield(L, -2, "lessons_dir");
}

void lab_lessons_register(lua_State *L)
{
	if (sodium_init() < 0)
		luaL_error(L, "libsodium failed to start");
	track_open(L);
	luaL_newlib(L, crypto_funcs);
	lua_setfield(L, -2, "crypto");
	lua_pushcfunction(L, lab_bench_mmap);
	lua_setfield(L, -2, "bench_mmap");
	door(L, "watch", "ringlab.watch", "watch");
	door(L, "pause", "ringlab.watch", "pause");
	door(L, "progress", "ringlab.watch", "progress");
	door(L, "plot", "ringlab.plot", "plot");
	lessons_dir(L);
}
