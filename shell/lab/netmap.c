/*
 * lab/netmap.c - netmap's rings from Lua, for a sim engine opened with
 * personality=netmap (engines/sim/sim_netmap.h has the model):
 *
 *   local tx, rx = e:ring("tx"), e:ring("rx")
 *   tx.head, tx.cur, tx.tail, tx.num_slots     rx:space()  (slots the
 *   program owns: head..tail-1)                tx.head = 5 (checked)
 *   local s = tx:slot(i)   s.buf_idx, s.len, s.flags, s.index
 *   s.len = 60   s.flags = lab.netmap.NS_MOREFRAG   s:write(bytes [, off])
 *   s:data() -> the slot's len bytes            s:swap(other) (or
 *   lab.netmap.swap(a, b)): exchange the buffers of two slots of one pool
 *   e:txsync() -> {taken=, sent=, reported=, lost=, tail=}
 *   e:rxsync() -> {released=, received=, reported=, dropped=, tail=}
 *   e:netmap() -> {pool=, buffers=, buf_size=, free=, ports=, ..., tx={...},
 *                  rx={...}}, or nil for any other engine
 *
 * Ring and slot handles keep their engine in uservalue 1 and look it up
 * again on every use (THE RULE FOR BINDINGS in shell.h): a handle whose
 * engine was closed raises one line.
 */
#include <errno.h>
#include <string.h>

#include "shell.h"
#include "sim.h"
#include "sim_netmap.h"

#define NMRING_MT "ringlab.netmap.ring"
#define NMSLOT_MT "ringlab.netmap.slot"

struct nm_handle {
	bool tx;
	uint32_t index; /* slots only */
};

static struct sim_nm_ring *ring_of(lua_State *L, struct lab_engine *eng, bool tx,
                                   const char *what)
{
	struct sim_nm_ring *r = NULL;

	if (eng->ops == rl_sim_engine())
		r = sim_nm_ring(eng->e, tx);
	if (!r)
		luaL_error(L,
		           "%s: %s is not a netmap port - open one: open sim "
		           "personality=netmap (Lua: lab.open(\"sim\", "
		           "{personality=\"netmap\"}))",
		           what, eng->name);
	return r;
}

static void raise_err(lua_State *L, const struct rl_err *err)
{
	luaL_error(L, "%s", err->msg[0] ? err->msg : strerror(err->code ? err->code : EIO));
}

/* The engine and ring of the handle at idx, checked open. */
static struct sim_nm_ring *handle_ring(lua_State *L, int idx, const char *mt,
                                       struct lab_engine **engp, struct nm_handle **hp,
                                       const char *what)
{
	struct nm_handle *h = luaL_checkudata(L, idx, mt);
	struct lab_engine *eng = lab_handle_engine(L, idx, what);

	lua_pop(L, 1);
	*engp = eng;
	*hp = h;
	return ring_of(L, eng, h->tx, what);
}

static void push_handle(lua_State *L, int eng_idx, const char *mt, bool tx,
                        uint32_t index)
{
	struct nm_handle *h = lua_newuserdatauv(L, sizeof(*h), 1);

	h->tx = tx;
	h->index = index;
	lua_pushvalue(L, eng_idx);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, mt);
}

/* ---- e:ring, e:txsync, e:rxsync, e:netmap -------------------------------- */

