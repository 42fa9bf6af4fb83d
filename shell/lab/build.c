/*
 * lab/build.c - lab.packet.udp{}, lab.packet.tcp{}, lab.packet.icmp{},
 * lab.packet.arp{}: packets built inside a region, with every byte counted.
 *
 * Two ways, chosen by the payload:
 *
 *   a string (or none)  frames are taken from the pool; headers go at the
 *                       headroom of the first frame and the payload is
 *                       copied in after them (counted `copied`), spilling
 *                       into more frames as a CONTD chain when it does not
 *                       fit in one.
 *   a buffer (born)     the buffer came from r:alloc(), so its first frame
 *                       has headroom: the headers are written just in front
 *                       of its bytes and the descriptors point at the
 *                       buffer itself, split at frame boundaries (counted
 *                       `referenced`, nothing copied).
 *
 * Header bytes count as `headers`, payload read for the checksum as
 * `touched`, in the engine's ledger and the packet's own.
 */
#include <stdio.h>
#include <string.h>

#include "shell.h"

enum kind { UDP, ICMP, ARP, TCP };

struct build {
	const char *what;
	enum kind kind;
	uint32_t hdr;
	struct rl_flow flow;
	bool csum; /* false: UDP 0, TCP left to the NIC (RL_CSUM_PARTIAL) */
	struct rl_tcp tcp;
	uint8_t icmp_type;
	uint16_t icmp_id, icmp_seq;
	uint16_t arp_op;
};

static const char *const keys[4][24] = {
    {"src", "dst", "payload", "region", "engine", "src_mac", "dst_mac", "csum", "ttl",
     "id", NULL},
    {"src", "dst", "payload", "region", "engine", "src_mac", "dst_mac", "ttl", "id",
     "type", "icmp_id", "seq", NULL},
    {"src", "dst", "region", "engine", "src_mac", "dst_mac", "op", NULL},
    {"src", "dst", "payload", "region", "engine", "src_mac", "dst_mac", "csum", "ttl",
     "id", "seq", "ack", "flags", "window", "urg", "mss", "wscale", "sack_ok",
     "ts_val", "ts_ecr", NULL},
};

static void check_keys(lua_State *L, const struct build *b)
{
	for (lua_pushnil(L); lua_next(L, 1); lua_pop(L, 1)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
		int i;

		for (i = 0; keys[b->kind][i] && strcmp(keys[b->kind][i], k) != 0; i++)
			;
		if (!keys[b->kind][i]) {
			luaL_Buffer lb;

			luaL_buffinit(L, &lb);
			for (i = 0; keys[b->kind][i]; i++) {
				luaL_addstring(&lb, i ? ", " : "");
				luaL_addstring(&lb, keys[b->kind][i]);
			}
			luaL_pushresult(&lb);
			k = luaL_tolstring(L, -3, NULL); /* before the list is read */
			luaL_error(L, "%s: unknown field '%s' - use %s", b->what, k,
			           lua_tostring(L, -2));
		}
	}
}

static lua_Integer opt_int(lua_State *L, const struct build *b, const char *key,
                           lua_Integer def, lua_Integer max)
{
	return lab_field_int(L, 1, b->what, key, def, max);
}

static void parse_addr(lua_State *L, const struct build *b, const char *key,
                       const char *def, uint32_t *ip, uint16_t *port)
{
	lab_field_addr(L, 1, b->what, key, def, b->kind == UDP || b->kind == TCP, ip,
	               port);
}

static void parse_mac(lua_State *L, const struct build *b, const char *key,
                      const char *def, uint8_t mac[6])
{
	lab_field_mac(L, 1, b->what, key, def, mac);
}

/* dst= first: its errors come before any other. */
static void parse_dst(lua_State *L, struct build *b)
{
	memset(&b->flow, 0, sizeof(b->flow));
	parse_addr(L, b, "dst", NULL, &b->flow.dst_ip, &b->flow.dst_port);
}

