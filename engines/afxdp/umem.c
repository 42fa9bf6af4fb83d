/*
 * umem.c - the region becomes a UMEM, and an AF_XDP socket is bound to it.
 *
 * An AF_XDP socket moves frames only inside memory the program registered
 * with the kernel: the UMEM, cut into equal chunks. ringlab's region is
 * exactly that: we mmap page-aligned memory, let libringlab track owners
 * over it (rl_region_init with mem=), and register it with
 * xsk_umem__create using the region's frame size and no kernel headroom
 * (ringlab keeps its own headroom for headers it writes; on RX the kernel
 * still puts XDP_PACKET_HEADROOM, 256 bytes, before the data in a frame).
 *
 * Registering the UMEM creates the fill and completion rings; creating the
 * socket creates the rx and tx rings and binds it to one queue of the
 * interface, in zero-copy mode (the NIC DMAs into the UMEM) or copy mode
 * (the kernel copies between UMEM and skbs). mode=auto tries zero-copy
 * first; the kernel's XDP_OPTIONS then says what we really got. libxdp is
 * told not to load its own XDP program: ours is attached by xdp_prog.c.
 *
 * queues=N (or queue=0,1) binds one socket per queue, all on this one
 * UMEM: the first as above, each further one with XDP_SHARED_UMEM
 * (xsk_socket__create_shared). A socket on another queue than the first
 * needs a fill and a completion ring of its own - the kernel's per-queue
 * buffer pool - so every queue has four rings; the frames they carry all
 * come from the one region, and owners still sum to its frames.
 *
 * In copy mode the kernel sends only inside sendto, and before Linux 6.17
 * at most 32 descriptors per call. Since 6.17 a socket may raise that with
 * XDP_MAX_TX_SKB_BUDGET (32 .. the tx ring size); we ask for the whole tx
 * ring (or tx_budget=), so one kick sends everything queued.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "afxdp.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* Linux 6.17 */
#endif
#define KERNEL_TX_BATCH 32 /* the kernel's TX_BATCH_SIZE */

static int check_frame_size(const struct rl_region_params *p, struct rl_err *err)
{
	long page = sysconf(_SC_PAGESIZE);

	if (p->frame_size < 2048 || p->frame_size > (uint32_t)page)
		return rl_err_set(err, EINVAL,
				  "frame_size=%u: AF_XDP chunks are 2048 to %ld bytes (a power "
				  "of two no bigger than a page) - use frame_size=2048 or %ld",
				  p->frame_size, page, page);
	return 0;
}

static int map_memory(struct rl_engine *e, const struct rl_region_params *p,
		      struct rl_err *err)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)p->frames * p->frame_size;

	e->mem_len = (len + (size_t)page - 1) & ~((size_t)page - 1);
	e->mem = mmap(NULL, e->mem_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (e->mem == MAP_FAILED) {
		e->mem = NULL;
		return rl_err_set(err, errno, "cannot map %zu bytes for the UMEM: %s - "
				  "ask for fewer frames", e->mem_len, strerror(errno));
	}
	return 0;
}

static int shadow_init(struct afxdp_shadow *q, uint32_t size, uint32_t start,
		       struct rl_err *err)
{
	q->d = calloc(size, sizeof(*q->d));
	if (!q->d)
		return rl_err_set(err, ENOMEM, "out of memory for ring bookkeeping");
	q->mask = size - 1;
	q->seen = q->head = start;
	return 0;
}

static int umem_create(struct rl_engine *e, struct rl_err *err)
{
	struct xsk_umem_config cfg = {
		.fill_size = e->o.fill_size,
		.comp_size = e->o.comp_size,
		.frame_size = e->region.frame_size,
		.frame_headroom = 0,
		/* unaligned=true: chunks may start anywhere, so a descriptor
		 * may cross frames; the kernel no longer masks addresses with
		 * the frame size, and an RX address carries its offset in the
		 * upper 16 bits */
		.flags = e->o.unaligned ? XDP_UMEM_UNALIGNED_CHUNK_FLAG : 0,
	};
	int rc = xsk_umem__create(&e->umem, e->mem, e->region.size, &e->fill,
				  &e->comp, &cfg);

	if (rc && e->o.unaligned) {
		e->umem = NULL;
		return rl_err_set(err, -rc, "the kernel refused unaligned chunks "
				  "(XDP_UMEM_UNALIGNED_CHUNK_FLAG, Linux >= 5.4): %s - open "
				  "without unaligned=true (sg=true chains frames instead)",
				  strerror(-rc));
	}
	if (rc) {
		e->umem = NULL;
		return rl_err_set(err, -rc, "cannot register the UMEM (%u frames of %u "
				  "bytes): %s - %s", e->region.frames, e->region.frame_size,
				  strerror(-rc), afxdp_lib_msg());
	}
	return 0;
}

