/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --replay FILE: an offline audit. The file --save wrote (cmd-save.c) is put
 * back into a private network namespace so that the kernel and the stock
 * tools parse it again, then the ordinary audit runs there as it runs on a
 * live host. In order:
 *
 *   1. a second private network namespace to hold the far ends of veth
 *      pairs, then the replay's own network and mount namespaces;
 *   2. the links at their saved ifindexes (`ip route save` names devices by
 *      index): tun devices (tun, wireguard, any link without a hardware
 *      address: an overlay is told by its kind) first, in index order, with
 *      placeholders taking the indexes below theirs; vrf devices as vrf;
 *      every other link as a veth whose peer sits in the other namespace
 *      (this kernel may have no dummy module). Name, MTU, hardware address,
 *      master and up/down as saved; carrier where the saved link had one;
 *   3. the sysctls, then `ip addr restore`, the links up, `ip rule flush` and
 *      `ip rule restore`, `ip route restore`, per family;
 *   4. iptables-legacy-restore, iptables-nft-restore (and the ip6 ones),
 *      then `nft -f` for the tables nft owns;
 *   5. resolv.conf bind-mounted over /etc/resolv.conf in the private mount
 *      namespace (an absent one: an empty file), systemd-resolved's list,
 *      the DMI strings and the policies from a temporary directory through
 *      the environment (CGNATCHECK_RESOLVED_CONF, CGNATCHECK_DMI_DIR,
 *      CGNATCHECK_POLICY_DIR, CGNATCHECK_POLICY_LOCAL_DIR).
 *
 * Both namespaces die with the process: nothing is mounted under /run/netns
 * and nothing else holds them. The temporary directory is removed at the end
 * (replay_leave()).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cgnatcheck/cmd.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/nlsock.h"
#include "cgnatcheck/saved.h"

static char replay_dir[256];

struct saved_link {
	int index;
	char name[IFNAMSIZ];
	char kind[32];
	char master[IFNAMSIZ];
	unsigned mtu;
	bool up, carrier, tun, vrf, lo;
	uint32_t vrf_table;
	uint8_t mac[6];
	bool has_mac;
};

static int by_index(const void *x, const void *y)
{
	return ((const struct saved_link *)x)->index - ((const struct saved_link *)y)->index;
}

static bool has_flag(struct json_object *flags, const char *f)
{
	for (size_t i = 0; flags && i < json_object_array_length(flags); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(flags, i)), f) == 0)
			return true;
	return false;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* `ip -d -j link show` into links (malloc'd). */
static int parse_links(const char *file, const struct saved_section *s, struct saved_link **out, size_t *n)
{
	struct json_object *root = json_tokener_parse((const char *)s->data), *v, *info;

	*out = NULL;
	*n = 0;
	if (!root || !json_object_is_type(root, json_type_array)) {
		json_object_put(root);
		return log_error("%s: the saved links are not `ip -j link` output; write the file again with --save",
				 file);
	}
	*out = xcalloc(json_object_array_length(root) + 1, sizeof(**out));
	for (size_t i = 0; i < json_object_array_length(root); i++) {
		struct json_object *o = json_object_array_get_idx(root, i);
		struct saved_link *l = &(*out)[*n];
		const char *name = jstr(o, "ifname"), *mac = jstr(o, "address"), *type = jstr(o, "link_type");
		if (!name || strlen(name) >= IFNAMSIZ || !json_object_object_get_ex(o, "ifindex", &v)) {
			json_object_put(root);
			return log_error("%s: a saved link without a usable name or index", file);
		}
		l->index = json_object_get_int(v);
		snprintf(l->name, sizeof(l->name), "%s", name);
		l->mtu = json_object_object_get_ex(o, "mtu", &v) ? (unsigned)json_object_get_int(v) : 0;
		json_object_object_get_ex(o, "flags", &v);
		l->up = has_flag(v, "UP");
		l->carrier = has_flag(v, "LOWER_UP");
		l->lo = has_flag(v, "LOOPBACK");
		if (jstr(o, "master"))
			snprintf(l->master, sizeof(l->master), "%s", jstr(o, "master"));
		if (json_object_object_get_ex(o, "linkinfo", &info) && jstr(info, "info_kind"))
			snprintf(l->kind, sizeof(l->kind), "%s", jstr(info, "info_kind"));
		l->vrf = strcmp(l->kind, "vrf") == 0;
		if (l->vrf) {
			struct json_object *data;
			if (json_object_object_get_ex(info, "info_data", &data) &&
			    json_object_object_get_ex(data, "table", &v))
				l->vrf_table = (uint32_t)json_object_get_int64(v);
		}
		l->tun = !l->lo && !l->vrf && (strcmp(l->kind, "tun") == 0 || strcmp(l->kind, "wireguard") == 0 ||
					       (type && strcmp(type, "none") == 0));
		l->has_mac = mac && sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &l->mac[0], &l->mac[1], &l->mac[2],
					   &l->mac[3], &l->mac[4], &l->mac[5]) == 6 && type && strcmp(type, "ether") == 0;
		if (l->index <= 0) {
			json_object_put(root);
			return log_error("%s: link %s has no valid ifindex", file, l->name);
		}
		(*n)++;
	}
	json_object_put(root);
	qsort(*out, *n, sizeof(**out), by_index);
	return 0;
}

