/*
 * lab/packet.c - the packet handle: a chain of descriptors in one engine's
 * region, built by lab.packet.* (lab/build.c) or received by e:rx().
 *
 * A packet is held (its frames are the program's), sent (e:tx() queued it:
 * the frames belong to the engine now) or released. Segments marked `own`
 * are frames the packet took or received; they go back to the pool on
 * pkt:release() or garbage collection. Segments over a buffer's bytes
 * (born payloads) belong to the buffer, which uservalue 2 keeps alive;
 * until the packet is sent, released or collected it counts in the
 * buffer's pkts, and b:free() is refused (lab/region.c).
 * Uservalue 1 is the engine: after e:close() every method raises and the
 * collector leaves the (already freed) region alone.
 *
 * pkt:hexdump() is the packet as offsets, hex and ASCII, 16 bytes a row
 * (79 columns), each header on rows of its own with its name (eth, arp,
 * ipv4, udp, tcp, icmp, payload, pad), and a line per descriptor with its
 * frame and address; rows the same as the one before are one "*" (as
 * hexdump -C). It reads the bytes where they lie: counted touched
 * (the length, plus the payload once more where a checksum is checked, as
 * pkt:dissect() counts), nothing copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

void lab_count(struct lab_engine *eng, struct lab_packet *p, enum rl_ledger_field f,
               uint64_t n, enum rl_dir dir)
{
	struct rl_ledger *l = lab_engine_ledger(eng);

	if (l)
		rl_ledger_count(l, f, n, dir);
	if (p)
		rl_ledger_count(&p->ledger, f, n, dir);
}

struct lab_packet *lab_new_packet(lua_State *L, int engine_idx, unsigned nseg)
{
	struct lab_packet *p;
	size_t size = sizeof(*p) + nseg * sizeof(p->seg[0]);

	engine_idx = lua_absindex(L, engine_idx);
	p = lua_newuserdatauv(L, size, 2);
	memset(p, 0, size);
	p->state = PKT_HELD;
	p->nseg = nseg;
	lua_pushvalue(L, engine_idx);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, LAB_PACKET_MT);
	return p;
}

struct lab_packet *lab_check_packet(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, LAB_PACKET_MT);
}

void lab_packet_drop_buffer(struct lab_packet *p, struct rl_region *r)
{
	if (p->buf)
		lab_buffer_unref(p->buf, r, false);
	p->buf = NULL;
}

void lab_packet_release_frames(struct lab_packet *p, struct rl_region *r)
{
	for (unsigned i = 0; r && i < p->nseg; i++)
		if (p->seg[i].own)
			rl_region_release(r, rl_region_frame(r, p->seg[i].d.addr), NULL);
	lab_packet_drop_buffer(p, r);
	p->state = PKT_RELEASED;
}

/* A held packet whose bytes may be read: its engine and region. Called
 * again after an allocation (a finalizer may close the engine or release
 * the packet meanwhile). */
static struct lab_packet *held(lua_State *L, const char *what, struct lab_engine **eng,
                               struct rl_region **r)
{
	struct lab_packet *p = lab_check_packet(L, 1);

	*eng = lab_handle_engine(L, 1, what);
	lua_pop(L, 1);
	*r = lab_engine_region(L, *eng, what);
	if (p->state == PKT_SENT)
		luaL_error(L,
		           "%s: this packet was already sent - its frames belong to the "
		           "engine now; build a new one",
		           what);
	if (p->state == PKT_RELEASED)
		luaL_error(L, "%s: this packet was released - build or receive a new one",
		           what);
	if (p->state == PKT_CONSUMED)
		luaL_error(L,
		           "%s: this packet was given to a reader (rd:push) - read its "
		           "bytes there",
		           what);
	return p;
}

/* The packet at 1 as pieces for the dissector; the region is taken after
 * the allocation (held() again). */
static struct rl_iov *pieces(lua_State *L, const struct lab_packet *p, const char *what)
{
	struct rl_iov *v = lua_newuserdatauv(L, (p->nseg ? p->nseg : 1) * sizeof(*v), 0);
	struct lab_engine *eng;
	struct rl_region *r;

	held(L, what, &eng, &r);
	for (unsigned i = 0; i < p->nseg; i++) {
		v[i].base = rl_region_ptr(r, p->seg[i].d.addr);
		v[i].len = p->seg[i].d.len;
	}
	return v;
}

/* Bytes off..off+len of the packet, as a new string (a copy, counted). The
 * room is made first: nothing allocates while region bytes are copied. */
