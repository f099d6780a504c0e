#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Random sets for tests/kernel/nft-lazy.sh: writes an nft script (RULESET) with sets
# and maps of every kind a lazy set may be (interval and exact, IPv4, IPv6 and
# port keys, verdict maps with jumps and gotos, data maps, catch-all
# elements, timeouts, concatenations) plus two that must always be dumped
# (concatenated ranges, an anonymous set), and the keys to look up in each
# (KEYS: "FAMILY TABLE SET HEXKEY"): inside ranges, on both boundaries, just
# outside them, in gaps, below the first and above the last range, the
# smallest and largest keys, members and non-members of exact sets.
#
# usage: nft-lazy-gen.py SEED N RULESET KEYS
# Prints the number of sets that may be lazy (not concatenated ranges, not
# anonymous) and the number of sets with more than 1000 kernel elements
# among them.
import ipaddress
import random
import sys

seed, n, ruleset_path, keys_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
r = random.Random(seed)
CHAINS = [f"c{i}" for i in range(8)]


def v4(x):
    return str(ipaddress.IPv4Address(x))


def v6(x):
    return str(ipaddress.IPv6Address(x))


def port(x):
    return str(x)


KINDS = {
    # name: (nft type, key bits, key bytes, formatter)
    "ipv4_addr": (32, 4, v4),
    "ipv6_addr": (128, 16, v6),
    "inet_service": (16, 2, port),
}


def hexkey(kind, x):
    bits, nbytes, _ = KINDS[kind]
    return x.to_bytes(nbytes, "big").hex()


def ranges(kind, count):
    """Disjoint [lo, hi] ranges, sorted; some adjacent, some single keys,
    the first at 0 and the last at the top of the key space."""
    bits = KINDS[kind][0]
    top = (1 << bits) - 1
    want = min(2 * count, top - 2)
    pts = set()
    while len(pts) < want:
        pts.add(r.randrange(1, top))
    pts = sorted(pts)
    out = []
    for i in range(0, len(pts) - 1, 2):
        lo, hi = pts[i], pts[i + 1]
        if r.random() < 0.15:
            hi = lo
        out.append([lo, hi])
    # some adjacent: stretch a range to end just before the next one
    for i in range(len(out) - 1):
        if r.random() < 0.2:
            out[i][1] = out[i + 1][0] - 1
    out[0][0] = 0
    out[-1][1] = top
    return out


