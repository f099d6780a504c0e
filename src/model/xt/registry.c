/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The x_tables extensions cgnatcheck knows, by the kind of value each
 * decodes to, and the entry points of xt.h that dispatch through them.
 *
 * Each known (name, revision, family) has the size of the kernel struct it
 * carries; a blob of any other length is refused, so nothing ever reads
 * past what the kernel (or a hostile dump) handed over. */
#include "config.h"

/* glibc before any <linux/...> header: both define ifreq, in_addr... */
#include <net/if.h>
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <pthread.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/xt-ext.h"

/* match-*.c and target-*.c */
extern const struct xt_ext xt_match_tcpudp, xt_match_icmp, xt_match_multiport, xt_match_conntrack,
	xt_match_state, xt_match_mark, xt_match_comment, xt_match_addrtype, xt_match_iprange,
	xt_match_pkttype, xt_match_set, xt_match_statistic, xt_match_limit;
extern const struct xt_ext xt_target_standard, xt_target_reject, xt_target_mark, xt_target_connmark,
	xt_target_nat, xt_target_log, xt_target_nflog, xt_target_trace, xt_target_ct;
extern const struct xt_ext xt_match_length, xt_match_ttl, xt_match_tos, xt_match_exthdr6, xt_match_devgroup,
	xt_match_owner, xt_target_continue, xt_match_physdev, xt_match_mac;

const struct xt_ext *const xt_registry[XT_KIND_COUNT] = {
	[XT_MATCH_TCP] = &xt_match_tcpudp,
	[XT_MATCH_UDP] = &xt_match_tcpudp,
	[XT_MATCH_ICMP] = &xt_match_icmp,
	[XT_MATCH_ICMP6] = &xt_match_icmp,
	[XT_MATCH_MULTIPORT] = &xt_match_multiport,
	[XT_MATCH_CONNTRACK] = &xt_match_conntrack,
	[XT_MATCH_STATE] = &xt_match_state,
	[XT_MATCH_MARK] = &xt_match_mark,
	[XT_MATCH_CONNMARK] = &xt_match_mark,
	[XT_MATCH_COMMENT] = &xt_match_comment,
	[XT_MATCH_ADDRTYPE] = &xt_match_addrtype,
	[XT_MATCH_IPRANGE] = &xt_match_iprange,
	[XT_MATCH_PKTTYPE] = &xt_match_pkttype,
	[XT_MATCH_SET] = &xt_match_set,
	[XT_MATCH_STATISTIC] = &xt_match_statistic,
	[XT_MATCH_LIMIT] = &xt_match_limit,
	[XT_TARGET_STANDARD] = &xt_target_standard,
	[XT_TARGET_REJECT] = &xt_target_reject,
	[XT_TARGET_MARK] = &xt_target_mark,
	[XT_TARGET_CONNMARK] = &xt_target_connmark,
	[XT_TARGET_DNAT] = &xt_target_nat,
	[XT_TARGET_SNAT] = &xt_target_nat,
	[XT_TARGET_MASQUERADE] = &xt_target_nat,
	[XT_TARGET_REDIRECT] = &xt_target_nat,
	[XT_TARGET_LOG] = &xt_target_log,
	[XT_TARGET_NFLOG] = &xt_target_nflog,
	[XT_TARGET_TRACE] = &xt_target_trace,
	[XT_TARGET_CT] = &xt_target_ct,
	[XT_MATCH_LENGTH] = &xt_match_length,
	[XT_MATCH_TTL] = &xt_match_ttl,
	[XT_MATCH_TOS] = &xt_match_tos,
	[XT_MATCH_EXTHDR6] = &xt_match_exthdr6,
	[XT_MATCH_DEVGROUP] = &xt_match_devgroup,
	[XT_MATCH_OWNER] = &xt_match_owner,
	[XT_TARGET_CONTINUE] = &xt_target_continue,
	[XT_MATCH_PHYSDEV] = &xt_match_physdev,
	[XT_MATCH_MAC] = &xt_match_mac,
};

