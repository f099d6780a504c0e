#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Random iptables rulesets (iptables-restore format) for the renderer tests.

    legacy-gen.py SEED RULES {4|6} [nft] > rules

A grammar over every match and target the xt decoder and the renderer know,
with the constraints the kernel and iptables enforce (NAT targets in the nat
table on their hooks, -i not on output hooks, REJECT in filter, ...), so
every generated file loads ("nft": with iptables-nft-restore, which cannot
express "! -s x/0"). The same seed always gives the same file. The
expected text is whatever iptables-save prints for it: the generator only has
to produce rules that load, not predict their spelling.
"""
import ipaddress
import random
import sys

seed, n_rules, fam = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
nft = len(sys.argv) > 4 and sys.argv[4] == "nft"
rnd = random.Random(seed)
v6 = fam == "6"


def pick(*xs):
    return rnd.choice(xs)


def chance(p):
    return rnd.random() < p


def neg():
    return "! " if chance(0.3) else ""


def ifname():
    return pick("eth0", "eth1", "tailscale0", "docker0", "wg0", "eth+", "veth+", "br-1a2b3c", "lo")


def addr4():
    return "%d.%d.%d.%d" % (pick(10, 100, 172, 192, 198, 203), rnd.randrange(256), rnd.randrange(256),
                             rnd.randrange(256))


def addr6():
    return pick("2001:db8::", "fd7a:115c:a1e0::", "fe80::", "2001:db8:1:2::") + "%x" % rnd.randrange(1, 65536)


def addr():
    return addr6() if v6 else addr4()


def prefix():
    if v6:
        return "%s/%d" % (addr6(), pick(128, 64, 48, 10, 0, rnd.randrange(129)))
    if chance(0.1):
        return "%s/%s" % (addr4(), pick("255.0.255.0", "255.255.0.255", "0.255.255.255"))
    return "%s/%d" % (addr4(), pick(32, 24, 16, 10, 8, 0, rnd.randrange(33)))


def port():
    return rnd.randrange(0, 65536)


def portspec():
    if chance(0.4):
        a, b = sorted((port(), port()))
        return "%d:%d" % (a, b)
    return str(port())


def comment():
    return '"%s"' % "".join(pick("a", "b", "Z", "0", " ", "-", "_", ":", "/", "'", '\\"', "\\\\", ".")
                            for _ in range(rnd.randrange(1, 20)))


STATES = ["INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED"]
CTSTATES = STATES + ["SNAT", "DNAT"]
STATUS = ["EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED"]
TYPES4 = ["UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE",
          "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"]
TYPES6 = ["UNSPEC", "UNICAST", "LOCAL", "ANYCAST", "MULTICAST", "UNREACHABLE"]


def subset(xs):
    return ",".join(rnd.sample(xs, rnd.randrange(1, len(xs) + 1)))


def m_tcp():
    s = "-m tcp"
    if chance(0.5):
        s += " %s--sport %s" % (neg(), portspec())
    if chance(0.6):
        s += " %s--dport %s" % (neg(), portspec())
    if chance(0.2):
        s += " %s--tcp-flags %s %s" % (neg(), subset(["SYN", "ACK", "FIN", "RST", "URG", "PSH"]),
                                        pick("SYN", "NONE", "ACK,SYN", "FIN"))
    elif chance(0.1):
        s += " %s--syn" % neg()
    if chance(0.1):
        s += " %s--tcp-option %d" % (neg(), rnd.randrange(1, 255))
    return s


def m_udp():
    s = "-m udp"
    if chance(0.5):
        s += " %s--sport %s" % (neg(), portspec())
    if chance(0.7):
        s += " %s--dport %s" % (neg(), portspec())
    return s


def m_icmp():
    if v6:
        t = pick("1", "1/3", "2", "128", "129", "135", "136", "echo-request", "destination-unreachable")
        return "-m icmp6 %s--icmpv6-type %s" % (neg(), t)
    t = pick("any", "8", "0", "3", "3/4", "11/0", "echo-request", "port-unreachable", "5")
    return "-m icmp %s--icmp-type %s" % (neg(), t)


def m_multiport():
    ports = []
    for _ in range(rnd.randrange(1, 6)):
        ports.append(portspec() if chance(0.3) else str(port()))
    opt = pick("--sports", "--dports", "--ports")
    return "-m multiport %s%s %s" % (neg(), opt, ",".join(ports))


def m_conntrack():
    parts = []
    if chance(0.7):
        parts.append("%s--ctstate %s" % (neg(), subset(CTSTATES)))
    if chance(0.2):
        parts.append("%s--ctproto %s" % (neg(), pick("tcp", "udp", "6", "17", "1")))
    for o in ("--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst"):
        if chance(0.1):
            parts.append("%s%s %s" % (neg(), o, prefix()))
    for o in ("--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport", "--ctrepldstport"):
        if chance(0.08):
            parts.append("%s%s %s" % (neg(), o, portspec()))
    if chance(0.15):
        parts.append("%s--ctstatus %s" % (neg(), subset(STATUS)))
    if chance(0.1):
        a, b = sorted((rnd.randrange(0, 100000), rnd.randrange(0, 100000)))
        parts.append("%s--ctexpire %s" % (neg(), pick(str(a), "%d:%d" % (a, b))))
    if chance(0.1):
        parts.append("--ctdir %s" % pick("ORIGINAL", "REPLY"))
    if not parts:
        parts.append("--ctstate NEW")
    return "-m conntrack " + " ".join(parts)


def m_state():
    return "-m state %s--state %s" % (neg(), subset(STATES))


def mark_mask():
    m = rnd.getrandbits(32)
    if chance(0.5):
        return "0x%x" % m
    return "0x%x/0x%x" % (m, pick(0xff0000, 0xffffffff, 0xff, rnd.getrandbits(32)))


def m_addrtype(hook):
    types = TYPES6 if v6 else TYPES4
    parts = []
    if chance(0.6):
        parts.append("%s--src-type %s" % (neg(), subset(types)))
    if chance(0.6) or not parts:
        parts.append("%s--dst-type %s" % (neg(), subset(types)))
    if hook in ("PREROUTING", "INPUT") and chance(0.3):
        parts.append("--limit-iface-in")
    elif hook in ("POSTROUTING", "OUTPUT") and chance(0.3):
        parts.append("--limit-iface-out")
    return "-m addrtype " + " ".join(parts)


def m_iprange():
    a, b = sorted((ipaddress.ip_address(addr()), ipaddress.ip_address(addr())))
    if chance(0.2):
        b = a
    return "-m iprange %s--%s-range %s-%s" % (neg(), pick("src", "dst"), a, b)


def m_statistic():
    if chance(0.5):
        return "-m statistic --mode random %s--probability %s" % (
            neg(), pick("0.5", "0.25", "0.1", "0.33333333349", "0.01", "1"))
    every = rnd.randrange(1, 10)
    return "-m statistic --mode nth %s--every %d --packet %d" % (neg(), every, rnd.randrange(every))


def m_limit():
    # no /day: the kernel refuses avg * burst beyond 32 bits
    s = "-m limit --limit %d/%s" % (rnd.randrange(1, 100), pick("sec", "min", "hour", "second", "minute"))
    if chance(0.5):
        s += " --limit-burst %d" % rnd.randrange(1, 50)
    return s


def matches(proto, hook):
    out = []
    if proto == "tcp" and chance(0.6):
        out.append(m_tcp())
    if proto == "udp" and chance(0.6):
        out.append(m_udp())
    if proto == "icmp" and chance(0.7):
        out.append(m_icmp())
    makers = [m_conntrack, m_state, lambda: "-m mark %s--mark %s" % (neg(), mark_mask()),
              lambda: "-m connmark %s--mark %s" % (neg(), mark_mask()),
              lambda: "-m comment --comment %s" % comment(), lambda: m_addrtype(hook), m_iprange,
              lambda: "-m pkttype %s--pkt-type %s" % (neg(), pick("unicast", "broadcast", "multicast", "host")),
              m_statistic, m_limit]
    if proto in ("tcp", "udp"):
        makers.append(m_multiport)
    for _ in range(rnd.randrange(0, 3)):
        out.append(rnd.choice(makers)())
    return out


def addr_opt(letter):
    n, p = neg(), prefix()
    if nft and n and p.endswith("/0"):
        n = ""      # iptables-nft would load a zero-length payload: refused
    return "%s-%s %s" % (n, letter, p)


def ip_part(hook):
    out = []
    if chance(0.3):
        out.append(addr_opt("s"))
    if chance(0.3):
        out.append(addr_opt("d"))
    if hook not in ("OUTPUT", "POSTROUTING") and chance(0.3):
        out.append("%s-i %s" % (neg(), ifname()))
    if hook not in ("INPUT", "PREROUTING") and chance(0.3):
        out.append("%s-o %s" % (neg(), ifname()))
    proto = pick("", "", "tcp", "tcp", "udp", "udp", "icmp", "other")
    if proto == "icmp":
        out.append("-p %s" % ("ipv6-icmp" if v6 else "icmp"))
    elif proto == "other":
        out.append("%s-p %s" % (neg(), pick("gre", "esp", "sctp", "47", "132", "udplite", *([] if v6 else ["ah"]))))
    elif proto:
        out.append("-p %s" % proto)
    if not v6 and chance(0.05):
        out.append("%s-f" % neg())
    return proto, out


def reject(proto):
    if v6:
        opts = ["icmp6-no-route", "icmp6-adm-prohibited", "icmp6-addr-unreachable", "icmp6-port-unreachable",
                "icmp6-policy-fail", "icmp6-reject-route"]
    else:
        opts = ["icmp-net-unreachable", "icmp-host-unreachable", "icmp-proto-unreachable",
                "icmp-port-unreachable", "icmp-net-prohibited", "icmp-host-prohibited", "icmp-admin-prohibited"]
    if proto == "tcp":
        opts.append("tcp-reset")
    return "-j REJECT --reject-with %s" % pick(*opts)


def log():
    s = "-j LOG"
    if chance(0.7):
        s += " --log-prefix %s" % comment()
    if chance(0.4):
        s += " --log-level %d" % rnd.randrange(8)
    for f in ("--log-tcp-sequence", "--log-tcp-options", "--log-ip-options", "--log-uid"):
        if chance(0.15):
            s += " " + f
    return s


def nflog():
    s = "-j NFLOG"
    if chance(0.6):
        s += " --nflog-prefix %s" % comment()
    if chance(0.6):
        s += " --nflog-group %d" % rnd.randrange(65536)
    if chance(0.3):
        s += " --nflog-size %d" % rnd.randrange(1, 65536)
    if chance(0.3):
        s += " --nflog-threshold %d" % rnd.randrange(1, 100)
    return s


def target(table, hook, proto, users):
    common = ["-j ACCEPT", "-j DROP", "-j RETURN", log(), nflog(), ""]
    if users:
        u = rnd.choice(users)
        common += ["-j %s" % u, "-g %s" % u]
    if table == "filter":
        return pick(*(common + [reject(proto)] * 2))
    if table == "mangle":
        return pick(*(common + ["-j MARK --set-xmark %s" % mark_mask(),
                                "-j MARK --set-mark %s" % mark_mask(),
                                "-j MARK --or-mark 0x%x" % rnd.getrandbits(32),
                                "-j CONNMARK --set-xmark %s" % mark_mask(),
                                "-j CONNMARK --save-mark --nfmask 0x%x --ctmask 0x%x" % (
                                    rnd.getrandbits(32), rnd.getrandbits(32)),
                                "-j CONNMARK --restore-mark --mask 0x%x" % rnd.getrandbits(32),
                                "-j CONNMARK --save-mark --right-shift-mark %d" % rnd.randrange(1, 32)]))
    if table == "raw":
        return pick("-j CT --notrack", "-j NOTRACK", "-j TRACE", "-j ACCEPT", "-j DROP")
    # nat
    ports = proto in ("tcp", "udp")
    pr = ":%s" % pick(str(port() or 1), "1000-2000") if ports and chance(0.5) else ""
    a = ("[%s]" % addr6() if pr else addr6()) if v6 else addr4()
    flags = "".join(" --%s" % f for f in ("random", "persistent") if chance(0.2))
    if hook in ("PREROUTING", "OUTPUT"):
        redir = "-j REDIRECT" + (" --to-ports %s" % pick("22", "8000-8100") if ports and chance(0.6) else "")
        return pick("-j DNAT --to-destination %s%s%s" % (a, pr, flags), redir, "-j ACCEPT", "-j RETURN")
    if hook == "INPUT":      # MASQUERADE is POSTROUTING only
        return pick("-j SNAT --to-source %s%s%s" % (a, pr, flags), "-j ACCEPT", "-j RETURN")
    masq = "-j MASQUERADE" + (" --to-ports %s" % pick("1024-2047", "5000") if ports and chance(0.4) else "")
    masq += " --random-fully" if chance(0.2) else ""
    return pick("-j SNAT --to-source %s%s%s" % (a, pr, flags), masq, "-j ACCEPT", "-j RETURN")


HOOKS = {
    "filter": ["INPUT", "FORWARD", "OUTPUT"],
    "mangle": ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
    "nat": ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
    "raw": ["PREROUTING", "OUTPUT"],
}


def table(name, n):
    hooks = HOOKS[name]
    # user chains are reached from one hook only, so hook-specific rules
    # (NAT, addrtype --limit-iface-*, -i/-o) stay valid in them
    users = {"%s-u%d" % (name, i): rnd.choice(hooks) for i in range(3)}
    lines = ["*" + name]
    lines += [":%s %s [0:0]" % (h, pick("ACCEPT", "DROP") if name == "filter" else "ACCEPT") for h in hooks]
    lines += [":%s - [0:0]" % u for u in users]
    chains = hooks + list(users)
    for _ in range(n):
        chain = rnd.choice(chains)
        hook = users.get(chain, chain)
        # jumps only go to user chains of the same hook, and only downwards
        # in the list (no loops)
        allowed = [u for u, h in users.items() if h == hook and (chain not in users or u > chain)]
        proto, ip = ip_part(hook)
        parts = ["-A", chain] + ip + matches(proto, hook)
        t = target(name, hook, proto, allowed)
        if t:
            parts.append(t)
        lines.append(" ".join(parts))
    lines.append("COMMIT")
    return lines


out = []
weights = [("filter", 0.5), ("mangle", 0.2), ("nat", 0.2), ("raw", 0.1)]
for name, w in weights:
    out += table(name, max(1, int(n_rules * w)))
print("\n".join(out))