/* The rest, once the engine (at eidx) is known: on a kernel interface the
 * addresses left out are the interface's own and the neighbour's
 * (lab/addr.c); elsewhere the lab's made-up ones. */
static void parse_fields(lua_State *L, struct build *b, int eidx)
{
	struct rl_flow *f = &b->flow;
	uint16_t port = b->kind == UDP ? 9000 : b->kind == TCP ? 40000 : 0;
	bool want_dst = !lab_field_has(L, 1, "dst_mac") &&
	                (b->kind != ARP || b->arp_op == 2);
	struct lab_wire w = {0};
	char src[32];

	if (want_dst || !lab_field_has(L, 1, "src") || !lab_field_has(L, 1, "src_mac"))
		lab_wire_addresses(L, eidx, b->what, f->dst_ip, want_dst, &w);
	snprintf(src, sizeof(src), port ? "%s:%u" : "%s",
	         w.src_ip[0] ? w.src_ip : "198.18.0.1", port);
	parse_addr(L, b, "src", src, &f->src_ip, &f->src_port);
	parse_mac(L, b, "src_mac", w.src_mac[0] ? w.src_mac : "02:00:00:00:00:01",
	          f->src_mac);
	parse_mac(L, b, "dst_mac",
	          w.dst_mac[0]     ? w.dst_mac
	          : b->kind == ARP ? "00:00:00:00:00:00"
	                           : "02:00:00:00:00:02",
	          f->dst_mac);
	f->ttl = lab_field_ttl(L, 1, b->what);
	f->ip_id = (uint16_t)opt_int(L, b, "id", 0, 65535);
	b->csum = lab_field_csum(L, 1, b->what);
}

static int write_headers(const struct build *b, uint8_t *h, const struct rl_iov *v,
                         unsigned n, uint64_t *touched, struct rl_err *err)
{
	switch (b->kind) {
	case UDP:
		return rl_build_udp(h, b->hdr, &b->flow, v, n, b->csum, touched, err);
	case TCP:
		return rl_build_tcp(h, b->hdr, &b->flow, &b->tcp, v, n,
		                    b->csum ? RL_CSUM_SOFTWARE : RL_CSUM_PARTIAL, touched,
		                    err);
	case ICMP:
		return rl_build_icmp_echo(h, b->hdr, &b->flow, b->icmp_type, b->icmp_id,
		                          b->icmp_seq, v, n, touched, err);
	default:
		return rl_build_arp(h, b->hdr, b->arp_op, b->flow.src_mac, b->flow.src_ip,
		                    b->flow.dst_mac, b->flow.dst_ip, err);
	}
}

static void counts(struct lab_engine *eng, struct lab_packet *p, const struct build *b,
                   enum rl_ledger_field how, uint64_t plen, uint64_t touched)
{
	/* a packet being built is one to send */
	p->csum_nic = !b->csum && (b->kind == TCP || b->kind == UDP);
	lab_count(eng, p, RL_LEDGER_HEADERS, b->hdr, RL_DIR_TX);
	if (plen)
		lab_count(eng, p, how, plen, RL_DIR_TX);
	if (touched)
		lab_count(eng, p, RL_LEDGER_TOUCHED, touched, RL_DIR_TX);
}

static void max_payload(lua_State *L, const struct build *b, uint64_t plen)
{
	uint64_t max = b->kind == ARP
	                   ? 0
	                   : 65535 - RL_IP4_HLEN - (b->hdr - RL_ETH_HLEN - RL_IP4_HLEN);

	if (plen > max)
		luaL_error(L,
		           "%s: a payload of %I bytes does not fit in one IPv4 packet "
		           "(at most %I) - send less, or split it",
		           b->what, (lua_Integer)plen, (lua_Integer)max);
}

