/*
 * shell.h - what the pieces of the ringlab program share.
 *
 * The program is a Lua 5.4 interpreter with one extra library, `lab`. Each
 * handle the library gives out is a userdata with its own metatable:
 *
 *   engine  (lab/engine.c)  one lab.open(); owns the engine and its region
 *   region  (lab/region.c)  the engine's packet memory; r:alloc() buffers
 *   buffer  (lab/region.c)  bytes born inside the region
 *   packet  (lab/packet.c)  a chain of descriptors; built (lab/build.c) or
 *                           received
 *   segs    (lab/segment.c) lab.segment(): data cut into packets
 *   reader  (lab/reader.c)  lab.reader(): a received stream, and its views
 *   pcap    (lab/pcap.c)    lab.pcap(): a capture file of an engine's traffic
 *   appmem  (lab/appmem.c)  lab.appmem(): application memory in no region
 *
 * Regions, buffers and packets keep their engine alive through a uservalue
 * and check that it is still open before touching region memory, so a
 * handle that outlives e:close() raises an error instead of crashing.
 *
 * THE RULE FOR BINDINGS: Lua may run inside any binding. An __index or
 * __len of an argument table, luaL_tolstring's __tostring, and any
 * allocation (lua_newuserdatauv, lua_pushstring, luaL_Buffer, lua_createtable:
 * a GC step runs __gc finalizers) can run Lua that closes the engine,
 * releases a packet, frees a buffer or segs. So:
 *
 *   1. Register every binding with lab_setfuncs / lab_pushcfunction (or
 *      lab_handle_mt), never luaL_setfuncs / lua_pushcfunction: it then runs
 *      inside lab_call (lab/lab.c), and while any binding runs, a close only
 *      marks the engine closed (eng->closed) and keeps it whole - eng->e,
 *      its region - until the outermost binding returns or raises. A region,
 *      frame or engine pointer read before Lua ran is never freed memory.
 *      Test "open" with lab_is_open(eng), never eng->e. The exception,
 *      lab_fast_methods (bt:tx, e:fill(n) ...), skips the protected call
 *      only for a call that runs no Lua at all (its nilarg argument nil):
 *      a binding marked so must not allocate, index a table or call a
 *      metamethod on that way - or it must not be marked.
 *   2. Read and check every argument into C values first (lab_field_*,
 *      lua_tointegerx; copy strings' bytes or anchor them on the stack),
 *      then check the engine (lab_check_engine / lab_handle_engine), then
 *      touch engine state.
 *   3. After anything that may run Lua - an allocation included - look again:
 *      lab_check_open(L, eng, "what") for the engine, and the state of every
 *      packet, buffer or segs you hold (released? sent? freed?). Never act
 *      on a handle's state read before that point.
 *   4. A binding that makes a Lua string of region bytes allocates its room
 *      first (luaL_buffinitsize), then checks, then copies.
 *
 * tests/lua/hostile_bindings.lua tries each binding with a metamethod and
 * a finalizer that close the engine mid-call; add a case for a new one.
 */
#ifndef RINGLAB_SHELL_H
#define RINGLAB_SHELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#include <ringlab/ringlab.h>

#define LAB_ENGINE_MT "ringlab.engine"
#define LAB_REGION_MT "ringlab.region"
#define LAB_BUFFER_MT "ringlab.buffer"
#define LAB_PACKET_MT "ringlab.packet"

struct lab_pcap;

/* Engine names: a letter, then letters, digits, _ . - (at most 23); the
 * default KIND#ID cannot clash with a given one. */
#define LAB_NAME_MAX 24

struct lab_engine {
	const struct rl_engine_ops *ops;
	struct rl_engine *e;   /* NULL once really closed (ops->close) */
	bool closed;           /* closed for Lua (e:close, __gc): test with
	                        * lab_is_open; e stays whole until the outermost
	                        * binding returns (lab_call) */
	int id;                /* 1, 2, ... in order of lab.open() */
	struct lab_pcap *pcap; /* lab.pcap() capture, or NULL */
	char ifname[16];       /* the kernel interface it is on, or "" (lab/addr.c) */
	char name[LAB_NAME_MAX]; /* its lab name: name= of lab.open, or KIND#ID */
	signed char fill_view; /* e:fill: 0 not looked yet, 1 the engine shows a
	                        * "fill" ring, -1 it has none (dpdk: looking
	                        * builds every view, bench/lua.sh) */
};

/* A buffer (r:alloc) pins its frames until b:free() or the collector.
 * Unsent packets built over it (lab.packet.*{payload=b}) and segs cut from
 * it (lab.segment) point into those frames and count themselves in pkts /
 * segs while they do: b:free() is refused then (a frame is never given to
 * the pool while something still points into it). Should the collector
 * take the buffer first, `deferred` keeps its pins until the last of them
 * lets go (lab_buffer_unref). */
