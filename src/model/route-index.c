/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The routing state's index, built once the state is complete
 * (route_state_finalize()): the lookups by key (links, nexthop objects,
 * neighbours) and the routes by table, prefix length and prefix, as the
 * route lookup asks for them. */
#include "config.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/hash.h"
#include "cgnatcheck/route-index.h"
#include "cgnatcheck/route.h"

void route_index_free(struct route_index *ix)
{
	if (!ix)
		return;
	free(ix->tables);
	free(ix->slots);
	free(ix->members);
	for (int f = 0; f < 2; f++) {
		free(ix->rules[f]);
		free(ix->goto_pos[f]);
	}
	free(ix->links_by_index);
	free(ix->nhobjs_by_id);
	free(ix->neighs_sorted);
	free(ix);
}

/* ---- lookups by key ------------------------------------------------------ */

const struct route_link *route_state_link(const struct route_state *st, int ifindex)
{
	const struct route_index *ix = st->index;

	if (ix && ix->links_by_index) {
		size_t lo = 0, hi = st->n_links;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			const struct route_link *l = &st->links[ix->links_by_index[mid]];
			if (l->ifindex == ifindex)
				return l;
			if (l->ifindex < ifindex)
				lo = mid + 1;
			else
				hi = mid;
		}
		return NULL;
	}
	for (size_t i = 0; i < st->n_links; i++)
		if (st->links[i].ifindex == ifindex)
			return &st->links[i];
	return NULL;
}

const struct route_link *route_state_link_by_name(const struct route_state *st, const char *name)
{
	for (size_t i = 0; i < st->n_links; i++)
		if (strcmp(st->links[i].name, name) == 0)
			return &st->links[i];
	return NULL;
}

const struct route_nhobj *route_state_nhobj(const struct route_state *st, uint32_t id)
{
	const struct route_index *ix = st->index;

	if (ix && ix->nhobjs_by_id) {
		size_t lo = 0, hi = st->n_nhobjs;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			const struct route_nhobj *o = &st->nhobjs[ix->nhobjs_by_id[mid]];
			if (o->id == id)
				return o;
			if (o->id < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		return NULL;
	}
	for (size_t i = 0; i < st->n_nhobjs; i++)
		if (st->nhobjs[i].id == id)
			return &st->nhobjs[i];
	return NULL;
}

static int neigh_cmp(const struct route_neigh *a, int ifindex, const struct cg_addr *addr)
{
	if (a->ifindex != ifindex)
		return a->ifindex < ifindex ? -1 : 1;
	if (a->family != addr->family)
		return a->family < addr->family ? -1 : 1;
	return memcmp(a->addr.bytes, addr->bytes, 16);
}

const struct route_neigh *route_state_neigh(const struct route_state *st, int ifindex,
					    const struct cg_addr *addr)
{
	const struct route_index *ix = st->index;

	if (ix && ix->neighs_sorted) {
		size_t lo = 0, hi = st->n_neighs;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			const struct route_neigh *n = &st->neighs[ix->neighs_sorted[mid]];
			int c = neigh_cmp(n, ifindex, addr);
			if (c == 0)
				return n;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return NULL;
	}
	for (size_t i = 0; i < st->n_neighs; i++)
		if (neigh_cmp(&st->neighs[i], ifindex, addr) == 0)
			return &st->neighs[i];
	return NULL;
}

/* ---- the index ----------------------------------------------------------- */

static uint64_t node_hash(uint32_t table, unsigned len, const uint8_t key[16])
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	return hash_mix64(a ^ hash_mix64(b ^ ((uint64_t)table << 8 | len)));
}

static void masked_key(const struct cg_addr *addr, unsigned len, uint8_t key[16])
{
	struct cg_addr a = *addr;

	addr_mask(&a, len);
	memset(key, 0, 16);
	memcpy(key, a.bytes, addr_family_len(a.family));
}

/* Whether route e is in node (table t, len, key). */
static bool route_in_node(const struct route_entry *e, const struct route_table_info *t, unsigned len,
			  const uint8_t key[16])
{
	if (e->dst_len != len || e->table != t->id || e->family != t->family)
		return false;
	return e->family == AF_INET ? memcmp(e->dst, key, 4) == 0 : memcmp(e->dst, key, 16) == 0;
}