/* ---- links ----------------------------------------------------------------------- */

static int nl_do(struct nlconn *c, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++c->seq;
	return nlconn_talk(c, nlh, NULL, NULL);
}

static struct nlmsghdr *link_msg(struct nlconn *c, uint16_t type, uint16_t flags, int index, const char *name)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(c->buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

/* A veth at l->index named l->name, its peer "cgpeerN" in the peers'
 * namespace; or a vrf. */
static int make_link(struct nlconn *c, const struct saved_link *l, int peers_fd)
{
	struct nlmsghdr *nlh = link_msg(c, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, l->index, l->name);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO), *data;

	if (l->vrf) {
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vrf");
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u32(nlh, IFLA_VRF_TABLE, l->vrf_table);
	} else {
		char peer[IFNAMSIZ];
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		struct nlattr *p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
		struct ifinfomsg *pi = mnl_nlmsg_get_payload_tail(nlh);
		memset(pi, 0, sizeof(*pi));
		nlh->nlmsg_len += MNL_ALIGN(sizeof(*pi));
		snprintf(peer, sizeof(peer), "cgpeer%d", l->index);
		mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peers_fd);
		mnl_attr_nest_end(nlh, p);
	}
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_do(c, nlh);
}

/* A tun device named name; returns its fd (kept open: the device exists
 * while it is, and has carrier while it is attached), or -errno. */
static int make_tun(const char *name, int *index)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
		r = -errno;
		if (s >= 0)
			close(s);
		close(fd);
		return r;
	}
	close(s);
	*index = ifr.ifr_ifindex;
	return fd;
}

/* Name, MTU, hardware address, up, master, no automatic IPv6 addresses (the
 * saved ones are restored). */
static int set_link(struct nlconn *c, const struct saved_link *l, bool up)
{
	struct nlmsghdr *nlh = link_msg(c, RTM_NEWLINK, 0, l->index, NULL);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	if (l->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, l->mtu);
	if (l->has_mac && !l->tun && !l->lo)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, l->mac);
	if (!l->lo) {
		struct nlattr *af = mnl_attr_nest_start(nlh, IFLA_AF_SPEC), *in6 = mnl_attr_nest_start(nlh, AF_INET6);
		mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
		mnl_attr_nest_end(nlh, in6);
		mnl_attr_nest_end(nlh, af);
	}
	return nl_do(c, nlh);
}

static int set_master(struct nlconn *c, const struct saved_link *l, int master)
{
	struct nlmsghdr *nlh = link_msg(c, RTM_NEWLINK, 0, l->index, NULL);

	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	return nl_do(c, nlh);
}

static int peer_up(struct nlconn *peers, int index)
{
	char name[IFNAMSIZ];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	snprintf(name, sizeof(name), "cgpeer%d", index);
	nlh = link_msg(peers, RTM_NEWLINK, 0, 0, name);
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = IFF_UP;
	return nl_do(peers, nlh);
}

struct link_state {
	struct saved_link *links;
	size_t n;
	int *tun_fds;
};

