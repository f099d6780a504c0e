#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The benchmark's routing table: an `ip -batch` file on stdout.

    route-gen.py [--routes N] [--gateway ADDR] [--dev DEV]

N /32 routes (default 100,000) from 10.160.0.1 upward (never .0 or .255),
spread round-robin over the main table (via the gateway) and tables 100,
101 and 102 (dev only), and three ip rules that make the lookup visit them:

  pref 1000 lookup 100                      every packet (misses, falls through)
  pref 1001 from 198.51.100.0/24 lookup 101
  pref 1002 fwmark 0x1234 lookup 102

Tailscale's rules and table 52 come from the test bed (tb_ts_routing).
"""
import argparse
import sys


def ip(v):
    return "%d.%d.%d.%d" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--routes", "-n", type=int, default=100000)
    ap.add_argument("--gateway", default="172.24.63.253")
    ap.add_argument("--dev", default="eth0")
    a = ap.parse_args()
    if a.routes < 0 or a.routes > 4000000:
        ap.error("--routes: 0 to 4,000,000")
    w = sys.stdout.write
    w("rule add pref 1000 lookup 100\n")
    w("rule add pref 1001 from 198.51.100.0/24 lookup 101\n")
    w("rule add pref 1002 fwmark 0x1234 lookup 102\n")
    base = 10 << 24 | 160 << 16
    for i in range(a.routes):
        dst = ip(base + (i // 254) * 256 + i % 254 + 1)
        t = i % 4
        if t == 0:
            w("route add %s/32 via %s dev %s\n" % (dst, a.gateway, a.dev))
        else:
            w("route add %s/32 dev %s table %d\n" % (dst, a.dev, 99 + t))


if __name__ == "__main__":
    main()
