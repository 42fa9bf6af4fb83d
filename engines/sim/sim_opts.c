/*
 * sim_opts.c - the simulator's key=value options, checked one by one.
 *
 * Every option has a default, so lab.open("sim") needs none. A key the
 * simulator does not know, or a value it cannot use, fails the open with a
 * sentence naming the key and what would work; the accepted keys are also
 * listed, one line each, in the ops table's `options` (sim.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define SIM_DEFAULT_RING 2048u
#define SIM_DEFAULT_WIRE 4096u
#define SIM_WIRE_MAX     65536u

#define SIM_KEYS                                                                         \
	"mode=copy|zerocopy|auto, need_wakeup=true|false, ring_size=N, "                 \
	"fill_size=N, comp_size=N, rx_size=N, tx_size=N, step=true|false, "              \
	"wire_capacity=N, loss=N, reorder=N, tso=true|false, gso=true|false, "           \
	"csum=true|false, unaligned=true|false, personality=afxdp|netmap, "          \
	"pool=NAME, buffers=N, buf_size=N"

#define SIM_NETMAP_RING 256u /* personality=netmap: slots per ring */

static int parse_bool(const char *key, const char *val, bool *out, struct rl_err *err)
{
	if (val && strcmp(val, "true") == 0) {
		*out = true;
		return 0;
	}
	if (val && strcmp(val, "false") == 0) {
		*out = false;
		return 0;
	}
	return rl_err_set(err, EINVAL,
	                  "%s=%s is not understood - use %s=true or %s=false", key,
	                  val ? val : "", key, key);
}

/* A decimal number in min..max, a power of two if pow2. */
static int parse_u32(const char *key, const char *val, uint32_t min, uint32_t max,
                     bool pow2, uint32_t *out, struct rl_err *err)
{
	char *end = NULL;
	unsigned long long v;

	if (!val || !*val || *val == '-' || *val == '+')
		goto bad;
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || *end || v < min || v > max || (pow2 && (v & (v - 1))))
		goto bad;
	*out = (uint32_t)v;
	return 0;
bad:
	return rl_err_set(err, EINVAL, "%s=%s is not accepted - use %s from %u to %u%s",
	                  key, val ? val : "", pow2 ? "a power of two" : "a number", min,
	                  max, pow2 ? " (e.g. 2048)" : "");
}

static int parse_mode(const char *val, struct sim_opts *o, struct rl_err *err)
{
	o->autoselect = false;
	if (val && strcmp(val, "copy") == 0) {
		o->zerocopy = false;
	} else if (val && strcmp(val, "zerocopy") == 0) {
		o->zerocopy = true;
	} else if (val && strcmp(val, "auto") == 0) {
		o->zerocopy = true;
		o->autoselect = true;
	} else {
		return rl_err_set(err, EINVAL,
		                  "mode=%s is not understood - use mode=copy, "
		                  "mode=zerocopy or mode=auto",
		                  val ? val : "");
	}
	return 0;
}

/* One key=value. ring_size is remembered separately so that fill_size and
 * friends win over it whatever their order. */
static int parse_one(const struct rl_kv *kv, struct sim_opts *o, uint32_t *ring_size,
                     uint32_t sizes_set[4], bool have_peer, int *csum_set,
                     struct rl_err *err)
{
	static const char *const ring_keys[4] = {"fill_size", "comp_size", "rx_size",
	                                         "tx_size"};
	uint32_t *ring_fields[4] = {&o->fill_size, &o->comp_size, &o->rx_size,
	                            &o->tx_size};
	const char *k = kv->key ? kv->key : "";

