/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --save FILE: what an audit of this host reads, in one file (saved.h), as
 * the stock tools dump it: `ip -d -j link`, `ip addr save`, `ip rule save`
 * and `ip route save table all` per family (iproute2's own formats, which
 * `ip ... restore` reads back), iptables-legacy-save and iptables-nft-save
 * for both families, `nft list table` for every table iptables-nft does not
 * own, the sysctls the audit reads, resolv.conf (and systemd-resolved's
 * upstream list), the DMI strings provider detection reads and the policy
 * files. --replay (cmd-replay.c) puts it all back into a private network
 * namespace. */
#include "config.h"

#include <netinet/in.h> /* before the linux/ headers */
#include <dirent.h>
#include <linux/netfilter.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "cgnatcheck/audit.h"
#include "cgnatcheck/cmd.h"
#include "cgnatcheck/common.h"
#include "cgnatcheck/saved.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLVED_CONF "/run/systemd/resolve/resolv.conf"

/* The sysctls the audit reads (collect/sysctl.c, the link dump's devconf,
 * audit.c's local port range), per device and for all/default. */
static const char *const conf4[] = { "forwarding", "rp_filter", "accept_local", "src_valid_mark", "send_redirects",
				     "route_localnet", "ignore_routes_with_linkdown", "bc_forwarding" };
static const char *const conf6[] = { "forwarding", "use_tempaddr", "use_oif_addrs_only", "ignore_routes_with_linkdown",
				     "disable_ipv6" };
static const char *const dmi_fields[] = { "sys_vendor", "product_name", "chassis_asset_tag" };

/* Runs argv and adds its output as a section; a tool that is not
 * installed makes the section absent. Returns 0 or -errno (logged). */
static int add_command(struct saved_writer *w, const char *name, char *const argv[], bool binary, bool required)
{
	_cleanup_free_ uint8_t *out = NULL;
	_cleanup_free_ char *err = NULL;
	size_t len = 0;
	int st = saved_run(argv, NULL, 0, &out, &len, &err);

	if (st == 127 && !required) {
		log_info("--save: %s is not installed: saved as absent", argv[0]);
		saved_add_absent(w, name, NULL);
		return 0;
	}
	if (st != 0)
		return log_error("--save: `%s%s%s` failed (%s%d)%s%s; nothing was saved", argv[0], argv[1] ? " " : "",
				 argv[1] ? argv[1] : "", st < 0 ? "error " : "exit status ", st < 0 ? -st : st,
				 err && *err ? ": " : "", saved_first_line(err));
	saved_add(w, name, NULL, out, len, binary);
	return 0;
}

static void add_file(struct saved_writer *w, const char *name, const char *arg, const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (!f) {
		saved_add_absent(w, name, arg);
		return;
	}
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		abort();
	char chunk[4096];
	for (size_t n; (n = fread(chunk, 1, sizeof(chunk), f)) > 0;)
		fwrite(chunk, 1, n, m);
	fclose(m);
	saved_add(w, name, arg, buf, len, false);
}

/* "net/ipv4/conf/eth0/rp_filter 2" lines, for every device and all, default. */
static void add_sysctls(struct saved_writer *w)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	const char *const fams[] = { "ipv4", "ipv6" };

	if (!m)
		abort();
	for (size_t f = 0; f < 2; f++) {
		char dir[64];
		snprintf(dir, sizeof(dir), "/proc/sys/net/%s/conf", fams[f]);
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			const char *const *names = f ? conf6 : conf4;
			size_t n = f ? ARRAY_SIZE(conf6) : ARRAY_SIZE(conf4);
			if (de->d_name[0] == '.')
				continue;
			for (size_t k = 0; k < n; k++) {
				char path[512], val[128];
				snprintf(path, sizeof(path), "%s/%s/%s", dir, de->d_name, names[k]);
				_cleanup_fclose_ FILE *v = fopen(path, "re");
				if (v && fgets(val, sizeof(val), v))
					fprintf(m, "%s %s", path + strlen("/proc/sys/"), val);
			}
		}
		if (d)
			closedir(d);
	}
	for (const char *const *p = (const char *const[]){ "net/ipv4/ip_local_port_range",
							   "net/ipv4/fib_multipath_use_neigh", NULL }; *p; p++) {
		char path[256], val[128];
		snprintf(path, sizeof(path), "/proc/sys/%s", *p);
		_cleanup_fclose_ FILE *v = fopen(path, "re");
		if (v && fgets(val, sizeof(val), v))
			fprintf(m, "%s %s", *p, val);
	}
	fclose(m);
	saved_add(w, "sysctl", NULL, buf, len, false);
}

