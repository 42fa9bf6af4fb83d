/*
 * lab/engine_view.c - looking at an engine: e:rings(), e:owners(),
 * e:owner_map(), e:stats().
 *
 * These only read. e:owners() also proves the conservation invariant with
 * rl_region_check() on every call and raises when it is broken: a lost or
 * doubled frame is a bug, and the lab says so loudly.
 */
#include <string.h>

#include "shell.h"

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static int engine_rings(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_ring_view v[RL_RING_VIEWS_MAX];
	int n;

	if (!eng->ops->rings)
		return luaL_error(L, "rings: this engine cannot show its rings");
	memset(v, 0, sizeof(v));
	n = eng->ops->rings(eng->e, v, RL_RING_VIEWS_MAX);
	lua_createtable(L, 0, n);
	for (int i = 0; i < n; i++) {
		lua_createtable(L, 0, 7);
		set_int(L, "size", v[i].size);
		set_int(L, "prod", v[i].prod);
		set_int(L, "cons", v[i].cons);
		set_int(L, "pending", v[i].pending);
		lua_pushboolean(L, v[i].need_wakeup);
		lua_setfield(L, -2, "need_wakeup");
		set_int(L, "order", i + 1);
		if (v[i].note[0])
			set_str(L, "note", v[i].note);
		lua_setfield(L, -2, v[i].name);
	}
	return 1;
}

static void check_conserved(lua_State *L, const struct rl_region *r)
{
	struct rl_err err;

	rl_err_clear(&err);
	if (rl_region_check(r, &err) < 0)
		luaL_error(L,
		           "owners: the conservation invariant is broken: %s - this is a "
		           "bug in ringlab, please report it",
		           err.msg);
}

static int engine_owners(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_region *r = lab_engine_region(L, eng, "owners");
	uint32_t count[RL_OWN_COUNT], frames = r->frames, nfree = r->nfree;
	uint32_t shared = r->nshared;
	uint64_t shared_refs = r->shared_refs;

	check_conserved(L, r);
	/* read before Lua allocates: a finalizer may close the engine then */
	memcpy(count, r->count, sizeof(count));
	lua_createtable(L, 0, RL_OWN_COUNT + 2);
	for (int o = 0; o < RL_OWN_COUNT; o++)
		set_int(L, rl_owner_name((enum rl_owner)o), count[o]);
	set_int(L, "frames", frames);
	set_int(L, "free", nfree);
	/* frames in two or more descriptors at once, and those descriptors */
	set_int(L, "shared", shared);
	set_int(L, "shared_refs", (lua_Integer)shared_refs);
	return 1;
}

/* One character per frame: how many descriptors point into it when it is
 * in two or more at once ('2' .. '9', '+' for 10 or more), '.' otherwise. */
static int engine_refs_map(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_region *r = lab_engine_region(L, eng, "refs_map");
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, r->frames);

	/* the allocation may have run a finalizer that closed the engine */
	r = lab_engine_region(L, lab_check_open(L, eng, "refs_map"), "refs_map");
	for (uint32_t f = 0; f < r->frames; f++) {
		uint32_t k = r->refs[f].sum;

		out[f] = k < 2 ? '.' : k <= 9 ? (char)('0' + k) : '+';
	}
	luaL_pushresultsize(&b, r->frames);
	return 1;
}

/* One letter per frame: '.' free, 'A' held by the program, F N R T C. */
static int engine_owner_map(lua_State *L)
{
	static const char letter[RL_OWN_COUNT] = {'A', 'F', 'N', 'R', 'T', 'C'};
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_region *r = lab_engine_region(L, eng, "owner_map");
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, r->frames);

	/* the allocation may have run a finalizer that closed the engine */
	r = lab_engine_region(L, lab_check_open(L, eng, "owner_map"), "owner_map");
	for (uint32_t f = 0; f < r->frames; f++) {
		enum rl_owner o = rl_region_owner(r, f);

		out[f] = o < RL_OWN_COUNT ? letter[o] : '?';
		if (o == RL_OWN_APP && rl_region_is_free(r, f))
			out[f] = '.';
	}
	luaL_pushresultsize(&b, r->frames);
	return 1;
}

