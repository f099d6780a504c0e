/* SPDX-License-Identifier: GPL-2.0-or-later */
/* -j CT: struct xt_ct_target_info (revision 0) and _v1 (revisions 1 and 2)
 * of xt_CT.c, and the old NOTRACK target (no payload) that CT --notrack
 * replaced, printed as libxt_CT saves them. */
#include "config.h"

#include "xt-internal.h"

#include <linux/netfilter/xt_CT.h>

/* Revision 0 has no timeout: where revision 1 has it, revision 0's blob
 * ends with the kernel's private pointer. */
_Static_assert(offsetof(struct xt_ct_target_info, helper) == offsetof(struct xt_ct_target_info_v1, helper) &&
	       offsetof(struct xt_ct_target_info_v1, timeout) ==
		       offsetof(struct xt_ct_target_info, helper) + sizeof(((struct xt_ct_target_info *)0)->helper),
	       "xt_ct_target_info and _v1 differ before the timeout");

static bool ct_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	struct xt_ct_target_info_v1 m;

	XT_LOAD(m, info, d->revision == 0 ? offsetof(struct xt_ct_target_info_v1, timeout) : size);
	d->ct.flags = m.flags;
	d->ct.zone = m.zone;
	d->ct.ct_events = m.ct_events;
	d->ct.exp_events = m.exp_events;
	d->ct.helper = xt_field_str(c, (const char *)info + offsetof(struct xt_ct_target_info_v1, helper),
				    sizeof(m.helper));
	d->ct.timeout = d->revision == 0 ? ""
			: xt_field_str(c, (const char *)info + offsetof(struct xt_ct_target_info_v1, timeout),
				       sizeof(m.timeout));
	return true;
}

/* The old NOTRACK target (no payload) did what CT --notrack does now. */
static bool notrack_decode(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c)
{
	d->ct.flags = XT_CT_NOTRACK;
	d->ct.helper = "";
	d->ct.timeout = "";
	return true;
}

/* xt_ct_target(): --notrack attaches the untracked template, so conntrack
 * leaves the packet alone; helpers, zones and timeouts do not change what
 * this packet's verdict is. */
static void ct_apply(const struct xt_decoded *t, struct cg_packet *pkt, struct xt_target_result *res)
{
	if (t->ct.flags & XT_CT_NOTRACK) {
		pkt->ct.state = CG_CT_UNTRACKED;
		res->notrack = true;
	}
}

static void print_events(FILE *f, const char *opt, uint32_t mask, bool exp)
{
	static const char *const ct[] = {
		"new", "related", "destroy", "reply", "assured", "protoinfo",
		"helper", "mark", "natseqinfo", "secmark",
	};

	fprintf(f, " %s ", opt);
	xt_print_bit_names(f, mask, ct, exp ? 1 : ARRAY_SIZE(ct), "");
}

static void ct_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_ct_dec *c = &d->ct;

	if (c->flags & XT_CT_NOTRACK_ALIAS)
		return;
	if (c->flags & XT_CT_NOTRACK)
		fputs(" --notrack", f);
	if (c->helper[0])
		fprintf(f, " --helper %s", c->helper);
	if (c->timeout[0])
		fprintf(f, " --timeout %s", c->timeout);
	if (c->ct_events)
		print_events(f, "--ctevents", c->ct_events, false);
	if (c->exp_events)
		print_events(f, "--expevents", c->exp_events, true);
	if ((c->flags & XT_CT_ZONE_MARK) || c->zone) {
		uint16_t dir = c->flags & (XT_CT_ZONE_DIR_ORIG | XT_CT_ZONE_DIR_REPL);

		fputs(" --zone", f);
		if (dir == XT_CT_ZONE_DIR_ORIG)
			fputs("-orig", f);
		if (dir == XT_CT_ZONE_DIR_REPL)
			fputs("-reply", f);
		if (c->flags & XT_CT_ZONE_MARK)
			fputs(" mark", f);
		else
			fprintf(f, " %u", c->zone);
	}
}

/* ct_print_name_alias() (CT revision 2 only) */
static const char *ct_print_name(const struct xt_decoded *d)
{
	return d->revision == 2 && (d->ct.flags & XT_CT_NOTRACK_ALIAS) ? "NOTRACK" : d->name;
}

static void ct_ident(struct canon *c, const struct xt_decoded *d)
{
	canon_u16(c, d->ct.flags);
	canon_u16(c, d->ct.zone);
	canon_u32(c, d->ct.ct_events);
	canon_u32(c, d->ct.exp_events);
	canon_str(c, d->ct.helper);
	canon_str(c, d->ct.timeout);
}

static const struct xt_ext_form forms[] = {
	{ "CT",      XT_TARGET_CT, 0, 0, NFPROTO_UNSPEC, sizeof(struct xt_ct_target_info), ct_decode },
	{ "CT",      XT_TARGET_CT, 1, 2, NFPROTO_UNSPEC, sizeof(struct xt_ct_target_info_v1), ct_decode },
	{ "NOTRACK", XT_TARGET_CT, 0, 0, NFPROTO_UNSPEC, 0, notrack_decode },
};

const struct xt_ext xt_target_ct = {
	.target = true,
	.forms = forms, .n_forms = ARRAY_SIZE(forms),
	.value_size = XT_VALUE_SIZE(ct),
	.apply = ct_apply,
	.print = ct_print,
	.print_name = ct_print_name,
	.ident = ct_ident,
};