static uint64_t index_hash(const struct route_index *ix, const struct route_table_info *t, unsigned len,
			   const uint8_t key[16])
{
	return node_hash((uint32_t)(t - ix->tables), len, key);
}

/* The slot of node (t, len, key) of hash h: its own, or the empty one it
 * would take. */
static struct route_slot *index_probe(const struct route_state *st, const struct route_index *ix,
				      const struct route_table_info *t, unsigned len, const uint8_t key[16],
				      uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32);

	for (size_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
		struct route_slot *s = &ix->slots[i];
		if (!s->pos)
			return s;
		if (s->tag == tag && route_in_node(&st->routes[route_index_member(ix, s->pos - 1)], t, len, key))
			return s;
	}
}

size_t route_index_find(const struct route_state *st, const struct route_table_info *t,
			unsigned len, const struct cg_addr *addr, uint32_t *first)
{
	const struct route_index *ix = st->index;
	const struct route_slot *s;
	uint8_t key[16];
	size_t n = 1;

	if (!ix->slots)
		return 0;
	masked_key(addr, len, key);
	s = index_probe(st, ix, t, len, key, index_hash(ix, t, len, key));
	if (!s->pos)
		return 0;
	*first = s->pos - 1;
	while (!(st->routes[route_index_member(ix, *first + (uint32_t)n - 1)].index_flags & ROUTE_F_NODE_END))
		n++;
	return n;
}

const struct route_table_info *route_index_table(const struct route_index *ix, int family,
						 uint32_t id)
{
	for (size_t i = 0; i < ix->n_tables; i++)
		if (ix->tables[i].family == family && ix->tables[i].id == id)
			return &ix->tables[i];
	return NULL;
}

static struct route_table_info *index_table_get(struct route_index *ix, size_t *cap, int family,
						uint32_t id)
{
	for (size_t i = 0; i < ix->n_tables; i++)
		if (ix->tables[i].family == family && ix->tables[i].id == id)
			return &ix->tables[i];
	grow_array((void **)&ix->tables, cap, ix->n_tables + 1, sizeof(*ix->tables));
	ix->tables[ix->n_tables] = (struct route_table_info){ .family = family, .id = id };
	return &ix->tables[ix->n_tables++];
}

static bool same_node(const struct route_entry *a, const struct route_entry *b)
{
	if (a->family != b->family || a->table != b->table || a->dst_len != b->dst_len)
		return false;
	return a->family == AF_INET ? memcmp(a->dst, b->dst, 4) == 0 : memcmp(a->dst, b->dst, 16) == 0;
}

/* qsort has no context argument; the comparison needs the routes. */
static const struct route_state *sort_state;

/* By node (family, table, length, prefix), then in dump order. */
static int cmp_route_prefix(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	const struct route_entry *ra = &sort_state->routes[a], *rb = &sort_state->routes[b];
	int c;

	if (ra->family != rb->family)
		return ra->family < rb->family ? -1 : 1;
	if (ra->table != rb->table)
		return ra->table < rb->table ? -1 : 1;
	if (ra->dst_len != rb->dst_len)
		return ra->dst_len < rb->dst_len ? -1 : 1;
	c = memcmp(ra->dst, rb->dst, ra->family == AF_INET ? 4 : 16);
	if (c)
		return c;
	return a < b ? -1 : a > b; /* dump order: the kernel's order within a prefix */
}

/* A node on its way into the hash: its first route's position in members
 * order, its table and hash. */
struct index_pending {
	uint32_t pos;
	const struct route_table_info *t;
	uint64_t h;
};

static void node_key(const struct route_entry *e, uint8_t key[16])
{
	memset(key, 0, 16);
	memcpy(key, e->dst, e->family == AF_INET ? 4 : 16);
}

/* False when the node is in the hash already. */
static bool index_add(struct route_state *st, struct route_index *ix, const struct index_pending *p)
{
	const struct route_entry *a = &st->routes[route_index_member(ix, p->pos)];
	struct route_slot *s;
	uint8_t key[16];

	node_key(a, key);
	s = index_probe(st, ix, p->t, a->dst_len, key, p->h);
	if (s->pos)
		return false;
	s->tag = (uint32_t)(p->h >> 32);
	s->pos = p->pos + 1;
	return true;
}

