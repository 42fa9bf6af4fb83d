/*
 * lab/addr.c - where a packet comes from and goes to, when the caller does
 * not say: the engine's interface, its neighbours, and the engine itself.
 *
 *   lab.netif(ifname)        -> {name=, index=, mac=, ip= (or nil), mtu=}
 *                               or nil, why: the interface in this network
 *                               namespace, read with ioctl (no shell)
 *   lab.neigh(ip [, ifname]) -> the MAC of ip in the kernel's neighbour
 *                               table of this namespace (/proc/net/arp,
 *                               complete entries only), or nil
 *
 * A wire engine opened on a kernel interface (afxdp ifname=, dpdk
 * net_af_packet/net_af_xdp iface=) remembers that interface's name at
 * lab.open() (e:info().ifname). The builders (lab.packet.*, lab.segment,
 * bt:udp) then take the source MAC and IP from the interface and the
 * destination MAC from ringlab.host's neighbour resolution (host.addresses:
 * its cache, the kernel's table, else ARP) for every address the caller
 * leaves out; an explicit one always wins.
 *
 * When a call names no engine (no region=, engine= or buffer), it builds in
 * the prompt's current engine if that has a region, else in the one open
 * engine that has a region; with none or several it says what to give.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shell.h"

/* ---- the engine's interface ------------------------------------------- */

static void set_ifname(struct lab_engine *eng, const char *s, size_t n)
{
	if (n == 0 || n >= sizeof(eng->ifname))
		return;
	memcpy(eng->ifname, s, n);
	eng->ifname[n] = '\0';
}

/* dpdk: the iface= of the one vdev that is a kernel interface's own port
 * (net_af_packet, net_af_xdp). net_tap makes an interface of its own whose
 * MAC is not the port's, so it is left out. */
static void ifname_from_vdev(struct lab_engine *eng, const char *v)
{
	const char *found = NULL;
	size_t flen = 0;
	int kernel_ports = 0;

	while (*v) {
		size_t len = strcspn(v, ";");
		bool kernel = strncmp(v, "net_af_packet", 13) == 0 ||
		              strncmp(v, "net_af_xdp", 10) == 0;

		if (kernel) {
			const char *p = v;

			kernel_ports++;
			while (p < v + len) {
				size_t arg = strcspn(p, ",;");

				if (arg > 6 && strncmp(p, "iface=", 6) == 0) {
					found = p + 6;
					flen = arg - 6;
				}
				p += arg;
				if (*p == ',')
					p++;
			}
		}
		v += len;
		if (*v == ';')
			v++;
	}
	if (kernel_ports == 1 && found)
		set_ifname(eng, found, flen);
}

void lab_engine_note_ifname(struct lab_engine *eng, const struct rl_open_args *args)
{
	eng->ifname[0] = '\0';
	for (unsigned i = 0; i < args->nkv; i++) {
		const char *k = args->kv[i].key, *v = args->kv[i].val;

		if (!v)
			continue;
		if (strcmp(k, "ifname") == 0)
			set_ifname(eng, v, strlen(v));
		else if (strcmp(k, "vdev") == 0)
			ifname_from_vdev(eng, v);
	}
}

/* ---- lab.netif, lab.neigh --------------------------------------------- */

static int netif_ioctl(int fd, unsigned long req, const char *ifname, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	return ioctl(fd, req, ifr);
}

static int lab_netif(lua_State *L)
{
	const char *ifname = luaL_checkstring(L, 1);
	struct ifreq ifr;
	char s[32];
	int fd;

	if (!*ifname || strlen(ifname) >= IFNAMSIZ) {
		lua_pushnil(L);
		lua_pushfstring(L, "'%s' is not an interface name (1-15 characters)",
		                ifname);
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "no socket to ask about %s: %s", ifname,
		                strerror(errno));
		return 2;
	}
	if (netif_ioctl(fd, SIOCGIFINDEX, ifname, &ifr) < 0) {
		int err = errno;

		close(fd);
		lua_pushnil(L);
		lua_pushfstring(L,
		                "there is no interface %s in this network namespace (%s)",
		                ifname, strerror(err));
		return 2;
	}
	lua_createtable(L, 0, 5);
	lua_pushstring(L, ifname);
	lua_setfield(L, -2, "name");
	lua_pushinteger(L, ifr.ifr_ifindex);
	lua_setfield(L, -2, "index");
	if (netif_ioctl(fd, SIOCGIFHWADDR, ifname, &ifr) == 0 &&
	    ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER) {
		rl_format_mac((const uint8_t *)ifr.ifr_hwaddr.sa_data, s);
		lua_pushstring(L, s);
		lua_setfield(L, -2, "mac");
	}
	if (netif_ioctl(fd, SIOCGIFADDR, ifname, &ifr) == 0 &&
	    ifr.ifr_addr.sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ifr.ifr_addr;

		inet_ntop(AF_INET, &sin->sin_addr, s, sizeof(s));
		lua_pushstring(L, s);
		lua_setfield(L, -2, "ip");
	}
	if (netif_ioctl(fd, SIOCGIFMTU, ifname, &ifr) == 0) {
		lua_pushinteger(L, ifr.ifr_mtu);
		lua_setfield(L, -2, "mtu");
	}
	close(fd);
	return 1;
}