static const struct xt_ext *ext_of(const struct xt_decoded *d)
{
	return (unsigned)d->kind < XT_KIND_COUNT ? xt_registry[d->kind] : NULL;
}

struct form_key {
	bool target;
	const char *name;
	uint8_t revision, nfproto;
	bool any_form;              /* the name alone (xt_known_name()) */
};


/* Every form of every extension in one flat list, in registry order, built
 * once: a collector asks for each match and target of every rule (a
 * kube-proxy node: a million asks), and a walk over one array with
 * form_is()'s first-letter test costs a few compares per ask, where a walk
 * through the registry's extensions and their forms cost several times more. */
struct form_ref {
	const char *name;           /* the form's, inline: the walk reads no further */
	bool target;
	uint8_t rev_min, rev_max, family;
	const struct xt_ext_form *fm;
	const struct xt_ext *x;
};

static struct form_ref *form_list;
static size_t n_form_list;
static pthread_once_t form_list_once = PTHREAD_ONCE_INIT;

/* Each extension once: kinds that share one are listed next to each other. */
static bool ext_first(size_t kind)
{
	const struct xt_ext *x = xt_registry[kind];

	return x && !(kind > 0 && x == xt_registry[kind - 1]);
}

static void form_list_build(void)
{
	size_t n = 0;

	for (size_t kind = 0; kind < XT_KIND_COUNT; kind++)
		if (ext_first(kind))
			n += xt_registry[kind]->n_forms;
	form_list = xcalloc(n ? n : 1, sizeof(*form_list));
	for (size_t kind = 0; kind < XT_KIND_COUNT; kind++) {
		const struct xt_ext *x = xt_registry[kind];

		if (!ext_first(kind))
			continue;
		for (size_t i = 0; i < x->n_forms; i++)
			form_list[n_form_list++] = (struct form_ref){
				.name = x->forms[i].name, .target = x->target, .rev_min = x->forms[i].rev_min,
				.rev_max = x->forms[i].rev_max, .family = x->forms[i].family,
				.fm = &x->forms[i], .x = x,
			};
	}
}

static bool form_is(const struct form_ref *r, const struct form_key *k)
{
	/* called per match of every rule: skip strcmp() when it cannot match */
	if (r->target != k->target || r->name[0] != k->name[0] ||
	    (r->name != k->name && strcmp(r->name, k->name) != 0))
		return false;
	if (k->any_form)
		return true;
	if (k->revision < r->rev_min || k->revision > r->rev_max)
		return false;
	return r->family == NFPROTO_UNSPEC || r->family == k->nfproto;
}

/* The form k names (the first in registry order), and its extension in *xp. */
static const struct xt_ext_form *form_find(const struct form_key *k, const struct xt_ext **xp)
{
	pthread_once(&form_list_once, form_list_build);
	for (size_t i = 0; i < n_form_list; i++) {
		if (form_is(&form_list[i], k)) {
			*xp = form_list[i].x;
			return form_list[i].fm;
		}
	}
	return NULL;
}

const char *xt_known_name(bool target, const char *name)
{
	struct form_key k = { .target = target, .name = name, .any_form = true };
	const struct xt_ext *x;
	const struct xt_ext_form *fm = form_find(&k, &x);

	return fm ? fm->name : NULL;
}

/* The kernel stores XT_ALIGN(size) bytes (legacy entries, nft_compat dumps);
 * a producer that did not pad sends exactly size. Anything else is not this
 * struct. */
static bool len_ok(uint32_t len, uint32_t size)
{
	return len == size || len == XT_ALIGN(size);
}

