/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cgnatcheck/common.h"
#include "cgnatcheck/options.h"

enum {
	OPT_FIX = 0x100,
	OPT_DRY_RUN,
	OPT_UNDO,
	OPT_SHOW_ROUTE,
	OPT_FROM,
	OPT_MARK,
	OPT_IIF,
	OPT_OIF,
	OPT_UID,
	OPT_IPPROTO,
	OPT_SPORT,
	OPT_DPORT,
	OPT_OFFLINE,
	OPT_PROBE,
	OPT_KEEP,
	OPT_USER,
	OPT_WAIT_OVERLAY,
	OPT_MAIL_TO,
	OPT_MAIL_ON,
	OPT_MAIL_FROM,
	OPT_SENDMAIL,
	OPT_METRICS_FILE,
	OPT_SAVE,
	OPT_REPLAY,
	OPT_ONLY_NAMED,
	OPT_OFFER,
};

static const struct option long_options[] = {
	{ "dns", required_argument, NULL, 'd' },
	{ "service", required_argument, NULL, 's' },
	{ "policy", required_argument, NULL, 'p' },
	{ "format", required_argument, NULL, 'f' },
	{ "fix", no_argument, NULL, OPT_FIX },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "undo", no_argument, NULL, OPT_UNDO },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "show-route", required_argument, NULL, OPT_SHOW_ROUTE },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "mark", required_argument, NULL, OPT_MARK },
	{ "iif", required_argument, NULL, OPT_IIF },
	{ "oif", required_argument, NULL, OPT_OIF },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "ipproto", required_argument, NULL, OPT_IPPROTO },
	{ "sport", required_argument, NULL, OPT_SPORT },
	{ "dport", required_argument, NULL, OPT_DPORT },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "probe", no_argument, NULL, OPT_PROBE },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "user", required_argument, NULL, OPT_USER },
	{ "wait-overlay", optional_argument, NULL, OPT_WAIT_OVERLAY },
	{ "mail-to", required_argument, NULL, OPT_MAIL_TO },
	{ "mail-on", required_argument, NULL, OPT_MAIL_ON },
	{ "mail-from", required_argument, NULL, OPT_MAIL_FROM },
	{ "sendmail", required_argument, NULL, OPT_SENDMAIL },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "save", required_argument, NULL, OPT_SAVE },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "only-named", no_argument, NULL, OPT_ONLY_NAMED },
	{ "offer", required_argument, NULL, OPT_OFFER },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