/* Headers and payload copied into frames taken from the pool. */
static int build_copy(lua_State *L, const struct build *b, int eidx, const char *pl,
                      size_t plen)
{
	struct lab_engine *eng = lua_touserdata(L, eidx);
	struct rl_region *r = lab_engine_region(L, eng, b->what);
	int64_t cap1 = (int64_t)r->frame_size - r->headroom - b->hdr;
	uint32_t capn = r->frame_size - r->headroom, nseg = 1;
	struct lab_packet *p;
	struct rl_iov *v;
	uint64_t touched = 0;
	struct rl_err err;
	size_t off = 0;

	if (cap1 < 0)
		return luaL_error(
		    L,
		    "%s: %d-byte frames with %d bytes of headroom leave no room for %d "
		    "header bytes - make a region with less headroom",
		    b->what, (int)r->frame_size, (int)r->headroom, (int)b->hdr);
	if (plen > (uint64_t)cap1)
		nseg += (uint32_t)((plen - (uint64_t)cap1 + capn - 1) / capn);
	if (r->nfree < nseg)
		return luaL_error(L,
		                  "%s: the packet needs %d free frames, the region has "
		                  "%d - complete sent packets (e:complete()), release "
		                  "received ones, or make a bigger region",
		                  b->what, (int)nseg, (int)r->nfree);
	v = lua_newuserdatauv(L, nseg * sizeof(*v), 0);
	p = lab_new_packet(L, eidx, nseg);
	/* the allocations may have run a finalizer: the engine may be closed
	 * (its region freed) or the frames taken */
	r = lab_engine_region(L, lab_check_open(L, eng, b->what), b->what);
	if (r->nfree < nseg)
		return luaL_error(L, "%s: the packet needs %d free frames, the region has %d "
		                     "now - complete sent packets (e:complete()), release "
		                     "received ones, or make a bigger region",
		                  b->what, (int)nseg, (int)r->nfree);
	for (uint32_t i = 0; i < nseg; i++) {
		uint64_t frame, addr;
		size_t room = i == 0 ? (size_t)cap1 : capn,
		       take = plen - off < room ? plen - off : room;

		rl_region_take(r, &frame, NULL);
		p->seg[i].own = true;
		addr = frame + r->headroom + (i == 0 ? b->hdr : 0);
		memcpy(rl_region_ptr(r, addr), pl + off, take);
		v[i] = (struct rl_iov){rl_region_ptr(r, addr), take};
		p->seg[i].d = (struct rl_desc){frame + r->headroom,
		                               (uint32_t)(take + (i ? 0 : b->hdr)),
		                               i + 1 < nseg ? RL_DESC_CONTD : 0};
		p->len += p->seg[i].d.len;
		off += take;
	}
	rl_err_clear(&err);
	if (write_headers(b, rl_region_ptr(r, p->seg[0].d.addr), v, nseg, &touched,
	                  &err) < 0) {
		lab_packet_release_frames(p, r);
		return lab_raise(L, b->what, &err);
	}
	counts(eng, p, b, RL_LEDGER_COPIED, plen, touched);
	return 1;
}

