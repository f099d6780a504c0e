#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Random nftables rulesets for the collector tests (an `nft -f` file on stdout).

    nft-gen.py SEED [RULES] [NETDEV_DEVICE]

The same seed gives the same ruleset. Tables of every family; base chains at
random hooks, priorities and policies; regular chains reached by jump/goto
(only towards later chains, so there are no loops for the kernel to refuse);
named sets (exact and interval, single and concatenated keys, with timeouts),
verdict maps and data maps; anonymous sets and inline verdict maps; comments;
and expressions the model keeps as unknown (numgen, dynamic sets), and fib.
Statements that only some hooks allow (reject, nat, fib) stay in base chains
of those hooks."""

import random
import sys

seed = int(sys.argv[1])
target_rules = int(sys.argv[2]) if len(sys.argv) > 2 else 300
netdev_dev = sys.argv[3] if len(sys.argv) > 3 else None
rng = random.Random(seed)
out = []


def emit(s):
    out.append(s)


def chance(p):
    return rng.random() < p


def blocks(n):
    """n distinct /24 blocks of 10.0.0.0/8: elements built inside different
    blocks never overlap, which interval sets require."""
    return [(b >> 8, b & 0xff) for b in rng.sample(range(1, 65535), n)]


def v4_elements(n, ranges=True):
    els = []
    for a, b in blocks(n):
        r = rng.random()
        if r < 0.4 or not ranges:
            els.append(f"10.{a}.{b}.{rng.randrange(256)}")
        elif r < 0.7:
            plen = rng.choice([24, 25, 26, 28, 30])
            els.append(f"10.{a}.{b}.0/{plen}")
        else:
            lo = rng.randrange(200)
            els.append(f"10.{a}.{b}.{lo}-10.{a}.{b}.{lo + rng.randrange(1, 55)}")
    return els


def v6_elements(n):
    els = []
    for a, b in blocks(n):
        if chance(0.5):
            els.append(f"fd00:{a:x}:{b:x}::{rng.randrange(1, 65535):x}")
        else:
            els.append(f"fd00:{a:x}:{b:x}::/{rng.choice([48, 56, 64, 96])}")
    return els


def port_elements(n, ranges):
    ks = rng.sample(range(1, 600), n)
    els = []
    for k in ks:
        if ranges and chance(0.5):
            lo = k * 100 + rng.randrange(50)
            els.append(f"{lo}-{lo + rng.randrange(1, 49)}")
        else:
            els.append(str(k * 100 + rng.randrange(100)))
    return els


def elements(els):
    return f"elements = {{ {', '.join(els)} }}" if els else ""


def mac():
    return ":".join(f"{rng.randrange(256):02x}" for _ in range(6))


class Table:
    def __init__(self, family, name):
        self.family = family
        self.name = name
        self.sets = {}          # name -> kind
        self.regular = []       # regular chain names, in jump order
        self.leaves = []        # the last regular chains: no jumps out
        self.lines = []

    @property
    def v4(self):
        return self.family in ("ip", "inet", "netdev", "bridge")

    @property
    def v6(self):
        return self.family in ("ip6", "inet")

    @property
    def l4(self):
        return self.family in ("ip", "ip6", "inet", "netdev", "bridge")

    @property
    def ct(self):
        return self.family in ("ip", "ip6", "inet")


def make_sets(t):
    n = rng.randrange(1, 30)
    if t.v4:
        flags = "flags interval; " if chance(0.6) else ""
        t.lines.append(f"\tset v4 {{ type ipv4_addr; {flags}{elements(v4_elements(n, bool(flags)))} }}")
        t.sets["v4"] = "v4"
        if chance(0.5):
            # overlapping input, merged by nft
            els = v4_elements(rng.randrange(1, 10)) + ["100.64.0.0/10", "100.100.2.136"]
            t.lines.append(f"\tset merged {{ type ipv4_addr; flags interval; auto-merge; {elements(els)} }}")
            t.sets["merged"] = "v4"
    if t.v6:
        t.lines.append(f"\tset v6 {{ type ipv6_addr; flags interval; {elements(v6_elements(rng.randrange(0, 20)))} }}")
        t.sets["v6"] = "v6"
    if t.l4:
        ranges = chance(0.5)
        flags = "flags interval; " if ranges else ""
        t.lines.append(f"\tset ports {{ type inet_service; {flags}{elements(port_elements(rng.randrange(1, 25), ranges))} }}")
        t.sets["ports"] = "port"
    if t.v4 and t.family != "netdev":
        interval = chance(0.6)
        els = []
        for (a, b), p in zip(blocks(rng.randrange(1, 15)), port_elements(15, interval)):
            addr = f"10.{a}.{b}.0/24" if interval and chance(0.5) else f"10.{a}.{b}.{rng.randrange(256)}"
            els.append(f"{addr} . {p}")
        flags = "flags interval; " if interval else ""
        t.lines.append(f"\tset svc {{ type ipv4_addr . inet_service; {flags}{elements(els)} }}")
        t.sets["svc"] = "concat"
    if t.family == "ip":
        t.lines.append("\tset timed { type ipv4_addr; flags timeout; "
                       + elements([f"{e} timeout 1h" for e in v4_elements(rng.randrange(1, 6), False)]) + " }")
        t.sets["timed"] = "v4"
        t.lines.append("\tset dyn { type ipv4_addr; size 1024; flags dynamic; }")
        t.sets["dyn"] = "dyn"
        els = [f"{p} : 10.0.0.{rng.randrange(1, 255)}" for p in port_elements(rng.randrange(1, 8), False)]
        t.lines.append(f"\tmap natm {{ type inet_service : ipv4_addr; {elements(els)} }}")
        t.sets["natm"] = "natmap"
    if t.family == "bridge":
        t.lines.append(f"\tset macs {{ type ether_addr; {elements([mac() for _ in range(rng.randrange(1, 8))])} }}")
        t.sets["macs"] = "mac"


def make_vmap(t):
    if not t.v4 or not t.leaves or t.family == "netdev":
        return
    els = []
    for a, b in blocks(rng.randrange(1, 10)):
        v = rng.choice(["accept", "drop", "continue", f"jump {rng.choice(t.leaves)}",
                        f"goto {rng.choice(t.leaves)}"])
        els.append(f"10.{a}.{b}.1 : {v}")
    t.lines.append(f"\tmap vm {{ type ipv4_addr : verdict; {elements(els)} }}")
    t.sets["vm"] = "vmap"


def match_options(t):
    """(text, l3, l4): the network and transport protocol a match implies,
    so that one rule never asks for tcp and udp (nft refuses that)."""
    mark = "meta mark 0x%x" % rng.randrange(1, 1 << 20)
    opts = [(mark, None, None)]
    if t.family != "netdev":
        opts += [("meta mark and 0xff0000 == 0x40000", None, None),
                 ('iifname "eth%d"' % rng.randrange(4), None, None),
                 ('oifname != "tailscale0"', None, None)]
    if t.v4:
        opts += [("ip saddr 10.%d.%d.0/24" % (rng.randrange(256), rng.randrange(256)), "ip", None),
                 ("ip daddr != 100.64.0.0/10", "ip", None),
                 ("ip saddr 100.64.0.0/10", "ip", None),
                 ("ip daddr { 100.100.2.136, 100.100.2.138, 100.100.100.200 }", "ip", None),
                 ("ip protocol udp", "ip", "udp")]
        if "v4" in t.sets:
            opts += [("ip saddr @v4", "ip", None), ("ip daddr != @v4", "ip", None)]
        if "merged" in t.sets:
            opts.append(("ip saddr @merged", "ip", None))
        if "svc" in t.sets:
            opts.append(("ip daddr . tcp dport @svc", "ip", "tcp"))
    if t.v6:
        opts += [("ip6 saddr fd7a:115c:a1e0::/48", "ip6", None), ("ip6 daddr @v6", "ip6", None)]
    if t.l4:
        opts += [("tcp dport %d" % rng.randrange(1, 65535), None, "tcp"),
                 ("udp dport { 53, 123, %d }" % rng.randrange(1000, 2000), None, "udp"),
                 ("tcp dport %d-%d" % (1000, rng.randrange(1001, 3000)), None, "tcp"),
                 ("udp sport != 53", None, "udp"),
                 ("tcp flags syn", None, "tcp")]
        if "ports" in t.sets:
            opts += [("tcp dport @ports", None, "tcp"), ("udp dport != @ports", None, "udp")]
    if t.ct:
        opts += [("ct state established,related", None, None), ("ct state new", None, None),
                 ("ct mark 0x%x" % rng.randrange(1, 99), None, None)]
    if t.family == "bridge":
        opts += [("ether saddr %s" % mac(), None, None)]
        if "macs" in t.sets:
            opts.append(("ether saddr @macs", None, None))
    if t.family == "arp":
        opts += [("arp operation request", None, None), ("arp htype 1", None, None)]
    return opts


class Ctx:
    def __init__(self):
        self.l3 = None
        self.l4 = None

    def fits(self, l3, l4):
        return (l3 is None or self.l3 in (None, l3)) and (l4 is None or self.l4 in (None, l4))

    def take(self, l3, l4):
        self.l3 = self.l3 or l3
        self.l4 = self.l4 or l4


def match(t, ctx):
    opts = [o for o in match_options(t) if ctx.fits(o[1], o[2])]
    text, l3, l4 = rng.choice(opts)
    ctx.take(l3, l4)
    return text


def statement(t):
    opts = ["counter", "limit rate %d/second" % rng.randrange(1, 100), "quota 10 mbytes"]
    if t.family in ("ip", "ip6", "inet", "bridge"):
        opts += ['log prefix "g%d "' % rng.randrange(100), "meta mark set 0x%x" % rng.randrange(1, 255)]
    if t.family in ("ip", "ip6", "inet"):
        opts += ["meta mark set numgen inc mod 4"]
    if "dyn" in t.sets:
        opts.append("add @dyn { ip saddr }")
    return rng.choice(opts)


def verdict(t, chain_index, base, ctx):
    later = t.regular[chain_index + 1:] if chain_index is not None else t.regular
    opts = ["accept", "drop", "", "", "continue"]
    if not base:
        opts.append("return")
    if later:
        opts += ["jump %s" % rng.choice(later), "goto %s" % rng.choice(later)]
    v = rng.choice(opts)
    if not v and t.l4 and later and ctx.fits(None, "tcp") and chance(0.2):
        return "tcp dport vmap { %d : accept, %d : jump %s }" % (
            rng.randrange(1, 500), rng.randrange(500, 1000), rng.choice(later))
    if not v and "vm" in t.sets and ctx.fits("ip", None) and (chain_index is None or t.regular[chain_index] not in t.leaves) \
            and chance(0.3):
        return "ip saddr vmap @vm"
    return v


def rule(t, chain_index, base, hook=None, ctype="filter"):
    ctx = Ctx()
    parts = [match(t, ctx) for _ in range(rng.randrange(0, 3))]
    parts += [statement(t) for _ in range(rng.randrange(0, 2))]
    if base and hook in ("prerouting", "input") and t.family in ("ip", "ip6", "inet") and chance(0.15):
        parts.insert(0, "fib daddr type local")
    if ctype == "nat" and hook == "postrouting" and chance(0.5):
        parts.append("masquerade")
    elif ctype == "nat" and hook == "prerouting" and t.family == "ip" and "natm" in t.sets and \
            ctx.fits("ip", "tcp") and chance(0.5):
        parts.append("dnat to tcp dport map @natm")
    elif ctype == "filter" and hook in ("input", "forward", "output") and \
            t.family in ("ip", "ip6", "inet") and chance(0.1):
        parts.append("reject")
    else:
        in_leaf = chain_index is not None and t.regular[chain_index] in t.leaves
        v = verdict(t, None if in_leaf else chain_index, base, ctx) if not in_leaf else \
            rng.choice(["accept", "drop", "return", ""])
        if v:
            parts.append(v)
    if not parts:
        parts = ["counter"]
    text = " ".join(parts)
    if chance(0.3):
        text += ' comment "r%d %s"' % (rng.randrange(10000), rng.choice(["in", "cgnat", "x y"]))
    return text


HOOKS = {
    "ip": ["prerouting", "input", "forward", "output", "postrouting"],
    "ip6": ["prerouting", "input", "forward", "output", "postrouting"],
    "inet": ["prerouting", "input", "forward", "output", "postrouting"],
    "bridge": ["prerouting", "input", "forward", "output", "postrouting"],
    "arp": ["input", "output"],
    "netdev": ["ingress"],
}


def make_table(family, name, n_rules):
    t = Table(family, name)
    n_regular = rng.randrange(2, 12)
    t.regular = [f"c{i}" for i in range(n_regular)]
    t.leaves = t.regular[-2:]
    make_sets(t)
    make_vmap(t)
    n_base = rng.randrange(1, 5)
    budget = [n_rules // (n_base + n_regular)] * (n_base + n_regular)
    for i in range(n_base):
        hook = rng.choice(HOOKS[family])
        ctype = "filter"
        if family in ("ip", "ip6", "inet") and chance(0.25):
            if hook in ("prerouting", "postrouting", "input", "output"):
                ctype = "nat"
        if family in ("ip", "ip6", "inet") and hook == "output" and ctype == "filter" and chance(0.3):
            ctype = "route"
        prio = rng.choice([-300, -150, -10, 0, 10, 100, 300]) if ctype != "nat" else rng.choice([-100, 100])
        policy = rng.choice(["accept", "drop"]) if ctype == "filter" else "accept"
        dev = ""
        if family == "netdev":
            if not netdev_dev:
                continue
            dev = f' device "{netdev_dev}"'
        t.lines.append(f"\tchain b{i} {{")
        t.lines.append(f"\t\ttype {ctype} hook {hook}{dev} priority {prio}; policy {policy};")
        for _ in range(budget[i] + rng.randrange(3)):
            t.lines.append("\t\t" + rule(t, None, True, hook, ctype))
        t.lines.append("\t}")
    for i, chain in enumerate(t.regular):
        t.lines.append(f"\tchain {chain} {{")
        for _ in range(budget[n_base + i] + rng.randrange(3)):
            t.lines.append("\t\t" + rule(t, i, False))
        t.lines.append("\t}")
    emit(f"table {family} {name} {{")
    out.extend(t.lines)
    emit("}")


families = ["ip", "ip6", "inet", "bridge", "arp"] + (["netdev"] if netdev_dev else [])
chosen = rng.sample(families, rng.randrange(2, len(families) + 1))
for i, fam in enumerate(chosen):
    make_table(fam, f"g{i}", max(10, target_rules // len(chosen)))
print("\n".join(out))
