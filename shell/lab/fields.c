/*
 * lab/fields.c - reading the fields of an options table, shared by the
 * builders (lab.packet.*) and lab.segment().
 *
 * Each helper reads one key of the table at index t and raises
 * "what: key=value is wrong - what to give" when it does not fit: whole
 * numbers in a range, "ip[:port]" addresses, MACs, csum= and the TCP
 * header fields (flags as letters F S R P A U E C or a number, options).
 */
#include <string.h>

#include "shell.h"

lua_Integer lab_field_int(lua_State *L, int t, const char *what, const char *key,
                          lua_Integer def, lua_Integer max)
{
	lua_Integer v;
	int ok;

	if (lua_getfield(L, t, key) == LUA_TNIL) {
		lua_pop(L, 1);
		return def;
	}
	v = lua_tointegerx(L, -1, &ok);
	if (!ok || v < 0 || v > max)
		luaL_error(L, "%s: %s= must be a whole number 0 .. %I, not %s", what, key,
		           max, luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	return v;
}

/* ttl=: 1 .. 255, 64 when left out. 0 is refused, as Linux's IP_TTL
 * refuses it (the core writes 64 for a flow's ttl of 0, so taking 0 would
 * send 64 silently). */
uint8_t lab_field_ttl(lua_State *L, int t, const char *what)
{
	lua_Integer v;
	int ok;

	if (lua_getfield(L, t, "ttl") == LUA_TNIL) {
		lua_pop(L, 1);
		return 64;
	}
	v = lua_tointegerx(L, -1, &ok);
	if (!ok || v < 1 || v > 255)
		luaL_error(L,
		           "%s: ttl= must be a whole number 1 .. 255, not %s - leave it out "
		           "for 64",
		           what, luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	return (uint8_t)v;
}

bool lab_field_has(lua_State *L, int t, const char *key)
{
	bool has = lua_getfield(L, t, key) != LUA_TNIL;

	lua_pop(L, 1);
	return has;
}

/* The string at key, or def; it stays valid while the table holds it. */
const char *lab_field_str(lua_State *L, int t, const char *what, const char *key,
                          const char *def)
{
	const char *s;

	if (lua_getfield(L, t, key) == LUA_TNIL) {
		lua_pop(L, 1);
		return def;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "%s: %s= must be a string, not a %s", what, key,
		           luaL_typename(L, -1));
	s = lua_tostring(L, -1);
	lua_pop(L, 1);
	return s;
}

void lab_field_addr(lua_State *L, int t, const char *what, const char *key,
                    const char *def, bool need_port, uint32_t *ip, uint16_t *port)
{
	const char *s = lab_field_str(L, t, what, key, def);
	struct rl_err err;

	if (!s)
		luaL_error(L, "%s: %s= is missing - e.g. %s=\"198.18.0.2%s\"", what, key,
		           key, need_port ? ":8080" : "");
	rl_err_clear(&err);
	if (rl_parse_ip4(s, ip, port, need_port, &err) < 0)
		luaL_error(L, "%s: %s=%s: %s", what, key, s, err.msg);
}

void lab_field_mac(lua_State *L, int t, const char *what, const char *key,
                   const char *def, uint8_t mac[6])
{
	const char *s = lab_field_str(L, t, what, key, def);
	struct rl_err err;

	rl_err_clear(&err);
	if (rl_parse_mac(s, mac, &err) < 0)
		luaL_error(L, "%s: %s=%s: %s", what, key, s, err.msg);
}

/* csum= true / "software" (the default) or false / "offload". */
bool lab_field_csum(lua_State *L, int t, const char *what)
{
	bool sw = true;

	lua_getfield(L, t, "csum");
	if (lua_type(L, -1) == LUA_TSTRING) {
		const char *s = lua_tostring(L, -1);

		if (strcmp(s, "offload") != 0 && strcmp(s, "software") != 0)
			luaL_error(L,
			           "%s: csum=%s is not understood - use \"software\" "
			           "(or true) or \"offload\" (or false)",
			           what, s);
		sw = strcmp(s, "software") == 0;
	} else if (!lua_isnil(L, -1)) {
		sw = lua_toboolean(L, -1);
	}
	lua_pop(L, 1);
	return sw;
}

/* "SA", "PA", "FA", ... or a number 0 .. 255. */
static uint8_t tcp_flags(lua_State *L, int t, const char *what, uint8_t def)
{
	static const char letters[] = "FSRPAUEC";
	const char *s;
	uint8_t f = 0;

	if (lua_getfield(L, t, "flags") == LUA_TNIL) {
		lua_pop(L, 1);
		return def;
	}
	if (lua_isinteger(L, -1)) {
		lua_pop(L, 1);
		return (uint8_t)lab_field_int(L, t, what, "flags", def, 255);
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L,
		           "%s: flags= must be letters like \"SA\" or a number, not a %s",
		           what, luaL_typename(L, -1));
	for (s = lua_tostring(L, -1); *s; s++) {
		const char *c = strchr(letters, *s);

		if (!c)
			luaL_error(
			    L,
			    "%s: flags=%s: '%c' is not a TCP flag - use F S R P A U "
			    "E C, e.g. flags=\"SA\"",
			    what, lua_tostring(L, -1), *s);
		f |= (uint8_t)(1u << (c - letters));
	}
	lua_pop(L, 1);
	return f;
}

void lab_flag_str(uint8_t flags, char out[9])
{
	static const char order[] = "SFRPAUEC"; /* "SA", "PA", "FA" */
	static const uint8_t bits[] = {RL_TCP_SYN, RL_TCP_FIN, RL_TCP_RST, RL_TCP_PSH,
	                               RL_TCP_ACK, RL_TCP_URG, RL_TCP_ECE, RL_TCP_CWR};
	int n = 0;

	for (int i = 0; i < 8; i++)
		if (flags & bits[i])
			out[n++] = order[i];
	out[n] = 0;
}

/* seq, ack, flags, window, urg and the options into *tcp (zeroed first).
 * mss_key names the MSS option's key ("mss" for a packet; lab.segment()
 * uses mss= for the segment size, so it passes NULL: no MSS option). */
void lab_field_tcp(lua_State *L, int t, const char *what, uint8_t def_flags,
                   const char *mss_key, struct rl_tcp *tcp)
{
	memset(tcp, 0, sizeof(*tcp));
	tcp->seq = (uint32_t)lab_field_int(L, t, what, "seq", 0, UINT32_MAX);
	tcp->ack = (uint32_t)lab_field_int(L, t, what, "ack", 0, UINT32_MAX);
	tcp->flags = tcp_flags(L, t, what, def_flags);
	tcp->window = (uint16_t)lab_field_int(L, t, what, "window", 65535, 65535);
	tcp->urg = (uint16_t)lab_field_int(L, t, what, "urg", 0, 65535);
	if (mss_key) {
		tcp->has_mss = lab_field_has(L, t, mss_key);
		tcp->mss = (uint16_t)lab_field_int(L, t, what, mss_key, 0, 65535);
	}
	tcp->has_wscale = lab_field_has(L, t, "wscale");
	tcp->wscale = (uint8_t)lab_field_int(L, t, what, "wscale", 0, 14);
	lua_getfield(L, t, "sack_ok");
	tcp->sack_ok = lua_toboolean(L, -1);
	lua_pop(L, 1);
	tcp->has_ts = lab_field_has(L, t, "ts_val") || lab_field_has(L, t, "ts_ecr");
	tcp->ts_val = (uint32_t)lab_field_int(L, t, what, "ts_val", 0, UINT32_MAX);
	tcp->ts_ecr = (uint32_t)lab_field_int(L, t, what, "ts_ecr", 0, UINT32_MAX);
}