struct lab_buffer {
	uint64_t addr;
	uint64_t len;
	bool freed;    /* no longer usable: b:free(), the collector, or closed */
	bool deferred; /* freed, its pins kept until pkts + segs reach 0 */
	uint32_t pkts; /* unsent packets over its bytes */
	uint32_t segs; /* segs handles over its bytes */
};

/* CONSUMED: a reader (lab.reader) took its frames. */
enum lab_pkt_state { PKT_HELD, PKT_SENT, PKT_RELEASED, PKT_CONSUMED };

struct lab_seg {
	struct rl_desc d;
	bool own; /* the packet holds this frame (not a buffer) */
};

struct lab_packet {
	enum lab_pkt_state state;
	bool received;
	/* a born packet: the buffer it points into (anchored as uservalue 2),
	 * counted in buf->pkts until it is sent, released or collected */
	struct lab_buffer *buf;
	uint32_t len;
	unsigned nseg;
	/* built with csum="offload" (TCP, UDP): on an engine whose NIC fills
	 * checksums (RL_CAP_CSUM) e:tx hands it over with RL_TX_CSUM */
	bool csum_nic;
	struct rl_ledger ledger;
	struct lab_seg seg[];
};

/* loader.c: built-in engines and ringlab-engine-NAME.so plugins. */
struct lab_engine_entry {
	char name[32];
	char path[512];                  /* "" for a built-in engine */
	const struct rl_engine_ops *ops; /* NULL when it could not be loaded */
	bool available;
	char why[1024]; /* why not available */
};
#define LAB_ENGINES_MAX 32
int loader_list(struct lab_engine_entry *out, int max);
/* 0 and *out filled, or -ENOENT (unknown name; out->why lists known ones). */
int loader_find(const char *name, struct lab_engine_entry *out);

/* lab/appmem.c: lab.appmem on the table at -1, and the pins of extbuf data
 * (see there). */
struct lab_appmem {
	uint8_t *base;   /* NULL once unmapped */
	size_t len;      /* what was asked for */
	size_t maplen;   /* whole pages */
	unsigned pins;   /* extbuf pins on it: unmapped only when none is left */
	bool collected;  /* its __gc ran while pinned: the last pin unmaps */
};
struct lab_extpin {
	struct lab_engine *eng;
	const void *va;
	size_t len;
	bool orphan;     /* its segs are gone, the data anchored until back */
	uint64_t sent;   /* descriptors of this memory handed to tx_x */
	uint64_t out;    /* of those, not yet handed back by ext_freed */
	uint64_t back;
	struct lab_appmem *mem; /* the data is this app memory, or NULL */
	struct lab_extpin *prev, *next;
};
void lab_appmem_register(lua_State *L);
struct lab_appmem *lab_test_appmem(lua_State *L, int idx);
/* Register va..va+len (inside mem, or a string when mem is NULL) with the
 * engine (raises on failure). */
struct lab_extpin *lab_extpin_new(lua_State *L, struct lab_engine *eng, const void *va,
                                  size_t len, struct lab_appmem *mem);
/* The segs are gone: free the pin, or keep the data at data_idx anchored
 * until the engine hands its last reference back. */
void lab_extpin_drop(lua_State *L, struct lab_extpin *p, int data_idx);
/* Take the engine's ext_freed() cookies: what came home. */
void lab_ext_reap(lua_State *L, struct lab_engine *eng);
void lab_ext_engine_closed(lua_State *L, struct lab_engine *eng);

/* lab/engine.c */
int lab_open_engine(lua_State *L); /* lab.open */
struct lab_engine *lab_check_engine(lua_State *L, int idx);
struct lab_engine *lab_test_engine(lua_State *L, int idx); /* or NULL */
/* Open for Lua: not closed, not waiting for its deferred close. */
static inline bool lab_is_open(const struct lab_engine *eng)
{
	return eng->e && !eng->closed;
}
/* eng, or "what: its engine was closed - ..." when it is: after any Lua ran
 * (a metamethod, a finalizer set off by an allocation) check it again. */
struct lab_engine *lab_check_open(lua_State *L, struct lab_engine *eng, const char *what);
struct rl_region *lab_engine_region(lua_State *L, struct lab_engine *eng,
                                    const char *what);
struct rl_ledger *lab_engine_ledger(struct lab_engine *eng);
/* Push the engine (uservalue 1) of the handle at idx; return it, checked
 * open. `what` names the call for the error. */