static int lab_neigh(lua_State *L)
{
	const char *ip = luaL_checkstring(L, 1);
	const char *dev = luaL_optstring(L, 2, NULL);
	char line[256], aip[64], hw[64], mask[64], ifn[64];
	unsigned type, flags;
	FILE *f = fopen("/proc/net/arp", "re");

	if (!f) {
		lua_pushnil(L);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %x %x %63s %63s %63s", aip, &type, &flags, hw,
		           mask, ifn) != 6)
			continue; /* the header line */
		if (strcmp(aip, ip) != 0 || !(flags & ATF_COM) ||
		    (dev && strcmp(ifn, dev)))
			continue;
		fclose(f);
		lua_pushstring(L, hw);
		return 1;
	}
	fclose(f);
	lua_pushnil(L);
	return 1;
}

/* ---- which engine ----------------------------------------------------- */

static bool has_region(const struct lab_engine *eng)
{
	return eng && eng->e && eng->ops->get_region && eng->ops->get_region(eng->e);
}

void lab_default_engine(lua_State *L, const char *what, const char *say)
{
	int top = lua_gettop(L), t, n = 0, found = 0;
	luaL_Buffer b;

	/* the prompt's current engine (ringlab.cmdkit's cur), read raw */
	lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_pushliteral(L, "ringlab.cmdkit");
	if (lua_type(L, -2) == LUA_TTABLE && lua_rawget(L, -2) == LUA_TTABLE) {
		lua_pushliteral(L, "cur");
		lua_rawget(L, -2);
		if (has_region(lab_test_engine(L, -1))) {
			lua_replace(L, top + 1);
			lua_settop(L, top + 1);
			return;
		}
	}
	lua_settop(L, top);
	lab_opened(L);
	t = lua_gettop(L);
	for (lua_Integer i = 1; lua_rawgeti(L, t, i) != LUA_TNIL; i++) {
		if (has_region(lab_test_engine(L, -1))) {
			n++;
			found = (int)i;
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (n == 1) {
		lua_rawgeti(L, t, found);
		lua_replace(L, top + 1);
		lua_settop(L, top + 1);
		return;
	}
	if (n == 0)
		luaL_error(
		    L,
		    "%s: say where to build the packet - no open engine has a "
		    "region yet: make one (region at the prompt, e:region{} in Lua)",
		    what);
	luaL_buffinit(L, &b);
	for (lua_Integer i = 1; lua_rawgeti(L, t, i) != LUA_TNIL; i++) {
		struct lab_engine *eng = lab_test_engine(L, -1);

		lua_pop(L, 1);
		if (!has_region(eng))
			continue;
		luaL_addstring(&b, luaL_bufflen(&b) ? ", " : "");
		luaL_addstring(&b, eng->name);
	}
	luaL_pushresult(&b);
	luaL_error(L, "%s: %d engines have a region (%s) - say which: %s", what, n,
	           lua_tostring(L, -1), say);
}

/* ---- the addresses a wire engine fills in ------------------------------ */

int lab_wire_addresses(lua_State *L, int eidx, const char *what, uint32_t dst_ip,
                       bool want_dst_mac, struct lab_wire *w)
{
	struct lab_engine *eng = lua_touserdata(L, eidx);
	int top = lua_gettop(L);
	char ip[16];
	const char *s;

	memset(w, 0, sizeof(*w));
	if (!eng || !lab_is_open(eng) || !eng->ifname[0])
		return 0;
	lua_getglobal(L, "require");
	lua_pushliteral(L, "ringlab.host");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "addresses");
	lua_pushvalue(L, eidx);
	if (want_dst_mac) {
		rl_format_ip4(dst_ip, ip);
		lua_pushstring(L, ip);
	} else {
		lua_pushnil(L);
	}
	lua_pushstring(L, what);
	lua_call(L, 3, 3); /* src ip, src mac, dst mac (raises when unresolved) */
	/* Lua ran: the engine may have been closed meanwhile */
	lab_check_open(L, eng, what);
	s = lua_tostring(L, -3);
	if (s)
		snprintf(w->src_ip, sizeof(w->src_ip), "%s", s);
	s = lua_tostring(L, -2);
	if (s)
		snprintf(w->src_mac, sizeof(w->src_mac), "%s", s);
	s = lua_tostring(L, -1);
	if (s)
		snprintf(w->dst_mac, sizeof(w->dst_mac), "%s", s);
	lua_settop(L, top);
	return 1;
}

static const luaL_Reg addr_funcs[] = {
    {"netif", lab_netif},
    {"neigh", lab_neigh},
    {NULL, NULL},
};

void lab_addr_register(lua_State *L)
{
	luaL_setfuncs(L, addr_funcs, 0);
}