static int make_links(const char *file, struct link_state *ls, struct nlconn *c, struct nlconn *peers, int peers_fd)
{
	int holders[4096];
	size_t n_holders = 0;
	int r = 0;

	ls->tun_fds = xcalloc(ls->n + 1, sizeof(int));
	for (size_t i = 0; i < ls->n; i++)
		ls->tun_fds[i] = -1;
	/* tun devices first: the kernel picks their index (the next free one,
	 * in order), so placeholders take the ones below */
	for (size_t i = 0; i < ls->n && r >= 0; i++) {
		struct saved_link *l = &ls->links[i];
		if (!l->tun)
			continue;
		for (;;) {
			int index = 0, fd;
			char ph[IFNAMSIZ];
			snprintf(ph, sizeof(ph), "cgph%u", (unsigned)(n_holders % 10000));
			fd = make_tun(ph, &index);
			if (fd < 0) {
				r = log_error_errno(fd, "%s: cannot create the tun device %s (is /dev/net/tun there?)", file,
						    l->name);
				break;
			}
			if (index < l->index && n_holders < ARRAY_SIZE(holders)) {
				holders[n_holders++] = fd;
				continue;
			}
			if (index != l->index) {
				close(fd);
				r = log_error("%s: cannot recreate the tun device %s at its ifindex %d (the kernel "
					      "gave %d)", file, l->name, l->index, index);
				break;
			}
			/* the right index: give it its name */
			struct nlmsghdr *nlh = link_msg(c, RTM_NEWLINK, 0, index, l->name);
			r = nl_do(c, nlh);
			if (r < 0) {
				close(fd);
				log_error_errno(r, "%s: cannot name the tun device %s", file, l->name);
				break;
			}
			ls->tun_fds[i] = fd;
			break;
		}
	}
	for (size_t i = 0; i < n_holders; i++)
		close(holders[i]);
	for (size_t i = 0; i < ls->n && r >= 0; i++) {
		struct saved_link *l = &ls->links[i];
		if (l->tun || l->lo)
			continue;
		r = make_link(c, l, peers_fd);
		if (r < 0)
			log_error_errno(r, "%s: cannot recreate link %s (%s) at ifindex %d as a %s", file, l->name,
					l->kind[0] ? l->kind : "device", l->index, l->vrf ? "vrf" : "veth");
	}
	for (size_t i = 0; i < ls->n && r >= 0; i++) {
		struct saved_link *l = &ls->links[i];
		r = set_link(c, l, false);
		if (r < 0)
			log_error_errno(r, "%s: cannot set up link %s (MTU %u)", file, l->name, l->mtu);
		/* a tun keeps its carrier while attached; one without: detach */
		if (r >= 0 && l->tun && !l->carrier) {
			if (ioctl(ls->tun_fds[i], TUNSETPERSIST, 1) < 0)
				r = log_error_errno(-errno, "%s: cannot keep the tun device %s", file, l->name);
			close(ls->tun_fds[i]);
			ls->tun_fds[i] = -1;
		}
		if (r >= 0 && !l->tun && !l->lo && !l->vrf && l->carrier) {
			r = peer_up(peers, l->index);
			if (r < 0)
				log_error_errno(r, "%s: cannot give link %s a carrier", file, l->name);
		}
	}
	for (size_t i = 0; i < ls->n && r >= 0; i++) {
		struct saved_link *l = &ls->links[i];
		if (!l->master[0])
			continue;
		for (size_t k = 0; k < ls->n; k++)
			if (strcmp(ls->links[k].name, l->master) == 0)
				r = set_master(c, l, ls->links[k].index);
		if (r < 0)
			log_error_errno(r, "%s: cannot put link %s under %s", file, l->name, l->master);
	}
	return r;
}

static int links_up(const char *file, const struct link_state *ls, struct nlconn *c)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (!ls->links[i].up)
			continue;
		int r = set_link(c, &ls->links[i], true);
		if (r < 0)
			return log_error_errno(r, "%s: cannot set link %s up", file, ls->links[i].name);
	}
	return 0;
}

/* ---- sysctls, the stock tools -------------------------------------------------------- */

static int write_sysctls(const char *file, const struct saved_section *s, bool defaults)
{
	_cleanup_free_ char *copy = xstrdup((const char *)s->data);
	char *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *val = strchr(line, ' '), path[512];
		if (!val || strncmp(line, "net/", 4) != 0 || strstr(line, ".."))
			return log_error("%s: a saved sysctl line is malformed: \"%.80s\"", file, line);
		*val++ = '\0';
		bool is_default = strstr(line, "/conf/all/") || strstr(line, "/conf/default/");
		if (is_default != defaults)
			continue;
		snprintf(path, sizeof(path), "/proc/sys/%s", line);
		_cleanup_fclose_ FILE *f = fopen(path, "we");
		/* a device that was not recreated, a knob this kernel lacks */
		if (!f) {
			log_info("%s: sysctl %s not set: %s", file, line, strerror(errno));
			continue;
		}
		fputs(val, f);
	}
	return 0;
}

