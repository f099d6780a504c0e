#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Regenerates the golden files of tests/unit/golden-nft: real kernel messages in, nft's text out.

    tests/unit/golden/gen-nft.py            (as root; every input below)

Each input ruleset is loaded with `nft -f` in a network namespace of its own
(the script re-executes itself under `unshare --net`; the host's namespace is
never touched). Then the kernel is asked, over netlink like the collector
asks it, for its tables, chains, sets, set elements and, chain by chain, its
rules; `nft -a list ruleset` gives the text of each rule. The golden file
holds, per table, the NFT_MSG_NEWCHAIN, NFT_MSG_NEWSET and NFT_MSG_NEWSETELEM
messages (the context a rule's jumps and lookups need), and per rule a case:

    case FAMILY/TABLE/CHAIN/N       the N-th rule of the chain
    input TEXT                      the rule as the input file wrote it
    nft TEXT                        what nft printed, where it is not `expect`
    ifname INDEX NAME               an interface nft named (iif/oif): the
                                    test renames it as its own namespace does
    expect TEXT                     what nft_rule_to_string() must print
    rule HEX                        the kernel's NFT_MSG_NEWRULE message

and `bound HEX` lines for the rules of anonymous (binding) chains, which
print inside the rule that jumps to them. TEXT escapes backslash, tab and
newline (\\\\, \\t, \\n). Messages are hex, with the netlink sequence number and
port id zeroed (they are the dump's, not the rule's).

`expect` is nft's own text, its counters reduced to `counter` and the handle
comment removed (tests/kernel/nft-text-compare.py's reading of a listing),
except where the input says otherwise in a comment before the rule:

    # expect: TEXT       what the model can print where nft prints what the
                         model does not hold (a placeholder, nft-text.h)

and, in a table, `# golden: without chain NAME` / `# golden: without set
NAME` leave that chain (with its rules) or set out of the golden file: the
rules naming it show how the printer treats what the model does not have.
Times print in UTC: nft runs with TZ=UTC, and the test sets it too.
"""
import importlib.util
import os
import re
import socket
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
INPUTS = [  # (input ruleset, golden file), paths from the top of the tree
    ("tests/kernel/nft-text-rules.nft", "tests/unit/golden/nft-rules.golden"),
    ("tests/unit/golden/nft-more.nft", "tests/unit/golden/nft-more.golden"),
    ("tests/unit/golden/nft-placeholders.nft", "tests/unit/golden/nft-placeholders.golden"),
    ("tests/kernel/nft-roundtrip.nft", "tests/unit/golden/nft-roundtrip.golden"),
]

NETLINK_NETFILTER = 12
NFNL_SUBSYS_NFTABLES = 10
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
(NFT_MSG_NEWTABLE, NFT_MSG_GETTABLE, _, NFT_MSG_NEWCHAIN, NFT_MSG_GETCHAIN, _, NFT_MSG_NEWRULE,
 NFT_MSG_GETRULE, _, NFT_MSG_NEWSET, NFT_MSG_GETSET, _, NFT_MSG_NEWSETELEM, NFT_MSG_GETSETELEM) = range(14)
NFT_CHAIN_BINDING = 1 << 2
FAMILIES = {1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"}
# attribute numbers: NFTA_TABLE_NAME; NFTA_CHAIN_TABLE, _NAME, _FLAGS;
# NFTA_SET_TABLE, _NAME; NFTA_RULE_TABLE, _CHAIN; NFTA_SET_ELEM_LIST_TABLE, _SET
TABLE_NAME = 1
CHAIN_TABLE, CHAIN_NAME, CHAIN_FLAGS = 1, 3, 10
SET_TABLE, SET_NAME = 1, 2
RULE_TABLE, RULE_CHAIN = 1, 2
ELEM_LIST_TABLE, ELEM_LIST_SET = 1, 2


# ---- netlink ---------------------------------------------------------------

def attrs(msg):
    """{type: payload} of a message's top-level attributes (after nfgenmsg)."""
    out, off = {}, 16 + 4
    while off + 4 <= len(msg):
        alen, atype = struct.unpack_from("=HH", msg, off)
        if alen < 4:
            break
        out[atype & 0x3FFF] = msg[off + 4:off + alen]
        off += (alen + 3) & ~3
    return out


def attr_str(a, t):
    return a[t].rstrip(b"\0").decode() if t in a else None


def attr_u32(a, t):
    return struct.unpack(">I", a[t])[0] if t in a else 0


def put_str(t, s):
    data = s.encode() + b"\0"
    raw = struct.pack("=HH", 4 + len(data), t) + data
    return raw + b"\0" * (-len(raw) % 4)


class Netlink:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.bind((0, 0))
        self.seq = 0

    def dump(self, msg_type, family=0, payload=b""):
        """The messages of one dump request, each as bytes (seq and port zeroed)."""
        self.seq += 1
        body = struct.pack("=BBH", family, 0, 0) + payload
        hdr = struct.pack("=IHHII", 16 + len(body), NFNL_SUBSYS_NFTABLES << 8 | msg_type,
                          NLM_F_REQUEST | NLM_F_DUMP, self.seq, 0)
        self.sock.send(hdr + body)
        msgs = []
        while True:
            data = self.sock.recv(1 << 20)
            off = 0
            while off + 16 <= len(data):
                length, mtype, flags, _seq, _pid = struct.unpack_from("=IHHII", data, off)
                msg = bytearray(data[off:off + length])
                off += (length + 3) & ~3
                if mtype == NLMSG_DONE:
                    return msgs
                if mtype == NLMSG_ERROR:
                    err = struct.unpack_from("=i", msg, 16)[0]
                    if err:
                        raise OSError(-err, "netlink dump of message type %d" % msg_type)
                    continue
                msg[8:16] = bytes(8)
                msgs.append(bytes(msg))


def family_of(msg):
    return msg[16]


def collect():
    """[(family, table, chains, sets, rules)], in the kernel's order, where
    chains is [(name, flags, msg)], sets [(name, msg, [elem msgs])] and rules
    {chain: [msg]}."""
    nl = Netlink()
    tables = []
    for m in nl.dump(NFT_MSG_GETTABLE):
        tables.append((family_of(m), attr_str(attrs(m), TABLE_NAME), [], [], {}))
    index = {(t[0], t[1]): t for t in tables}
    for m in nl.dump(NFT_MSG_GETCHAIN):
        a = attrs(m)
        index[(family_of(m), attr_str(a, CHAIN_TABLE))][2].append(
            (attr_str(a, CHAIN_NAME), attr_u32(a, CHAIN_FLAGS), m))
    for m in nl.dump(NFT_MSG_GETSET):
        a = attrs(m)
        fam, table, name = family_of(m), attr_str(a, SET_TABLE), attr_str(a, SET_NAME)
        elems = nl.dump(NFT_MSG_GETSETELEM, fam, put_str(ELEM_LIST_TABLE, table) + put_str(ELEM_LIST_SET, name))
        index[(fam, table)][3].append((name, m, elems))
    for fam, table, chains, _, rules in tables:
        for name, _, _ in chains:
            rules[name] = nl.dump(NFT_MSG_GETRULE, fam, put_str(RULE_TABLE, table) + put_str(RULE_CHAIN, name))
    return tables


# ---- the input file --------------------------------------------------------

def read_input(path):
    """({(family, table, chain): [(text, expect or None)]}, {(family, table): {("chain"|"set", name)}})"""
    rules, without = {}, {}
    table = chain = None
    depth = 0
    pending = None          # a rule spanning lines
    expect = None
    for raw in open(path):
        line = raw.rstrip("\n")
        s = line.strip()
        opened, closed = line.count("{"), line.count("}")
        if pending is not None:
            pending.append(s)
            depth += opened - closed
            if depth == 2:
                rules[table + (chain,)].append(("\n".join(pending), expect))
                pending, expect = None, None
            continue
        m = re.match(r"# expect: (.*)$", s)
        if m:
            expect = m.group(1)
            continue
        m = re.match(r"# golden: without (chain|set) (\S+)$", s)
        if m and table:
            without.setdefault(table, set()).add((m.group(1), m.group(2)))
            continue
        if not s or s.startswith("#"):
            continue
        if s.startswith("}"):
            depth -= closed
            if depth <= 1:
                chain = None
            continue
        m = re.match(r"table (?:(\S+) )?(\S+) \{$", s)
        if depth == 0 and m:
            table = (m.group(1) or "ip", m.group(2))
        m = re.match(r"chain (\S+) \{$", s)
        if depth == 1 and m:
            chain = m.group(1)
            rules[table + (chain,)] = []
        elif depth == 2 and chain and not re.match(r"(type .* hook .*|policy \S+);$", s):
            if opened > closed:
                pending = [s]
                depth += opened - closed
                continue
            rules[table + (chain,)].append((s, expect))
            expect = None
        depth += opened - closed
        if depth <= 1:
            chain = None
    return rules, without


# ---- the golden file -------------------------------------------------------

def escape(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load_listing_parser():
    path = os.path.join(TOP, "tests", "kernel", "nft-text-compare.py")
    spec = importlib.util.spec_from_file_location("nft_text_compare", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.parse_listing


def rule_handle(msg):
    return struct.unpack(">Q", attrs(msg)[3])[0]      # NFTA_RULE_HANDLE


def write_golden(input_rel, out, tables, listing, source, without, versions):
    out.write("# Generated by tests/unit/golden/gen-nft.py from %s (%s): do not edit.\n"
              % (input_rel, versions))
    out.write("# Read by tests/unit/golden-nft.c; the format is in the generator's help.\n")
    for fam, table, chains, sets, rules in tables:
        family = FAMILIES[fam]
        skip = without.get((family, table), set())
        out.write("\ntable %s %s\n" % (family, table))
        for name, _, msg in chains:
            if ("chain", name) not in skip:
                out.write("chain %s\n" % msg.hex())
        for name, msg, elems in sets:
            if ("set", name) in skip:
                continue
            out.write("set %s\n" % msg.hex())
            for e in elems:
                out.write("elems %s\n" % e.hex())
        for name, flags, _ in chains:
            if flags & NFT_CHAIN_BINDING:
                for msg in rules[name]:
                    out.write("bound %s\n" % msg.hex())
        for name, flags, _ in chains:
            if flags & NFT_CHAIN_BINDING or ("chain", name) in skip:
                continue
            src = source.get((family, table, name))
            if src is None or len(src) != len(rules[name]):
                sys.exit("%s: %s %s %s: %d rules in the kernel, %s in the input"
                         % (input_rel, family, table, name, len(rules[name]),
                            "none" if src is None else len(src)))
            for n, msg in enumerate(rules[name], 1):
                text, expect = src[n - 1]
                nft = listing[(family, table, name, rule_handle(msg))]
                out.write("\ncase %s/%s/%s/%d\n" % (family, table, name, n))
                out.write("input %s\n" % escape(text))
                if expect is not None and expect != nft:
                    out.write("nft %s\n" % escape(nft))
                for kw, ifname in re.findall(r'\b(iif|oif) (?:!= )?"([^"]+)"', nft):
                    out.write("ifname %d %s\n" % (socket.if_nametoindex(ifname), ifname))
                out.write("expect %s\n" % escape(expect if expect is not None else nft))
                out.write("rule %s\n" % msg.hex())


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def main():
    if sys.argv[1:] != ["--in-netns"]:
        if os.geteuid() != 0:
            sys.exit("gen-nft.py: needs root (for a network namespace of its own)")
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable, os.path.abspath(__file__),
                              "--in-netns"])
    os.environ["TZ"] = "UTC"
    run("ip", "link", "set", "lo", "up")
    # `iif "eth0"` needs an interface of that name
    run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer")
    parse_listing = load_listing_parser()
    versions = "%s, Linux %s" % (run("nft", "--version").strip(), os.uname().release)
    for input_rel, golden_rel in INPUTS:
        run("nft", "flush", "ruleset")
        run("nft", "-f", os.path.join(TOP, input_rel))
        listing = parse_listing(run("nft", "-a", "list", "ruleset"))
        source, without = read_input(os.path.join(TOP, input_rel))
        tmp = os.path.join(TOP, golden_rel + ".tmp")
        with open(tmp, "w") as out:
            write_golden(input_rel, out, collect(), listing, source, without, versions)
        os.replace(tmp, os.path.join(TOP, golden_rel))
        print("wrote %s" % golden_rel)


if __name__ == "__main__":
    main()