	if (strcmp(k, "mode") == 0)
		return parse_mode(kv->val, o, err);
	if (strcmp(k, "need_wakeup") == 0)
		return parse_bool(k, kv->val, &o->need_wakeup, err);
	if (strcmp(k, "step") == 0)
		return parse_bool(k, kv->val, &o->step, err);
	if (strcmp(k, "ring_size") == 0)
		return parse_u32(k, kv->val, 1, RL_RING_MAX, true, ring_size, err);
	if (strcmp(k, "loss") == 0)
		return parse_u32(k, kv->val, 0, 1000000, false, &o->loss, err);
	if (strcmp(k, "reorder") == 0)
		return parse_u32(k, kv->val, 0, 1000000, false, &o->reorder, err);
	if (strcmp(k, "tso") == 0)
		return parse_bool(k, kv->val, &o->tso, err);
	if (strcmp(k, "gso") == 0)
		return parse_bool(k, kv->val, &o->gso, err);
	if (strcmp(k, "unaligned") == 0)
		return parse_bool(k, kv->val, &o->unaligned, err);
	if (strcmp(k, "csum") == 0) {
		*csum_set = 1;
		return parse_bool(k, kv->val, &o->csum, err);
	}
	if (strcmp(k, "personality") == 0) {
		if (kv->val && strcmp(kv->val, "netmap") == 0)
			o->netmap = true;
		else if (kv->val && strcmp(kv->val, "afxdp") == 0)
			o->netmap = false;
		else
			return rl_err_set(err, EINVAL,
			                  "personality=%s is not understood - use "
			                  "personality=netmap (netmap's rings) or "
			                  "personality=afxdp (the default)",
			                  kv->val ? kv->val : "");
		return 0;
	}
	if (strcmp(k, "pool") == 0) {
		const char *v = kv->val ? kv->val : "";
		size_t n = strlen(v);

		if (n == 0 || n >= sizeof(o->pool))
			return rl_err_set(err, EINVAL,
			                  "pool=%s is not accepted - give a name of 1 to %zu "
			                  "characters, e.g. pool=fw",
			                  v, sizeof(o->pool) - 1);
		memcpy(o->pool, v, n + 1);
		return 0;
	}
	if (strcmp(k, "buffers") == 0)
		return parse_u32(k, kv->val, 2, RL_REGION_MAX_FRAMES, false, &o->buffers, err);
	if (strcmp(k, "buf_size") == 0)
		return parse_u32(k, kv->val, RL_FRAME_SIZE_MIN, RL_FRAME_SIZE_MAX, true,
		                 &o->buf_size, err);
	if (strcmp(k, "wire_capacity") == 0)
		return parse_u32(k, kv->val, 1, SIM_WIRE_MAX, false, &o->wire_capacity,
		                 err);
	for (int i = 0; i < 4; i++) {
		if (strcmp(k, ring_keys[i]) == 0) {
			sizes_set[i] = 1;
			return parse_u32(k, kv->val, 1, RL_RING_MAX, true, ring_fields[i],
			                 err);
		}
	}
	if (strcmp(k, "peer") == 0 && have_peer)
		return 0; /* the engine itself arrives in args->peer */
	if (strcmp(k, "peer") == 0)
		return rl_err_set(err, EINVAL,
		                  "peer must be another engine opened with "
		                  "lab.open(\"sim\"), not a string");
	return rl_err_set(err, EINVAL, "unknown option '%s' - the sim accepts " SIM_KEYS,
	                  k);
}

int sim_parse_options(const struct rl_open_args *a, struct sim_opts *o,
                      struct rl_err *err)
{
	uint32_t ring_size = 0, set[4] = {0};
	int csum_set = 0;
	uint32_t *sizes[4] = {&o->fill_size, &o->comp_size, &o->rx_size, &o->tx_size};

	memset(o, 0, sizeof(*o));
	o->need_wakeup = true;
	o->wire_capacity = SIM_DEFAULT_WIRE;
	o->gso = true; /* the kernel can always cut in software */
	for (unsigned i = 0; a && i < a->nkv; i++) {
		int rc = parse_one(&a->kv[i], o, &ring_size, set, a->peer != NULL,
		                   &csum_set, err);

		if (rc)
			return rc;
	}
	/* a NIC that cuts writes the segments' checksums too (Linux: TSO
	 * needs checksum offload) */
	if (o->tso && csum_set && !o->csum)
		return rl_err_set(err, EINVAL,
		                  "tso=true with csum=false - a NIC that cuts TCP "
		                  "also fills the checksums: drop csum=false");
	if (o->tso)
		o->csum = true;
	if (!o->netmap && (o->pool[0] || o->buffers || o->buf_size))
		return rl_err_set(err, EINVAL,
		                  "pool=, buffers= and buf_size= belong to netmap's model - "
		                  "add personality=netmap");
	if (o->netmap && !o->zerocopy) { /* the default copy, or mode=copy asked */
		for (unsigned i = 0; a && i < a->nkv; i++)
			if (a->kv[i].key && strcmp(a->kv[i].key, "mode") == 0)
				return rl_err_set(err, EINVAL,
				                  "personality=netmap takes no mode=copy - "
				                  "netmap's NIC uses the pool's buffers "
				                  "directly: drop mode=");
		o->zerocopy = true;
	}
	if (o->netmap && (o->tso || o->csum || o->unaligned))
		return rl_err_set(err, EINVAL,
		                  "personality=netmap takes none of %s - netmap's NIC uses "
		                  "the pool's buffers directly, without offloads",
		                  o->tso ? "tso=true" : o->csum ? "csum=true" : "unaligned=true");
	if (ring_size == 0)
		ring_size = o->netmap ? SIM_NETMAP_RING : SIM_DEFAULT_RING;
	for (int i = 0; i < 4; i++)
		if (!set[i])
			*sizes[i] = ring_size;
	return 0;
}
