/*
 * lab/appmem.c - application memory outside every region, and the pins that
 * keep it alive while an engine sends from it (strategy extbuf).
 *
 * lab.appmem(n) maps n bytes (rounded up to whole pages) that belong to no
 * engine: what a program's own buffers are before anyone thinks of packets.
 * mem:write(off, s), mem:fill(byte or pattern [, off, n]), mem:string([off, n]), #mem.
 *
 * A pin (struct lab_extpin) is made by lab.segment(data, {strategy=
 * "extbuf"}) for its data - a Lua string or an appmem. It registers the
 * memory with the engine (ext_register) and counts what is in flight: each
 * extbuf descriptor handed to tx_x carries the pin as its cookie, and each
 * cookie ext_freed() hands back (lab_ext_reap, called on every completion)
 * counts it home. When the segs go while references are still in flight the
 * data is anchored in the registry until the last one comes back, so the
 * engine never reads memory Lua has collected; then the pin unregisters the
 * memory and is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shell.h"

#define APPMEM_MT "ringlab.appmem"
#define PINS_KEY  "ringlab.extpins" /* registry: pin -> the data it keeps */

static struct lab_extpin *pins; /* every live pin, for the engine's close */

/* ---- lab.appmem ------------------------------------------------------------ */

static int appmem_new(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len;
	struct lab_appmem *m;

	if (n < 1 || n > (lua_Integer)1 << 30)
		return luaL_error(L, "appmem: %I bytes - give 1 .. 1 GiB", n);
	len = ((size_t)n + pg - 1) / pg * pg;
	m = lua_newuserdatauv(L, sizeof(*m), 0);
	memset(m, 0, sizeof(*m));
	m->base =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		return luaL_error(L, "appmem: mmap of %d bytes failed (%s)", (int)len,
		                  strerror(errno));
	}
	m->len = (size_t)n;
	m->maplen = len;
	luaL_setmetatable(L, APPMEM_MT);
	return 1;
}

/* The app memory at idx, or NULL if idx holds something else; an error if
 * it was already closed (there is nothing left to send). */
struct lab_appmem *lab_test_appmem(lua_State *L, int idx)
{
	struct lab_appmem *m = luaL_testudata(L, idx, APPMEM_MT);

	if (m && !m->base)
		luaL_error(L, "this app memory was closed - make another with lab.appmem(n)");
	return m;
}

/* The app memory at idx, still mapped (a <close> variable or the
 * collector may have unmapped it). */
static struct lab_appmem *check_live(lua_State *L, int idx, const char *what)
{
	struct lab_appmem *m = luaL_checkudata(L, idx, APPMEM_MT);

	if (!m->base)
		luaL_error(L, "%s: this app memory was closed - make another with lab.appmem(n)",
		           what);
	return m;
}

/* off, n at idx, idx+1 (defaults: 0, the rest), checked inside m. */
static void span_args(lua_State *L, struct lab_appmem *m, int idx, const char *what,
                      size_t *off, size_t *n)
{
	lua_Integer o = luaL_optinteger(L, idx, 0);
	/* the rest by default; o outside is refused below (m->len - o would
	 * overflow for a huge negative o) */
	lua_Integer k = luaL_optinteger(
	    L, idx + 1, o >= 0 && (size_t)o <= m->len ? (lua_Integer)(m->len - (size_t)o) : 0);

	if (o < 0 || k < 0 || (size_t)o > m->len || (size_t)k > m->len - (size_t)o)
		luaL_error(
		    L,
		    "%s: %I bytes at %I run past the end of the %I-byte app memory "
		    "- stay inside it",
		    what, k, o, (lua_Integer)m->len);
	*off = (size_t)o;
	*n = (size_t)k;
}

static int appmem_write(lua_State *L)
{
	struct lab_appmem *m = check_live(L, 1, "write");
	lua_Integer off = luaL_checkinteger(L, 2);
	size_t sl;
	const char *s = luaL_checklstring(L, 3, &sl);

	if (off < 0 || (size_t)off > m->len || sl > m->len - (size_t)off)
		return luaL_error(L,
		                  "write: %d bytes at %I run past the end of the %I-byte "
		                  "app memory - stay inside it",
		                  (int)sl, off, (lua_Integer)m->len);
	memcpy(m->base + off, s, sl);
	lua_pushinteger(L, (lua_Integer)sl);
	return 1;
}

static int appmem_fill(lua_State *L)
{
	struct lab_appmem *m = check_live(L, 1, "fill");
	const char *pat = NULL;
	size_t off, n, plen = 0;
	lua_Integer b = 0;

	/* a byte, or a pattern string repeated (as a region buffer's b:fill) */
	if (lua_type(L, 2) == LUA_TSTRING) {
		pat = lua_tolstring(L, 2, &plen);
		if (plen == 0)
			return luaL_error(L, "fill: the pattern is empty - give a byte or a "
			                     "non-empty string");
	} else if (lua_type(L, 2) == LUA_TNUMBER) {
		int whole;

		b = lua_tointegerx(L, 2, &whole); /* 65 or 65.0 */
		if (!whole || b < 0 || b > 255)
			return luaL_error(
			    L, "fill: %s is not a byte - give 0 .. 255 or a pattern string",
			    lua_tostring(L, 2));
	} else {
		return luaL_error(L, "fill: give a byte (0 .. 255) or a pattern string, not "
		                     "a %s - m:fill(\"x\") or m:fill(0x78)",
		                  luaL_typename(L, 2));
	}
	span_args(L, m, 3, "fill", &off, &n);
	if (!pat)
		memset(m->base + off, (int)b, n);
	for (size_t i = 0; pat && i < n; i += plen)
		memcpy(m->base + off + i, pat, n - i < plen ? n - i : plen);
	lua_pushinteger(L, (lua_Integer)n);
	return 1;
}

