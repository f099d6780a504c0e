#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Compares what nft_collect() saw (tests/kernel/nft-collect-dump output) with what
nft(8) itself lists (`nft -j list ruleset`, and the "managed by iptables-nft"
warnings `nft list ruleset` prints on stderr), and with what iptables-nft-save
says of the tables it takes as its own.

    nft-compare.py DUMP.txt NFT.json NFT-WARNINGS.txt [IPT-STATUS.txt]

IPT-STATUS.txt has a line "FAMILY TABLE listed|incompatible|failed" for each
ip/ip6 table with one of iptables' names: whether `iptables-nft-save -t TABLE`
(ip6tables-nft-save) lists it, calls it incompatible, or fails on a rule.

Checks, per table: handle; chains (handles, hooks, priorities, policies,
types, devices); rules in order (handles, comments, jump/goto targets including
those inside inline verdict maps); named sets and maps (handles, interval and
concat shape, element counts); anonymous sets against the inline sets of the
rule that uses them; expressions we keep as unknown appear in nft's rule; every
reference resolved; the backend label as the stock tools have it: nftables
for a table iptables-nft does not take or cannot list, iptables-nft for one it
lists and nft warns about; a table iptables-nft lists without nft's warning
is either's (src/collect/nft-owner.c decides; the tests check it by who wrote
it). Without IPT-STATUS.txt: the label matches nft's warning. Prints one line
per mismatch and a summary; exit 0 when all agree, 1 otherwise."""

import json
import re
import sys

NFT_CHAIN_BINDING = 4
# kernel expression name -> the key nft's JSON uses for it, where they differ
JSON_NAME = {"dynset": "set"}


def parse_dump(path):
    tables = {}
    cur = None
    chain = None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("generation ") or line.startswith("  "):
            continue
        kind, _, rest = line.partition(" ")
        if kind == "table":
            fam, name, rest = rest.split(" ", 2)
            f = dict(kv.split("=", 1) for kv in rest.split())
            cur = tables[(fam, name)] = {"backend": f["backend"], "handle": int(f["handle"]),
                                          "chains": {}, "sets": {}}
        elif kind == "set":
            name, rest = rest.split(" ", 1)
            f = dict(kv.split("=", 1) for kv in rest.split())
            cur["sets"][name] = {
                "handle": int(f["handle"]),
                "flags": set(f["flags"].split(",")) - {"-"},
                "fields": len(f["fields"].split(",")) if "fields" in f else 1,
                "elems": int(f["elems"]), "ranges": int(f["ranges"]),
                "verdicts": [],
            }
            cur_set = cur["sets"][name]
        elif kind == "chain":
            name, rest = rest.split(" ", 1)
            f = dict(kv.split("=", 1) for kv in rest.split())
            chain = cur["chains"][name] = {"handle": int(f["handle"]),
                                           "flags": int(f.get("flags", 0)), "rules": []}
            for k in ("hook", "prio", "policy", "type", "dev"):
                if k in f:
                    chain[k] = f[k]
        elif kind == "rule":
            m = re.match(r'(\S+) #(\d+) handle=(\d+) exprs=(\S*)(?: comment=(.*))?$', rest)
            if not m:
                raise SystemExit("unparsable dump line: " + line)
            chain["rules"].append({
                "index": int(m.group(2)), "handle": int(m.group(3)),
                "exprs": m.group(4).split(",") if m.group(4) else [],
                "comment": json.loads(m.group(5)) if m.group(5) else None,
            })
    return tables


def parse_dump_elems(path):
    """(family, table, set) -> verdict targets of its elements (dump -e)."""
    out = {}
    key = None
    fam_table = None
    for line in open(path, encoding="utf-8"):
        if line.startswith("table "):
            fam, name = line.split()[1:3]
            fam_table = (fam, name)
        elif line.startswith("set "):
            key = fam_table + (line.split()[1],)
            out[key] = []
        elif line.startswith("chain "):
            key = None
        elif line.startswith("  elem ") and key:
            m = re.search(r'verdict=(jump|goto):(\S+)', line)
            if m:
                out[key].append(m.group(1) + ":" + m.group(2).rstrip("?"))
    return out


def walk(obj):
    """Every dict inside a JSON value."""
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v)


def json_targets(expr):
    out = []
    for d in walk(expr):
        for k in ("jump", "goto"):
            if k in d and isinstance(d[k], dict) and "target" in d[k]:
                out.append(k + ":" + d[k]["target"])
    return sorted(out)


def json_inline_sets(expr):
    return sorted(len(d["set"]) for d in walk(expr) if isinstance(d.get("set"), list))


def json_keys(expr):
    keys = set()
    for d in walk(expr):
        keys.update(d.keys())
    return keys


class Checker:
    def __init__(self):
        self.failures = 0
        self.checks = 0

    def eq(self, what, want, got):
        self.checks += 1
        if want != got:
            self.failures += 1
            print(f"MISMATCH {what}: nft says {want!r}, we say {got!r}")


def main():
    dump_path, json_path, warn_path = sys.argv[1:4]
    ipt_status = None
    if len(sys.argv) > 4:
        ipt_status = {}
        for line in open(sys.argv[4], encoding="utf-8"):
            fam, name, status = line.split()
            ipt_status[(fam, name)] = status
    ours = parse_dump(dump_path)
    elems = parse_dump_elems(dump_path)
    nft = json.load(open(json_path, encoding="utf-8"))["nftables"]
    warned = set()
    for line in open(warn_path, encoding="utf-8"):
        m = re.match(r'# Warning: table (\S+) (\S+) is managed by iptables-nft', line)
        if m:
            warned.add((m.group(1), m.group(2)))

    c = Checker()
    theirs = {"table": {}, "chain": {}, "rule": {}, "set": {}}
    for item in nft:
        kind = next(iter(item))
        o = item[kind]
        if kind == "table":
            theirs["table"][(o["family"], o["name"])] = o
        elif kind == "chain":
            theirs["chain"].setdefault((o["family"], o["table"]), []).append(o)
        elif kind == "rule":
            theirs["rule"].setdefault((o["family"], o["table"], o["chain"]), []).append(o)
        elif kind in ("set", "map"):
            theirs["set"].setdefault((o["family"], o["table"]), []).append(o)

    c.eq("tables", sorted(theirs["table"]), sorted(ours))
    n_rules = n_sets = n_elems = 0
    for key in sorted(set(theirs["table"]) & set(ours)):
        t_nft, t_us = theirs["table"][key], ours[key]
        where = " ".join(key)
        c.eq(f"table {where} handle", t_nft["handle"], t_us["handle"])
        if ipt_status is None:
            c.eq(f"table {where} backend", "iptables-nft" if key in warned else "nftables",
                 t_us["backend"])
        elif ipt_status.get(key, "none") != "listed":
            c.eq(f"table {where} backend (iptables-nft-save: {ipt_status.get(key, 'not its table')})",
                 "nftables", t_us["backend"])
        elif key in warned:
            c.eq(f"table {where} backend (listed by iptables-nft, nft warns)", "iptables-nft",
                 t_us["backend"])

        chains_us = {n: ch for n, ch in t_us["chains"].items() if not ch["flags"] & NFT_CHAIN_BINDING}
        chains_nft = {ch["name"]: ch for ch in theirs["chain"].get(key, [])}
        c.eq(f"table {where} chains", sorted(chains_nft), sorted(chains_us))
        for name in sorted(set(chains_nft) & set(chains_us)):
            cn, cu = chains_nft[name], chains_us[name]
            w = f"chain {where} {name}"
            c.eq(w + " handle", cn["handle"], cu["handle"])
            c.eq(w + " hook", cn.get("hook"), cu.get("hook"))
            if "hook" in cn:
                c.eq(w + " prio", cn["prio"], int(cu["prio"]))
                c.eq(w + " policy", cn.get("policy", "accept"), cu["policy"])
                c.eq(w + " type", cn["type"], cu["type"])
                dev = cn.get("dev")
                if dev is not None:
                    c.eq(w + " dev", ",".join(dev) if isinstance(dev, list) else dev, cu.get("dev"))

            rules_nft = theirs["rule"].get(key + (name,), [])
            rules_us = cu["rules"]
            c.eq(w + " rule handles", [r["handle"] for r in rules_nft], [r["handle"] for r in rules_us])
            c.eq(w + " rule indexes", list(range(1, len(rules_us) + 1)), [r["index"] for r in rules_us])
            for rn, ru in zip(rules_nft, rules_us):
                n_rules += 1
                wr = f"rule {where} {name} handle {ru['handle']}"
                for e in ru["exprs"]:
                    if e.endswith("?"):
                        c.eq(wr + " reference resolved", e[:-1], e)
                # nft shows an xt comment match as "xt", without its text
                if "match:comment" not in ru["exprs"]:
                    c.eq(wr + " comment", rn.get("comment"), ru["comment"])
                anon = [e.split("@", 1)[1] for e in ru["exprs"]
                        if e.startswith("lookup:") and e.split("@", 1)[1].startswith("__")]
                targets = [e for e in ru["exprs"] if e.startswith(("jump:", "goto:"))]
                sizes = []
                for s in anon:
                    targets += elems.get(key + (s,), [])
                    st = t_us["sets"].get(s)
                    if st:
                        sizes.append(st["ranges"] if "interval" in st["flags"] else st["elems"])
                c.eq(wr + " jump targets", json_targets(rn["expr"]), sorted(targets))
                c.eq(wr + " anonymous set sizes", json_inline_sets(rn["expr"]), sorted(sizes))
                keys = json_keys(rn["expr"])
                for e in ru["exprs"]:
                    if e.startswith("unknown:"):
                        name = e.split(":", 1)[1]
                        c.eq(wr + f" unknown expression {name} is in nft's rule", True,
                             JSON_NAME.get(name, name) in keys)

        sets_nft = {s["name"]: s for s in theirs["set"].get(key, [])}
        sets_us = {n: s for n, s in t_us["sets"].items() if "anonymous" not in s["flags"]}
        c.eq(f"table {where} sets", sorted(sets_nft), sorted(sets_us))
        for name in sorted(set(sets_nft) & set(sets_us)):
            sn, su = sets_nft[name], sets_us[name]
            w = f"set {where} {name}"
            n_sets += 1
            c.eq(w + " handle", sn["handle"], su["handle"])
            c.eq(w + " interval", "interval" in sn.get("flags", []), "interval" in su["flags"])
            c.eq(w + " map", "map" in sn, "map" in su["flags"])
            # The kernel learns the field layout only for concatenated
            # ranges (NFTA_SET_DESC_CONCAT); exact concatenations are plain
            # keys to it, and to us.
            if "interval" in su["flags"]:
                c.eq(w + " fields", len(sn["type"]) if isinstance(sn["type"], list) else 1,
                     su["fields"])
            count = su["ranges"] if "interval" in su["flags"] else su["elems"]
            c.eq(w + " elements", len(sn.get("elem", [])), count)
            n_elems += count
            c.eq(w + " verdict targets", json_targets(sn.get("elem", [])),
                 sorted(elems.get(key + (name,), [])))

    print(f"compared {len(ours)} tables, {n_rules} rules, {n_sets} named sets "
          f"({n_elems} elements): {c.checks} checks, {c.failures} mismatches")
    return 1 if c.failures or not c.checks else 0


if __name__ == "__main__":
    sys.exit(main())
