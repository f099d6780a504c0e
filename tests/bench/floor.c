// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel floor of the benchmark (issue 20): the least any reader of
 * every rule pays, in the namespace it runs in.
 *
 *   floor legacy   for each x_tables table of IPv4 and IPv6 that exists
 *                  (/proc/net/ip_tables_names, ip6_tables_names: asking for
 *                  a table that is not there would load and create it),
 *                  IPT_SO_GET_INFO then IPT_SO_GET_ENTRIES of the whole
 *                  table into a buffer, nothing else
 *   floor nft      the chain list (one NFT_MSG_GETCHAIN dump), then one
 *                  NFT_MSG_GETRULE dump per chain (NFTA_RULE_TABLE and
 *                  NFTA_RULE_CHAIN set), each message received and thrown
 *                  away. (A single dump of every rule is no floor: the
 *                  kernel resumes each part of it by walking from the
 *                  start.)
 *
 * Prints what it read ("legacy: T tables, N bytes of entries" or "nft: C
 * chains, R rules, B bytes") on stdout. Exit 0, 1 on an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

static int floor_legacy_family(int v6, unsigned *tables, size_t *bytes)
{
	const char *names = v6 ? "/proc/net/ip6_tables_names" : "/proc/net/ip_tables_names";
	FILE *f = fopen(names, "r");
	if (!f)
		return 0; /* the family's x_tables not loaded: no table */
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		fprintf(stderr, "floor: socket: %s\n", strerror(errno));
		fclose(f);
		return -1;
	}
	char line[64];
	int ret = 0;
	while (ret == 0 && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || strlen(line) >= XT_TABLE_MAXNAMELEN)
			continue;
		/* ipt_getinfo and ip6t_getinfo have the same layout, and so do
		 * the entries' headers; the options differ by level only */
		struct ipt_getinfo info;
		memset(&info, 0, sizeof info);
		memcpy(info.name, line, strlen(line) + 1);
		socklen_t len = sizeof info;
		int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
		if (getsockopt(fd, level, v6 ? IP6T_SO_GET_INFO : IPT_SO_GET_INFO, &info, &len) < 0) {
			fprintf(stderr, "floor: GET_INFO %s: %s\n", line, strerror(errno));
			ret = -1;
			break;
		}
		len = (socklen_t)(sizeof(struct ipt_get_entries) + info.size);
		struct ipt_get_entries *e = malloc(len);
		if (!e) {
			ret = -1;
			break;
		}
		memset(e, 0, sizeof *e);
		memcpy(e->name, line, strlen(line) + 1);
		e->size = info.size;
		if (getsockopt(fd, level, v6 ? IP6T_SO_GET_ENTRIES : IPT_SO_GET_ENTRIES, e, &len) < 0) {
			fprintf(stderr, "floor: GET_ENTRIES %s: %s\n", line, strerror(errno));
			ret = -1;
		} else {
			(*tables)++;
			*bytes += info.size;
		}
		free(e);
	}
	fclose(f);
	close(fd);
	return ret;
}

struct chain_ref {
	char *table;
	char *name;
	unsigned char family;
};

struct nft_state {
	struct chain_ref *chains;
	size_t n, cap;
	size_t rules;
	size_t bytes;
};

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_state *st = data;
	struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	const char *table = NULL, *name = NULL;
	st->bytes += nlh->nlmsg_len;
	mnl_attr_for_each(a, nlh, sizeof *g) {
		if (mnl_attr_get_type(a) == NFTA_CHAIN_TABLE)
			table = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == NFTA_CHAIN_NAME)
			name = mnl_attr_get_str(a);
	}
	if (!table || !name)
		return MNL_CB_OK;
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 1024;
		struct chain_ref *c = realloc(st->chains, cap * sizeof *c);
		if (!c)
			return MNL_CB_ERROR;
		st->chains = c;
		st->cap = cap;
	}
	st->chains[st->n].table = strdup(table);
	st->chains[st->n].name = strdup(name);
	st->chains[st->n].family = g->nfgen_family;
	if (!st->chains[st->n].table || !st->chains[st->n].name)
		return MNL_CB_ERROR;
	st->n++;
	return MNL_CB_OK;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_state *st = data;
	st->rules++;
	st->bytes += nlh->nlmsg_len;
	return MNL_CB_OK;
}

/* one dump: the request in buf, every answer through cb */
static int dump(struct mnl_socket *nl, char *buf, size_t bufsz, struct nlmsghdr *nlh, mnl_cb_t cb,
	struct nft_state *st)
{
	unsigned seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, bufsz);
		if (n < 0)
			return -1;
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, st);
		if (r == MNL_CB_STOP)
			return 0;
		if (r < 0)
			return -1;
	}
}

static struct nlmsghdr *request(char *buf, unsigned type, unsigned char family, unsigned seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	return nlh;
}

/* chains_only: the chain list and nothing else (what any audit of
 * nf_tables pays before it knows a single base chain, on kernels without
 * nfnetlink_hook) */
static int floor_nft(int chains_only)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "floor: netlink: %s\n", strerror(errno));
		return 1;
	}
	/* a large receive buffer, as every dumper sets one */
	int rcv = 4 << 20;
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
	size_t bufsz = 65536; /* MNL_SOCKET_DUMP_SIZE of newer libmnl */
	char *buf = malloc(bufsz);
	struct nft_state st = {0};
	unsigned seq = (unsigned)time(NULL);
	int ret = 0;
	if (!buf || dump(nl, buf, bufsz, request(buf, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, seq), chain_cb, &st) < 0) {
		fprintf(stderr, "floor: chain dump: %s\n", strerror(errno));
		ret = 1;
	}
	for (size_t i = 0; ret == 0 && !chains_only && i < st.n; i++) {
		struct nlmsghdr *nlh = request(buf, NFT_MSG_GETRULE, st.chains[i].family, ++seq);
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, st.chains[i].table);
		mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, st.chains[i].name);
		if (dump(nl, buf, bufsz, nlh, rule_cb, &st) < 0) {
			/* a chain deleted meanwhile is no error of the floor's */
			if (errno == ENOENT)
				continue;
			fprintf(stderr, "floor: rule dump of %s %s: %s\n", st.chains[i].table, st.chains[i].name,
				strerror(errno));
			ret = 1;
		}
	}
	if (ret == 0 && chains_only)
		printf("nft-chains: %zu chains\n", st.n);
	else if (ret == 0)
		printf("nft: %zu chains, %zu rules, %zu bytes\n", st.n, st.rules, st.bytes);
	for (size_t i = 0; i < st.n; i++) {
		free(st.chains[i].table);
		free(st.chains[i].name);
	}
	free(st.chains);
	free(buf);
	mnl_socket_close(nl);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "legacy") == 0) {
		unsigned tables = 0;
		size_t bytes = 0;
		if (floor_legacy_family(0, &tables, &bytes) < 0 || floor_legacy_family(1, &tables, &bytes) < 0)
			return 1;
		printf("legacy: %u tables, %zu bytes of entries\n", tables, bytes);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "nft") == 0)
		return floor_nft(0);
	if (argc == 2 && strcmp(argv[1], "nft-chains") == 0)
		return floor_nft(1);
	fprintf(stderr, "usage: floor legacy|nft|nft-chains\n");
	return 2;
}
