/*
 * lab/pcap.c - lab.pcap(e, "trace.pcap"): every packet an engine sends or
 * receives, written to a pcap file that tcpdump and Wireshark read.
 *
 * libpcap writes the file (pcap_open_dead(DLT_EN10MB) + pcap_dump_open);
 * the engine handle points at its capture, and e:tx(), segs:tx() and
 * e:rx() call lab_pcap_write() with the descriptors they moved. A packet
 * of several descriptors is gathered into one record, so a capture reads
 * every byte of every packet: the ledger counts them as `touched` - a
 * capture is not free. The registry keeps the capture alive while its
 * engine is open; e:close() and cap:close() end it.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "shell.h"

#define PCAP_MT "ringlab.pcap"
#define SNAPLEN 262144u

struct lab_pcap {
	pcap_t *pd;
	pcap_dumper_t *dump; /* NULL once closed */
	struct lab_engine *eng;
	int ref; /* in the registry while attached */
	int err; /* errno of the first failed write, 0 while all is well */
	uint64_t count, bytes;
	char path[200]; /* for messages */
	uint8_t buf[SNAPLEN];
};

/* One piece of a packet, len bytes at p, gathered into the record. */
static void gather(struct lab_pcap *c, struct pcap_pkthdr *h, const void *p, uint32_t len)
{
	uint32_t take = len;

	if (h->caplen + take > SNAPLEN)
		take = SNAPLEN - h->caplen;
	memcpy(c->buf + h->caplen, p, take);
	h->caplen += take;
	h->len += len;
}

/* The gathered record into the file. */
static void record(struct lab_pcap *c, struct pcap_pkthdr *h, enum rl_dir dir)
{
	uint32_t len = h->caplen;

	FILE *f = pcap_dump_file(c->dump);

	pcap_dump((u_char *)c->dump, h, c->buf);
	if (!c->err && f && ferror(f))
		c->err = errno ? errno : EIO; /* reported at flush and close */
	c->count++;
	c->bytes += len;
	lab_count(c->eng, NULL, RL_LEDGER_TOUCHED, len, dir); /* the path captured */
}

/* The capture of eng, its region, and a record begun now (h); NULL when
 * the engine is not capturing. */
static struct lab_pcap *capturing(struct lab_engine *eng, struct rl_region **r,
                                  struct pcap_pkthdr *h)
{
	struct lab_pcap *c = eng->pcap;

	if (!c || !c->dump || !lab_is_open(eng) || !eng->ops->get_region)
		return NULL;
	*r = eng->ops->get_region(eng->e);
	memset(h, 0, sizeof(*h));
	gettimeofday(&h->ts, NULL);
	return *r ? c : NULL;
}

void lab_pcap_write(struct lab_engine *eng, const struct rl_desc *d, uint32_t n,
                    enum rl_dir dir)
{
	struct rl_region *r;
	struct pcap_pkthdr h;
	struct lab_pcap *c = capturing(eng, &r, &h);

	for (uint32_t i = 0; c && i < n; i++) {
		gather(c, &h, rl_region_ptr(r, d[i].addr), d[i].len);
		if (!(d[i].options & RL_DESC_CONTD)) {
			record(c, &h, dir);
			h.caplen = h.len = 0;
		}
	}
}

/* The same for one packet of extended descriptors (tx_x): a piece in the
 * program's own memory (RL_DESC_EXT, extbuf) is read where it lies. */
void lab_pcap_write_x(struct lab_engine *eng, const struct rl_xdesc *x, uint32_t n)
{
	struct rl_region *r;
	struct pcap_pkthdr h;
	struct lab_pcap *c = capturing(eng, &r, &h);

	if (!c)
		return;
	for (uint32_t i = 0; i < n; i++)
		gather(c, &h, (x[i].options & RL_DESC_EXT) ? x[i].va : rl_region_ptr(r, x[i].addr),
		       x[i].len);
	record(c, &h, RL_DIR_TX); /* tx_x: sent */
}

/* Ends the capture: flushes and closes the file. Returns the errno of
 * the first write that failed (0 when every byte reached the file). */
static int pcap_end(lua_State *L, struct lab_pcap *c)
{
	FILE *f;

	if (!c->dump)
		return 0;
	f = pcap_dump_file(c->dump);
	if (f && (fflush(f) != 0 || ferror(f)) && !c->err)
		c->err = errno ? errno : EIO;
	if (f && !c->err && fsync(fileno(f)) != 0 && errno != EINVAL && errno != EROFS &&
	    errno != ENOTSUP)
		c->err = errno; /* a disk that fills at write-back (EINVAL: not a file) */
	pcap_dump_close(c->dump);
	pcap_close(c->pd);
	c->dump = NULL;
	c->pd = NULL;
	if (c->eng)
		c->eng->pcap = NULL;
	c->eng = NULL;
	luaL_unref(L, LUA_REGISTRYINDEX, c->ref);
	c->ref = LUA_NOREF;
	return c->err;
}