void options_print_help(FILE *out)
{
	fprintf(out, "Usage: cgnatcheck [OPTION]...\n"
	      "Find firewall rules and routes that cut this host off from its cloud provider's\n"
	      "services in 100.64.0.0/10, name them, and fix them precisely.\n"
	      "\n"
	      "  -d, --dns ADDR            resolver to check (repeatable). Default: resolvers from\n"
	      "                            /etc/resolv.conf and systemd-resolved's upstream servers\n"
	      "  -s, --service ADDR[:PORT][/udp|/tcp]\n"
	      "                            another endpoint this host must reach (repeatable)\n"
	      "  -p, --policy NAME|FILE    provider policy (repeatable). Default: the detected provider\n"
	      "      --only-named          check only the targets given with --dns/--service (and\n"
	      "                            --policy): nothing from resolv.conf, the detected\n"
	      "                            provider or the host's own files (DHCP leases, NTP,\n"
	      "                            cloud-init, apt, conntrack)\n"
	      "      --offer tcp|udp/PORT  a service this host offers over the overlays (repeatable):\n"
	      "                            its path from an overlay peer is checked, and who holds\n"
	      "                            the port. Units, sshd_config and listening sockets on\n"
	      "                            an overlay address or device are found without it\n"
	      "  -f, --format text|json    output format, default text\n"
	      "      --fix                 install precise exceptions for what is blocked, then re-audit\n"
	      "      --dry-run             with --fix: print the exact change, touch nothing\n"
	      "      --undo                remove every exception cgnatcheck installed\n"
	      "      --keep                --fix, then again whenever the ruleset changes (tailscaled\n"
	      "                            re-creating its chains); runs until SIGTERM\n"
	      "      --probe               confirm each verdict with real traffic: a DNS query, an HTTP\n"
	      "                            request, an NTP query or a banner read\n"
	      "  -q, --quiet               print only problems\n"
	      "  -v, --verbose             more diagnostics on stderr (repeatable)\n"
	      "      --user NAME           (as root) run as user NAME, keeping only CAP_NET_ADMIN\n"
	      "                            and CAP_NET_RAW\n"
	      "      --wait-overlay[=SECONDS]\n"
	      "                            first wait (default %d s) until an overlay's chains\n"
	      "                            exist (Chains= of its policy, e.g. ts-input), then audit\n"
	      "\n"
	      "Scheduled audit:\n"
	      "      --mail-to ADDR        mail the report through sendmail(8) to ADDR (repeatable)\n"
	      "      --mail-on WHEN        problem, change, always, or a comma list\n"
	      "                            (default problem,change)\n"
	      "      --mail-from ADDR      the From: address (default USER@HOSTNAME)\n"
	      "      --sendmail PATH       the sendmail program (default $CGNATCHECK_SENDMAIL,\n"
	      "                            else /usr/sbin/sendmail)\n"
	      "      --metrics-file PATH   also write the result as a Prometheus textfile to PATH\n"
	      "                            (atomically; for node_exporter's textfile collector)\n"
	      "\n"
	      "Offline audits:\n"
	      "      --save FILE           write what the audit read (rulesets, links, addresses,\n"
	      "                            rules, routes, sysctls, resolv.conf, policies) to FILE\n"
	      "      --replay FILE         audit a file written by --save, on any machine: it is\n"
	      "                            replayed into a private network namespace (needs\n"
	      "                            CAP_SYS_ADMIN); no --probe, no --fix\n"
	      "\n"
	      "Routing:\n"
	      "      --show-route ADDR     resolve the route to ADDR as the kernel does and show the\n"
	      "                            ip rule and table that decided\n"
	      "      --from ADDR           source address of the packet\n"
	      "      --mark MARK           firewall mark (decimal or 0x hex)\n"
	      "      --iif DEV             incoming device (default: locally generated, iif lo)\n"
	      "      --oif DEV             outgoing device the socket is bound to\n"
	      "      --uid UID             socket owner (uidrange rules)\n"
	      "      --ipproto udp|tcp|icmp|NUM, --sport PORT, --dport PORT\n"
	      "                            transport selectors (ipproto/sport/dport rules)\n"
	      "      --offline             use only the dumped state; do not ask the kernel\n"
	      "\n"
	      "  -h, --help                show this help and exit\n"
	      "  -V, --version             show the version and exit\n"
	      "\n"
	      "Exit status: 0 every target reachable, no findings; 1 warnings only; 2 a target is\n"
	      "blocked or unroutable; 3 the audit could not be completed.\n",
	      CG_WAIT_OVERLAY_DEFAULT);
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int target_arg_parse(const char *s, bool dns, struct cg_target_arg *out)
{
	struct cg_target_arg t = { .dns = dns };
	_cleanup_free_ char *copy = xstrdup(s);
	char *host = copy, *port = NULL, *proto;

	proto = strrchr(copy, '/');
	if (proto) {
		*proto++ = '\0';
		if (strcmp(proto, "udp") == 0)
			t.protos = CG_PROTO_UDP;
		else if (strcmp(proto, "tcp") == 0)
			t.protos = CG_PROTO_TCP;
		else
			return -EPROTONOSUPPORT;
	}
	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (!close)
			return -EINVAL;
		*close = '\0';
		host++;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -EINVAL;
	} else {
		char *colon = strchr(host, ':');
		/* More than one colon: a bare IPv6 address without a port. */
		if (colon && !strchr(colon + 1, ':')) {
			*colon = '\0';
			port = colon + 1;
		}
	}
	if (addr_parse(host, &t.addr) < 0)
		return -EINVAL;
	if (port) {
		uint32_t v;
		if (parse_u32(port, 65535, &v) < 0 || v == 0)
			return -ERANGE;
		t.port = (uint16_t)v;
	}
	if (dns) {
		if (!t.port)
			t.port = 53;
		if (!t.protos)
			t.protos = CG_PROTO_UDP | CG_PROTO_TCP;
	}
	*out = t;
	return 0;
}