struct lab_engine *lab_handle_engine(lua_State *L, int idx, const char *what);
/* The engine a handle at idx hangs on (its uservalue 1), or NULL when it is
 * closed or there is none; and that engine's region, or NULL. For __gc and
 * __tostring, which must not raise. Push nothing. */
struct lab_engine *lab_handle_engine_if_open(lua_State *L, int idx);
struct rl_region *lab_handle_region_if_open(lua_State *L, int idx);
int lab_raise(lua_State *L, const char *what, const struct rl_err *err);
void lab_engine_register(lua_State *L);

/* lab/region.c */
void lab_push_region(lua_State *L, int engine_idx);
/* Raises when a descriptor on its way still points into the frames of
 * region bytes [addr, addr+len): they may not be written yet. */
void lab_check_writable(lua_State *L, const char *what, const struct rl_region *r,
                        uint64_t addr, uint64_t len);
void lab_region_register(lua_State *L);
struct lab_buffer *lab_test_buffer(lua_State *L, int idx);
/* A packet (segs false) or a segs handle (true) no longer points into b;
 * r is b's region, or NULL when its engine is closed. A buffer the
 * collector took meanwhile drops its pins now. Raises nothing. */
void lab_buffer_unref(struct lab_buffer *b, struct rl_region *r, bool segs);

/* lab/packet.c */
struct lab_packet *lab_new_packet(lua_State *L, int engine_idx, unsigned nseg);
struct lab_packet *lab_check_packet(lua_State *L, int idx);
/* Frames of a held packet back to the pool, its buffer let go: released.
 * r NULL (engine closed): only the buffer is let go. */
void lab_packet_release_frames(struct lab_packet *p, struct rl_region *r);
/* The packet's buffer, if any, let go (it was sent). */
void lab_packet_drop_buffer(struct lab_packet *p, struct rl_region *r);
void lab_packet_register(lua_State *L);
/* Count n bytes of f on path dir in the engine's ledger and, when p is not
 * NULL, in the packet's. A packet's own bytes go on its path: lab_dir(p). */
void lab_count(struct lab_engine *eng, struct lab_packet *p, enum rl_ledger_field f,
               uint64_t n, enum rl_dir dir);
static inline enum rl_dir lab_dir(const struct lab_packet *p)
{
	return p->received ? RL_DIR_RX : RL_DIR_TX;
}

/* lab/build.c */
void lab_build_register(lua_State *L); /* sets lab.packet on table at -1 */

/* lab/fields.c: one key of the options table at t, checked (see there). */
lua_Integer lab_field_int(lua_State *L, int t, const char *what, const char *key,
                          lua_Integer def, lua_Integer max);
uint8_t lab_field_ttl(lua_State *L, int t, const char *what); /* 1..255, 64 */
bool lab_field_has(lua_State *L, int t, const char *key);
const char *lab_field_str(lua_State *L, int t, const char *what, const char *key,
                          const char *def);
void lab_field_addr(lua_State *L, int t, const char *what, const char *key,
                    const char *def, bool need_port, uint32_t *ip, uint16_t *port);
void lab_field_mac(lua_State *L, int t, const char *what, const char *key,
                   const char *def, uint8_t mac[6]);
bool lab_field_csum(lua_State *L, int t, const char *what); /* true: software */
void lab_field_tcp(lua_State *L, int t, const char *what, uint8_t def_flags,
                   const char *mss_key, struct rl_tcp *tcp);
void lab_flag_str(uint8_t flags, char out[9]); /* RL_TCP_* as "SA", "PA" */

/* lab/segment.c, lab/reader.c, lab/pcap.c: lab.segment, lab.reader,
 * lab.pcap on the table at -1. */
void lab_segment_register(lua_State *L);
void lab_reader_register(lua_State *L);
void lab_pcap_register(lua_State *L);
/* The RL_CAP_* of an engine as it is open now (ops->caps_of), and why it
 * lacks any (why may be NULL). */
uint32_t lab_engine_caps(const struct lab_engine *eng, char *why, size_t len);
/* Write the packets of descriptors d[0..n) to the engine's capture, if any
 * (counted touched on path dir). Called where frames are sent (RL_DIR_TX)
 * and received (RL_DIR_RX). */
void lab_pcap_write(struct lab_engine *eng, const struct rl_desc *d, uint32_t n,
                    enum rl_dir dir);
void lab_pcap_write_x(struct lab_engine *eng, const struct rl_xdesc *x, uint32_t n);
int lab_pcap_detach(lua_State *L, struct lab_engine *eng); /* at e:close(): 1 + message pushed when a write failed */
void lab_batch_register(lua_State *L); /* lab/batch.c: lab.batch */