static int socket_create(struct rl_engine *e, bool zerocopy)
{
	struct xsk_socket_config cfg = {
		.rx_size = e->o.rx_size,
		.tx_size = e->o.tx_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = (uint16_t)((zerocopy ? XDP_ZEROCOPY : XDP_COPY) |
					 (e->o.need_wakeup ? XDP_USE_NEED_WAKEUP : 0) |
					 (e->o.sg ? XDP_USE_SG : 0)),
	};
	int rc = xsk_socket__create(&e->xsk, e->o.ifname, e->o.queue, e->umem,
				    &e->rx, &e->tx, &cfg);

	if (rc)
		e->xsk = NULL;
	return rc;
}

/* A failed bind can leave the UMEM half used: start again from scratch. */
static int umem_recreate(struct rl_engine *e, struct rl_err *err)
{
	xsk_umem__delete(e->umem);
	e->umem = NULL;
	return umem_create(e, err);
}

/* The kernel lets go of a closed socket's queue a moment later (deferred
 * work), so a bind right after a close can see EBUSY: wait for it, up to
 * two seconds. */
static int socket_create_patient(struct rl_engine *e, bool zerocopy, struct rl_err *err)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	int rc = socket_create(e, zerocopy);

	for (int i = 0; rc == -EBUSY && i < 100; i++) {
		nanosleep(&pause, NULL);
		if (umem_recreate(e, err) < 0)
			return -err->code;
		rc = socket_create(e, zerocopy);
	}
	return rc;
}

static int bind_error(struct rl_engine *e, int rc, bool zerocopy, struct rl_err *err)
{
	if (zerocopy && (rc == -EOPNOTSUPP || rc == -EPROTONOSUPPORT))
		return rl_err_set(err, EOPNOTSUPP,
				  "%s cannot do zero-copy: binding with XDP_ZEROCOPY failed with "
				  "EOPNOTSUPP (its driver has no AF_XDP zero-copy; veth never has) "
				  "- use mode=copy, or mode=auto", e->o.ifname);
	if (rc == -EINVAL && e->o.queue > 0)
		return rl_err_set(err, EINVAL, "cannot bind to queue %u of %s: %s (it may "
				  "have fewer queues) - try queue=0", e->o.queue, e->o.ifname,
				  strerror(-rc));
	if (rc == -EBUSY)
		return rl_err_set(err, EBUSY, "queue %u of %s already has an AF_XDP socket "
				  "(another ringlab?) - close it, or use another queue",
				  e->o.queue, e->o.ifname);
	if (rc == -EOPNOTSUPP && e->o.sg)
		return rl_err_set(err, EOPNOTSUPP, "%s refused multi-buffer (XDP_USE_SG "
				  "needs Linux >= 6.6): %s - open with sg=false", e->o.ifname,
				  strerror(-rc));
	return rl_err_set(err, -rc, "cannot bind an AF_XDP socket to %s queue %u in %s "
			  "mode: %s - %s", e->o.ifname, e->o.queue,
			  zerocopy ? "zero-copy" : "copy", strerror(-rc), afxdp_lib_msg());
}

/* The kernel's word on what we got: XDP_OPTIONS. */
static void read_mode(struct rl_engine *e)
{
	struct xdp_options opt = { 0 };
	socklen_t len = sizeof(opt);

	if (getsockopt(xsk_socket__fd(e->xsk), SOL_XDP, XDP_OPTIONS, &opt, &len) == 0)
		e->zerocopy = (opt.flags & XDP_OPTIONS_ZEROCOPY) != 0;
	if (e->zerocopy)
		snprintf(e->ledger.kernel_why, sizeof(e->ledger.kernel_why),
			 "zero-copy mode (XDP_OPTIONS says zero-copy): the NIC reads and "
			 "writes the UMEM itself; derived from the mode");
	else
		snprintf(e->ledger.kernel_why, sizeof(e->ledger.kernel_why),
			 "copy mode (XDP_OPTIONS: no zero-copy): the kernel copies each "
			 "frame UMEM<->skb; derived from the mode, not measured");
	e->ledger.kernel_how = RL_HOW_DERIVED;
}