static int parse_ipproto(const char *s, uint8_t *out)
{
	static const struct { const char *name; uint8_t num; } names[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "ipv6-icmp", 58 }, { "icmpv6", 58 },
		{ "sctp", 132 },
	};
	uint32_t v;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].num;
			return 0;
		}
	if (parse_u32(s, 255, &v) < 0)
		return -EINVAL;
	*out = (uint8_t)v;
	return 0;
}

/* A mail address as sendmail's argument and in a header: printable ASCII,
 * no space, no leading '-' (it would be read as an option), nothing a
 * header or an address list gives a meaning to. */
bool mail_address_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 254 || s[0] == '-')
		return false;
	for (const char *c = s; *c; c++)
		if (*c <= ' ' || *c >= 0x7f || strchr("<>,;:\"()[]\\", *c))
			return false;
	return true;
}

static int parse_mail_on(const char *s, unsigned *out)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	unsigned v = 0;

	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (strcmp(w, "problem") == 0)
			v |= CG_MAIL_ON_PROBLEM;
		else if (strcmp(w, "change") == 0)
			v |= CG_MAIL_ON_CHANGE;
		else if (strcmp(w, "always") == 0)
			v |= CG_MAIL_ON_ALWAYS;
		else
			return -EINVAL;
	}
	if (!v)
		return -EINVAL;
	*out = v;
	return 0;
}

static int bad_arg(const char *opt, const char *arg, const char *expect)
{
	return log_error("invalid argument '%s' for %s: expected %s (see --help)", arg, opt, expect);
}