/* The totals by name, then tx={...} and rx={...}: the part of each that
 * was on the transmit and on the receive path (tx + rx = the total). */
void lab_push_ledger(lua_State *L, const struct rl_ledger *l)
{
	lua_createtable(L, 0, 12);
	for (int f = 0; f < RL_LEDGER_FIELDS; f++)
		set_int(L, rl_ledger_field_name((enum rl_ledger_field)f),
		        (lua_Integer)rl_ledger_get(l, (enum rl_ledger_field)f));
	for (int dir = RL_DIR_TX; dir <= RL_DIR_RX; dir++) {
		lua_createtable(L, 0, RL_LEDGER_FIELDS);
		for (int f = 0; f < RL_LEDGER_FIELDS; f++)
			set_int(L, rl_ledger_field_name((enum rl_ledger_field)f),
			        (lua_Integer)rl_ledger_get_dir(l, (enum rl_ledger_field)f,
			                                       (enum rl_dir)dir));
		lua_setfield(L, -2, rl_dir_name((enum rl_dir)dir));
	}
	set_str(L, "kernel_how", rl_how_name((enum rl_how)l->kernel_how));
	set_str(L, "kernel_why", l->kernel_why);
	set_str(L, "driver_how", rl_how_name((enum rl_how)l->driver_how));
	set_str(L, "driver_why", l->driver_why);
}

static int engine_stats(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_stats st;

	if (!eng->ops->stats)
		return luaL_error(L, "stats: this engine cannot report statistics");
	memset(&st, 0, sizeof(st));
	eng->ops->stats(eng->e, &st);
	lua_createtable(L, 0, 10 + st.nextra);
	for (unsigned i = 0; i < st.nextra && i < RL_STATS_EXTRA_MAX; i++)
		set_int(L, st.extra[i].name, (lua_Integer)st.extra[i].value);
	set_int(L, "tx_pkts", (lua_Integer)st.tx_pkts);
	set_int(L, "tx_bytes", (lua_Integer)st.tx_bytes);
	set_int(L, "rx_pkts", (lua_Integer)st.rx_pkts);
	set_int(L, "rx_bytes", (lua_Integer)st.rx_bytes);
	set_int(L, "drops", (lua_Integer)st.drops);
	set_int(L, "kicks", (lua_Integer)st.kicks);
	set_str(L, "mode", st.mode);
	set_str(L, "mode_why", st.mode_why);
	lab_push_ledger(L, &st.ledger);
	lua_setfield(L, -2, "ledger");
	return 1;
}

/* e:queues() -> {{queue=0, rx_pkts=, rx_bytes=, tx_pkts=, tx_bytes=}, ...},
 * selected: the queue's number, or "all" (spread). One entry, queue 0, for
 * an engine on one queue. */
static int engine_queues(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_queue_info q[RL_QUEUES_MAX];
	struct rl_err err;
	int n = 1, sel = 0;

	memset(q, 0, sizeof(q));
	if (eng->ops->queues) {
		rl_err_clear(&err);
		n = eng->ops->queues(eng->e, RL_QUEUE_KEEP, &sel, q, RL_QUEUES_MAX, &err);
		if (n < 0)
			return lab_raise(L, "queues", &err);
		if (n > RL_QUEUES_MAX)
			n = RL_QUEUES_MAX;
	} else if (eng->ops->stats) {
		struct rl_stats st;

		memset(&st, 0, sizeof(st));
		eng->ops->stats(eng->e, &st);
		q[0] = (struct rl_queue_info){0, st.rx_pkts, st.rx_bytes, st.tx_pkts, st.tx_bytes};
	}
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		lua_createtable(L, 0, 5);
		set_int(L, "queue", q[i].id);
		set_int(L, "rx_pkts", (lua_Integer)q[i].rx_pkts);
		set_int(L, "rx_bytes", (lua_Integer)q[i].rx_bytes);
		set_int(L, "tx_pkts", (lua_Integer)q[i].tx_pkts);
		set_int(L, "tx_bytes", (lua_Integer)q[i].tx_bytes);
		lua_rawseti(L, -2, i + 1);
	}
	if (sel == RL_QUEUE_ALL)
		lua_pushliteral(L, "all");
	else
		lua_pushinteger(L, sel);
	return 2;
}

