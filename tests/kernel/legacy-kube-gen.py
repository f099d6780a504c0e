#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A kube-proxy (iptables mode) shaped nat table of about N rules.

    legacy-kube-gen.py N > rules      (iptables-restore format)

Per service: a KUBE-SERVICES entry, a KUBE-SVC-* chain with the masquerade
mark rule and one "-m statistic --mode random" jump per endpoint but the last,
and per endpoint a KUBE-SEP-* chain with its KUBE-MARK-MASQ and DNAT rules,
the rule text kube-proxy writes (comments included). 3 endpoints per service:
11 rules per service.
"""
import hashlib
import sys

n_rules = int(sys.argv[1])
ENDPOINTS = 3
n_services = max(1, n_rules // (2 + 3 * ENDPOINTS))


def chain(prefix, key):
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:16].upper()


chains = [":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
          ":POSTROUTING ACCEPT [0:0]", ":KUBE-MARK-MASQ - [0:0]", ":KUBE-NODEPORTS - [0:0]",
          ":KUBE-POSTROUTING - [0:0]", ":KUBE-SERVICES - [0:0]"]
rules = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
    "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
]
svc_rules = []
for s in range(n_services):
    ns, name = "ns%d" % (s % 50), "svc-%d" % s
    vip = "10.96.%d.%d" % (s // 250 % 256, s % 250 + 1)
    port = 80 + s % 1000
    comment = '"%s/%s:http cluster IP"' % (ns, name)
    svc = chain("KUBE-SVC-", ns + name)
    chains.append(":%s - [0:0]" % svc)
    svc_rules.append("-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment %s -m tcp --dport %d -j %s"
                     % (vip, comment, port, svc))
    rules.append("-A %s ! -s 10.244.0.0/16 -d %s/32 -p tcp -m comment --comment %s -m tcp --dport %d"
                 " -j KUBE-MARK-MASQ" % (svc, vip, comment, port))
    for e in range(ENDPOINTS):
        ip = "10.244.%d.%d" % ((s * ENDPOINTS + e) // 250 % 256, (s * ENDPOINTS + e) % 250 + 1)
        sep = chain("KUBE-SEP-", ns + name + ip)
        chains.append(":%s - [0:0]" % sep)
        ecomment = '"%s/%s:http -> %s:8080"' % (ns, name, ip)
        if e < ENDPOINTS - 1:
            rules.append("-A %s -m comment --comment %s -m statistic --mode random --probability %.11f -j %s"
                         % (svc, ecomment, 1.0 / (ENDPOINTS - e), sep))
        else:
            rules.append("-A %s -m comment --comment %s -j %s" % (svc, ecomment, sep))
        rules.append('-A %s -s %s/32 -m comment --comment "%s/%s:http" -j KUBE-MARK-MASQ' % (sep, ip, ns, name))
        rules.append('-A %s -p tcp -m comment --comment "%s/%s:http" -m tcp -j DNAT --to-destination %s:8080'
                     % (sep, ns, name, ip))
svc_rules.append('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the'
                 ' last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')
print("*nat")
print("\n".join(chains))
print("\n".join(rules + svc_rules))
print("COMMIT")