/* Headers in the headroom in front of a born buffer; descriptors over it. */
static int build_born(lua_State *L, const struct build *b, int eidx, int bidx,
                      const struct lab_buffer *buf)
{
	struct lab_engine *eng = lua_touserdata(L, eidx);
	struct rl_region *r = lab_engine_region(L, eng, b->what);
	uint64_t start = buf->addr - b->hdr, end = buf->addr + buf->len, pos;
	uint32_t in_frame = (uint32_t)(buf->addr & (r->frame_size - 1)), first, nseg;
	struct rl_iov v = {rl_region_ptr(r, buf->addr), buf->len};
	struct lab_packet *p;
	uint64_t touched = 0;
	struct rl_err err;

	if (in_frame < b->hdr)
		return luaL_error(
		    L,
		    "%s: the buffer has %d bytes in front of it in its frame, the "
		    "headers need %d - make the region with headroom of at least %d",
		    b->what, (int)in_frame, (int)b->hdr, (int)b->hdr);
	rl_region_span_frames(r, start, end - start, &first, &nseg);
	/* the headers go into the first frame: not while a sent packet's
	 * descriptor still points there */
	lab_check_writable(L, b->what, r, start, b->hdr);
	rl_err_clear(&err);
	if (write_headers(b, rl_region_ptr(r, start), &v, 1, &touched, &err) < 0)
		return lab_raise(L, b->what, &err);
	p = lab_new_packet(L, eidx, nseg);
	/* the allocation may have run a finalizer: engine closed, buffer freed */
	r = lab_engine_region(L, lab_check_open(L, eng, b->what), b->what);
	if (buf->freed)
		return luaL_error(L, "%s: the payload buffer was freed - allocate a new one",
		                  b->what);
	lua_pushvalue(L, bidx);
	lua_setiuservalue(L, -2, 2);
	/* it points into the buffer's frames: b:free() waits for it */
	p->buf = (struct lab_buffer *)buf;
	p->buf->pkts++;
	pos = start;
	for (uint32_t i = 0; i < nseg; i++) {
		uint64_t fend = rl_region_frame_addr(r, first + i + 1);
		uint64_t stop = end < fend ? end : fend;

		p->seg[i].d = (struct rl_desc){pos, (uint32_t)(stop - pos),
		                               i + 1 < nseg ? RL_DESC_CONTD : 0};
		p->len += (uint32_t)(stop - pos);
		pos = stop;
	}
	counts(eng, p, b, RL_LEDGER_REFERENCED, buf->len, touched);
	return 1;
}

/* The engine for this build: the buffer's, or region='s. Pushed. */
static int build_engine(lua_State *L, const struct build *b, int bidx)
{
	int eidx = 0;

	if (bidx) {
		lab_handle_engine(L, bidx, b->what);
		eidx = lua_gettop(L);
	}
	if (lua_getfield(L, 1, "region") != LUA_TNIL) {
		if (!luaL_testudata(L, -1, LAB_REGION_MT))
			luaL_error(
			    L, "%s: region= must be a region from e:region{}, not a %s",
			    b->what, luaL_typename(L, -1));
		lab_handle_engine(L, lua_gettop(L), b->what);
		if (eidx && lua_touserdata(L, -1) != lua_touserdata(L, eidx))
			luaL_error(L,
			           "%s: the payload buffer lives in another engine's "
			           "region than region= - use one engine's region",
			           b->what);
		if (!eidx)
			eidx = lua_gettop(L);
	}
	if (lua_getfield(L, 1, "engine") != LUA_TNIL) {
		lab_check_engine(L, -1);
		if (eidx && lua_touserdata(L, -1) != lua_touserdata(L, eidx))
			luaL_error(L,
			           "%s: engine= is not the engine of the region (or the "
			           "payload buffer) - use one engine",
			           b->what);
		if (!eidx)
			eidx = lua_gettop(L);
	}
	if (!eidx) {
		lab_default_engine(L, b->what,
		                   "region=r or engine=e (at the prompt: use NAME)");
		eidx = lua_gettop(L);
	}
	lua_pushvalue(L, eidx);
	return lua_gettop(L);
}

