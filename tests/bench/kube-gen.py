#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A kube-proxy (iptables mode) ruleset of S services x E endpoints, in
iptables-restore format, for iptables-legacy-restore or iptables-nft-restore.

    kube-gen.py [--services S] [--endpoints E] [--rules N] [--no-filter]

--rules N picks S so that the nat table has about N rules (E as given).
Defaults: S=15000, E=6, so 8 + S*(2 + 3E) = 300,008 rules in the nat table.

The rule text is what kube-proxy (pkg/proxy/iptables/proxier.go, 1.28+)
writes, so that `iptables-save` prints it back unchanged:

  nat      PREROUTING/OUTPUT -> KUBE-SERVICES, POSTROUTING -> KUBE-POSTROUTING,
           KUBE-MARK-MASQ, KUBE-POSTROUTING (mark check, mark clear,
           MASQUERADE --random-fully);
           per service: a KUBE-SERVICES entry (-d VIP/32 -p tcp --dport),
           a KUBE-SVC-* chain with the masquerade rule for traffic from
           outside the cluster CIDR and one jump per endpoint, all but the
           last with `-m statistic --mode random --probability 1/(E-i)`;
           per endpoint a KUBE-SEP-* chain: `-s EP/32 -j KUBE-MARK-MASQ` and
           `-p tcp -m tcp -j DNAT --to-destination EP:PORT`;
           KUBE-SERVICES ends with the KUBE-NODEPORTS jump (addrtype LOCAL).
  filter   kube-proxy's and kubelet's fixed chains (firewall, forward, the
           localnet block): 14 rules; --no-filter leaves the table out.

Chain names are kube-proxy's: "KUBE-SVC-" + the first 16 characters of
base32(sha256(service port name + protocol)), KUBE-SEP- likewise with the
endpoint appended. Addresses: cluster IPs from 10.96.0.0/12, pods from
10.128.0.0/11 (cluster CIDR), never .0 or .255.
"""
import argparse
import base64
import hashlib
import sys

SERVICE_CIDR_BASE = (10 << 24) | (96 << 16)
POD_CIDR_BASE = (10 << 24) | (128 << 16)
CLUSTER_CIDR = "10.128.0.0/11"
FIXED_NAT_RULES = 8  # 3 hooks, KUBE-MARK-MASQ, 3 KUBE-POSTROUTING, NODEPORTS jump


def ip(v):
    return "%d.%d.%d.%d" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255)


def host(base, i):
    """the i-th address of a block, skipping .0 and .255"""
    return ip(base + (i // 254) * 256 + i % 254 + 1)


def port_proto_hash(s):
    return base64.b32encode(hashlib.sha256(s.encode()).digest()).decode()[:16]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", "-s", type=int, default=15000)
    ap.add_argument("--endpoints", "-e", type=int, default=6)
    ap.add_argument("--rules", "-n", type=int, help="about N nat rules (sets --services)")
    ap.add_argument("--no-filter", action="store_true", help="only the nat table")
    a = ap.parse_args()
    E = a.endpoints
    if E < 1:
        ap.error("--endpoints must be at least 1")
    S = a.services
    if a.rules is not None:
        S = max(1, round((a.rules - FIXED_NAT_RULES) / (2 + 3 * E)))
    if S < 1 or S > 1000000 or S * E > 2000000:
        ap.error("--services x --endpoints out of range (S <= 1e6, S*E <= 2e6)")

    out = []
    w = out.append
    if not a.no_filter:
        w("*filter")
        for c in ("INPUT ACCEPT", "FORWARD ACCEPT", "OUTPUT ACCEPT"):
            w(":%s [0:0]" % c)
        for c in ("KUBE-EXTERNAL-SERVICES", "KUBE-FIREWALL", "KUBE-FORWARD", "KUBE-KUBELET-CANARY",
                  "KUBE-NODEPORTS", "KUBE-PROXY-CANARY", "KUBE-PROXY-FIREWALL", "KUBE-SERVICES"):
            w(":%s - [0:0]" % c)
        w('-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL')
        w('-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS')
        w('-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES')
        w("-A INPUT -j KUBE-FIREWALL")
        w('-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL')
        w('-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD')
        w('-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
        w('-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES')
        w('-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL')
        w('-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
        w("-A OUTPUT -j KUBE-FIREWALL")
        w('-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections"'
          ' -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP')
        w("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP")
        w('-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -m comment --comment "kubernetes forwarding rules" -j ACCEPT')
        w('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule"'
          " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
        w("COMMIT")

    w("*nat")
    for c in ("PREROUTING ACCEPT", "INPUT ACCEPT", "OUTPUT ACCEPT", "POSTROUTING ACCEPT"):
        w(":%s [0:0]" % c)
    chains = ["KUBE-MARK-MASQ", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-SERVICES"]
    rules = [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT"'
        " -j MASQUERADE --random-fully",
    ]
    services = []
    for s in range(S):
        ns, name = "ns%d" % (s % 97), "svc-%d" % s
        spn = "%s/%s:http" % (ns, name)  # the service port name
        vip = host(SERVICE_CIDR_BASE, s)
        port = 80 + s % 1000
        tport = 8080 + s % 100
        svc = "KUBE-SVC-" + port_proto_hash(spn + "tcp")
        chains.append(svc)
        services.append('-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment "%s cluster IP" -m tcp'
                        " --dport %d -j %s" % (vip, spn, port, svc))
        rules.append('-A %s ! -s %s -d %s/32 -p tcp -m comment --comment "%s cluster IP" -m tcp --dport %d'
                     " -j KUBE-MARK-MASQ" % (svc, CLUSTER_CIDR, vip, spn, port))
        seps = []
        for e in range(E):
            ep = host(POD_CIDR_BASE, s * E + e)
            sep = "KUBE-SEP-" + port_proto_hash(spn + "tcp" + "%s:%d" % (ep, tport))
            chains.append(sep)
            if e < E - 1:
                rules.append('-A %s -m comment --comment "%s -> %s:%d" -m statistic --mode random'
                             " --probability %.10f -j %s" % (svc, spn, ep, tport, 1.0 / (E - e), sep))
            else:
                rules.append('-A %s -m comment --comment "%s -> %s:%d" -j %s' % (svc, spn, ep, tport, sep))
            seps.append('-A %s -s %s/32 -m comment --comment "%s" -j KUBE-MARK-MASQ' % (sep, ep, spn))
            seps.append('-A %s -p tcp -m comment --comment "%s" -m tcp -j DNAT --to-destination %s:%d'
                        % (sep, spn, ep, tport))
        rules.extend(seps)
    services.append('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be'
                    ' the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')
    for c in chains:
        w(":%s - [0:0]" % c)
    out.extend(rules)
    out.extend(services)
    w("COMMIT")
    sys.stdout.write("\n".join(out) + "\n")
    print("kube-gen: %d services x %d endpoints: %d nat rules, %d chains"
          % (S, E, len(rules) + len(services), len(chains) + 4), file=sys.stderr)


if __name__ == "__main__":
    main()