static const struct xt_decoded *decode(struct arena *a, bool own_strings, bool target, const char *name,
				       uint8_t revision, uint8_t nfproto, const void *info, uint32_t len)
{
	struct xt_dec_ctx ctx = { .arena = a, .own_strings = own_strings };
	struct form_key k = { .target = target, .name = name, .revision = revision, .nfproto = nfproto };
	const struct xt_ext_form *fm;
	const struct xt_ext *x = NULL;
	struct xt_decoded *d;

	if (!name)
		return NULL;
	if (nfproto != NFPROTO_IPV4 && nfproto != NFPROTO_IPV6) {
		log_debug("xt %s '%s': family %u is not IPv4/IPv6, not decoded",
			  target ? "target" : "match", name, nfproto);
		return NULL;
	}
	fm = form_find(&k, &x);
	if (!fm) {
		log_debug("xt %s '%s' revision %u (%s): not supported, evaluates as unknown",
			  target ? "target" : "match", name, revision,
			  nfproto == NFPROTO_IPV6 ? "ip6" : "ip");
		return NULL;
	}
	if (!len_ok(len, fm->size) || (len && !info)) {
		log_debug("xt %s '%s' revision %u: %u bytes of info, the kernel's struct has %u (%u aligned); ignored",
			  target ? "target" : "match", name, revision, len, fm->size,
			  (unsigned)XT_ALIGN(fm->size));
		return NULL;
	}

	/* Only the union member this extension uses is allocated: a ruleset
	 * of 300k rules holds a million of these. */
	d = arena_alloc(a, offsetof(struct xt_decoded, tcpudp) + x->value_size);
	d->kind = fm->kind;
	d->target = target;
	d->revision = revision;
	d->nfproto = nfproto;
	d->name = fm->name;
	if (!fm->decode(d, info, fm->size, &ctx)) {
		log_debug("xt %s '%s' revision %u: values the kernel would refuse; ignored",
			  target ? "target" : "match", name, revision);
		return NULL;     /* the arena keeps the bytes until the ruleset goes */
	}
	return d;
}

const struct xt_decoded *xt_decode(struct arena *a, bool target, const char *name, uint8_t revision,
				   uint8_t nfproto, const void *info, uint32_t len)
{
	return decode(a, false, target, name, revision, nfproto, info, len);
}

const struct xt_decoded *xt_decode_owned(struct arena *a, bool target, const char *name, uint8_t revision,
					 uint8_t nfproto, const void *info, uint32_t len)
{
	return decode(a, true, target, name, revision, nfproto, info, len);
}

enum tri xt_match(const struct xt_decoded *m, const struct cg_packet *pkt,
		  const struct cg_addr_env *env)
{
	const struct xt_ext *x;

	if (!m || m->target)
		return TRI_UNKNOWN;
	x = ext_of(m);
	return x && x->match ? x->match(m, pkt, env) : TRI_UNKNOWN;
}

int xt_target_apply(const struct xt_decoded *t, struct cg_packet *pkt, struct xt_target_result *res)
{
	const struct xt_ext *x;

	memset(res, 0, sizeof(*res));
	if (!t)
		return -EOPNOTSUPP;
	if (!t->target || t->kind == XT_TARGET_STANDARD)
		return -EINVAL;
	x = ext_of(t);
	if (!x || !x->apply)
		return -EOPNOTSUPP;
	x->apply(t, pkt, res);
	return 0;
}

void xt_print(FILE *f, const struct xt_decoded *d)
{
	const struct xt_ext *x = ext_of(d);

	fprintf(f, " -%c %s", d->target ? 'j' : 'm', x && x->print_name ? x->print_name(d) : d->name);
	if (x && x->print)
		x->print(f, d);
	else
		fputs(" /* unsupported */", f);
}

bool xt_has_printer(const struct xt_decoded *d)
{
	const struct xt_ext *x = d ? ext_of(d) : NULL;

	return x && x->print;
}

const void *xt_kept_blob(const struct xt_decoded *d, uint32_t *len)
{
	const struct xt_ext *x = d ? ext_of(d) : NULL;

	*len = 0;
	if (!x || x->print)
		return NULL;
	*len = d->fields.raw_len;
	return d->fields.raw;
}