/* The one-line message of a failed capture. */
static const char *pcap_failed(lua_State *L, const struct lab_pcap *c)
{
	return lua_pushfstring(L,
	                       "pcap: writing %s failed: %s - the capture is incomplete "
	                       "(%I packet%s given); free space or give another path",
	                       c->path, strerror(c->err), (lua_Integer)c->count,
	                       c->count == 1 ? "" : "s");
}

/* At e:close(): ends the capture; on a failed write pushes its message and
 * returns 1 (the caller raises it once the engine is closed), else 0. */
int lab_pcap_detach(lua_State *L, struct lab_engine *eng)
{
	struct lab_pcap *c = eng->pcap;

	if (!c || pcap_end(L, c) == 0)
		return 0;
	pcap_failed(L, c);
	return 1;
}

static int lab_pcap_open(lua_State *L)
{
	struct lab_engine *eng = lab_check_engine(L, 1);
	size_t path_len;
	const char *path = luaL_checklstring(L, 2, &path_len);
	struct lab_pcap *c;

	if (strlen(path) != path_len)
		return luaL_error(L,
		                  "pcap: the path \"%s\\0...\" has a zero byte in it - "
		                  "give a path without one",
		                  path);
	/* libpcap would take "-" as standard output, where print() writes too:
	 * the capture and the text would be mixed in one stream */
	if (!strcmp(path, "-"))
		return luaL_error(L, "pcap: \"-\" is not written to standard output - "
		                  "give a file path, e.g. lab.pcap(e, \"capture.pcap\")");

	if (eng->pcap)
		return luaL_error(L,
		                  "pcap: this engine is already capturing - close that "
		                  "capture (cap:close()) first");
	c = lua_newuserdatauv(L, sizeof(*c), 1);
	memset(c, 0, sizeof(*c) - SNAPLEN);
	c->ref = LUA_NOREF;
	luaL_setmetatable(L, PCAP_MT);
	c->pd = pcap_open_dead(DLT_EN10MB, SNAPLEN);
	if (!c->pd)
		return luaL_error(L, "pcap: libpcap could not start a capture");
	c->dump = pcap_dump_open(c->pd, path);
	if (!c->dump) {
		lua_pushstring(L, pcap_geterr(c->pd));
		pcap_close(c->pd);
		c->pd = NULL;
		return luaL_error(L, "pcap: cannot write %s: %s - give a writable path",
		                  path, lua_tostring(L, -1));
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->eng = eng;
	eng->pcap = c;
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	lua_pushvalue(L, -1);
	c->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 1;
}

/* cap:close() -> packets written; raises when a write failed. */
static int cap_close(lua_State *L)
{
	struct lab_pcap *c = luaL_checkudata(L, 1, PCAP_MT);

	if (pcap_end(L, c) != 0) {
		pcap_failed(L, c);
		return lua_error(L);
	}
	lua_pushinteger(L, (lua_Integer)c->count);
	return 1;
}

/* Collected: closes quietly (nobody is left to tell). */
static int cap_gc(lua_State *L)
{
	pcap_end(L, luaL_checkudata(L, 1, PCAP_MT));
	return 0;
}

static int cap_count(lua_State *L)
{
	lua_pushinteger(
	    L, (lua_Integer)((struct lab_pcap *)luaL_checkudata(L, 1, PCAP_MT))->count);
	return 1;
}

/* cap:flush(): the records so far into the file; raises when a write failed. */
static int cap_flush(lua_State *L)
{
	struct lab_pcap *c = luaL_checkudata(L, 1, PCAP_MT);

	if (c->dump && pcap_dump_flush(c->dump) != 0 && !c->err)
		c->err = errno ? errno : EIO;
	if (c->err) {
		pcap_failed(L, c);
		return lua_error(L);
	}
	return 0;
}

static int cap_tostring(lua_State *L)
{
	struct lab_pcap *c = luaL_checkudata(L, 1, PCAP_MT);

	lua_pushfstring(L, "pcap capture: %I packets, %I bytes%s", (lua_Integer)c->count,
	                (lua_Integer)c->bytes, c->dump ? "" : " (closed)");
	return 1;
}

static const luaL_Reg cap_methods[] = {
    {"close", cap_close},
    {"count", cap_count},
    {"flush", cap_flush},
    {NULL, NULL},
};

void lab_pcap_register(lua_State *L)
{
	lab_handle_mt(L, PCAP_MT, cap_methods, cap_gc, NULL, cap_tostring);
	lab_pushcfunction(L, lab_pcap_open, "pcap");
	lua_setfield(L, -2, "pcap");
}