static int engine_ring(lua_State *L)
{
	const char *name = luaL_optstring(L, 2, "");
	bool tx;

	if (strcmp(name, "tx") == 0)
		tx = true;
	else if (strcmp(name, "rx") == 0)
		tx = false;
	else
		return luaL_error(L, "ring: which ring? - e:ring(\"tx\") or e:ring(\"rx\"), "
		                     "not \"%s\"",
		                  name);
	lua_settop(L, 1);
	push_handle(L, 1, NMRING_MT, tx, 0); /* may run a finalizer: check after */
	ring_of(L, lab_check_engine(L, 1), tx, "ring");
	return 1;
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static int engine_sync(lua_State *L, bool tx)
{
	const char *what = tx ? "txsync" : "rxsync";
	struct lab_engine *eng;
	struct sim_nm_sync o;
	struct sim_nm_ring *r;
	struct rl_err err;

	lua_settop(L, 1);
	lua_createtable(L, 0, 6);
	eng = lab_check_engine(L, 1);
	r = ring_of(L, eng, tx, what);
	rl_err_clear(&err);
	if ((tx ? sim_nm_txsync : sim_nm_rxsync)(eng->e, &o, &err) < 0)
		raise_err(L, &err);
	/* no Lua ran since the check: r is the live ring (and stays whole
	 * while this binding runs, even if a finalizer closes the engine) */
	set_int(L, "tail", r->tail);
	set_int(L, tx ? "taken" : "released", o.taken);
	set_int(L, tx ? "sent" : "received", o.packets);
	set_int(L, "reported", o.reported);
	set_int(L, tx ? "lost" : "dropped", tx ? o.lost : o.dropped);
	return 1;
}

static int engine_txsync(lua_State *L)
{
	return engine_sync(L, true);
}

static int engine_rxsync(lua_State *L)
{
	return engine_sync(L, false);
}

static void push_ring_state(lua_State *L, const struct sim_nm_ring *r, const char *map)
{
	lua_createtable(L, 0, 8);
	lua_pushstring(L, map); /* one owner letter per slot (sim_nm_map) */
	lua_setfield(L, -2, "map");
	set_int(L, "num_slots", r->num_slots);
	set_int(L, "head", r->head);
	set_int(L, "cur", r->cur);
	set_int(L, "tail", r->tail);
	set_int(L, "hwcur", r->hwcur % r->num_slots);
	set_int(L, "nic", r->nic % r->num_slots);
}

/* Lua ran nowhere in between (only table stores into fresh tables, which
 * may allocate: a finalizer could close the engine) - so everything is
 * copied into C first, then pushed. */
static int engine_netmap(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct sim_nm_ring tx, rx, *t, *x;
	struct sim_nm_info info;
	char *maps;

	if (eng->ops != rl_sim_engine() || !(t = sim_nm_ring(eng->e, true))) {
		lua_pushnil(L);
		return 1;
	}
	x = sim_nm_ring(eng->e, false);
	/* room for both maps first (may run a finalizer), then read the rings */
	maps = lua_newuserdatauv(L, (size_t)t->num_slots + x->num_slots + 2, 0);
	lab_check_open(L, eng, "netmap");
	t = sim_nm_ring(eng->e, true);
	x = sim_nm_ring(eng->e, false);
	sim_nm_map(t, maps);
	sim_nm_map(x, maps + t->num_slots + 1);
	tx = *t;
	rx = *x;
	sim_nm_info(eng->e, &info);
	lua_createtable(L, 0, 12);
	lua_pushstring(L, info.pool);
	lua_setfield(L, -2, "pool");
	set_int(L, "buffers", info.buffers);
	set_int(L, "buf_size", info.buf_size);
	set_int(L, "free", info.free);
	set_int(L, "ports", info.ports);
	set_int(L, "txsyncs", (lua_Integer)info.txsyncs);
	set_int(L, "rxsyncs", (lua_Integer)info.rxsyncs);
	set_int(L, "swaps", (lua_Integer)info.swaps);
	set_int(L, "swapped_bytes", (lua_Integer)info.swapped_bytes);
	push_ring_state(L, &tx, maps);
	lua_setfield(L, -2, "tx");
	push_ring_state(L, &rx, maps + tx.num_slots + 1);
	lua_setfield(L, -2, "rx");
	/* the slots' buffers and lengths, for the views (slot i at [i+1]) */
	for (int k = 0; k < 2; k++) {
		const struct sim_nm_ring *r = k ? &rx : &tx;

		lua_getfield(L, -1, k ? "rx" : "tx");
		lua_createtable(L, (int)r->num_slots, 0);
		lua_createtable(L, (int)r->num_slots, 0);
		lua_createtable(L, (int)r->num_slots, 0);
		lab_check_open(L, eng, "netmap");
		for (uint32_t i = 0; i < r->num_slots; i++) {
			lua_pushinteger(L, r->slot[i].buf_idx);
			lua_rawseti(L, -4, i + 1);
			lua_pushinteger(L, r->slot[i].len);
			lua_rawseti(L, -3, i + 1);
			lua_pushinteger(L, r->slot[i].flags);
			lua_rawseti(L, -2, i + 1);
		}
		lua_setfield(L, -4, "flags");
		lua_setfield(L, -3, "len");
		lua_setfield(L, -2, "buf_idx");
		lua_pop(L, 1);
	}
	return 1;
}

/* ---- ring handles -------------------------------------------------------- */

static int ring_slot(lua_State *L)
{
	struct lab_engine *eng;
	struct nm_handle *h;
	struct sim_nm_ring *r;
	lua_Integer i;
	int isnum;
	struct rl_err err;

	i = lua_tointegerx(L, 2, &isnum);
	if (!isnum)
		return luaL_error(L, "slot: give a slot number, e.g. ring:slot(0), not a %s",
		                  luaL_typename(L, 2));
	lua_settop(L, 1);
	lua_getiuservalue(L, 1, 1); /* the engine, at 2 */
	h = luaL_checkudata(L, 1, NMRING_MT);
	push_handle(L, 2, NMSLOT_MT, h->tx, 0);
	r = handle_ring(L, 1, NMRING_MT, &eng, &h, "slot");
	rl_err_clear(&err);
	if (sim_nm_check_index(r, i, "slot", &err) < 0)
		raise_err(L, &err);
	((struct nm_handle *)lua_touserdata(L, 3))->index = (uint32_t)i;
	lua_settop(L, 3);
	return 1;
}

static int ring_space(lua_State *L)
{
	struct lab_engine *eng;
	struct nm_handle *h;
	struct sim_nm_ring *r = handle_ring(L, 1, NMRING_MT, &eng, &h, "space");

	lua_pushinteger(L, (r->tail + r->num_slots - r->head) % r->num_slots);
	return 1;
}

static int ring_next(lua_State *L)
{
	struct lab_engine *eng;
	struct nm_handle *h;
	lua_Integer i = luaL_checkinteger(L, 2);
	struct sim_nm_ring *r = handle_ring(L, 1, NMRING_MT, &eng, &h, "next");

	lua_pushinteger(L, (lua_Integer)(((uint64_t)(i < 0 ? 0 : i) + 1) % r->num_slots));
	return 1;
}

/* t[k] for a method name k of the handle at 1 (its metatable's methods
 * table): pushes it and returns true, else leaves the stack as it was. */
static bool push_method(lua_State *L, const char *k)
{
	if (!k || luaL_getmetafield(L, 1, "methods") == LUA_TNIL)
		return false;
	if (lua_getfield(L, -1, k) != LUA_TNIL)
		return true;
	lua_pop(L, 2);
	return false;
}

static const luaL_Reg ring_methods[] = {
    {"slot", ring_slot},
    {"space", ring_space},
    {"next", ring_next},
    {NULL, NULL},
};

static int ring_index(lua_State *L)
{
	const char *k = lua_tostring(L, 2);
	struct lab_engine *eng;
	struct nm_handle *h;
	struct sim_nm_ring *r;

	if (push_method(L, k))
		return 1;
	r = handle_ring(L, 1, NMRING_MT, &eng, &h, "ring");
	if (!k)
		return luaL_error(L, "ring: fields are head, cur, tail, num_slots, name");
	if (strcmp(k, "head") == 0)
		lua_pushinteger(L, r->head);
	else if (strcmp(k, "cur") == 0)
		lua_pushinteger(L, r->cur);
	else if (strcmp(k, "tail") == 0)
		lua_pushinteger(L, r->tail);
	else if (strcmp(k, "num_slots") == 0)
		lua_pushinteger(L, r->num_slots);
	else if (strcmp(k, "name") == 0)
		lua_pushstring(L, h->tx ? "tx" : "rx");
	else
		lua_pushnil(L);
	return 1;
}

static int ring_newindex(lua_State *L)
{
	const char *k = lua_tostring(L, 2);
	lua_Integer v;
	int isnum, rc;
	struct lab_engine *eng;
	struct nm_handle *h;
	struct sim_nm_ring *r;
	struct rl_err err;

	v = lua_tointegerx(L, 3, &isnum);
	if (!k || (strcmp(k, "head") != 0 && strcmp(k, "cur") != 0))
		return luaL_error(L, "ring: %s is not the program's to set - set head and cur "
		                     "(tail is the kernel's)",
		                  k ? k : luaL_typename(L, 2));
	if (!isnum)
		return luaL_error(L, "%s: give a slot number, not a %s", k, luaL_typename(L, 3));
	r = handle_ring(L, 1, NMRING_MT, &eng, &h, k);
	rl_err_clear(&err);
	rc = k[0] == 'h' ? sim_nm_set_head(r, v, &err) : sim_nm_set_cur(r, v, &err);
	if (rc < 0)
		raise_err(L, &err);
	return 0;
}

static int ring_tostring(lua_State *L)
{
	struct nm_handle *h = luaL_checkudata(L, 1, NMRING_MT);
	struct lab_engine *eng = lab_handle_engine_if_open(L, 1);
	struct sim_nm_ring *r = eng && eng->ops == rl_sim_engine()
	                            ? sim_nm_ring(eng->e, h->tx)
	                            : NULL;

	if (!r)
		lua_pushfstring(L, "netmap %s ring (closed)", h->tx ? "tx" : "rx");
	else
		lua_pushfstring(L, "netmap %s ring of %s: %d slots, head=%d cur=%d tail=%d",
		                h->tx ? "tx" : "rx", eng->name, (int)r->num_slots,
		                (int)r->head, (int)r->cur, (int)r->tail);
	return 1;
}

/* ---- slot handles --------------------------------------------------------- */

static int slot_data(lua_State *L)
{
	struct lab_engine *eng;
	struct nm_handle *h;
	struct sim_nm_ring *r;
	luaL_Buffer b;
	uint32_t len;
	char *dst;

	lua_settop(L, 1);
	r = handle_ring(L, 1, NMSLOT_MT, &eng, &h, "data");
	len = r->slot[h->index].len;
	dst = luaL_buffinitsize(L, &b, len ? len : 1); /* may run Lua: look again */
	r = handle_ring(L, 1, NMSLOT_MT, &eng, &h, "data");
	len = len < r->slot[h->index].len ? len : r->slot[h->index].len;
	memcpy(dst, sim_nm_data(eng->e, r, h->index), len);
	sim_nm_count_read(eng->e, len);
	luaL_pushresultsize(&b, len);
	return 1;
}

static int slot_write(lua_State *L)
{
	struct lab_engine *eng;
	struct nm_handle *h;
	struct sim_nm_ring *r;
	size_t n;
	const char *s = luaL_checklstring(L, 2, &n);
	lua_Integer off = luaL_optinteger(L, 3, 0);
	struct rl_err err;

	if (off < 0 || off > 65536)
		return luaL_error(L, "write: offset %I is not in a buffer - give 0 or more", off);
	r = handle_ring(L, 1, NMSLOT_MT, &eng, &h, "write");
	rl_err_clear(&err);
	if (sim_nm_write(eng->e, r, h->index, (uint32_t)off, s, n, &err) < 0)
		raise_err(L, &err);
	return 0;
}

static int slot_swap(lua_State *L)
{
	struct lab_engine *ea, *eb;
	struct nm_handle *ha, *hb;
	struct sim_nm_ring *ra, *rb;
	struct rl_err err;

	luaL_checkudata(L, 1, NMSLOT_MT);
	if (!luaL_testudata(L, 2, NMSLOT_MT))
		return luaL_error(L, "swap: give two slots, e.g. lab.netmap.swap(rx:slot(i), "
		                     "tx:slot(j)) - argument 2 is a %s",
		                  luaL_typename(L, 2));
	ra = handle_ring(L, 1, NMSLOT_MT, &ea, &ha, "swap");
	rb = handle_ring(L, 2, NMSLOT_MT, &eb, &hb, "swap");
	lab_check_open(L, ea, "swap"); /* no Lua ran, but cheap */
	rl_err_clear(&err);
	if (sim_nm_swap(ea->e, ra, ha->index, eb->e, rb, hb->index, &err) < 0)
		raise_err(L, &err);
	return 0;
}

static const luaL_Reg slot_methods[] = {
    {"data", slot_data},
    {"write", slot_write},
    {"swap", slot_swap},
    {NULL, NULL},
};

static int slot_index(lua_State *L)
{
	const char *k = lua_tostring(L, 2);
	struct lab_engine *eng;
	struct nm_handle *h;
	struct sim_nm_ring *r;
	const struct sim_nm_slot *sl;

	if (push_method(L, k))
		return 1;
	r = handle_ring(L, 1, NMSLOT_MT, &eng, &h, "slot");
	sl = &r->slot[h->index];
	if (!k)
		lua_pushnil(L);
	else if (strcmp(k, "buf_idx") == 0)
		lua_pushinteger(L, sl->buf_idx);
	else if (strcmp(k, "len") == 0)
		lua_pushinteger(L, sl->len);
	else if (strcmp(k, "flags") == 0)
		lua_pushinteger(L, sl->flags);
	else if (strcmp(k, "index") == 0)
		lua_pushinteger(L, h->index);
	else if (strcmp(k, "ring") == 0)
		lua_pushstring(L, h->tx ? "tx" : "rx");
	else if (strcmp(k, "morefrag") == 0)
		lua_pushboolean(L, sl->flags & SIM_NS_MOREFRAG);
	else if (strcmp(k, "buf_changed") == 0)
		lua_pushboolean(L, sl->flags & SIM_NS_BUF_CHANGED);
	else if (strcmp(k, "mine") == 0) /* the program's now: head..tail-1 */
		lua_pushboolean(L, sim_nm_program_owns(r, h->index));
	else
		lua_pushnil(L);
	return 1;
}

static int slot_newindex(lua_State *L)
{
	const char *k = lua_tostring(L, 2);
	lua_Integer v;
	int isnum, rc;
	struct lab_engine *eng;
	struct nm_handle *h;
	struct sim_nm_ring *r;
	struct rl_err err;

	v = lua_tointegerx(L, 3, &isnum);
	if (k && strcmp(k, "buf_idx") == 0)
		return luaL_error(L, "buf_idx: a slot's buffer changes by swapping it with "
		                     "another slot's - lab.netmap.swap(rx:slot(i), tx:slot(j)) "
		                     "(prompt: swap)");
	if (!k || (strcmp(k, "len") != 0 && strcmp(k, "flags") != 0))
		return luaL_error(L, "slot: %s is not the program's to set - set len and flags",
		                  k ? k : luaL_typename(L, 2));
	if (!isnum)
		return luaL_error(L, "%s: give a number, not a %s", k, luaL_typename(L, 3));
	r = handle_ring(L, 1, NMSLOT_MT, &eng, &h, k);
	rl_err_clear(&err);
	rc = k[0] == 'l' ? sim_nm_set_len(eng->e, r, h->index, v, &err)
	                 : sim_nm_set_flags(eng->e, r, h->index, v, &err);
	if (rc < 0)
		raise_err(L, &err);
	return 0;
}

static int slot_tostring(lua_State *L)
{
	struct nm_handle *h = luaL_checkudata(L, 1, NMSLOT_MT);
	struct lab_engine *eng = lab_handle_engine_if_open(L, 1);
	struct sim_nm_ring *r = eng && eng->ops == rl_sim_engine()
	                            ? sim_nm_ring(eng->e, h->tx)
	                            : NULL;

	if (!r)
		lua_pushfstring(L, "netmap %s slot %d (closed)", h->tx ? "tx" : "rx",
		                (int)h->index);
	else
		lua_pushfstring(L, "netmap %s slot %d: buf_idx=%d len=%d flags=%d%s%s",
		                h->tx ? "tx" : "rx", (int)h->index,
		                (int)r->slot[h->index].buf_idx, (int)r->slot[h->index].len,
		                (int)r->slot[h->index].flags,
		                r->slot[h->index].flags & SIM_NS_BUF_CHANGED ? " BUF_CHANGED" : "",
		                r->slot[h->index].flags & SIM_NS_MOREFRAG ? " MOREFRAG" : "");
	return 1;
}

static const luaL_Reg engine_methods[] = {
    {"ring", engine_ring},
    {"txsync", engine_txsync},
    {"rxsync", engine_rxsync},
    {"netmap", engine_netmap},
    {NULL, NULL},
};

static const luaL_Reg netmap_funcs[] = {
    {"swap", slot_swap},
    {NULL, NULL},
};

static void handle_mt(lua_State *L, const char *name, const luaL_Reg *methods,
                      lua_CFunction index, lua_CFunction newindex,
                      lua_CFunction tostring)
{
	luaL_newmetatable(L, name);
	lua_newtable(L);
	lab_setfuncs(L, methods);
	lua_setfield(L, -2, "methods");
	lab_pushcfunction(L, index, "__index");
	lua_setfield(L, -2, "__index");
	lab_pushcfunction(L, newindex, "__newindex");
	lua_setfield(L, -2, "__newindex");
	lab_pushcfunction(L, tostring, "__tostring");
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
}

/* Into the lab table at -1: lab.netmap; and e:ring/txsync/rxsync/netmap
 * into the engine's methods (lab_engine_register ran before). */
void lab_netmap_register(lua_State *L)
{
	handle_mt(L, NMRING_MT, ring_methods, ring_index, ring_newindex, ring_tostring);
	handle_mt(L, NMSLOT_MT, slot_methods, slot_index, slot_newindex, slot_tostring);
	luaL_getmetatable(L, LAB_ENGINE_MT);
	lua_getfield(L, -1, "__index");
	lab_setfuncs(L, engine_methods);
	lua_pop(L, 2);
	lua_newtable(L);
	lab_setfuncs(L, netmap_funcs);
	set_int(L, "NS_BUF_CHANGED", SIM_NS_BUF_CHANGED);
	set_int(L, "NS_MOREFRAG", SIM_NS_MOREFRAG);
	lua_setfield(L, -2, "netmap");
}
