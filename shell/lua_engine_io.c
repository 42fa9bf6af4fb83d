/*
 * lua_engine_io.c - moving frames: e:fill, e:rx, e:tx, e:complete, e:kick,
 * e:step.
 *
 * Each call checks its arguments, calls the engine's op and turns a failure
 * into "what: what was wrong - what to do". Packets are userdata (see
 * lua_packet.c): e:rx() wraps each received chain of descriptors in a new
 * packet that holds its frames; e:tx() hands the frames of whole packets to
 * the engine and marks exactly the queued ones as sent, so a partial or
 * failed tx leaves the rest with the program.
 */
#include <errno.h>
#include <string.h>

#include "shell.h"

static bool find_view(struct lab_engine *eng, const char *name, struct rl_ring_view *out)
{
	struct rl_ring_view v[RL_RING_VIEWS_MAX];
	int n = eng->ops->rings ? eng->ops->rings(eng->e, v, RL_RING_VIEWS_MAX) : 0;

	for (int i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) == 0) {
			*out = v[i];
			return true;
		}
	}
	return false;
}

static void need_op(lua_State *L, const void *op, const char *what)
{
	if (!op)
		luaL_error(L, "%s: this engine cannot %s", what, what);
}

static uint32_t check_count(lua_State *L, int idx, const char *what, uint32_t def)
{
	lua_Integer n;
	int ok;

	if (lua_isnoneornil(L, idx))
		return def;
	n = lua_tointegerx(L, idx, &ok);
	if (!ok)
		luaL_error(L, "%s: give a number of frames, not a %s - e.g. e:%s(64)",
		           what, luaL_typename(L, idx), what);
	if (n < 0 || n > (lua_Integer)RL_REGION_MAX_FRAMES)
		luaL_error(L, "%s: %I is not a count of frames - give 0 .. %d", what, n,
		           (int)RL_REGION_MAX_FRAMES);
	return (uint32_t)n;
}

static int engine_fill(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_region *r = lab_engine_region(L, eng, "fill");
	struct rl_ring_view fill;
	struct rl_err err;
	uint32_t n, room = r->nfree;
	int ret;

	need_op(L, (const void *)eng->ops->fill, "fill");
	if (find_view(eng, "fill", &fill) && fill.size - fill.pending < room)
		room = fill.size - fill.pending;
	n = check_count(L, 2, "fill", room);
	rl_err_clear(&err);
	ret = eng->ops->fill(eng->e, n, &err);
	if (ret < 0)
		return lab_raise(L, "fill", &err);
	lua_pushinteger(L, ret);
	return 1;
}

/* Wrap descriptors d[0..n) (whole packets) into packet handles, in a table. */
static void push_received(lua_State *L, const struct rl_desc *d, int n)
{
	int i = 0, k = 0;

	lua_createtable(L, n, 0);
	while (i < n) {
		int j = i;
		struct lab_packet *p;

		while (j < n - 1 && (d[j].options & RL_DESC_CONTD))
			j++;
		p = lab_new_packet(L, 1, (unsigned)(j - i + 1));
		p->received = true;
		for (int s = i; s <= j; s++) {
			p->seg[s - i].d = d[s];
			p->seg[s - i].own = true;
			p->len += d[s].len;
		}
		lua_rawseti(L, -2, ++k);
		i = j + 1;
	}
}

static int engine_rx(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	uint32_t max = check_count(L, 2, "rx", 64);
	struct rl_desc *d;
	struct rl_err err;
	int n;

	lab_engine_region(L, eng, "rx");
	need_op(L, (const void *)eng->ops->rx, "rx");
	d = lua_newuserdatauv(L, (max ? max : 1) * sizeof(*d), 0);
	rl_err_clear(&err);
	n = max ? eng->ops->rx(eng->e, d, max, &err) : 0;
	if (n < 0)
		return lab_raise(L, "rx", &err);
	lab_pcap_write(eng, d, (uint32_t)n);
	push_received(L, d, n);
	return 1;
}

/* The packets to send, at the top of the stack as a list; returns count. */
static int tx_list(lua_State *L)
{
	if (luaL_testudata(L, 2, LAB_PACKET_MT)) {
		lua_createtable(L, 1, 0);
		lua_pushvalue(L, 2);
		lua_rawseti(L, -2, 1);
	} else {
		lua_pushvalue(L, 2);
	}
	return (int)luaL_len(L, -1);
}