/* Puts every node in the hash, walking the routes in members order; marks
 * each node's last route. False when a node comes a second time (its
 * routes are not all together). The slots are random accesses into a
 * table larger than the caches: each node's is prefetched a few nodes
 * before it is filled. */
static bool index_fill(struct route_state *st, struct route_index *ix)
{
	enum { AHEAD = 16 };
	struct index_pending ring[AHEAD];
	const struct route_table_info *t = NULL;
	size_t n = st->n_routes, head = 0, n_pending = 0;

	for (size_t i = 0; i < n;) {
		const struct route_entry *a = &st->routes[route_index_member(ix, (uint32_t)i)];
		uint8_t key[16];
		uint64_t h;
		size_t j = i + 1;

		while (j < n && same_node(a, &st->routes[route_index_member(ix, (uint32_t)j)]))
			j++;
		st->routes[route_index_member(ix, (uint32_t)(j - 1))].index_flags |= ROUTE_F_NODE_END;
		if (!t || t->family != a->family || t->id != a->table)
			t = route_index_table(ix, a->family, a->table);
		node_key(a, key);
		h = index_hash(ix, t, a->dst_len, key);
		__builtin_prefetch(&ix->slots[h & ix->mask], 1);
		if (n_pending == AHEAD) {
			if (!index_add(st, ix, &ring[head]))
				return false;
			head = (head + 1) % AHEAD;
			n_pending--;
		}
		ring[(head + n_pending++) % AHEAD] = (struct index_pending){ (uint32_t)i, t, h };
		i = j;
	}
	for (; n_pending; n_pending--, head = (head + 1) % AHEAD)
		if (!index_add(st, ix, &ring[head]))
			return false;
	return true;
}

static bool v4_multicast_route(const struct route_entry *e)
{
	return e->family == AF_INET && e->dst_len >= 4 && (e->dst[0] & 0xf0) == 0xe0;
}

/* What the index passes after index_build_routes() need to know. */
struct route_census {
	size_t v4_multicast;     /* IPv4 routes to multicast space */
	bool v6_nh;              /* IPv6 routes using nexthop objects */
};

/* Checks and masks the routes, clears their index flags, fills the table
 * infos, then the prefix hash: in dump order when that keeps each node's
 * routes together (the kernel dumps them so), else in a sorted members
 * array. */
static int index_build_routes(struct route_state *st, struct route_index *ix, struct route_census *c)
{
	size_t cap = 0, n = st->n_routes, n_runs = 0, slots = 16;
	struct route_table_info *t = NULL;

	*c = (struct route_census){ 0 };
	if (n >= UINT32_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		struct route_entry *e = &st->routes[i];
		const struct route_extra *x = route_entry_extra(st, e);
		struct cg_addr dst;

		if (e->family != AF_INET && e->family != AF_INET6)
			return -EAFNOSUPPORT;
		if (e->dst_len > addr_family_bits(e->family))
			return -EINVAL;
		e->index_flags = 0;
		dst = route_entry_dst(e).addr;
		addr_mask(&dst, e->dst_len);
		memcpy(e->dst, dst.bytes, sizeof(e->dst));
		if (!t || t->family != e->family || t->id != e->table)
			t = index_table_get(ix, &cap, e->family, e->table);
		t->lens[e->dst_len / 64] |= 1ULL << (e->dst_len % 64);
		t->n_routes++;
		if (e->dst_len == 0)
			t->n_default++;
		if (x && x->src.len)
			t->has_src_routes = true;
		if (e->protocol != RTPROT_KERNEL)
			t->has_custom = true;
		if (x && x->realm)
			ix->tclassid_users = true;
		if (e->tos)
			ix->has_tos[route_family_slot(e->family)] = true;
		c->v4_multicast += v4_multicast_route(e);
		c->v6_nh |= e->family == AF_INET6 && e->nh_id;
		if (i == 0 || !same_node(&st->routes[i - 1], e))
			n_runs++;
	}
	while (slots < n_runs * 2)
		slots *= 2;
	ix->slots = xcalloc(slots, sizeof(*ix->slots));
	ix->mask = slots - 1;
	if (index_fill(st, ix))
		return 0;

	/* Some node's routes are apart: group them by sorting. */
	memset(ix->slots, 0, slots * sizeof(*ix->slots));
	ix->members = xcalloc(n, sizeof(uint32_t));
	for (size_t i = 0; i < n; i++) {
		st->routes[i].index_flags &= (uint8_t)~ROUTE_F_NODE_END;
		ix->members[i] = (uint32_t)i;
	}
	sort_state = st;
	qsort(ix->members, n, sizeof(uint32_t), cmp_route_prefix);
	sort_state = NULL;
	return index_fill(st, ix) ? 0 : -EINVAL;
}