/* Copy mode: let one sendto send up to tx_budget descriptors (default: the
 * whole tx ring). An older kernel says ENOPROTOOPT and keeps 32. */
void afxdp_set_tx_budget(struct rl_engine *e)
{
	uint32_t want = e->o.tx_budget ? e->o.tx_budget : e->o.tx_size, got = 0;
	socklen_t len = sizeof(got);
	int fd = xsk_socket__fd(e->xsk);

	e->tx_budget = KERNEL_TX_BATCH;
	if (e->zerocopy || want <= KERNEL_TX_BATCH)
		return;
	if (want > e->o.tx_size)
		want = e->o.tx_size;
	if (setsockopt(fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &want, sizeof(want)) < 0)
		return;
	e->tx_budget = want;
	if (getsockopt(fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &got, &len) == 0 && got)
		e->tx_budget = got;
}

static int bind_socket(struct rl_engine *e, struct rl_err *err)
{
	int rc;

	if (e->o.mode == AFXDP_COPY || e->o.mode == AFXDP_ZEROCOPY) {
		bool zc = e->o.mode == AFXDP_ZEROCOPY;

		if ((rc = socket_create_patient(e, zc, err)))
			return bind_error(e, rc, zc, err);
		snprintf(e->mode_why, sizeof(e->mode_why), "asked for mode=%s",
			 zc ? "zerocopy" : "copy");
		return 0;
	}
	rc = socket_create_patient(e, true, err);
	if (rc == 0) {
		snprintf(e->mode_why, sizeof(e->mode_why),
			 "mode=auto: the zero-copy bind worked (%s supports it)", e->o.ifname);
		return 0;
	}
	snprintf(e->mode_why, sizeof(e->mode_why),
		 "mode=auto: the zero-copy bind failed (%s: %s), so copy mode",
		 rc == -EOPNOTSUPP ? "EOPNOTSUPP" : "error", strerror(-rc));
	if ((rc = umem_recreate(e, err)) < 0)
		return rc;
	if ((rc = socket_create_patient(e, false, err)))
		return bind_error(e, rc, false, err);
	return 0;
}

/* Queue index k > 0: a socket on the same UMEM, its rings parked in
 * socks[k]. The kernel takes the mode (copy or zero-copy) and need_wakeup
 * from the first socket; it refuses them as bind flags of a shared one. */
static int bind_shared(struct rl_engine *e, unsigned k, struct rl_err *err)
{
	struct afxdp_sock *s = &e->socks[k];
	struct xsk_socket_config cfg = {
		.rx_size = e->o.rx_size,
		.tx_size = e->o.tx_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = (uint16_t)(e->o.sg ? XDP_USE_SG : 0),
	};
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	uint32_t q = e->o.qids[k];
	int rc;

	rc = xsk_socket__create_shared(&s->xsk, e->o.ifname, q, e->umem, &s->rx, &s->tx,
				       &s->fill, &s->comp, &cfg);
	for (int i = 0; rc == -EBUSY && i < 100; i++) { /* a queue just closed */
		nanosleep(&pause, NULL);
		rc = xsk_socket__create_shared(&s->xsk, e->o.ifname, q, e->umem, &s->rx,
					       &s->tx, &s->fill, &s->comp, &cfg);
	}
	if (rc) {
		s->xsk = NULL;
		if (rc == -EINVAL)
			return rl_err_set(err, EINVAL, "cannot bind a second AF_XDP socket to "
					  "queue %u of %s on the shared UMEM: %s (does %s have "
					  "%u queues? ethtool -l %s)", q, e->o.ifname,
					  strerror(-rc), e->o.ifname, q + 1, e->o.ifname);
		if (rc == -EBUSY)
			return rl_err_set(err, EBUSY, "queue %u of %s already has an AF_XDP "
					  "socket (another ringlab?) - close it, or open other "
					  "queues", q, e->o.ifname);
		return rl_err_set(err, -rc, "cannot bind an AF_XDP socket to %s queue %u "
				  "(shared UMEM): %s - %s", e->o.ifname, q, strerror(-rc),
				  afxdp_lib_msg());
	}
	e->nsocks = k + 1;
	if ((rc = shadow_init(&s->fillq, e->o.fill_size, *s->fill.producer, err)) < 0 ||
	    (rc = shadow_init(&s->txq, e->o.tx_size, *s->tx.producer, err)) < 0)
		return rc;
	s->rx_seen = *s->rx.consumer;
	s->comp_seen = *s->comp.consumer;
	afxdp_use(e, k);
	afxdp_set_tx_budget(e);
	afxdp_use(e, 0);
	return 0;
}