static struct lab_packet *tx_item(lua_State *L, struct lab_engine *eng, int list, int i,
                                  int seen)
{
	struct lab_packet *p;

	lua_geti(L, list, i);
	p = luaL_testudata(L, -1, LAB_PACKET_MT);
	if (!p)
		luaL_error(L,
		           "tx: item %d is a %s, not a packet - give a packet or a list "
		           "of packets",
		           i, luaL_typename(L, -1));
	if (p->state == PKT_SENT)
		luaL_error(L, "tx: this packet was already sent - build a new one");
	if (p->state == PKT_RELEASED)
		luaL_error(L,
		           "tx: this packet was released - build or receive a new one");
	if (p->state == PKT_CONSUMED)
		luaL_error(L, "tx: this packet was given to a reader - build a new one");
	lua_getiuservalue(L, -1, 1);
	if (lua_touserdata(L, -1) != (void *)eng)
		luaL_error(L,
		           "tx: packet %d lives in another engine's region - build it in "
		           "this engine's region",
		           i);
	lua_pop(L, 1);
	if (lua_rawget(L, seen) == LUA_TNIL) {
		lua_pop(L, 1);
	} else {
		luaL_error(L, "tx: the same packet is in the list twice - build one "
		              "packet per send");
	}
	lua_geti(L, list, i);
	lua_pushboolean(L, 1);
	lua_rawset(L, seen);
	return p;
}

static int engine_tx(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct lab_packet **pk;
	struct rl_desc *d;
	struct rl_err err;
	int n, list, seen, nd = 0, ret, sent = 0;

	lab_engine_region(L, eng, "tx");
	need_op(L, (const void *)eng->ops->tx, "tx");
	if (!luaL_testudata(L, 2, LAB_PACKET_MT) && !lua_istable(L, 2))
		return luaL_error(L, "tx: give a packet or a list of packets, not a %s",
		                  luaL_typename(L, 2));
	n = tx_list(L);
	list = lua_gettop(L);
	lua_newtable(L);
	seen = lua_gettop(L);
	pk = lua_newuserdatauv(L, (n ? n : 1) * sizeof(*pk), 0);
	for (int i = 0; i < n; i++) {
		pk[i] = tx_item(L, eng, list, i + 1, seen);
		nd += (int)pk[i]->nseg;
	}
	if (n == 0) {
		lua_pushinteger(L, 0);
		return 1;
	}
	d = lua_newuserdatauv(L, nd * sizeof(*d), 0);
	nd = 0;
	for (int i = 0; i < n; i++)
		for (unsigned s = 0; s < pk[i]->nseg; s++)
			d[nd++] = pk[i]->seg[s].d;
	rl_err_clear(&err);
	ret = eng->ops->tx(eng->e, d, (uint32_t)nd, &err);
	if (ret < 0)
		return lab_raise(L, "tx", &err);
	lab_pcap_write(eng, d, (uint32_t)ret);
	for (int i = 0; i < n && ret >= (int)pk[i]->nseg; i++) {
		ret -= (int)pk[i]->nseg;
		pk[i]->state = PKT_SENT;
		sent++;
	}
	lua_pushinteger(L, sent);
	return 1;
}

static int engine_complete(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	uint32_t max;
	struct rl_err err;
	int ret;

	lab_engine_region(L, eng, "complete");
	need_op(L, (const void *)eng->ops->complete, "complete");
	max = check_count(L, 2, "complete", RL_REGION_MAX_FRAMES);
	rl_err_clear(&err);
	ret = eng->ops->complete(eng->e, NULL, max, &err);
	if (ret < 0)
		return lab_raise(L, "complete", &err);
	lua_pushinteger(L, ret);
	return 1;
}

static int engine_kick(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_err err;
	int ret;

	need_op(L, (const void *)eng->ops->kick, "kick");
	rl_err_clear(&err);
	ret = eng->ops->kick(eng->e, &err);
	if (ret < 0)
		return lab_raise(L, "kick", &err);
	lua_pushinteger(L, ret);
	return 1;
}

static const char *step_kind(enum rl_step_kind k)
{
	switch (k) {
	case RL_STEP_TX:
		return "tx";
	case RL_STEP_COMPLETE:
		return "complete";
	case RL_STEP_RX:
		return "rx";
	case RL_STEP_DROP:
		return "drop";
	default:
		return "idle";
	}
}

static int engine_step(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	struct rl_step s;
	struct rl_err err;

	if (!eng->ops->step)
		return luaL_error(
		    L, "step: this engine cannot step - the sim engine shows single "
		       "hardware actions (lab.open(\"sim\", {step=true}))");
	memset(&s, 0, sizeof(s));
	rl_err_clear(&err);
	if (eng->ops->step(eng->e, &s, &err) < 0)
		return lab_raise(L, "step", &err);
	lua_newtable(L);
	lua_pushstring(L, step_kind(s.kind));
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, s.from);
	lua_setfield(L, -2, "from");
	lua_pushstring(L, s.to);
	lua_setfield(L, -2, "to");
	lua_pushinteger(L, (lua_Integer)s.addr);
	lua_setfield(L, -2, "addr");
	lua_pushinteger(L, s.frame);
	lua_setfield(L, -2, "frame");
	lua_pushinteger(L, s.len);
	lua_setfield(L, -2, "len");
	lua_pushinteger(L, s.frags);
	lua_setfield(L, -2, "frags");
	lua_pushstring(L, s.what);
	lua_setfield(L, -2, "what");
	return 1;
}

const luaL_Reg lab_engine_io_methods[] = {
    {"fill", engine_fill}, {"rx", engine_rx},
    {"tx", engine_tx},     {"complete", engine_complete},
    {"kick", engine_kick}, {"step", engine_step},
    {NULL, NULL},
};
