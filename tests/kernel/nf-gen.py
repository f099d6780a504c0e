#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Random rulesets for the kernel-differential tests of the netfilter simulator.

    nf-gen.py iptables SEED   -> an iptables-restore file (for iptables-legacy
                                 and iptables-nft alike)
    nf-gen.py nft SEED        -> an `nft -f` file
    nf-gen.py KIND SEED COUNT DIR
                              -> COUNT files DIR/SEED.rules for seeds SEED,
                                 SEED+1, ... (one interpreter start for all)

The grammar uses only matches the simulator supports, so an `uncertain`
verdict is a disagreement. Addresses and prefixes cluster around
100.64.0.0/10, the provider's service addresses and the test bed's own
networks; ports are either service ports (53, 80, 123, 8080, 5353) or ranges
that contain the whole ephemeral range or none of it, so the kernel's random
source ports and the simulator's fixed ones always agree.
"""
import random
import sys

SRC_POOL = [
    "100.64.0.0/10", "100.100.0.0/16", "100.100.2.136", "100.100.2.0/24",
    "100.125.0.0/16", "100.125.1.250", "172.24.0.0/18", "172.24.63.253",
    "100.69.1.2", "100.69.0.0/16", "10.0.0.0/8", "100.100.100.200",
    "100.96.0.0/11", "100.100.2.138",
]
DST_POOL = SRC_POOL + ["172.24.4.100", "100.92.187.56"]
IFACES = ["eth0", "ovl0", "tailscale0", "eth+", "ovl+", "lo"]
PORTS = ["53", "80", "123", "8080", "5353", "1024:65535", "1:1023"]
CTSTATES = ["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"]
MARKS = ["0x1", "0x80000/0xff0000", "0x40000/0xff0000", "0x0/0xff0000"]

IN_CHAINS = {"PREROUTING", "INPUT", "FORWARD"}
OUT_CHAINS = {"OUTPUT", "POSTROUTING", "FORWARD"}


def ladder(t, steps):
    """The verdict of a rule, as both syntaxes pick it: t (one r.random())
    against the steps' rising bounds, (bound, allowed, make) each; the first
    allowed step whose bound t is under makes it (make may draw more
    random numbers: only the step taken does)."""
    for bound, allowed, make in steps:
        if t < bound and allowed:
            return make()
    raise AssertionError("the last step's bound is 1.0")


def neg(r, p=0.3):
    return "! " if r.random() < p else ""


# ---------------------------------------------------------------- iptables

def ipt_rule(r, table, chain, base, user_targets, goto_targets):
    """One rule for `chain`; base is the builtin chain it is reached from
    (None for user chains reachable from several)."""
    parts = []
    proto = None
    if r.random() < 0.45:
        parts.append(f"{neg(r)}-s {r.choice(SRC_POOL)}")
    if r.random() < 0.25:
        parts.append(f"{neg(r)}-d {r.choice(DST_POOL)}")
    # iptables refuses -i in output-side builtin chains and -o in input-side ones
    if r.random() < 0.45 and (base is None or base in IN_CHAINS):
        parts.append(f"{neg(r)}-i {r.choice(IFACES)}")
    if r.random() < 0.2 and (base is None or base in OUT_CHAINS):
        parts.append(f"{neg(r)}-o {r.choice(IFACES)}")
    if r.random() < 0.45:
        proto = r.choice(["udp", "tcp"])
        parts.append(f"-p {proto}")
        if r.random() < 0.6:
            parts.append(f"{neg(r)}--{r.choice(['sport', 'dport'])} {r.choice(PORTS)}")
        if proto == "tcp" and r.random() < 0.15:
            parts.append(f"{neg(r, 0.2)}--syn")
        if r.random() < 0.15:
            ports = ",".join(r.sample(["53", "80", "123", "8080", "5353"], r.randint(1, 3)))
            parts.append(f"-m multiport {neg(r)}--{r.choice(['sports', 'dports', 'ports'])} {ports}")
    if r.random() < 0.35:
        states = ",".join(r.sample(CTSTATES, r.randint(1, 3)))
        if r.random() < 0.8:
            parts.append(f"-m conntrack {neg(r)}--ctstate {states}")
        else:
            parts.append(f"-m state {neg(r)}--state {states}")
    if r.random() < 0.08:
        parts.append(f"-m conntrack --ctdir {r.choice(['ORIGINAL', 'REPLY'])}")  # not invertible
    if r.random() < 0.12:
        parts.append(f"-m mark {neg(r)}--mark {r.choice(MARKS)}")
    if r.random() < 0.08:
        parts.append(f"-m connmark {neg(r)}--mark {r.choice(MARKS)}")
    if r.random() < 0.08:
        parts.append(f"-m addrtype {neg(r)}--{r.choice(['src', 'dst'])}-type LOCAL")
    if r.random() < 0.06:
        lo, hi = r.choice([("100.100.2.100", "100.100.2.200"), ("100.64.0.0", "100.100.2.136"),
                           ("172.24.0.1", "172.24.63.254")])
        parts.append(f"-m iprange {neg(r)}--{r.choice(['src', 'dst'])}-range {lo}-{hi}")
    if r.random() < 0.1:
        parts.append(f'-m comment --comment "gen {r.randint(1, 999)}"')

    target = ladder(r.random(), [
        (0.22, True, lambda: "-j ACCEPT"),
        (0.40, True, lambda: "-j DROP"),
        # REJECT is a filter-table target
        (0.48, table == "filter", lambda: "-j REJECT --reject-with tcp-reset"
         if proto == "tcp" and r.random() < 0.5 else "-j REJECT"),
        (0.56, True, lambda: "-j RETURN"),
        (0.72, bool(user_targets), lambda: f"-j {r.choice(user_targets)}"),
        (0.78, bool(goto_targets), lambda: f"-g {r.choice(goto_targets)}"),
        (0.86, True, lambda: f"-j MARK --set-xmark {r.choice(['0x80000/0xff0000', '0x1/0x1', '0x40000/0xffffffff'])}"),
        (0.92, True, lambda: r.choice(["-j CONNMARK --save-mark --nfmask 0xff0000 --ctmask 0xff0000",
                                       "-j CONNMARK --restore-mark --nfmask 0xff0000 --ctmask 0xff0000",
                                       "-j CONNMARK --set-xmark 0x80000/0xff0000"])),
        (1.0, True, lambda: '-j LOG --log-prefix "gen: "'),
    ])
    return " ".join(parts + [target])


def gen_iptables(r):
    out = []
    tables = {
        "raw": ["PREROUTING", "OUTPUT"],
        "mangle": ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
        "filter": ["INPUT", "OUTPUT"],
    }
    for table, builtins in tables.items():
        if table != "filter" and r.random() < 0.5:
            continue
        nuser = r.randint(0, 4) if table == "filter" else r.randint(0, 1)
        users = [f"u{table[0]}{i}" for i in range(nuser)]
        out.append(f"*{table}")
        for b in builtins:
            pol = "DROP" if table == "filter" and r.random() < 0.12 else "ACCEPT"
            out.append(f":{b} {pol} [0:0]")
        if table == "filter":
            out.append(":FORWARD ACCEPT [0:0]")
        for u in users:
            out.append(f":{u} - [0:0]")
        for b in builtins:
            if r.random() < 0.2:
                continue
            for _ in range(r.randint(1, 6)):
                out.append(f"-A {b} " + ipt_rule(r, table, b, b, users, users))
        for i, u in enumerate(users):
            later = users[i + 1:]  # acyclic: only jump forward
            for _ in range(r.randint(0, 5)):
                out.append(f"-A {u} " + ipt_rule(r, table, u, None, later, later))
        out.append("COMMIT")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- nftables

# anonymous interval sets must not hold overlapping elements
DISJOINT_SETS = [
    ["100.100.2.136", "100.125.0.0/16"], ["100.64.0.0/10", "172.24.0.0/18"],
    ["100.100.2.0/24", "100.69.1.2", "10.0.0.0/8"], ["100.100.2.138"],
    ["172.24.63.253", "100.100.100.200", "100.125.1.250"], ["100.96.0.0/11", "100.100.0.0/16"],
]

NFT_SETS = {
    "cgnat": ("ipv4_addr", "interval", ["100.64.0.0/10"]),
    "provider": ("ipv4_addr", "interval", ["100.100.2.136", "100.100.2.138", "100.125.0.0/16",
                                            "100.100.100.200"]),
    "lan": ("ipv4_addr", "interval", ["172.24.0.0/18", "10.0.0.0/8"]),
    "svc": ("inet_service", None, ["53", "80", "123"]),
}


def nft_addr(r):
    return r.choice(SRC_POOL)


def nft_iface(r):
    name = r.choice(IFACES)
    if name.endswith("+"):
        return f'"{name[:-1]}*"'
    return f'"{name}"'


def nft_rule(r, hook, chains_after, sets_here, family):
    parts = []
    proto = None
    if r.random() < 0.45:
        c = r.random()
        field = r.choice(["saddr", "daddr"])
        if c < 0.55:
            parts.append(f"ip {field} {r.choice(['', '!= '])}{nft_addr(r)}")
        elif c < 0.75 and sets_here:
            addr_sets = [s for s in sets_here if NFT_SETS[s][0] == "ipv4_addr"]
            if addr_sets:
                parts.append(f"ip {field} {r.choice(['', '!= '])}@{r.choice(addr_sets)}")
            else:
                parts.append(f"ip {field} {nft_addr(r)}")
        else:
            elems = ", ".join(r.choice(DISJOINT_SETS))
            parts.append(f"ip {field} {r.choice(['', '!= '])}{{ {elems} }}")
    if r.random() < 0.4 and hook in ("prerouting", "input", "forward", "regular"):
        parts.append(f"iifname {r.choice(['', '!= '])}{nft_iface(r)}")
    if r.random() < 0.2 and hook in ("output", "postrouting", "forward", "regular"):
        parts.append(f"oifname {r.choice(['', '!= '])}{nft_iface(r)}")
    if r.random() < 0.1 and hook in ("prerouting", "input", "regular"):
        parts.append(f"iif {r.choice(['', '!= '])}\"eth0\"")
    if r.random() < 0.45:
        proto = r.choice(["udp", "tcp"])
        c = r.random()
        port = r.choice(PORTS).replace(":", "-")
        if c < 0.3:
            parts.append(f"meta l4proto {proto}")
        elif c < 0.8:
            parts.append(f"{proto} {r.choice(['sport', 'dport'])} {r.choice(['', '!= '])}{port}")
        else:
            if "svc" in sets_here:
                parts.append(f"{proto} {r.choice(['sport', 'dport'])} @svc")
            else:
                parts.append(f"{proto} {r.choice(['sport', 'dport'])} {{ 53, 80, 8080 }}")
    if r.random() < 0.35:
        states = ",".join(s.lower() for s in r.sample(CTSTATES, r.randint(1, 3)))
        parts.append(f"ct state {r.choice(['', '!= '])}{states}")
    if r.random() < 0.08:
        parts.append(f"ct direction {r.choice(['original', 'reply'])}")
    if r.random() < 0.1:
        m = r.choice(["0x1", "0x80000"])
        parts.append(r.choice([f"meta mark {m}", f"meta mark and 0xff0000 == {m}",
                               f"meta mark != {m}"]))
    if r.random() < 0.06:
        parts.append(f"ct mark {r.choice(['0x0', '0x80000', '!= 0x0'])}")
    if r.random() < 0.06:
        cproto = proto or r.choice(["udp", "tcp"])
        proto = cproto
        parts.append(f"ip saddr . {cproto} sport {{ 100.100.2.136 . 53, 100.125.1.250 . 53, 172.24.63.253 . 53 }}")
    if r.random() < 0.08:
        parts.append(r.choice(["meta mark set 0x80000", "ct mark set meta mark",
                               "meta mark set ct mark", "meta mark set 0x1"]))
    if r.random() < 0.2:
        parts.append("counter")

    t = r.random()
    if t < 0.06:
        # a verdict map decides by source address
        parts.append("ip saddr vmap { 100.100.2.136 : accept, 100.125.0.0/16 : drop, 172.24.0.0/18 : continue }")
        return " ".join(parts)
    v = ladder(t, [
        (0.26, True, lambda: "accept"),
        (0.44, True, lambda: "drop"),
        # reject: input/forward/output only
        (0.50, hook in ("input", "output"), lambda: "reject with tcp reset"
         if proto == "tcp" and r.random() < 0.5 else "reject"),
        (0.58, True, lambda: "return"),
        (0.74, bool(chains_after), lambda: f"jump {r.choice(chains_after)}"),
        (0.80, bool(chains_after), lambda: f"goto {r.choice(chains_after)}"),
        (0.86, True, lambda: "continue"),
        (1.0, True, lambda: ""),  # statements only
    ])
    return " ".join(parts + ([v] if v else []))


def gen_nft(r):
    out = ["flush ruleset"]
    priorities = [-300, -150, -10, 0, 10, 100]
    hooks = ["prerouting", "input", "output", "postrouting"]
    for t in range(r.randint(1, 3)):
        family = r.choice(["ip", "inet"])
        name = f"t{t}"
        out.append(f"table {family} {name} {{")
        sets_here = r.sample(sorted(NFT_SETS), r.randint(0, 3))
        for s in sets_here:
            typ, flags, elems = NFT_SETS[s]
            out.append(f"  set {s} {{ type {typ};" + (f" flags {flags};" if flags else "")
                       + f" elements = {{ {', '.join(elems)} }} }}")
        users = [f"c{i}" for i in range(r.randint(0, 3))]
        for h in r.sample(hooks, r.randint(1, 3)):
            prio = r.choice(priorities)
            policy = "drop" if h in ("input", "output") and r.random() < 0.1 else "accept"
            out.append(f"  chain b_{h} {{ type filter hook {h} priority {prio}; policy {policy};")
            for _ in range(r.randint(1, 6)):
                out.append("    " + nft_rule(r, h, users, sets_here, family))
            out.append("  }")
        for i, u in enumerate(users):
            out.append(f"  chain {u} {{")
            later = users[i + 1:]
            for _ in range(r.randint(0, 5)):
                # a regular chain may be reached from any hook: no iif/oif restriction applies
                out.append("    " + nft_rule(r, "regular", later, sets_here, family))
            out.append("  }")
        out.append("}")
    return "\n".join(out) + "\n"


def generate(kind, seed):
    r = random.Random(seed)
    return gen_iptables(r) if kind == "iptables" else gen_nft(r)


def main():
    if len(sys.argv) not in (3, 5) or sys.argv[1] not in ("iptables", "nft"):
        sys.exit("usage: nf-gen.py iptables|nft SEED [COUNT DIR]")
    kind, seed = sys.argv[1], int(sys.argv[2])
    if len(sys.argv) == 3:
        sys.stdout.write(generate(kind, seed))
        return
    for s in range(seed, seed + int(sys.argv[3])):
        with open(f"{sys.argv[4]}/{s}.rules", "w") as f:
            f.write(generate(kind, s))


if __name__ == "__main__":
    main()