static void add_policies(struct saved_writer *w, const char *name, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char path[4096];
		if (de->d_name[0] == '.' || n <= 5 || strcmp(de->d_name + n - 5, ".conf") != 0 ||
		    strpbrk(de->d_name, " \t\n/"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		add_file(w, name, de->d_name, path);
	}
	if (d)
		closedir(d);
}

/* Appends `argv`'s output to m. Returns 0 or -errno (logged). */
static int append_command(FILE *m, char *const argv[])
{
	_cleanup_free_ uint8_t *out = NULL;
	_cleanup_free_ char *err = NULL;
	size_t n = 0;
	int st = saved_run(argv, NULL, 0, &out, &n, &err);

	if (st != 0)
		return log_error("--save: `%s %s %s %s` failed (%d)%s%s; nothing was saved", argv[0], argv[1],
				 argv[2] ? argv[2] : "", argv[2] && argv[3] ? argv[3] : "", st, err && *err ? ": " : "",
				 saved_first_line(err));
	fwrite(out, 1, n, m);
	return 0;
}

/* The table is iptables-nft's as the collector sees it (a rule with an xt
 * expression): then iptables-nft-save prints it, since nft cannot print
 * those matches back; the collector will see it the same way after the
 * replay. */
static const struct cg_table *ipt_nft_table(const struct audit *a, const char *fam, const char *name)
{
	uint8_t f = strcmp(fam, "ip") == 0 ? NFPROTO_IPV4 : strcmp(fam, "ip6") == 0 ? NFPROTO_IPV6 : 0;

	for (uint32_t t = 0; f && t < a->ruleset.n_tables; t++) {
		const struct cg_table *tb = &a->ruleset.tables[t];
		if (tb->backend == CG_BACKEND_IPTABLES_NFT && tb->family == f && strcmp(tb->name, name) == 0)
			return tb;
	}
	return NULL;
}

/* The nf_tables tables: iptables-nft's (ipt_nft_table()) by
 * iptables-nft-save and ip6tables-nft-save, every other by `nft list
 * table`. Also the chains of the former: iptables-nft-restore creates every
 * built-in chain of a table, where iptables-nft created only the ones used. */
static int add_nftables(struct saved_writer *w, const struct audit *a)
{
	_cleanup_free_ uint8_t *tables = NULL;
	_cleanup_free_ char *err = NULL, *nft = NULL, *ipt4 = NULL, *ipt6 = NULL, *chains = NULL;
	size_t nft_len = 0, ipt4_len = 0, ipt6_len = 0, chains_len = 0;
	int st = saved_run((char *[]){ "nft", "list", "tables", NULL }, NULL, 0, &tables, NULL, &err), r = 0;

	if (st == 127) {
		saved_add_absent(w, "nftables", NULL);
		saved_add_absent(w, "iptables-nft", NULL);
		saved_add_absent(w, "ip6tables-nft", NULL);
		saved_add_absent(w, "iptables-nft-chains", NULL);
		return 0;
	}
	if (st != 0)
		return log_error("--save: `nft list tables` failed (%d)%s%s; nothing was saved", st, err && *err ? ": " : "",
				 saved_first_line(err));
	FILE *mn = open_memstream(&nft, &nft_len), *m4 = open_memstream(&ipt4, &ipt4_len),
	     *m6 = open_memstream(&ipt6, &ipt6_len), *mc = open_memstream(&chains, &chains_len);
	if (!mn || !m4 || !m6 || !mc)
		abort();
	char *save = NULL;
	for (char *line = strtok_r((char *)tables, "\n", &save); line && r >= 0; line = strtok_r(NULL, "\n", &save)) {
		char fam[16], name[256];
		if (sscanf(line, "table %15s %255s", fam, name) != 2)
			continue;
		const struct cg_table *ipt = ipt_nft_table(a, fam, name);
		if (!ipt) {
			r = append_command(mn, (char *[]){ "nft", "list", "table", fam, name, NULL });
			continue;
		}
		for (uint32_t c = 0; c < ipt->n_chains; c++)
			fprintf(mc, "%s %s %s\n", fam, name, ipt->chains[c].name);
		r = append_command(strcmp(fam, "ip") == 0 ? m4 : m6,
				   (char *[]){ strcmp(fam, "ip") == 0 ? "iptables-nft-save" : "ip6tables-nft-save", "-t", name,
					       NULL });
	}
	fclose(mn), fclose(m4), fclose(m6), fclose(mc);
	if (r < 0)
		return r;
	saved_add(w, "nftables", NULL, nft, nft_len, false);
	saved_add(w, "iptables-nft", NULL, ipt4, ipt4_len, false);
	saved_add(w, "ip6tables-nft", NULL, ipt6, ipt6_len, false);
	saved_add(w, "iptables-nft-chains", NULL, chains, chains_len, false);
	return 0;
}

static void add_meta(struct saved_writer *w)
{
	char host[256] = "", when[32];
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;
	_cleanup_free_ char *meta = NULL;

	gethostname(host, sizeof(host) - 1);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	if (uname(&u) < 0)
		strcpy(u.release, "?");
	if (asprintf(&meta, "host=%s\ntime=%s\nversion=%s\nkernel=%s\n", host, when, PACKAGE_VERSION, u.release) < 0)
		abort();
	saved_add(w, "meta", NULL, meta, strlen(meta), false);
}

int cmd_save(const char *path, const struct audit *a)
{
	struct saved_writer w;
	int r;

	if (saved_writer_init(&w) < 0)
		return log_error_errno(-ENOMEM, "--save: out of memory");
	add_meta(&w);
	r = add_command(&w, "links", (char *[]){ "ip", "-d", "-j", "link", "show", NULL }, false, true);
	if (r >= 0)
		r = add_command(&w, "addrs", (char *[]){ "ip", "addr", "save", NULL }, true, true);
	if (r >= 0)
		r = add_command(&w, "rules4", (char *[]){ "ip", "-4", "rule", "save", NULL }, true, true);
	if (r >= 0)
		r = add_command(&w, "rules6", (char *[]){ "ip", "-6", "rule", "save", NULL }, true, true);
	if (r >= 0)
		r = add_command(&w, "routes4", (char *[]){ "ip", "-4", "route", "save", "table", "all", NULL }, true, true);
	if (r >= 0)
		r = add_command(&w, "routes6", (char *[]){ "ip", "-6", "route", "save", "table", "all", NULL }, true, true);
	if (r >= 0)
		r = add_command(&w, "iptables-legacy", (char *[]){ "iptables-legacy-save", NULL }, false, false);
	if (r >= 0)
		r = add_command(&w, "ip6tables-legacy", (char *[]){ "ip6tables-legacy-save", NULL }, false, false);
	if (r >= 0)
		r = add_nftables(&w, a);
	if (r < 0) {
		fclose(w.m);
		free(w.buf);
		return r;
	}
	add_sysctls(&w);
	add_file(&w, "file", RESOLV_CONF, RESOLV_CONF);
	const char *resolved = getenv("CGNATCHECK_RESOLVED_CONF");
	add_file(&w, "file", RESOLVED_CONF, resolved && *resolved ? resolved : RESOLVED_CONF);
	for (size_t i = 0; i < ARRAY_SIZE(dmi_fields); i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", audit_dmi_dir(), dmi_fields[i]);
		add_file(&w, "dmi", dmi_fields[i], p);
	}
	add_policies(&w, "policy", audit_policy_dir());
	add_policies(&w, "local-policy", audit_policy_local_dir());
	return saved_finish(&w, path);
}
