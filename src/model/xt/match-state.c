/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The old -m state (revision 0): struct xt_state_info of xt_state.c,
 * printed as libxt_state's state_save() (iptables keeps it with
 * libxt_conntrack). iptables 1.8 writes "-m state" as conntrack instead. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_state.h>

static bool state_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_state_info s;

	XT_LOAD(s, info, size);
	d->state.statemask = s.statemask;
	return true;
}

/* state_mt(): the "!" is folded into the mask by iptables */
static enum tri state_match(const struct xt_decoded *m, const struct cg_packet *pkt,
			    const struct cg_addr_env *env)
{
	return tri_of(m->state.statemask & xt_ct_statebit(pkt, XT_STATE_UNTRACKED));
}

/* state_save(): no separator before the first state. It names UNTRACKED
 * by the conntrack match's bit (8), not xt_state's (6): iptables does. */
static void state_print(FILE *f, const struct xt_decoded *d)
{
	fputs(" --state ", f);
	xt_print_ct_states(f, d->state.statemask & ~(uint32_t)(XT_CONNTRACK_STATE_SNAT | XT_CONNTRACK_STATE_DNAT),
			   "");
}

static void state_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u32(c, d->state.statemask);
}

static const struct xt_ext_form forms[] = {
	{ "state", XT_MATCH_STATE, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_state_info), state_decode },
};

const struct xt_ext xt_match_state = {
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(state),
	.match = state_match,
	.print = state_print,
	.ident = state_ident,
};
