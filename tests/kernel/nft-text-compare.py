#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Compares the renderer's rules (tests/kernel/nft-text-dump) with `nft -a list ruleset`.

    nft-text-compare.py NFT_LISTING DUMP [LABEL]
    nft-text-compare.py --batch FILE   (lines of NFT_LISTING, DUMP, LABEL: tab-separated)

Rules are matched by family, table, chain and handle. nft's text is taken
as it prints it inside the chain, with counter values reduced to `counter`
and the `# handle N` comment removed. Every rule nft lists in a table the
dump covers must be in the dump and identical, except the documented cases
below, where nft prints what the model does not hold. Those are counted and
shown, not failed.

Prints one line per difference and a summary; exit 0 when all rules match
(or differ only as documented), 1 otherwise, 2 on unusable input.
"""
import re
import sys

# nft prints what the kernel dump carries but the model does not keep.
EXCEPTIONS = [
    # struct cg_expr keeps the reject type, not the ICMP code: the renderer
    # prints the default code ("reject", or the family's port-unreachable)
    ("reject code", re.compile(r"\breject with icmp(v6|x)? (?!port-unreachable\b)")),
]

HANDLE = re.compile(r"^(.*) # handle (\d+)$")
COUNTER = re.compile(r"\bcounter packets \d+ bytes \d+")
TABLE = re.compile(r"^table (\S+) (\S+) \{")
CHAIN = re.compile(r"^\tchain (\S+) \{")


def unquote(name):
    return name[1:-1] if len(name) >= 2 and name[0] == '"' and name[-1] == '"' else name


def parse_listing(text):
    """{(family, table, chain, handle): text} of every rule nft lists."""
    rules = {}
    table = chain = None
    pending = None  # a rule spanning lines: a jump to an anonymous chain
    for line in text.splitlines():
        m = TABLE.match(line)
        if m:
            table, chain = (m.group(1), unquote(m.group(2))), None
            continue
        m = CHAIN.match(line)
        if m and table:
            chain = unquote(m.group(1))
            continue
        if line.startswith("\t}"):
            chain = None
            continue
        if chain is None or not line.startswith("\t\t"):
            continue
        if pending is not None:
            pending.append(line)
            m = HANDLE.match(line)
            if line.startswith("\t\t}") and m:
                pending[-1] = m.group(1)
                key = table + (chain, int(m.group(2)))
                rules[key] = COUNTER.sub("counter", "\n".join(pending))
                pending = None
            continue
        body = line[2:]
        m = HANDLE.match(body)
        if m:
            rules[table + (chain, int(m.group(2)))] = COUNTER.sub("counter", m.group(1))
        elif body.endswith("{"):
            pending = [body]
    return rules


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"n": "\n", "t": "\t", "\\": "\\"}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse_dump(text):
    """({(family, table)}, {(family, table, chain, handle): text})"""
    tables, rules = set(), {}
    for line in text.splitlines():
        if line.startswith("table\t"):
            tables.add(tuple(line.split("\t")[1:3]))
            continue
        parts = line.split("\t", 4)
        if len(parts) != 5:
            raise ValueError(f"bad dump line: {line!r}")
        fam, table, chain, handle, body = parts
        rules[(fam, table, chain, int(handle))] = unescape(body)
    return tables, rules


def compare(listing, dump, label):
    """Prints the differences and the summary line; 0, 1 or 2 as main."""
    try:
        with open(listing) as f:
            nft = parse_listing(f.read())
        with open(dump) as f:
            tables, ours = parse_dump(f.read())
    except (OSError, ValueError) as e:
        print(f"{label}: {e}", file=sys.stderr)
        return 2
    bad = same = excused = 0
    for key in sorted(set(nft) | set(ours)):
        where = "%s %s %s handle %d" % key
        theirs, mine = nft.get(key), ours.get(key)
        if theirs is None:
            print(f"{label}: {where}: not listed by nft: {mine!r}")
            bad += 1
            continue
        if mine is None:
            if key[:2] in tables:
                print(f"{label}: {where}: missing from the dump; nft: {theirs!r}")
                bad += 1
            continue
        if mine == theirs:
            same += 1
            continue
        why = next((name for name, rx in EXCEPTIONS if rx.search(theirs)), None)
        if why:
            print(f"{label}: {where}: documented exception ({why}):\n  nft:  {theirs}\n  ours: {mine}")
            excused += 1
            continue
        print(f"{label}: {where}: differs\n  nft:  {theirs!r}\n  ours: {mine!r}")
        bad += 1
    print(f"{label}: {same} identical, {excused} documented exceptions, {bad} wrong")
    return 1 if bad else 0


def main():
    # --batch FILE: one comparison per line of FILE (NFT_LISTING, DUMP and
    # LABEL separated by tabs), in one run (a Python start-up each costs
    # more than the comparison); the worst status of them
    if len(sys.argv) == 3 and sys.argv[1] == "--batch":
        worst = 0
        with open(sys.argv[2]) as f:
            for line in f:
                listing, dump, label = line.rstrip("\n").split("\t")
                worst = max(worst, compare(listing, dump, label))
        return worst
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: nft-text-compare.py NFT_LISTING DUMP [LABEL] | --batch FILE")
    return compare(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else "")


if __name__ == "__main__":
    sys.exit(main())