def range_keys(kind, rs):
    bits = KINDS[kind][0]
    top = (1 << bits) - 1
    keys = {0, top, 1, top - 1}
    for lo, hi in r.sample(rs, min(len(rs), 300)):
        for k in (lo - 1, lo, lo + 1, (lo + hi) // 2, hi - 1, hi, hi + 1):
            if 0 <= k <= top:
                keys.add(k)
    for _ in range(300):
        keys.add(r.randrange(0, top + 1))
    return sorted(keys)


def fmt_range(kind, lo, hi):
    f = KINDS[kind][2]
    return f(lo) if lo == hi else f"{f(lo)}-{f(hi)}"


def verdict():
    v = r.random()
    if v < 0.3:
        return f"jump {r.choice(CHAINS)}"
    if v < 0.45:
        return f"goto {r.choice(CHAINS)}"
    return r.choice(["accept", "drop", "continue", "return"])


out = ["flush ruleset", "table inet lz {"]
for c in CHAINS:
    out.append(f"\tchain {c} {{ }}")
keys = []
lazy_ok = 0
large = 0


def add_set(name, decl, elems, kernel_elems, key_lines, may_be_lazy=True):
    global lazy_ok, large
    out.append(f"\t{decl[0]} {name} {{ {decl[1]} }}")
    tail.extend(f"add element inet lz {name} {{ {', '.join(elems[i:i + 500])} }}"
                for i in range(0, len(elems), 500))
    keys.extend(f"inet lz {name} {k}" for k in key_lines)
    if may_be_lazy:
        lazy_ok += 1
        large += kernel_elems > 1000


tail = []

# interval sets and maps
for kind, name, count in (("ipv4_addr", "v4r", n), ("ipv6_addr", "v6r", n // 2),
                          ("inet_service", "portr", min(n // 4, 2000))):
    rs = ranges(kind, count)
    els = [fmt_range(kind, lo, hi) for lo, hi in rs]
    add_set(name, ("set", f"type {kind}; flags interval;"), els, 2 * len(rs),
            [hexkey(kind, k) for k in range_keys(kind, rs)])

rs = ranges("ipv4_addr", n // 2)
# no catch-all here: nft 1.0.6 crashes adding one to an interval map
els = [f"{fmt_range('ipv4_addr', lo, hi)} : {verdict()}" for lo, hi in rs[1:-1]]
add_set("vmr", ("map", "type ipv4_addr : verdict; flags interval;"), els, 2 * len(rs),
        [hexkey("ipv4_addr", k) for k in range_keys("ipv4_addr", rs)])

rs = ranges("ipv4_addr", n // 4)
els = [f"{fmt_range('ipv4_addr', lo, hi)} : {v4(r.getrandbits(32))}" for lo, hi in rs]
add_set("dmr", ("map", "type ipv4_addr : ipv4_addr; flags interval;"), els, 2 * len(rs),
        [hexkey("ipv4_addr", k) for k in range_keys("ipv4_addr", rs)])


def exact_keys(kind, members, extra=300):
    bits = KINDS[kind][0]
    ks = set(r.sample(members, min(len(members), 400)))
    for m in r.sample(members, min(len(members), 100)):
        ks.update(k for k in (m - 1, m + 1) if 0 <= k < (1 << bits))
    ks.update(r.getrandbits(bits) for _ in range(extra))
    ks.update((0, (1 << bits) - 1))
    return [hexkey(kind, k) for k in sorted(ks)]


# exact sets and maps
for kind, name, count in (("ipv4_addr", "v4h", n), ("ipv6_addr", "v6h", n // 2),
                          ("inet_service", "ports", 3000)):
    ms = set()
    while len(ms) < count:
        ms.add(r.getrandbits(KINDS[kind][0]))
    ms = sorted(ms)
    add_set(name, ("set", f"type {kind};"), [KINDS[kind][2](m) for m in ms], len(ms),
            exact_keys(kind, ms))

ms = r.sample(range(0, 1 << 32), n)
els = [f"{v4(m)} : {verdict()}" for m in ms] + ["* : drop"]
add_set("vm", ("map", "type ipv4_addr : verdict;"), els, len(els), exact_keys("ipv4_addr", ms))

ms = r.sample(range(0, 1 << 32), n // 2)
els = [f"{v4(m)} : 0x{r.getrandbits(32):08x}" for m in ms] + ["* : 0x42"]
add_set("dm", ("map", "type ipv4_addr : mark;"), els, len(els), exact_keys("ipv4_addr", ms))

ms = r.sample(range(0, 1 << 32), n // 4)
els = [v4(m) for m in ms] + ["*"]
add_set("ca", ("set", "type ipv4_addr;"), els, len(els), exact_keys("ipv4_addr", ms))

ms = r.sample(range(0, 1 << 32), n // 4)
add_set("tmo", ("set", "type ipv4_addr; flags timeout; timeout 1h;"), [v4(m) for m in ms], len(ms),
        exact_keys("ipv4_addr", ms))

# concatenation, exact (hash): key = address, port padded to 4 bytes
pairs = [(r.getrandbits(32), r.randrange(1, 65536)) for _ in range(n // 4)]
els = [f"{v4(a)} . {p}" for a, p in pairs]
ck = {f"{a:08x}{p:04x}0000" for a, p in r.sample(pairs, 200)}
ck.update(f"{a:08x}{(p + 1) % 65536:04x}0000" for a, p in r.sample(pairs, 100))
ck.update(f"{r.getrandbits(32):08x}{r.getrandbits(16):04x}0000" for _ in range(100))
add_set("cat", ("set", "type ipv4_addr . inet_service;"), els, len(els), sorted(ck))

# concatenated ranges (pipapo): always dumped
cr = []
for i in range(200):
    a = (i << 24) | (r.getrandbits(8) << 16)
    cr.append((a, a + 0xffff, 1000 + i, 1100 + i))
els = [f"{v4(a)}-{v4(b)} . {p}-{q}" for a, b, p, q in cr]
ck = set()
for a, b, p, q in r.sample(cr, 100):
    for x in (a - 1, a, b, b + 1):
        for y in (p - 1, p, q, q + 1):
            ck.add(f"{x & 0xffffffff:08x}{y:04x}0000")
add_set("catr", ("set", "type ipv4_addr . inet_service; flags interval;"), els, len(els), sorted(ck),
        may_be_lazy=False)

out.append("\tchain input {")
out.append("\t\ttype filter hook input priority 0; policy accept;")
out.append("\t\tip saddr @v4r counter")
out.append("\t\tip saddr vmap @vm")
# an anonymous set: always dumped (printed inside the rule)
anon = ", ".join(v4(r.getrandbits(32)) for _ in range(50))
out.append(f"\t\tip daddr {{ {anon} }} counter")
out.append("\t}")
out.append("}")

# the same set name in another family: lookups find the right one
out.append("table ip lz {")
out.append("\tset v4r { type ipv4_addr; flags interval; elements = { 10.0.0.0/8 } }")
out.append("}")
keys.extend(f"ip lz v4r {k}" for k in ("0a000000", "0b000000", "09ffffff", "0affffff"))
lazy_ok += 1

with open(ruleset_path, "w") as f:
    f.write("\n".join(out + tail) + "\n")
with open(keys_path, "w") as f:
    f.write("\n".join(keys) + "\n")
print(lazy_ok, large)