static bool rule_is_plain_lookup(const struct route_rule *r, uint32_t pref, uint32_t table)
{
	return r->priority == pref && r->action == FR_ACT_TO_TBL && r->table == table &&
	       !(r->flags & FIB_RULE_INVERT) && !r->src.len && !r->dst.len && !r->tos &&
	       !r->dscp_set && !r->flowlabel_set && !r->iif[0] && !r->oif[0] && !r->fwmask &&
	       r->suppress_prefixlen == -1 && r->suppress_ifgroup == -1 && !r->uid_set &&
	       !r->ipproto && !r->sport.start && !r->sport.end && !r->dport.start && !r->dport.end &&
	       !r->l3mdev && !r->tun_id;
}

static void index_build_rules(struct route_state *st, struct route_index *ix)
{
	for (size_t i = 0; i < st->n_rules; i++) {
		struct route_rule *r = &st->rules[i];
		const struct route_link *l;
		int f = route_family_slot(r->family);

		ix->rules[f] = xreallocarray(ix->rules[f], ix->n_rules[f] + 1, sizeof(uint32_t));
		ix->rules[f][ix->n_rules[f]++] = (uint32_t)i;
		/* Rules name devices; a name that does not exist never matches. */
		r->iif_index = r->iif[0] ? ((l = route_state_link_by_name(st, r->iif)) ? l->ifindex : -1) : 0;
		r->oif_index = r->oif[0] ? ((l = route_state_link_by_name(st, r->oif)) ? l->ifindex : -1) : 0;
		if (r->realm)
			ix->tclassid_users = true;
		if (r->tos || r->dscp_set || r->flowlabel_set)
			ix->has_tos[f] = true;
	}
	for (int f = 0; f < 2; f++) {
		size_t n = ix->n_rules[f];
		ix->goto_pos[f] = xcalloc(n ? n : 1, sizeof(int));
		for (size_t p = 0; p < n; p++) {
			struct route_rule *r = &st->rules[ix->rules[f][p]];
			ix->goto_pos[f][p] = -1;
			r->goto_rule = -1;
			if (r->action != FR_ACT_GOTO || (r->flags & FIB_RULE_UNRESOLVED))
				continue;
			/* The kernel points a goto at the first rule carrying the
			 * target priority (and re-points it when that one goes). */
			for (size_t q = p + 1; q < n; q++)
				if (st->rules[ix->rules[f][q]].priority == r->goto_target) {
					ix->goto_pos[f][p] = (int)q;
					r->goto_rule = (int)ix->rules[f][q];
					break;
				}
		}
		ix->default_rules[f] = false;
		if (f == 0 && n == 3)
			ix->default_rules[f] = rule_is_plain_lookup(&st->rules[ix->rules[0][0]], 0, RT_TABLE_LOCAL) &&
					       rule_is_plain_lookup(&st->rules[ix->rules[0][1]], 32766, RT_TABLE_MAIN) &&
					       rule_is_plain_lookup(&st->rules[ix->rules[0][2]], 32767, RT_TABLE_DEFAULT);
		if (f == 1 && n == 2)
			ix->default_rules[f] = rule_is_plain_lookup(&st->rules[ix->rules[1][0]], 0, RT_TABLE_LOCAL) &&
					       rule_is_plain_lookup(&st->rules[ix->rules[1][1]], 32766, RT_TABLE_MAIN);
	}
}

static const struct route_state *sort_links_state;

static int cmp_link_index(const void *pa, const void *pb)
{
	int a = sort_links_state->links[*(const uint32_t *)pa].ifindex;
	int b = sort_links_state->links[*(const uint32_t *)pb].ifindex;
	return a < b ? -1 : a > b;
}

static const struct route_state *sort_nh_state;

static int cmp_nhobj_id(const void *pa, const void *pb)
{
	uint32_t a = sort_nh_state->nhobjs[*(const uint32_t *)pa].id;
	uint32_t b = sort_nh_state->nhobjs[*(const uint32_t *)pb].id;
	return a < b ? -1 : a > b;
}