/* lab/dissect.c */
void lab_push_dissect(lua_State *L, const struct rl_dissect *d, unsigned nseg);
void lab_packet_summary(const struct rl_dissect *d, uint32_t len, unsigned nseg,
                        char *out, size_t cap);
int lab_dissect_string(lua_State *L); /* lab.dissect */
void lab_push_ledger(lua_State *L, const struct rl_ledger *l);

/* lab/addr.c: lab.netif, lab.neigh on the table at -1; the interface a wire
 * engine was opened on; the engine a call that names none builds in
 * (pushed, or an error saying what to give); the addresses a wire engine
 * fills in (ringlab.host's addresses(): runs Lua, so check what you hold
 * afterwards; 0 and nothing when the engine has no interface). */
void lab_addr_register(lua_State *L);
void lab_netmap_register(lua_State *L); /* lab/netmap.c: lab.netmap, e:ring() */
void lab_engine_note_ifname(struct lab_engine *eng, const struct rl_open_args *args);
void lab_default_engine(lua_State *L, const char *what, const char *say);
struct lab_wire {
	char src_ip[16], src_mac[18], dst_mac[18]; /* "" where not known */
};
int lab_wire_addresses(lua_State *L, int eidx, const char *what, uint32_t dst_ip,
                       bool want_dst_mac, struct lab_wire *w);

/* lab/lab.c */
int luaopen_ringlab(lua_State *L);
/* Bindings: each function runs inside lab_call (see the rule at the top). */
extern unsigned lab_depth; /* bindings running now */
void lab_setfuncs(lua_State *L, const luaL_Reg *l); /* into the table at -1 */
void lab_pushcfunction(lua_State *L, lua_CFunction f, const char *name);
/* The fast way in for per-batch bindings that run no Lua when the argument
 * at nilarg is nil (0: always) - see lab_call_fast in lab/lab.c. */
void lab_pushcfunction_fast(lua_State *L, lua_CFunction f, const char *name, int nilarg);
void lab_fast_methods(lua_State *L, const char *mt, const luaL_Reg *l, const int *nilarg);
/* A handle's type checked by its metatable kept under an address key. */
void *lab_test_handle(lua_State *L, int idx, const void *key);
void lab_handle_key(lua_State *L, const char *mt, const void *key);
void lab_engine_io_fast(lua_State *L); /* e:fill, e:complete: fast way in */
/* lab/engine.c: the closes asked for while bindings ran (lab_call, at
 * depth 0). */
void lab_close_deferred(lua_State *L);

/* lab/time.c: lab.now(), lab.sleep() on the table at -1. */
void lab_time_register(lua_State *L);
void lab_run_register(lua_State *L);

/* signals.c: Ctrl-C and SIGTERM (see there). */
void signals_install(lua_State *L);
void signals_enter_lua(void);     /* Lua runs: a signal raises "interrupted" */
void signals_leave_lua(void);     /* at the prompt: a signal only sets a flag */
bool signals_take_interrupt(void); /* a SIGINT arrived (and clear it) */
bool signals_interrupting(void);   /* "interrupted" raised, C not back yet */
const volatile int *signals_c_stop(void); /* set by a signal; cleared now */
int signals_caught(void);          /* the last signal number seen, or 0 */
bool signals_terminate(void);      /* SIGTERM arrived: leave */
/* paths.c: io.open, loadfile ... refuse a path with a zero byte in it. */
void paths_guard_install(lua_State *L);

/* lab/lessons.c: lab.bench_mmap(), and lab.watch,
 * lab.plot, lab.pause, lab.progress (doors into ringlab.watch/.plot), on the
 * table at -1. */
void lab_lessons_register(lua_State *L);

/* lab/lab.c: the metatable of a handle type (methods, __gc = __close,
 * __len, __tostring; gc and len may be NULL). */
void lab_handle_mt(lua_State *L, const char *name, const luaL_Reg *methods,
		   lua_CFunction gc, lua_CFunction len, lua_CFunction tostring);

/* lab/crypto.c: lab.crypto (libsodium). */
void lab_crypto_register(lua_State *L);

/* lab/kernel.c: lab.kernel (the kernel's own send paths, measured). */
void lab_kernel_register(lua_State *L);

/* lab/engine.c: lab.opened(), the engines still open in order of opening;
 * lab.get(name), the open engine of that name ("copy", "sim#1", "#1") or
 * nil. */
int lab_opened(lua_State *L);
int lab_get(lua_State *L);

/* lab/term.c: terminal facts for the views (colour, width). */
int luaopen_ringlab_term(lua_State *L);

/* embedded.c (generated): the Lua parts of the shell. */
void lab_preload_embedded(lua_State *L);

/* repl.c */
int repl_run(lua_State *L);

#endif