/* Runs a restoring tool with the section as its input. */
static int restore(const char *file, const struct saved_section *s, char *const argv[])
{
	_cleanup_free_ char *err = NULL;
	int st;

	if (!s || s->absent || s->len == 0)
		return 0;
	st = saved_run(argv, s->data, s->len, NULL, NULL, &err);
	if (st == 127)
		return log_error("%s: cannot replay the saved %s: %s is not installed here", file, s->name, argv[0]);
	if (st != 0)
		return log_error("%s: the saved %s does not replay: `%s %s` failed (%d)%s%s", file, s->name, argv[0],
				 argv[1] ? argv[1] : "", st, err && *err ? ": " : "", saved_first_line(err));
	return 0;
}

static int run_plain(const char *file, char *const argv[])
{
	_cleanup_free_ char *err = NULL;
	int st = saved_run(argv, NULL, 0, NULL, NULL, &err);

	if (st != 0)
		return log_error("%s: `%s %s %s` failed in the replay (%d)%s%s", file, argv[0], argv[1], argv[2], st,
				 err && *err ? ": " : "", saved_first_line(err));
	return 0;
}

/* iptables-nft-restore creates every built-in chain of a table it restores;
 * iptables-nft had created only those a rule needed. Deletes the chains of
 * those tables that the saved host did not have. */
static int prune_ipt_chains(const char *file, const struct saved_section *saved)
{
	_cleanup_free_ uint8_t *now = NULL;
	_cleanup_free_ char *err = NULL;
	char fam[16] = "", table[256] = "";
	int st;

	if (!saved || saved->absent || saved->len == 0)
		return 0;
	st = saved_run((char *[]){ "nft", "list", "chains", NULL }, NULL, 0, &now, NULL, &err);
	if (st != 0)
		return log_error("%s: `nft list chains` failed in the replay (%d)%s%s", file, st, err && *err ? ": " : "",
				 saved_first_line(err));
	for (const char *p = (const char *)now; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char chain[256], key[600], prefix[300];
		if (sscanf(p, "table %15s %255s {", fam, table) == 2)
			continue;
		if (sscanf(p, " chain %255s {", chain) != 1)
			continue;
		snprintf(prefix, sizeof(prefix), "%s %s ", fam, table);
		snprintf(key, sizeof(key), "%s %s %s\n", fam, table, chain);
		/* only the tables iptables-nft restored, only chains they lack */
		if (!strstr((const char *)saved->data, prefix) || strstr((const char *)saved->data, key))
			continue;
		_cleanup_free_ char *e = NULL;
		st = saved_run((char *[]){ "nft", "delete", "chain", fam, table, chain, NULL }, NULL, 0, NULL, NULL, &e);
		if (st != 0)
			return log_error("%s: cannot delete the built-in chain %s %s %s iptables-nft-restore added (%d)%s%s",
					 file, fam, table, chain, st, e && *e ? ": " : "", saved_first_line(e));
	}
	return 0;
}

/* ---- files ---------------------------------------------------------------------------- */

static int write_file(const char *dir, const char *name, const struct saved_section *s, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", dir, name);
	if (!s || s->absent)
		return 0;
	_cleanup_fclose_ FILE *f = fopen(path, "wxe");
	if (!f || fwrite(s->data, 1, s->len, f) != s->len)
		return log_error_errno(-errno, "cannot write %s for the replay", path);
	return 0;
}