static int cmp_neigh(const void *pa, const void *pb)
{
	const struct route_neigh *a = &sort_nh_state->neighs[*(const uint32_t *)pa];
	const struct route_neigh *b = &sort_nh_state->neighs[*(const uint32_t *)pb];
	return neigh_cmp(a, b->ifindex, &b->addr);
}

static int cmp_u32(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	return a < b ? -1 : a > b;
}

/* The single nexthops an object stands for: itself, or a group's members. */
static size_t nhobj_leaves(const struct route_state *st, uint32_t id, uint32_t *out, size_t max)
{
	const struct route_nhobj *o = route_state_nhobj(st, id);
	size_t n = 0;

	if (!o || !max)
		return 0;
	if (!o->n_members) {
		out[0] = id;
		return 1;
	}
	for (uint32_t i = 0; i < o->n_members && n < max; i++)
		out[n++] = st->nh_members[o->first_member + i].id;
	return n;
}

/* Orders IPv4 routes by what makes the kernel share one fib_info between
 * them (fib_find_info: table, protocol, scope, prefsrc, metric, type and
 * the nexthops; metrics are not collected). */
static int cmp_fib_info(const void *pa, const void *pb)
{
	const struct route_state *st = sort_nh_state;
	const struct route_entry *a = &st->routes[*(const uint32_t *)pa], *b = &st->routes[*(const uint32_t *)pb];
	int c;

	if (a->table != b->table)
		return a->table < b->table ? -1 : 1;
	if (a->protocol != b->protocol || a->scope != b->scope || a->type != b->type)
		return a->protocol != b->protocol ? a->protocol - b->protocol :
		       a->scope != b->scope ? a->scope - b->scope : a->type - b->type;
	if (a->metric != b->metric)
		return a->metric < b->metric ? -1 : 1;
	if (a->extra != b->extra) {
		struct cg_addr sa = route_entry_prefsrc(st, a), sb = route_entry_prefsrc(st, b);
		if ((c = memcmp(&sa, &sb, sizeof(sa))))
			return c;
	}
	if (a->nh_id != b->nh_id)
		return a->nh_id < b->nh_id ? -1 : 1;
	if (a->n_paths != b->n_paths)
		return a->n_paths < b->n_paths ? -1 : 1;
	for (uint32_t i = 0; i < a->n_paths; i++) {
		const struct route_path *x = &route_entry_paths(st, a)[i], *y = &route_entry_paths(st, b)[i];
		if (x->ifindex != y->ifindex)
			return x->ifindex < y->ifindex ? -1 : 1;
		if ((c = memcmp(&x->gateway, &y->gateway, sizeof(x->gateway))))
			return c;
		if (x->weight != y->weight)
			return x->weight < y->weight ? -1 : 1;
	}
	return 0;
}

/* Marks IPv4 routes that share a fib_info with a route to multicast space
 * (there is one). */
static void index_multicast_sharing(struct route_state *st)
{
	uint32_t *v4 = NULL;
	size_t n = 0;

	v4 = xcalloc(st->n_routes, sizeof(*v4));
	for (size_t i = 0; i < st->n_routes; i++)
		if (st->routes[i].family == AF_INET)
			v4[n++] = (uint32_t)i;
	sort_nh_state = st;
	qsort(v4, n, sizeof(*v4), cmp_fib_info);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		bool mc = v4_multicast_route(&st->routes[v4[i]]);
		while (j < n && cmp_fib_info(&v4[i], &v4[j]) == 0)
			mc |= v4_multicast_route(&st->routes[v4[j++]]);
		if (mc && j - i > 1)
			for (size_t k = i; k < j; k++)
				st->routes[v4[k]].index_flags |= ROUTE_F_V4_MC_SHARED;
		i = j;
	}
	sort_nh_state = NULL;
	free(v4);
}