static void push_range(lua_State *L, struct lab_packet *p, uint32_t off, uint32_t len,
                       const char *what)
{
	luaL_Buffer b;
	uint32_t pos = 0, want = len;
	char *out = luaL_buffinitsize(L, &b, len);
	struct lab_engine *eng;
	struct rl_region *r;

	held(L, what, &eng, &r); /* the allocation may have run Lua */
	for (unsigned i = 0; i < p->nseg && len; i++) {
		uint32_t sl = p->seg[i].d.len, skip, take;

		if (off >= pos + sl) {
			pos += sl;
			continue;
		}
		skip = off > pos ? off - pos : 0;
		take = sl - skip < len ? sl - skip : len;
		memcpy(out + (want - len), rl_region_ptr(r, p->seg[i].d.addr + skip), take);
		off += take;
		len -= take;
		pos += sl;
	}
	luaL_pushresultsize(&b, want - len);
	/* a received packet's bytes read out: a copy on the receive path */
	lab_count(eng, p, RL_LEDGER_COPIED, lua_rawlen(L, -1), lab_dir(p));
}

static int packet_len(lua_State *L)
{
	lua_pushinteger(L, lab_check_packet(L, 1)->len);
	return 1;
}

static int packet_segments(lua_State *L)
{
	struct lab_packet *p = lab_check_packet(L, 1);
	struct lab_engine *eng = lab_handle_engine(L, 1, "segments");
	struct rl_region *r = lab_engine_region(L, eng, "segments");

	lua_createtable(L, (int)p->nseg, 0);
	for (unsigned i = 0; i < p->nseg; i++) {
		lua_createtable(L, 0, 4);
		/* the allocations may have run a finalizer that closed it */
		r = lab_engine_region(L, lab_check_open(L, eng, "segments"), "segments");
		lua_pushinteger(L, (lua_Integer)p->seg[i].d.addr);
		lua_setfield(L, -2, "addr");
		lua_pushinteger(L, p->seg[i].d.len);
		lua_setfield(L, -2, "len");
		lua_pushinteger(L, rl_region_frame(r, p->seg[i].d.addr));
		lua_setfield(L, -2, "frame");
		lua_pushboolean(L, (p->seg[i].d.options & RL_DESC_CONTD) != 0);
		lua_setfield(L, -2, "contd");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int packet_dissect(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_packet *p = held(L, "dissect", &eng, &r);
	struct rl_dissect d;

	(void)r;
	rl_dissect(pieces(L, p, "dissect"), p->nseg, &d);
	if ((d.layers & (RL_L_ICMP | RL_L_TCP)) || ((d.layers & RL_L_UDP) && d.udp_csum))
		lab_count(eng, p, RL_LEDGER_TOUCHED, d.payload_len, lab_dir(p));
	lab_push_dissect(L, &d, p->nseg);
	return 1;
}

static int packet_payload(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_packet *p = held(L, "payload", &eng, &r);
	struct rl_dissect d;

	(void)r;
	(void)eng;
	rl_dissect(pieces(L, p, "payload"), p->nseg, &d);
	push_range(L, p, d.payload_off, d.payload_len, "payload");
	return 1;
}

/* Does the payload equal s? Compared where it lies: touched, not copied. */
static int packet_payload_equals(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	size_t slen, pos = 0, at = 0;
	const char *s = luaL_checklstring(L, 2, &slen); /* may allocate: first */
	struct lab_packet *p = held(L, "payload_equals", &eng, &r);
	struct rl_dissect d;
	bool eq;

	rl_dissect(pieces(L, p, "payload_equals"), p->nseg, &d);
	eq = d.payload_len == slen;
	for (unsigned i = 0; eq && i < p->nseg && at < slen; i++) {
		size_t sl = p->seg[i].d.len, skip, take;

		if (d.payload_off >= pos + sl) {
			pos += sl;
			continue;
		}
		skip = d.payload_off + at > pos ? d.payload_off + at - pos : 0;
		take = sl - skip < slen - at ? sl - skip : slen - at;
		eq = memcmp(rl_region_ptr(r, p->seg[i].d.addr + skip), s + at, take) == 0;
		at += take;
		pos += sl;
	}
	lab_count(eng, p, RL_LEDGER_TOUCHED, at, lab_dir(p));
	lua_pushboolean(L, eq);
	return 1;
}

static int packet_bytes(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_packet *p = held(L, "bytes", &eng, &r);

	(void)eng;
	(void)r;
	push_range(L, p, 0, p->len, "bytes");
	return 1;
}

/* ---- hexdump ---------------------------------------------------------------- */

struct mark {
	uint32_t off;
	const char *name;
};

/* Where each header starts, from the dissection; n marks, in order. */
static int header_marks(const struct rl_dissect *d, uint32_t len, struct mark m[7])
{
	int n = 0;
	uint32_t l4 = RL_ETH_HLEN + d->ihl * 4u, end = d->payload_off + d->payload_len;

	m[n++] = (struct mark){0, "eth"};
	if (d->layers & RL_L_ARP)
		m[n++] = (struct mark){RL_ETH_HLEN, "arp"};
	if (d->layers & RL_L_IP4)
		m[n++] = (struct mark){RL_ETH_HLEN, "ipv4"};
	if ((d->layers & RL_L_IP4) && (d->layers & (RL_L_UDP | RL_L_TCP | RL_L_ICMP)))
		m[n++] = (struct mark){l4, d->layers & RL_L_UDP   ? "udp"
		                           : d->layers & RL_L_TCP ? "tcp"
		                                                  : "icmp"};
	if (!(d->layers & RL_L_ETH))
		return 0; /* shorter than an Ethernet header: no marks */
	if (d->payload_len && d->payload_off > m[n - 1].off)
		m[n++] = (struct mark){d->payload_off, "payload"};
	if (end < len && end > m[n - 1].off)
		m[n++] = (struct mark){end, "pad"};
	return n;
}

/* The text is built in C memory: nothing allocates from Lua (so no
 * finalizer can run and close the engine) while region bytes are read. */
struct text {
	char *buf;
	size_t len, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->len + n > t->cap)
		n = t->cap - t->len; /* cannot happen: cap is an upper bound */
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

static void hex_row(struct text *t, const char *label, uint32_t off, int offw,
                    const uint8_t *bytes, unsigned n)
{
	char line[96], *p = line;

	p += sprintf(p, "%-8s%0*x%s", label, offw, off, offw > 4 ? " " : "  ");
	for (unsigned i = 0; i < 16; i++)
		p += i < n ? sprintf(p, i < 15 ? "%02x " : "%02x", bytes[i])
		           : sprintf(p, i < 15 ? "   " : "  ");
	p += sprintf(p, "  ");
	for (unsigned i = 0; i < n; i++)
		*p++ = bytes[i] >= 0x20 && bytes[i] < 0x7f ? (char)bytes[i] : '.';
	while (p > line && p[-1] == ' ')
		p--;
	*p++ = '\n';
	put(t, line, (size_t)(p - line));
}

static int packet_hexdump(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_packet *p = held(L, "hexdump", &eng, &r);
	struct rl_dissect d;
	struct rl_iov *v;
	struct mark m[7];
	char line[400];
	int nm, mi = 0, offw;
	uint32_t off = 0;
	const uint8_t *prev;
	bool starred = false;
	struct text t = {0};

	/* rows: one per 16 bytes, plus one per header or descriptor that cuts
	 * a row short; each at most 82 bytes; a line per descriptor; the top */
	t.cap = ((size_t)p->len / 16 + 8 + 2 * (size_t)p->nseg) * 82 +
	        (size_t)p->nseg * 120 + 2 * sizeof(line);
	t.buf = malloc(t.cap);
	v = calloc(p->nseg ? p->nseg : 1, sizeof(*v));
	if (!t.buf || !v) {
		free(t.buf);
		free(v);
		return luaL_error(L, "hexdump: out of memory for %d bytes of text", (int)t.cap);
	}
	for (unsigned i = 0; i < p->nseg; i++) {
		v[i].base = rl_region_ptr(r, p->seg[i].d.addr);
		v[i].len = p->seg[i].d.len;
	}
	rl_dissect(v, p->nseg, &d);
	free(v);
	nm = header_marks(&d, p->len, m);
	offw = p->len > 0x10000 ? 5 : 4;
	lab_packet_summary(&d, p->len, p->nseg, line, sizeof(line));
	put(&t, line, strlen(line));
	if (d.problem[0]) {
		snprintf(line, sizeof(line), "\nproblem: %s", d.problem);
		put(&t, line, strlen(line));
	}
	for (unsigned i = 0; i < p->nseg; i++) {
		uint64_t addr = p->seg[i].d.addr;
		uint32_t frame = rl_region_frame(r, addr), sl = p->seg[i].d.len, at = 0;
		const uint8_t *base = rl_region_ptr(r, addr);

		snprintf(line, sizeof(line),
		         "\n-- descriptor %u of %u: frame %u, addr 0x%llx (+%llu in the "
		         "frame), %u bytes\n",
		         i + 1, p->nseg, frame, (unsigned long long)addr,
		         (unsigned long long)(addr - (uint64_t)frame * r->frame_size), sl);
		put(&t, line, strlen(line));
		prev = NULL;
		while (at < sl) {
			const char *label = "";
			uint32_t n = sl - at < 16 ? sl - at : 16;

			while (mi < nm && m[mi].off <= off + at)
				label = m[mi++].name;
			if (mi < nm && m[mi].off < off + at + n)
				n = m[mi].off - (off + at); /* the next header starts a row */
			if (n == 16 && !*label && prev && !memcmp(prev, base + at, 16)) {
				if (!starred) /* as hexdump -C: "*" for rows like the last */
					put(&t, "        *\n", 10);
				starred = true;
			} else {
				hex_row(&t, label, off + at, offw, base + at, n);
				starred = false;
			}
			prev = n == 16 ? base + at : NULL;
			at += n;
		}
		if (t.len && t.buf[t.len - 1] == '\n')
			t.len--; /* the next descriptor line starts with its own */
		off += sl;
	}
	/* counted before Lua allocates again (the engine may close then) */
	lab_count(eng, p, RL_LEDGER_TOUCHED, p->len, lab_dir(p));
	if ((d.layers & (RL_L_ICMP | RL_L_TCP)) || ((d.layers & RL_L_UDP) && d.udp_csum))
		lab_count(eng, p, RL_LEDGER_TOUCHED, d.payload_len, lab_dir(p));
	lua_pushlstring(L, t.buf, t.len);
	free(t.buf);
	return 1;
}

static int packet_release(lua_State *L)
{
	struct lab_engine *eng;
	struct rl_region *r;
	struct lab_packet *p = held(L, "release", &eng, &r);

	lab_packet_release_frames(p, r);
	return 0;
}

/* Collector and <close>: give back frames of a held packet, if the engine
 * is still open, and let go of its buffer in any case; never raise. */
static int packet_gc(lua_State *L)
{
	struct lab_packet *p = lab_check_packet(L, 1);

	if (p->state == PKT_HELD)
		lab_packet_release_frames(p, lab_handle_region_if_open(L, 1));
	return 0;
}

static int packet_ledger(lua_State *L)
{
	lab_push_ledger(L, &lab_check_packet(L, 1)->ledger);
	return 1;
}

static int packet_state(lua_State *L)
{
	static const char *const names[] = {"held", "sent", "released", "consumed"};

	lua_pushstring(L, names[lab_check_packet(L, 1)->state]);
	return 1;
}

static int packet_tostring(lua_State *L)
{
	static const char *const names[] = {"held", "sent", "released", "consumed"};
	struct lab_packet *p = lab_check_packet(L, 1);
	struct rl_iov *v = lua_newuserdatauv(L, (p->nseg ? p->nseg : 1) * sizeof(*v), 0);
	struct rl_region *r = lab_handle_region_if_open(L, 1); /* after: see pieces() */
	struct rl_dissect d;
	char line[200];

	if (p->state != PKT_HELD || !r) {
		lua_pushfstring(L, "packet len %d (%d segment%s, %s)", (int)p->len,
		                (int)p->nseg, p->nseg == 1 ? "" : "s",
		                r ? names[p->state] : "engine closed");
		return 1;
	}
	for (unsigned i = 0; i < p->nseg; i++)
		v[i] = (struct rl_iov){rl_region_ptr(r, p->seg[i].d.addr), p->seg[i].d.len};
	rl_dissect(v, p->nseg, &d);
	lab_packet_summary(&d, p->len, p->nseg, line, sizeof(line));
	lua_pushstring(L, line);
	return 1;
}

static const luaL_Reg packet_methods[] = {
    {"len", packet_len},
    {"segments", packet_segments},
    {"dissect", packet_dissect},
    {"payload", packet_payload},
    {"payload_equals", packet_payload_equals},
    {"bytes", packet_bytes},
    {"hexdump", packet_hexdump},
    {"release", packet_release},
    {"ledger", packet_ledger},
    {"state", packet_state},
    {NULL, NULL},
};

void lab_packet_register(lua_State *L)
{
	lab_handle_mt(L, LAB_PACKET_MT, packet_methods, packet_gc, packet_len, packet_tostring);
}
