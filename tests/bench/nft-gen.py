#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The nftables scenario of the benchmark: an `nft -f` file on stdout.

    nft-gen.py [--elements N] [--vmap V] [--chains K]

table inet bench, beside Tailscale's ip/ip6 tables (run.sh adds those):

  set blocklist   type ipv4_addr, flags interval, N ranges (default
                  1,000,000; each is a start and an end element in the
                  kernel). Bulk: 8 addresses of every 16 from 10.0.0.0 up.
                  Around the provider: 100.100.1.0/24, 100.100.2.0-.135,
                  100.100.2.137-.255 and 100.100.3.0/24, so a lookup of
                  100.100.2.136 lands between two neighbours and misses;
                  and 172.24.4.96/28, the host's own address, which a
                  reply's daddr hits.
  map m           type ipv4_addr : verdict, flags interval, V entries
                  (default 4,096): /28 blocks of 198.18.0.0 upward, each
                  `jump cI` over K chains (default 64), plus 100.100.0.0/16
                  : jump prov, so the audit's flows take a verdict-map jump
                  and come back.
  chain input     hook input, priority filter - 10:
                    ip saddr @blocklist counter drop     (the reply misses)
                    ip daddr @blocklist counter          (the reply hits)
                    ip saddr vmap @m                     (jump prov, return)
  chain output    hook output, priority filter - 10:
                    ip daddr @blocklist counter drop     (the request misses)
                    ip daddr vmap @m                     (jump prov, return)

Nothing here decides the audit's verdict: Tailscale's CGNAT drop does.
Elements are added in chunks of 10,000, all in the one transaction of one
`nft -f`.
"""
import argparse
import sys

CHUNK = 10000


def ip(v):
    return "%d.%d.%d.%d" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255)


def addr(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return a << 24 | b << 16 | c << 8 | d


SPECIAL = ["100.100.1.0/24", "100.100.2.0-100.100.2.135", "100.100.2.137-100.100.2.255",
           "100.100.3.0/24", "172.24.4.96/28"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--elements", "-n", type=int, default=1000000)
    ap.add_argument("--vmap", "-m", type=int, default=4096)
    ap.add_argument("--chains", "-k", type=int, default=64)
    a = ap.parse_args()
    if a.elements < len(SPECIAL) or a.elements > 50000000:
        ap.error("--elements: %d to 50,000,000" % len(SPECIAL))
    if a.vmap < 1 or a.chains < 1:
        ap.error("--vmap and --chains must be at least 1")

    out = sys.stdout
    w = lambda s: out.write(s + "\n")
    w("table inet bench {")
    w("\tset blocklist {\n\t\ttype ipv4_addr; flags interval;\n\t}")
    w("\tmap m {\n\t\ttype ipv4_addr : verdict; flags interval;\n\t}")
    for k in range(a.chains):
        w("\tchain c%d {\n\t\ttcp dport %d counter accept\n\t\tcounter\n\t}" % (k, 2000 + k))
    w("\tchain prov {\n\t\tudp dport 9999 counter drop\n\t\tcounter\n\t}")
    w("\tchain input {\n\t\ttype filter hook input priority filter - 10; policy accept;")
    w("\t\tip saddr @blocklist counter drop\n\t\tip daddr @blocklist counter\n\t\tip saddr vmap @m\n\t}")
    w("\tchain output {\n\t\ttype filter hook output priority filter - 10; policy accept;")
    w("\t\tip daddr @blocklist counter drop\n\t\tip daddr vmap @m\n\t}")
    w("}")

    bulk = a.elements - len(SPECIAL)
    base = addr("10.0.0.0")
    if base + 16 * bulk > addr("100.0.0.0"):
        ap.error("--elements too large for the bulk range")
    els = list(SPECIAL)
    for k in range(bulk):
        v = base + 16 * k
        els.append("%s-%s" % (ip(v), ip(v + 7)))
        if len(els) >= CHUNK:
            w("add element inet bench blocklist { " + ", ".join(els) + " }")
            els = []
    if els:
        w("add element inet bench blocklist { " + ", ".join(els) + " }")

    els = ["100.100.0.0/16 : jump prov"]
    vbase = addr("198.18.0.0")
    for k in range(a.vmap - 1):
        els.append("%s/28 : jump c%d" % (ip(vbase + 16 * k), k % a.chains))
        if len(els) >= CHUNK:
            w("add element inet bench m { " + ", ".join(els) + " }")
            els = []
    if els:
        w("add element inet bench m { " + ", ".join(els) + " }")
    print("nft-gen: %d interval elements, %d verdict-map entries over %d chains"
          % (a.elements, a.vmap, a.chains + 1), file=sys.stderr)


if __name__ == "__main__":
    main()