/* Marks IPv6 routes whose nexthops are shared with another IPv6 route. */
static void index_shared_nexthops(struct route_state *st)
{
	uint32_t *uses = NULL, leaves[64];
	size_t n_uses = 0, cap = 0;

	for (size_t i = 0; i < st->n_routes; i++) {
		const struct route_entry *e = &st->routes[i];
		if (e->family != AF_INET6 || !e->nh_id)
			continue;
		size_t n = nhobj_leaves(st, e->nh_id, leaves, ARRAY_SIZE(leaves));
		grow_array((void **)&uses, &cap, n_uses + n, sizeof(*uses));
		memcpy(uses + n_uses, leaves, n * sizeof(*leaves));
		n_uses += n;
	}
	if (!n_uses)
		return;
	qsort(uses, n_uses, sizeof(*uses), cmp_u32);
	for (size_t i = 0; i < st->n_routes; i++) {
		const struct route_entry *e = &st->routes[i];
		if (e->family != AF_INET6 || !e->nh_id)
			continue;
		size_t n = nhobj_leaves(st, e->nh_id, leaves, ARRAY_SIZE(leaves));
		for (size_t k = 0; k < n; k++) {
			uint32_t *hit = bsearch(&leaves[k], uses, n_uses, sizeof(*uses), cmp_u32);
			/* counted once by this route itself; more means shared */
			if (hit && ((hit > uses && hit[-1] == leaves[k]) ||
				    (hit + 1 < uses + n_uses && hit[1] == leaves[k])))
				st->routes[i].index_flags |= ROUTE_F_V6_SHARED_NH;
		}
	}
	free(uses);
}

/* Gives back what growth left unused: the arrays are complete now. */
static void trim_array(void **array, size_t *cap, size_t n, size_t size)
{
	if (*cap <= n || n == 0)
		return;
	*array = xreallocarray(*array, n, size);
	*cap = n;
}

#define TRIM(st, arr, n, cap) trim_array((void **)&(st)->arr, &(st)->cap, (st)->n, sizeof(*(st)->arr))

int route_state_finalize(struct route_state *st)
{
	struct route_census census;
	struct route_index *ix;
	int r;

	route_index_free(st->index);
	st->index = NULL;
	TRIM(st, links, n_links, cap_links);
	TRIM(st, addrs, n_addrs, cap_addrs);
	TRIM(st, rules, n_rules, cap_rules);
	TRIM(st, routes, n_routes, cap_routes);
	TRIM(st, paths, n_paths, cap_paths);
	TRIM(st, route_extras, n_route_extras, cap_route_extras);
	TRIM(st, nhobjs, n_nhobjs, cap_nhobjs);
	TRIM(st, nh_members, n_nh_members, cap_nh_members);
	TRIM(st, neighs, n_neighs, cap_neighs);

	ix = xcalloc(1, sizeof(*ix));

	ix->links_by_index = xcalloc(st->n_links ? st->n_links : 1, sizeof(uint32_t));
	for (size_t i = 0; i < st->n_links; i++) {
		ix->links_by_index[i] = (uint32_t)i;
		if (strcmp(st->links[i].kind, "vrf") == 0)
			ix->have_l3mdev = true;
	}
	sort_links_state = st;
	qsort(ix->links_by_index, st->n_links, sizeof(uint32_t), cmp_link_index);
	sort_links_state = NULL;

	ix->nhobjs_by_id = xcalloc(st->n_nhobjs ? st->n_nhobjs : 1, sizeof(uint32_t));
	for (size_t i = 0; i < st->n_nhobjs; i++)
		ix->nhobjs_by_id[i] = (uint32_t)i;
	sort_nh_state = st;
	qsort(ix->nhobjs_by_id, st->n_nhobjs, sizeof(uint32_t), cmp_nhobj_id);
	ix->neighs_sorted = xcalloc(st->n_neighs ? st->n_neighs : 1, sizeof(uint32_t));
	for (size_t i = 0; i < st->n_neighs; i++)
		ix->neighs_sorted[i] = (uint32_t)i;
	qsort(ix->neighs_sorted, st->n_neighs, sizeof(uint32_t), cmp_neigh);
	sort_nh_state = NULL;
	st->index = ix; /* for route_state_nhobj() below; unset again on failure */

	r = index_build_routes(st, ix, &census);
	if (r < 0) {
		st->index = NULL;
		route_index_free(ix);
		return log_error_errno(r, "Failed to index the routing tables");
	}
	if (census.v6_nh)
		index_shared_nexthops(st);
	if (census.v4_multicast)
		index_multicast_sharing(st);
	index_build_rules(st, ix);
	st->index = ix;
	return 0;
}