static int appmem_string(lua_State *L)
{
	struct lab_appmem *m = check_live(L, 1, "string");
	size_t off, n;

	span_args(L, m, 2, "string", &off, &n);
	lua_pushlstring(L, (const char *)m->base + off, n);
	return 1;
}

static int appmem_len(lua_State *L)
{
	lua_pushinteger(
	    L, (lua_Integer)((struct lab_appmem *)luaL_checkudata(L, 1, APPMEM_MT))->len);
	return 1;
}

/* Collected while an engine still reads it (its segs went in the same
 * cycle): the last pin unmaps it. */
static int appmem_gc(lua_State *L)
{
	struct lab_appmem *m = luaL_checkudata(L, 1, APPMEM_MT);

	if (m->pins) {
		m->collected = true;
		return 0;
	}
	if (m->base)
		munmap(m->base, m->maplen);
	m->base = NULL;
	return 0;
}

static int appmem_tostring(lua_State *L)
{
	struct lab_appmem *m = luaL_checkudata(L, 1, APPMEM_MT);

	lua_pushfstring(L, "app memory: %I bytes at %p (outside every region)",
	                (lua_Integer)m->len, (void *)m->base);
	return 1;
}

/* ---- pins ------------------------------------------------------------------ */

struct lab_extpin *lab_extpin_new(lua_State *L, struct lab_engine *eng, const void *va,
                                  size_t len, struct lab_appmem *mem)
{
	struct lab_extpin *p = calloc(1, sizeof(*p));
	struct rl_err err;

	if (!p)
		luaL_error(L, "segment: out of memory");
	rl_err_clear(&err);
	if (eng->ops->ext_register(eng->e, (void *)va, len, &err) < 0) {
		free(p);
		lab_raise(L, "segment", &err);
	}
	*p = (struct lab_extpin){
	    .eng = eng, .va = va, .len = len, .mem = mem, .next = pins};
	if (mem)
		mem->pins++;
	if (pins)
		pins->prev = p;
	pins = p;
	return p;
}

static void unanchor(lua_State *L, struct lab_extpin *p)
{
	lua_getfield(L, LUA_REGISTRYINDEX, PINS_KEY);
	lua_pushnil(L);
	lua_rawsetp(L, -2, p);
	lua_pop(L, 1);
}

static void pin_free(lua_State *L, struct lab_extpin *p)
{
	struct rl_err err;

	if (p->orphan)
		unanchor(L, p);
	if (p->eng->e)
		p->eng->ops->ext_unregister(p->eng->e, (void *)p->va, p->len, &err);
	if (p->mem && --p->mem->pins == 0 && p->mem->collected && p->mem->base) {
		munmap(p->mem->base, p->mem->maplen);
		p->mem->base = NULL;
	}
	if (p->prev)
		p->prev->next = p->next;
	else
		pins = p->next;
	if (p->next)
		p->next->prev = p->prev;
	free(p);
}

void lab_ext_reap(lua_State *L, struct lab_engine *eng)
{
	uint64_t c[64];
	int n;

	if (!eng->e || !eng->ops->ext_freed)
		return;
	while ((n = eng->ops->ext_freed(eng->e, c, 64)) > 0) {
		for (int i = 0; i < n; i++) {
			struct lab_extpin *p = (struct lab_extpin *)(uintptr_t)c[i];

			p->out--;
			p->back++;
			if (p->orphan && p->out == 0)
				pin_free(L, p);
		}
	}
}

void lab_extpin_drop(lua_State *L, struct lab_extpin *p, int data_idx)
{
	data_idx = lua_absindex(L, data_idx);
	lab_ext_reap(L, p->eng);
	if (p->out == 0 || !p->eng->e) {
		pin_free(L, p);
		return;
	}
	p->orphan = true; /* the engine still reads it: keep the data alive */
	lua_getfield(L, LUA_REGISTRYINDEX, PINS_KEY);
	lua_pushvalue(L, data_idx);
	lua_rawsetp(L, -2, p);
	lua_pop(L, 1);
}

void lab_ext_engine_closed(lua_State *L, struct lab_engine *eng)
{
	struct lab_extpin *p = pins, *next;

	for (; p; p = next) {
		next = p->next;
		if (p->eng != eng)
			continue;
		p->out = 0; /* the engine and everything in it are gone */
		if (p->orphan)
			pin_free(L, p);
	}
}

static const luaL_Reg appmem_methods[] = {
    {"write", appmem_write}, {"fill", appmem_fill}, {"string", appmem_string},
    {"len", appmem_len},     {NULL, NULL},
};

void lab_appmem_register(lua_State *L)
{
	lab_handle_mt(L, APPMEM_MT, appmem_methods, appmem_gc, appmem_len, appmem_tostring);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, PINS_KEY);
	lab_pushcfunction(L, appmem_new, "appmem");
	lua_setfield(L, -2, "appmem");
}