static int place_files(const char *file, const struct saved_file *sf)
{
	char path[4096], sub[4096];
	const char *tmp = getenv("TMPDIR");
	int r;

	snprintf(replay_dir, sizeof(replay_dir), "%s/cgnatcheck-replay.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(replay_dir)) {
		r = -errno;
		replay_dir[0] = '\0';
		return log_error_errno(r, "cannot create a temporary directory for the replay");
	}
	/* resolv.conf over /etc/resolv.conf, in this mount namespace only */
	const struct saved_section *rc = saved_find(sf, "file", "/etc/resolv.conf");
	if (rc && !rc->absent) {
		r = write_file(replay_dir, "resolv.conf", rc, path, sizeof(path));
		if (r < 0)
			return r;
	} else {
		snprintf(path, sizeof(path), "/dev/null");
	}
	if (mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
		return log_error_errno(-errno, "%s: cannot put the saved resolv.conf in place (bind mount over "
				       "/etc/resolv.conf)", file);
	const struct saved_section *up = saved_find(sf, "file", "/run/systemd/resolve/resolv.conf");
	r = write_file(replay_dir, "resolved.conf", up, path, sizeof(path));
	if (r < 0)
		return r;
	setenv("CGNATCHECK_RESOLVED_CONF", path, 1);

	const char *const dirs[][2] = { { "dmi", "CGNATCHECK_DMI_DIR" }, { "policy", "CGNATCHECK_POLICY_DIR" },
					{ "local-policy", "CGNATCHECK_POLICY_LOCAL_DIR" } };
	for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
		snprintf(sub, sizeof(sub), "%s/%s", replay_dir, dirs[d][0]);
		if (mkdir(sub, 0755) < 0)
			return log_error_errno(-errno, "cannot create %s for the replay", sub);
		for (size_t i = 0; i < sf->n; i++) {
			const struct saved_section *s = &sf->s[i];
			if (strcmp(s->name, dirs[d][0]) != 0 || strchr(s->arg, '/') || s->arg[0] == '.')
				continue;
			r = write_file(sub, s->arg, s, path, sizeof(path));
			if (r < 0)
				return r;
		}
		setenv(dirs[d][1], sub, 1);
	}
	return 0;
}

static void remove_tree(const char *dir)
{
	char path[4096];
	const char *const subs[] = { "dmi", "policy", "local-policy" };

	for (size_t d = 0; d < ARRAY_SIZE(subs); d++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subs[d]);
		DIR *dd = opendir(path);
		struct dirent *de;
		while (dd && (de = readdir(dd)))
			if (de->d_name[0] != '.') {
				char f[4096 + 256];
				snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
				unlink(f);
			}
		if (dd)
			closedir(dd);
		rmdir(path);
	}
	for (const char *const *f = (const char *const[]){ "resolv.conf", "resolved.conf", NULL }; *f; f++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *f);
		unlink(path);
	}
	rmdir(dir);
}

void replay_leave(void)
{
	if (replay_dir[0])
		remove_tree(replay_dir);
	replay_dir[0] = '\0';
}

/* ---- the whole replay ----------------------------------------------------------------- */

static int meta_value(const struct saved_file *sf, const char *key, char **out)
{
	const struct saved_section *m = saved_find(sf, "meta", NULL);
	size_t n = strlen(key);

	for (const char *p = m ? (const char *)m->data : NULL; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == '=') {
			*out = strndup(p + n + 1, strcspn(p + n + 1, "\n"));
			return *out ? 0 : -ENOMEM;
		}
	return -ENOENT;
}