/* e:queue(k) or e:queue("all"): the queue fill, rx, tx, complete and kick
 * act on from now on (all: spread over every queue). Returns the one
 * before. e:queue() only asks. */
static int engine_queue(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_err err;
	int sel = RL_QUEUE_KEEP, was = 0, isnum = 0;
	lua_Integer k;

	if (!lua_isnoneornil(L, 2)) {
		k = lua_tointegerx(L, 2, &isnum);
		if (isnum && k >= 0 && k < 65536)
			sel = (int)k;
		else if (lua_type(L, 2) == LUA_TSTRING && !strcmp(lua_tostring(L, 2), "all"))
			sel = RL_QUEUE_ALL;
		else
			return luaL_error(L, "queue: give a queue's number, e.g. e:queue(1), or "
			                     "e:queue(\"all\") to spread over every queue");
	}
	if (!eng->ops->queues) {
		if (sel > 0)
			return luaL_error(L, "queue %d: this engine (%s) has one queue, 0", sel,
			                  eng->ops->name);
	} else {
		rl_err_clear(&err);
		if (eng->ops->queues(eng->e, sel, &was, NULL, 0, &err) < 0)
			return lab_raise(L, "queue", &err);
	}
	if (was == RL_QUEUE_ALL)
		lua_pushliteral(L, "all");
	else
		lua_pushinteger(L, was);
	return 1;
}

/* e:workers{loop="rxdrop"|"txonly"|"fwd", queues=N or {q,...}, seconds=S,
 * packets=N}: a C loop per queue, each on a core of its own (DPDK: worker
 * i on lcore i), for S seconds (default 1, at most 60) or N packets each;
 * Ctrl-C stops them. Returns {loop=, packets=, bytes=, seconds=, mpps=,
 * workers={{queue=, lcore=, packets=, bytes=, seconds=, mpps=,
 * cpu_seconds=}, ...}} (cpu_seconds: CPU time the worker's thread got). */