void afxdp_socket_close(struct rl_engine *e)
{
	if (e->nsocks > 1)
		afxdp_use(e, 0); /* the first socket in the fields, the rest parked */
	for (unsigned k = 1; k < e->nsocks; k++) {
		struct afxdp_sock *s = &e->socks[k];

		if (s->xsk)
			xsk_socket__delete(s->xsk);
		free(s->fillq.d);
		free(s->txq.d);
		memset(s, 0, sizeof(*s));
	}
	e->nsocks = 0;
	e->cur = 0;
	if (e->xsk)
		xsk_socket__delete(e->xsk);
	e->xsk = NULL;
	if (e->umem)
		xsk_umem__delete(e->umem);
	e->umem = NULL;
	if (e->have_region)
		rl_region_fini(&e->region);
	e->have_region = false;
	if (e->mem)
		munmap(e->mem, e->mem_len);
	e->mem = NULL;
	free(e->fillq.d);
	free(e->txq.d);
	e->fillq.d = e->txq.d = NULL;
	free(e->span);
	e->span = NULL;
	free(e->txside);
	e->txside = NULL;
}

static int make_region(struct rl_engine *e, const struct rl_region_params *p,
		       struct rl_err *err)
{
	int rc;

	if ((rc = rl_region_params_check(p, err)) < 0 || (rc = check_frame_size(p, err)) < 0)
		return rc;
	if ((rc = map_memory(e, p, err)) < 0)
		return rc;
	if ((rc = rl_region_init(&e->region, p, e->mem, err)) < 0)
		return rc;
	e->have_region = true;
	e->region.ledger = &e->ledger;
	if ((e->o.unaligned && !(e->span = calloc(p->frames, sizeof(*e->span)))) ||
	    (!e->o.unaligned && !(e->txside = calloc(p->frames, 1))))
		return rl_err_set(err, ENOMEM, "no memory to track %u frames - use "
				  "fewer frames", p->frames);
	return 0;
}

int afxdp_region(struct rl_engine *e, const struct rl_region_params *p,
		 struct rl_region **out, struct rl_err *err)
{
	int rc;

	if (e->have_region)
		return rl_err_set(err, EEXIST, "this afxdp engine already has its region "
				  "(the UMEM is registered once) - open another engine for "
				  "another region");
	if ((rc = make_region(e, p, err)) < 0 || (rc = umem_create(e, err)) < 0 ||
	    (rc = bind_socket(e, err)) < 0)
		goto fail;
	read_mode(e);
	afxdp_set_tx_budget(e);
	if ((rc = shadow_init(&e->fillq, e->o.fill_size, *e->fill.producer, err)) < 0 ||
	    (rc = shadow_init(&e->txq, e->o.tx_size, *e->tx.producer, err)) < 0)
		goto fail;
	e->rx_seen = *e->rx.consumer;
	e->comp_seen = *e->comp.consumer;
	e->nsocks = 1;
	for (unsigned k = 1; k < e->o.nq; k++)
		if ((rc = bind_shared(e, k, err)) < 0)
			goto fail;
	if ((rc = afxdp_prog_attach(e, err)) < 0 || (rc = afxdp_prog_bind(e, err)) < 0)
		goto fail;
	*out = &e->region;
	return 0;
fail:
	afxdp_prog_detach(e);
	afxdp_socket_close(e);
	return rc;
}