static int build(lua_State *L, struct build *b)
{
	struct lab_buffer *buf = NULL;
	const char *pl = "";
	size_t plen = 0;
	int bidx = 0, eidx;

	luaL_checktype(L, 1, LUA_TTABLE);
	check_keys(L, b);
	parse_dst(L, b);
	lua_getfield(L, 1, "payload");
	bidx = lua_gettop(L);
	if (lua_type(L, bidx) == LUA_TSTRING) {
		pl = lua_tolstring(L, bidx, &plen);
	} else if ((buf = lab_test_buffer(L, bidx)) != NULL) {
		if (buf->freed)
			return luaL_error(
			    L, "%s: the payload buffer was freed - allocate a new one",
			    b->what);
		plen = buf->len;
	} else if (!lua_isnil(L, bidx)) {
		return luaL_error(
		    L,
		    "%s: payload= must be a string or a buffer from r:alloc(), not a %s",
		    b->what, luaL_typename(L, bidx));
	}
	max_payload(L, b, plen);
	eidx = build_engine(L, b, buf ? bidx : 0);
	parse_fields(L, b, eidx); /* may run Lua (neighbour resolution) */
	if (buf && buf->freed)
		return luaL_error(
		    L, "%s: the payload buffer was freed - allocate a new one", b->what);
	lab_check_open(L, lua_touserdata(L, eidx), b->what);
	if (buf)
		return build_born(L, b, eidx, bidx, buf);
	return build_copy(L, b, eidx, pl, plen);
}

static int packet_udp(lua_State *L)
{
	struct build b = {.what = "udp", .kind = UDP, .hdr = RL_UDP_HDRS};

	return build(L, &b);
}

static int packet_tcp(lua_State *L)
{
	struct build b = {.what = "tcp", .kind = TCP};

	luaL_checktype(L, 1, LUA_TTABLE);
	lab_field_tcp(L, 1, b.what, RL_TCP_ACK, "mss", &b.tcp);
	b.hdr = rl_tcp_hdrs_len(&b.tcp);
	return build(L, &b);
}

static int packet_icmp(lua_State *L)
{
	struct build b = {.what = "icmp",
	                  .kind = ICMP,
	                  .hdr = RL_ETH_HLEN + RL_IP4_HLEN + RL_ICMP_HLEN};
	const char *type;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_getfield(L, 1, "type");
	if (lua_type(L, -1) == LUA_TNUMBER) { /* the echo's numbers: 8 request, 0 reply */
		lua_Integer t = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;

		if (t != 8 && t != 0)
			return luaL_error(L,
			                  "icmp: type=%s is not an echo - lab.packet.icmp builds "
			                  "echoes: type=\"request\" (8) or \"reply\" (0)",
			                  luaL_tolstring(L, -1, NULL));
		type = t == 8 ? "request" : "reply";
	} else {
		type = luaL_optstring(L, -1, "request");
	}
	if (strcmp(type, "request") != 0 && strcmp(type, "reply") != 0)
		return luaL_error(L,
		                  "icmp: type=%s is not an echo - lab.packet.icmp builds "
		                  "echoes: type=\"request\" (8) or \"reply\" (0)",
		                  type);
	b.icmp_type = strcmp(type, "request") == 0 ? 8 : 0;
	lua_pop(L, 1);
	b.icmp_id = (uint16_t)opt_int(L, &b, "icmp_id", 1, 65535);
	b.icmp_seq = (uint16_t)opt_int(L, &b, "seq", 1, 65535);
	return build(L, &b);
}

static int packet_arp(lua_State *L)
{
	struct build b = {.what = "arp", .kind = ARP, .hdr = RL_ETH_HLEN + RL_ARP_LEN};
	const char *op;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_getfield(L, 1, "op");
	op = luaL_optstring(L, -1, "request");
	if (strcmp(op, "request") != 0 && strcmp(op, "reply") != 0)
		return luaL_error(
		    L, "arp: op=%s is not understood - use op=\"request\" or \"reply\"",
		    op);
	b.arp_op = strcmp(op, "request") == 0 ? 1 : 2;
	lua_pop(L, 1);
	return build(L, &b);
}

static const luaL_Reg packet_builders[] = {
    {"udp", packet_udp},
    {"tcp", packet_tcp},
    {"icmp", packet_icmp},
    {"arp", packet_arp},
    {NULL, NULL},
};

void lab_build_register(lua_State *L)
{
	lua_newtable(L);
	lab_setfuncs(L, packet_builders);
	lua_setfield(L, -2, "packet");
}