int options_parse(int argc, char *argv[], struct cg_options *o)
{
	int c, r;
	uint32_t v;

	*o = (struct cg_options){ .mode = CG_MODE_AUDIT, .format = CG_FORMAT_TEXT, .wait_overlay = -1,
				  .mail_on = CG_MAIL_ON_PROBLEM | CG_MAIL_ON_CHANGE };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:s:p:f:qvhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'd':
		case 's': {
			struct cg_target_arg t;
			r = target_arg_parse(optarg, c == 'd', &t);
			if (r < 0)
				return bad_arg(c == 'd' ? "--dns" : "--service", optarg,
					       c == 'd' ? "an IPv4 or IPv6 address" :
							  "ADDR[:PORT][/udp|/tcp], e.g. 100.100.100.200:80/tcp");
			o->targets = xreallocarray(o->targets, o->n_targets + 1, sizeof(*o->targets));
			o->targets[o->n_targets++] = t;
			break;
		}
		case 'p':
			o->policies = xreallocarray(o->policies, o->n_policies + 1, sizeof(char *));
			o->policies[o->n_policies++] = xstrdup(optarg);
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				o->format = CG_FORMAT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->format = CG_FORMAT_JSON;
			else
				return bad_arg("--format", optarg, "text or json");
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->verbosity++;
			break;
		case OPT_FIX:
			o->fix = true;
			break;
		case OPT_DRY_RUN:
			o->dry_run = true;
			break;
		case OPT_UNDO:
			o->mode = CG_MODE_UNDO;
			break;
		case OPT_SHOW_ROUTE:
			if (addr_parse(optarg, &o->route_dst) < 0)
				return bad_arg("--show-route", optarg, "an IPv4 or IPv6 address");
			o->mode = CG_MODE_SHOW_ROUTE;
			break;
		case OPT_FROM:
			if (addr_parse(optarg, &o->route_src) < 0)
				return bad_arg("--from", optarg, "an IPv4 or IPv6 address");
			break;
		case OPT_MARK:
			if (parse_u32(optarg, UINT32_MAX, &o->route_mark) < 0)
				return bad_arg("--mark", optarg, "a 32-bit number, e.g. 0x80000");
			o->route_mark_set = true;
			break;
		case OPT_IIF:
			free(o->route_iif);
			o->route_iif = xstrdup(optarg);
			break;
		case OPT_OIF:
			free(o->route_oif);
			o->route_oif = xstrdup(optarg);
			break;
		case OPT_UID:
			if (parse_u32(optarg, UINT32_MAX - 1, &o->route_uid) < 0)
				return bad_arg("--uid", optarg, "a numeric user id");
			o->route_uid_set = true;
			break;
		case OPT_IPPROTO:
			if (parse_ipproto(optarg, &o->route_ipproto) < 0)
				return bad_arg("--ipproto", optarg, "udp, tcp, icmp or a protocol number");
			break;
		case OPT_SPORT:
		case OPT_DPORT:
			if (parse_u32(optarg, 65535, &v) < 0)
				return bad_arg(c == OPT_SPORT ? "--sport" : "--dport", optarg, "a port number");
			*(c == OPT_SPORT ? &o->route_sport : &o->route_dport) = (uint16_t)v;
			break;
		case OPT_OFFLINE:
			o->route_offline = true;
			break;
		case OPT_ONLY_NAMED:
			o->only_named = true;
			break;
		case OPT_OFFER: {
			char proto[8];
			unsigned port;
			int end = 0;
			if (sscanf(optarg, "%7[a-z]/%u%n", proto, &port, &end) != 2 || optarg[end] || !port ||
			    port > 65535 || (strcmp(proto, "tcp") && strcmp(proto, "udp")))
				return log_error("--offer '%s': expected tcp/PORT or udp/PORT (PORT 1-65535)", optarg);
			o->offers = xreallocarray(o->offers, o->n_offers + 1, sizeof(*o->offers));
			o->offers[o->n_offers++] = (struct cg_offer){ strcmp(proto, "tcp") ? IPPROTO_UDP : IPPROTO_TCP,
								      (uint16_t)port };
			break;
		}
		case OPT_PROBE:
			o->probe = true;
			break;
		case OPT_KEEP:
			o->keep = true;
			o->fix = true;
			break;
		case OPT_USER:
			if (!*optarg || *optarg == '-')
				return bad_arg("--user", optarg, "a user name or numeric id");
			free(o->user);
			o->user = xstrdup(optarg);
			break;
		case OPT_WAIT_OVERLAY:
			if (!optarg) {
				o->wait_overlay = CG_WAIT_OVERLAY_DEFAULT;
				break;
			}
			if (parse_u32(optarg, 86400, &v) < 0)
				return bad_arg("--wait-overlay", optarg, "a number of seconds (0-86400), "
					       "e.g. --wait-overlay=60");
			o->wait_overlay = (int)v;
			break;
		case OPT_MAIL_TO:
			if (!mail_address_valid(optarg))
				return bad_arg("--mail-to", optarg, "one mail address without spaces, quotes "
					       "or a leading '-', e.g. root or ops@example.com (repeat the option "
					       "for more)");
			o->mail_to = xreallocarray(o->mail_to, o->n_mail_to + 1, sizeof(char *));
			o->mail_to[o->n_mail_to++] = xstrdup(optarg);
			break;
		case OPT_MAIL_ON:
			if (parse_mail_on(optarg, &o->mail_on) < 0)
				return bad_arg("--mail-on", optarg, "problem, change, always, or a comma list "
					       "such as problem,change");
			break;
		case OPT_MAIL_FROM:
			if (!mail_address_valid(optarg))
				return bad_arg("--mail-from", optarg, "one mail address, e.g. cgnatcheck@host.example.com");
			free(o->mail_from);
			o->mail_from = xstrdup(optarg);
			break;
		case OPT_SENDMAIL:
			if (optarg[0] != '/')
				return bad_arg("--sendmail", optarg, "an absolute path, e.g. /usr/sbin/sendmail");
			free(o->sendmail);
			o->sendmail = xstrdup(optarg);
			break;
		case OPT_METRICS_FILE:
		case OPT_SAVE:
		case OPT_REPLAY: {
			char **dst = c == OPT_METRICS_FILE ? &o->metrics_file : c == OPT_SAVE ? &o->save_file :
				     &o->replay_file;
			/* --metrics-file= (empty): none, so a unit can pass a
			 * variable of /etc/default/cgnatcheck that may be empty */
			if (!*optarg && c == OPT_METRICS_FILE) {
				free(*dst);
				*dst = NULL;
				break;
			}
			if (!*optarg)
				return bad_arg(c == OPT_METRICS_FILE ? "--metrics-file" : c == OPT_SAVE ? "--save" :
					       "--replay", optarg, "a file name");
			free(*dst);
			*dst = xstrdup(optarg);
			break;
		}
		case 'h':
			o->mode = CG_MODE_HELP;
			return 0;
		case 'V':
			o->mode = CG_MODE_VERSION;
			return 0;
		case ':':
			return log_error("option '%s' needs an argument (see --help)", argv[optind - 1]);
		default:
			return log_error("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return log_error("unexpected argument '%s' (see --help)", argv[optind]);
	if (o->keep && o->dry_run)
		return log_error("--keep cannot be combined with --dry-run");
	if (o->only_named && !o->n_targets && !o->n_policies && !o->n_offers && o->mode == CG_MODE_AUDIT)
		return log_error("--only-named: nothing is named; give targets with --dns, --service, --offer or "
				 "--policy");
	if (o->dry_run && !o->fix)
		return log_error("--dry-run only makes sense with --fix");
	if (o->fix && o->mode == CG_MODE_UNDO)
		return log_error("--fix and --undo cannot be combined");
	if (o->mode == CG_MODE_SHOW_ROUTE && (o->n_targets || o->fix))
		return log_error("--show-route cannot be combined with --dns, --service or --fix");
	if (o->mode != CG_MODE_SHOW_ROUTE &&
	    (o->route_src.family || o->route_mark_set || o->route_iif || o->route_oif ||
	     o->route_uid_set || o->route_ipproto || o->route_sport || o->route_dport || o->route_offline))
		return log_error("--from, --mark, --iif, --oif, --uid, --ipproto, --sport, --dport and "
				 "--offline only apply to --show-route");
	if (o->route_src.family && o->route_src.family != o->route_dst.family)
		return log_error("--from and --show-route addresses must be of the same family");
	if (o->n_mail_to && (o->fix || o->keep || o->mode != CG_MODE_AUDIT))
		return log_error("--mail-to is the scheduled audit: it cannot be combined with --fix, --keep, "
				 "--undo or --show-route (run those from their own unit or command)");
	if (!o->n_mail_to && (o->mail_from || o->sendmail))
		return log_error("--mail-from and --sendmail only apply with --mail-to");
	if (o->wait_overlay >= 0 && o->mode != CG_MODE_AUDIT)
		return log_error("--wait-overlay applies to the audit, --fix and --keep only");
	if (o->metrics_file && (o->mode != CG_MODE_AUDIT || o->keep))
		return log_error("--metrics-file applies to the audit, --fix and the scheduled audit (--mail-to) only");
	if (o->save_file && (o->mode != CG_MODE_AUDIT || o->fix || o->n_mail_to || o->replay_file))
		return log_error("--save saves what an audit reads: it cannot be combined with --fix, --keep, --undo, "
				 "--show-route, --mail-to or --replay");
	if (o->replay_file && (o->mode != CG_MODE_AUDIT || o->fix || o->probe))
		return log_error("--replay audits a saved file: nothing there to probe or fix (no --probe, --fix, "
				 "--keep, --undo or --show-route)");
	if (o->replay_file && (o->n_mail_to || o->wait_overlay >= 0 || o->user))
		return log_error("--replay cannot be combined with --mail-to, --wait-overlay or --user");
	return 0;
}

void options_free(struct cg_options *o)
{
	free(o->targets);
	free(o->offers);
	for (size_t i = 0; i < o->n_policies; i++)
		free(o->policies[i]);
	free(o->policies);
	free(o->route_iif);
	free(o->route_oif);
	free(o->user);
	for (size_t i = 0; i < o->n_mail_to; i++)
		free(o->mail_to[i]);
	free(o->mail_to);
	free(o->mail_from);
	free(o->sendmail);
	free(o->metrics_file);
	free(o->save_file);
	free(o->replay_file);
	free(o->offline_host);
	free(o->offline_time);
	*o = (struct cg_options){ 0 };
}
