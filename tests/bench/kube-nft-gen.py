#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""kube-proxy's nftables mode: the transaction it writes for S services x E
endpoints, for `nft -f`.

    kube-nft-gen.py [--services S] [--endpoints E] [--no-endpoints N]
                    [--pin VIP:PORT=EP:EPPORT] [--generation G --churn C]
                    [--stale] [--partial]

The shape is kube-proxy's (pkg/proxy/nftables/proxier.go, 1.31+), written
the way knftables writes a full sync: `add` then `flush` for every chain
and map it owns, then the rules and elements (re-running the file is a
full resync, as kube-proxy's own is). One table, `table ip kube-proxy`
(comment "rules for kube-proxy"):

  base chains   filter-prerouting/-input/-forward/-output (type filter,
                priority dstnat - 10 = -110), filter-output-post-dnat
                (filter, output, dstnat + 10 = -90), nat-prerouting/-output
                (type nat, dstnat = -100), nat-postrouting (nat, srcnat =
                100)
  jumps         ct state new jump nodeport-endpoints-check (input),
                service-endpoints-check (input, forward, output),
                firewall-check (prerouting, output), cluster-ips-check
                (forward, output-post-dnat); jump services (nat
                prerouting/output), jump masquerading (nat postrouting)
  sets, maps    cluster-ips (every cluster IP), nodeport-ips (the node's
                address), service-ips / no-endpoint-services / firewall-ips
                (ipv4_addr . inet_proto . inet_service : verdict),
                service-nodeports / no-endpoint-nodeports
                (inet_proto . inet_service : verdict)
  per service   chain service-HASH-ns/name/tcp/http: `ip daddr VIP tcp
                dport PORT ip saddr != CLUSTER_CIDR jump mark-for-masquerade`
                and `numgen random mod E vmap { 0 : goto endpoint-..., ... }`;
                element VIP . tcp . PORT : goto service-... in service-ips,
                VIP in cluster-ips; every 4th service also a NodePort
                (chain external-HASH-..., service-nodeports element)
  per endpoint  chain endpoint-HASH-ns/name/tcp/http__IP/PORT: `ip saddr IP
                jump mark-for-masquerade`, `meta l4proto tcp dnat to IP:PORT`
  no endpoints  the last N services (--no-endpoints): VIP . tcp . PORT :
                goto reject-chain in no-endpoint-services (with the
                service port name as comment), no chains

Names: HASH is the first 8 characters of base32(sha256(name)). Cluster IPs
from 172.30.0.0/16 (service CIDR, not the CGNAT range), pods from
10.128.0.0/11 (cluster CIDR), never .0 or .255. Service s is ns(s%97)/svc-s,
port 80 + s%1000, target port 8080 + s%100.

--pin VIP:PORT=EP:EPPORT adds one more service, ns0/pinned-N, of cluster IP
VIP, port PORT and the one endpoint EP:EPPORT (tests put EP in a namespace
of their own so that the DNAT is seen to be taken). --generation G with
--churn C (endpoint churn, tests/bench/keep-churn.sh): the first C
services' endpoints move to new pod addresses every generation (4
rotations); with --stale the previous generation's endpoint chains, no
longer referenced, are flushed and deleted in the same transaction.
--partial writes only what kube-proxy's partial sync rewrites for them:
each churned service's chain (added, flushed, refilled), its new endpoint
chains, its service-ips element (deleted and added again), and with
--stale the previous generation's chains deleted: one transaction on top
of the full ruleset already loaded.
"""
import argparse
import base64
import hashlib
import sys

SERVICE_CIDR = "172.30.0.0/16"
SERVICE_BASE = (172 << 24) | (30 << 16)
POD_BASE = (10 << 24) | (128 << 16)
CLUSTER_CIDR = "10.128.0.0/11"
NODE_IP = "172.24.4.100"  # the test bed's host address (lib.sh TB_HOST_IP)
MASQ_MARK = "%#08x" % 0x4000  # kube-proxy formats its mark as "%#08x": 0x004000
T = "ip kube-proxy"


def ip(v):
    return "%d.%d.%d.%d" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255)


def host(base, i):
    """the i-th address of a block, skipping .0 and .255"""
    return ip(base + (i // 254) * 256 + i % 254 + 1)


def hashed(name):
    return base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()[:8] + "-" + name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", "-s", type=int, default=10000)
    ap.add_argument("--endpoints", "-e", type=int, default=10)
    ap.add_argument("--no-endpoints", type=int, default=0, help="the last N services have no endpoints")
    ap.add_argument("--pin", action="append", default=[], metavar="VIP:PORT=EP:EPPORT")
    ap.add_argument("--generation", type=int, default=0)
    ap.add_argument("--churn", type=int, default=0, help="services whose endpoints move every generation")
    ap.add_argument("--stale", action="store_true", help="delete the previous generation's endpoint chains")
    ap.add_argument("--partial", action="store_true", help="only the churned services (a partial sync)")
    a = ap.parse_args()
    S, E = a.services, a.endpoints
    if S < 0 or E < 1 or S > 60000 or S * E > 1000000:
        ap.error("--services 0..60000, --endpoints >= 1, S*E <= 1e6")
    if not 0 <= a.no_endpoints <= S or not 0 <= a.churn <= S or a.generation < 0:
        ap.error("--no-endpoints and --churn: 0..S; --generation >= 0")

    out = []
    w = out.append
    w('add table %s { comment "rules for kube-proxy" ; }' % T)
    # kube-proxy's priorities are dstnat - 10, dstnat + 10, dstnat and
    # srcnat; knftables writes them as numbers (nft before 1.0.7 takes
    # "dstnat" only on prerouting)
    base = [
        ("filter-prerouting", "filter", "prerouting", "-110"),
        ("filter-input", "filter", "input", "-110"),
        ("filter-forward", "filter", "forward", "-110"),
        ("filter-output", "filter", "output", "-110"),
        ("filter-output-post-dnat", "filter", "output", "-90"),
        ("nat-prerouting", "nat", "prerouting", "-100"),
        ("nat-output", "nat", "output", "-100"),
        ("nat-postrouting", "nat", "postrouting", "100"),
    ]
    for name, typ, hook, prio in base:
        w("add chain %s %s { type %s hook %s priority %s ; }" % (T, name, typ, hook, prio))
        w("flush chain %s %s" % (T, name))
    created = set()

    def chain(name, comment=None):
        if name in created:
            return
        created.add(name)
        if comment:
            w('add chain %s %s { comment "%s" ; }' % (T, name, comment))
        else:
            w("add chain %s %s" % (T, name))
        w("flush chain %s %s" % (T, name))

    def rule(ch, text, comment=None):
        w("add rule %s %s %s%s" % (T, ch, text, ' comment "%s"' % comment if comment else ""))

    for dst, src, extra in (
        ("nodeport-endpoints-check", "filter-input", "ct state new "),
        ("service-endpoints-check", "filter-input", "ct state new "),
        ("service-endpoints-check", "filter-forward", "ct state new "),
        ("service-endpoints-check", "filter-output", "ct state new "),
        ("firewall-check", "filter-prerouting", "ct state new "),
        ("firewall-check", "filter-output", "ct state new "),
        ("services", "nat-output", ""),
        ("services", "nat-prerouting", ""),
        ("masquerading", "nat-postrouting", ""),
        ("cluster-ips-check", "filter-forward", "ct state new "),
        ("cluster-ips-check", "filter-output-post-dnat", "ct state new "),
    ):
        chain(dst)
        rule(src, "%sjump %s" % (extra, dst))
    for c in ("services", "cluster-ips-check", "masquerading", "mark-for-masquerade"):
        chain(c)
    rule("mark-for-masquerade", "mark set mark or %s" % MASQ_MARK)
    rule("masquerading", "mark and %s == 0 return" % MASQ_MARK)
    rule("masquerading", "mark set mark xor %s" % MASQ_MARK)
    rule("masquerading", "masquerade fully-random")
    w('add set %s cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }' % T)
    rule("cluster-ips-check", "ip daddr @cluster-ips reject", "Reject traffic to invalid ports of ClusterIPs")
    rule("cluster-ips-check", "ip daddr { %s } drop" % SERVICE_CIDR, "Drop traffic to unallocated ClusterIPs")
    w('add set %s nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }' % T)
    w("flush set %s nodeport-ips" % T)
    w("add element %s nodeport-ips { %s }" % (T, NODE_IP))
    vmap = "ipv4_addr . inet_proto . inet_service : verdict"
    w('add map %s no-endpoint-services { type %s ; comment "vmap to drop or reject packets to services with no'
      ' endpoints" ; }' % (T, vmap))
    w('add map %s no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or'
      ' reject packets to service nodeports with no endpoints" ; }' % T)
    w('add chain %s reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }' % T)
    w("flush chain %s reject-chain" % T)
    rule("reject-chain", "reject")
    rule("service-endpoints-check", "ip daddr . meta l4proto . th dport vmap @no-endpoint-services")
    rule("nodeport-endpoints-check", "ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports")
    w('add map %s firewall-ips { type %s ; comment "destinations that are subject to LoadBalancerSourceRanges"'
      ' ; }' % (T, vmap))
    chain("firewall-check")
    rule("firewall-check", "ip daddr . meta l4proto . th dport vmap @firewall-ips")
    w('add map %s service-ips { type %s ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }'
      % (T, vmap))
    w('add map %s service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }'
      % T)
    rule("services", "ip daddr . meta l4proto . th dport vmap @service-ips")
    rule("services", "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports")
    for s in ("set cluster-ips", "map service-ips", "map firewall-ips", "map no-endpoint-services",
              "map no-endpoint-nodeports", "map service-nodeports"):
        kind, name = s.split()
        w("flush %s %s %s" % (kind, T, name))

    def pod_index(s, e, g):
        """endpoint e of service s in generation g: generation 0 and the
        services not churned at s*E+e, churned ones in 4 rotating blocks"""
        if g == 0 or s >= a.churn:
            return s * E + e
        return S * E + ((g - 1) % 4) * a.churn * E + s * E + e

    if a.partial:
        # a partial sync: nothing of the fixed part
        del out[:]
        created.clear()

    # the services: (namespace/name, vip, port, endpoints [(ip, port)], nodeport)
    svcs = []
    for s in range(S):
        eps = []
        if s < S - a.no_endpoints:
            tport = 8080 + s % 100
            for e in range(E):
                eps.append((host(POD_BASE, pod_index(s, e, a.generation)), tport))
        svcs.append(("ns%d/svc-%d" % (s % 97, s), host(SERVICE_BASE, s), 80 + s % 1000, eps,
                     30000 + s // 4 if s % 4 == 0 and s // 4 < 2768 else 0))
    for p in a.pin:
        try:
            vp, ep = p.split("=")
            vip, port = vp.rsplit(":", 1)
            eip, eport = ep.rsplit(":", 1)
            svcs.append(("ns0/pinned-%d" % len(svcs), vip, int(port), [(eip, int(eport))], 0))
        except ValueError:
            ap.error("--pin VIP:PORT=EP:EPPORT, not %r" % p)

    elements = {"cluster-ips": [], "service-ips": [], "no-endpoint-services": [], "service-nodeports": []}
    chains = rules = 0
    for i, (nsname, vip, port, eps, nodeport) in enumerate(svcs):
        if a.partial and (i >= a.churn or not eps):
            continue
        spn = nsname + ":http"
        base_name = "%s/tcp/http" % nsname
        elements["cluster-ips"].append(vip)
        if not eps:
            elements["no-endpoint-services"].append('%s . tcp . %d comment "%s" : goto reject-chain'
                                                    % (vip, port, spn))
            continue
        svc = "service-" + hashed(base_name)
        chain(svc)
        elements["service-ips"].append("%s . tcp . %d : goto %s" % (vip, port, svc))
        if a.partial:
            w("delete element %s service-ips { %s . tcp . %d }" % (T, vip, port))
        rule(svc, "ip daddr %s tcp dport %d ip saddr != %s jump mark-for-masquerade" % (vip, port, CLUSTER_CIDR))
        chains += 1
        rules += 2
        epchains = []
        for eip, eport in eps:
            epc = "endpoint-" + hashed("%s__%s/%d" % (base_name, eip, eport))
            epchains.append(epc)
            chain(epc)
            rule(epc, "ip saddr %s jump mark-for-masquerade" % eip)
            rule(epc, "meta l4proto tcp dnat to %s:%d" % (eip, eport))
            chains += 1
            rules += 2
        rule(svc, "numgen random mod %d vmap { %s }"
             % (len(epchains), ", ".join("%d : goto %s" % (i, c) for i, c in enumerate(epchains))))
        if nodeport and not a.partial:
            ext = "external-" + hashed(base_name)
            chain(ext)
            rule(ext, "jump mark-for-masquerade")
            rule(ext, "goto %s" % svc)
            elements["service-nodeports"].append("tcp . %d : goto %s" % (nodeport, ext))
            chains += 1
            rules += 2
    for name, elems in elements.items():
        if a.partial and name != "service-ips":
            continue
        for i in range(0, len(elems), 1000):
            w("add element %s %s { %s }" % (T, name, ", ".join(elems[i:i + 1000])))
    stale = 0
    if a.stale and a.generation > 0:
        # the previous generation's endpoint chains of the churned services:
        # unreferenced once the service chains and maps above are refilled
        g = a.generation - 1
        for s in range(min(a.churn, S - a.no_endpoints)):
            nsname, tport = "ns%d/svc-%d" % (s % 97, s), 8080 + s % 100
            for e in range(E):
                eip = host(POD_BASE, pod_index(s, e, g))
                epc = "endpoint-" + hashed("%s/tcp/http__%s/%d" % (nsname, eip, tport))
                if epc in created:
                    continue
                w("flush chain %s %s" % (T, epc))
                w("delete chain %s %s" % (T, epc))
                stale += 1
    sys.stdout.write("\n".join(out) + "\n")
    print("kube-nft-gen: %d services x %d endpoints (%d without): %d service/endpoint chains, %d rules in them,"
          " %d service-ips elements%s"
          % (len(svcs), E, a.no_endpoints, chains, rules, len(elements["service-ips"]),
             ", %d stale chains deleted" % stale if stale else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