static int engine_workers(lua_State *L)
{
	static const char *const loops[] = {"rxdrop", "txonly", "fwd", NULL};
	struct rl_workers_args a;
	struct rl_worker_result res[RL_QUEUES_MAX];
	struct lab_engine *eng;
	struct rl_err err;
	lua_Integer nq = 0;
	double secs = 1;
	unsigned n = 0;
	uint64_t pk = 0, by = 0;
	double longest = 0;
	int rc, t;

	memset(&a, 0, sizeof(a));
	luaL_checktype(L, 2, LUA_TTABLE);
	/* the arguments first (a metamethod may run), then the engine */
	{
		const char *lp = lab_field_str(L, 2, "workers", "loop", "rxdrop");
		int i;

		for (i = 0; loops[i] && strcmp(loops[i], lp); i++)
			;
		if (!loops[i])
			return luaL_error(L, "workers: loop=%s - give loop=rxdrop, txonly or fwd", lp);
		a.loop = (enum rl_worker_loop)i;
	}
	t = lua_getfield(L, 2, "queues");
	if (t == LUA_TTABLE) {
		lua_Integer len = (lua_Integer)lua_rawlen(L, -1);

		if (len < 1 || len > RL_QUEUES_MAX)
			return luaL_error(L, "workers: queues={...} lists 1 to %d queues",
			                  RL_QUEUES_MAX);
		for (lua_Integer i = 1; i <= len; i++) {
			int ok;
			lua_Integer q;

			lua_rawgeti(L, -1, i);
			q = lua_tointegerx(L, -1, &ok);
			lua_pop(L, 1);
			if (!ok || q < 0 || q >= 65536)
				return luaL_error(L, "workers: queues={...} holds queue numbers, "
				                     "e.g. queues={0,1}");
			a.queue[n++] = (uint32_t)q;
		}
		lua_pop(L, 1);
	} else {
		lua_pop(L, 1);
		nq = lab_field_int(L, 2, "workers", "queues", 0, RL_QUEUES_MAX);
	}
	if (lab_field_has(L, 2, "seconds")) {
		lua_getfield(L, 2, "seconds");
		int ok;

		secs = lua_tonumberx(L, -1, &ok);
		lua_pop(L, 1);
		if (!ok || !(secs > 0 && secs <= 60))
			return luaL_error(L, "workers: seconds= must be more than 0 and at most 60");
	}
	a.packets = (uint64_t)lab_field_int(L, 2, "workers", "packets", 0,
	                                    (lua_Integer)1 << 50);
	if (a.packets && !lab_field_has(L, 2, "seconds"))
		secs = 60; /* packets= alone: until then, at most a minute */
	a.seconds = secs;
	eng = lab_check_engine(L, 1);
	lab_check_open(L, eng, "workers");
	if (!eng->ops->workers)
		return luaL_error(L, "workers: the %s engine has no workers (the dpdk engine "
		                  "does)", eng->ops->name);
	if (!n) {
		int have = 1;

		if (eng->ops->queues) {
			rl_err_clear(&err);
			have = eng->ops->queues(eng->e, RL_QUEUE_KEEP, NULL, NULL, 0, &err);
			if (have < 1)
				have = 1;
		}
		n = nq ? (unsigned)nq : (unsigned)have;
		if (n < 1)
			n = 1;
		for (unsigned i = 0; i < n && i < RL_QUEUES_MAX; i++)
			a.queue[i] = i;
	}
	a.stop = signals_c_stop();
	rl_err_clear(&err);
	rc = eng->ops->workers(eng->e, &a, res, n, &err);
	if (rc < 0)
		return lab_raise(L, "workers", &err);
	lua_createtable(L, 0, 6);
	lua_pushstring(L, loops[a.loop]);
	lua_setfield(L, -2, "loop");
	lua_createtable(L, (int)n, 0);
	for (unsigned i = 0; i < n; i++) {
		double s = res[i].seconds > 0 ? res[i].seconds : 1e-9;

		lua_createtable(L, 0, 6);
		set_int(L, "queue", res[i].queue);
		set_int(L, "lcore", res[i].lcore);
		set_int(L, "packets", (lua_Integer)res[i].packets);
		set_int(L, "bytes", (lua_Integer)res[i].bytes);
		lua_pushnumber(L, res[i].seconds);
		lua_setfield(L, -2, "seconds");
		lua_pushnumber(L, (double)res[i].packets / s / 1e6);
		lua_setfield(L, -2, "mpps");
		lua_pushnumber(L, res[i].cpu_seconds);
		lua_setfield(L, -2, "cpu_seconds");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
		pk += res[i].packets;
		by += res[i].bytes;
		if (res[i].seconds > longest)
			longest = res[i].seconds;
	}
	lua_setfield(L, -2, "workers");
	set_int(L, "packets", (lua_Integer)pk);
	set_int(L, "bytes", (lua_Integer)by);
	lua_pushnumber(L, longest);
	lua_setfield(L, -2, "seconds");
	lua_pushnumber(L, longest > 0 ? (double)pk / longest / 1e6 : 0);
	lua_setfield(L, -2, "mpps");
	return 1;
}

const luaL_Reg lab_engine_view_methods[] = {
    {"workers", engine_workers},
    {"queues", engine_queues},
    {"queue", engine_queue},
    {"rings", engine_rings},
    {"owners", engine_owners},
    {"owner_map", engine_owner_map},
    {"refs_map", engine_refs_map},
    {"stats", engine_stats},
    {NULL, NULL},
};