static int replay(const char *file, const struct saved_file *sf)
{
	static const char *const required[] = { "meta", "links", "addrs", "rules4", "rules6", "routes4", "routes6",
						"sysctl" };
	struct nlconn c = { 0 }, peers = { 0 };
	struct link_state ls = { 0 };
	int peers_fd = -1, r;

	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (!saved_find(sf, required[i], NULL))
			return log_error("%s: the saved audit has no \"%s\" section; write it again with --save", file,
					 required[i]);
	r = parse_links(file, saved_find(sf, "links", NULL), &ls.links, &ls.n);
	if (r < 0)
		goto out;

	/* the peers' namespace, then the replay's own */
	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		log_error_errno(r, "--replay needs a private network namespace, and creating one needs "
				"CAP_SYS_ADMIN: run it as root");
		goto out;
	}
	peers_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	r = peers_fd < 0 ? -errno : nlconn_open(&peers, NETLINK_ROUTE, 1 << 16);
	if (r >= 0 && unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
		r = -errno;
	if (r >= 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		r = -errno;
	if (r >= 0)
		r = nlconn_open(&c, NETLINK_ROUTE, 1 << 16);
	if (r < 0) {
		log_error_errno(r, "cannot set up the private namespaces for the replay");
		goto out;
	}
	struct stat self, far;
	if (stat("/proc/self/ns/net", &self) == 0 && fstat(peers_fd, &far) == 0)
		log_debug("replay: in network namespace net:[%lu], the veth peers in net:[%lu]",
			  (unsigned long)self.st_ino, (unsigned long)far.st_ino);
	r = make_links(file, &ls, &c, &peers, peers_fd);
	/* no DAD: the saved addresses are usable at once, as they were */
	if (r >= 0) {
		for (const char *const *p = (const char *const[]){ "all", "default", NULL }; *p; p++) {
			char path[128];
			snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad", *p);
			_cleanup_fclose_ FILE *f = fopen(path, "we");
			if (f)
				fputs("0", f);
		}
		for (size_t i = 0; i < ls.n; i++) {
			char path[128];
			snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad", ls.links[i].name);
			_cleanup_fclose_ FILE *f = fopen(path, "we");
			if (f)
				fputs("0", f);
		}
	}
	if (r >= 0)
		r = write_sysctls(file, saved_find(sf, "sysctl", NULL), true);
	if (r >= 0)
		r = write_sysctls(file, saved_find(sf, "sysctl", NULL), false);
	if (r >= 0)
		r = restore(file, saved_find(sf, "addrs", NULL), (char *[]){ "ip", "addr", "restore", NULL });
	if (r >= 0)
		r = links_up(file, &ls, &c);
	if (r >= 0)
		r = run_plain(file, (char *[]){ "ip", "-4", "rule", "flush", NULL });
	if (r >= 0)
		r = run_plain(file, (char *[]){ "ip", "-6", "rule", "flush", NULL });
	if (r >= 0)
		r = restore(file, saved_find(sf, "rules4", NULL), (char *[]){ "ip", "-4", "rule", "restore", NULL });
	if (r >= 0)
		r = restore(file, saved_find(sf, "rules6", NULL), (char *[]){ "ip", "-6", "rule", "restore", NULL });
	if (r >= 0)
		r = restore(file, saved_find(sf, "routes4", NULL), (char *[]){ "ip", "-4", "route", "restore", NULL });
	if (r >= 0)
		r = restore(file, saved_find(sf, "routes6", NULL), (char *[]){ "ip", "-6", "route", "restore", NULL });
	if (r >= 0)
		r = restore(file, saved_find(sf, "iptables-legacy", NULL),
			    (char *[]){ "iptables-legacy-restore", "-w", "10", NULL });
	if (r >= 0)
		r = restore(file, saved_find(sf, "ip6tables-legacy", NULL),
			    (char *[]){ "ip6tables-legacy-restore", "-w", "10", NULL });
	if (r >= 0)
		r = restore(file, saved_find(sf, "iptables-nft", NULL), (char *[]){ "iptables-nft-restore", NULL });
	if (r >= 0)
		r = restore(file, saved_find(sf, "ip6tables-nft", NULL), (char *[]){ "ip6tables-nft-restore", NULL });
	if (r >= 0)
		r = prune_ipt_chains(file, saved_find(sf, "iptables-nft-chains", NULL));
	if (r >= 0)
		r = restore(file, saved_find(sf, "nftables", NULL), (char *[]){ "nft", "-f", "-", NULL });
	if (r >= 0)
		r = place_files(file, sf);
out:
	/* attached tun devices keep their carrier until the process ends */
	free(ls.links);
	free(ls.tun_fds);
	nlconn_close(&c);
	nlconn_close(&peers);
	/* peers_fd stays open (close-on-exec) while the process runs: it holds
	 * the peers' namespace, and the veth pairs die with it */
	if (r < 0 && peers_fd >= 0)
		close(peers_fd);
	return r;
}

int replay_enter(struct cg_options *opts)
{
	struct saved_file sf;
	int r = saved_read(opts->replay_file, &sf);

	if (r < 0)
		return r;
	if (meta_value(&sf, "host", &opts->offline_host) < 0 || meta_value(&sf, "time", &opts->offline_time) < 0) {
		saved_free(&sf);
		return log_error("%s: the saved audit does not say which host and when; write it again with --save",
				 opts->replay_file);
	}
	r = replay(opts->replay_file, &sf);
	saved_free(&sf);
	if (r < 0)
		replay_leave();
	return r;
}
