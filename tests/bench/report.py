#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The benchmark's tables, from the files tests/bench/run.sh writes.

    report.py DIR [--scale] [--check]

DIR/results.tsv   scenario, tool, run, wall s, max RSS KB, ok|timeout|error:N
DIR/meta.tsv      scenario, key, value (command lines, output sizes, ...)

Prints one table per scenario (median wall time and median peak RSS of each
tool, and the audit's ratio to each), the audit's peak RSS against the size
of the ruleset's text, the exact command lines, and with --scale the time
per 1,000 rules at each point; for the policy scenario one table of its
points (the file present, and selected); then one row per scenario and
stock tool (issue 20): audit, stock tool, kernel floor, audit/stock,
audit/floor. Every target is printed with "met" or "MISSED"; with --check,
exits 1 when one is missed.
"""
import collections
import statistics
import sys

LABELS = {
    "cgnatcheck": "cgnatcheck --dns 100.100.2.136 --format json",
    "floor": None,  # tests/bench/floor legacy or tests/bench/floor nft
    "iptables-save": None,  # iptables-legacy-save or iptables-nft-save
    "nft-terse": "nft --terse list ruleset",
    "nft-json": "nft -j --terse list ruleset",
    "nft-full": "nft list ruleset",
    "ip-route": "ip route show table all",
    "chain-list": "tests/bench/floor nft-chains (the kernel's chain list alone)",
    "policy-load": "cgnatcheck --dns 100.100.2.136 --format json (the file present)",
    "policy-audit": "cgnatcheck --dns 100.100.2.136 --policy bench-large --format json",
    "policy-blocked": "cgnatcheck --dns 100.100.2.136 --policy bench-large --format json (beside Tailscale's rules)",
}
# the policy scenario's time target for an audit that parses a large file
POLICY_LOAD_MAX_S = 0.5
# its targets for the selected audit of 100,000 addresses (200,002 targets):
# (wall s, peak RSS MiB), every target reachable / every target blocked
# (the blocked audit's JSON report is 943 MB: each target's trace and fix)
POLICY_AUDIT_N = 100000
POLICY_AUDIT_MAX = {"policy-audit": (2.0, 256), "policy-blocked": (8.0, 256)}
BACKEND = {"legacy": "iptables-legacy", "nft": "iptables-nft", "nftables": "nftables",
           "kubenft": "kube-proxy's nftables mode"}
# issue 20's targets at the default size: the audit's wall time at most this
# share of the stock tool's / the floor's; kubenft's audit at most 0.2 s
ISSUE20_STOCK = {"nft": ("iptables-save", 0.25), "legacy": ("iptables-save", 0.5)}
ISSUE20_FLOOR = {"legacy": 1.3}
KUBENFT_MAX_S = 0.2
# the stock tools of each scenario in the last table: the dumps of the same
# ruleset (the first is the one the memory target is held to)
STOCK = {"legacy": ["iptables-save"], "nft": ["iptables-save", "nft-terse"], "nftables": ["nft-full"],
         "kubenft": ["nft-full", "nft-terse"]}


def label(tool, kind):
    if tool == "floor":
        return "tests/bench/floor %s" % ("legacy" if kind == "legacy" else "nft")
    return LABELS[tool] or "iptables-%s-save" % kind


def fmt_n(n):
    return "{:,}".format(n)


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit("usage: report.py DIR [--scale] [--check]")
    d, scale, check = args[0], "--scale" in args, "--check" in args
    meta = collections.defaultdict(dict)
    order = []
    for line in open(d + "/meta.tsv"):
        sc, k, v = line.rstrip("\n").split("\t", 2)
        if sc != "_" and sc not in order:
            order.append(sc)
        meta[sc][k] = v
    runs = collections.defaultdict(list)
    for line in open(d + "/results.tsv"):
        sc, tool, r, wall, rss, st = line.rstrip("\n").split("\t")
        runs[(sc, tool)].append((float(wall), int(rss), st))
    g = meta["_"]
    timeout = float(g.get("timeout", "600"))
    failures = []
    met = []

    def med(sc, tool):
        """(wall, rss KB, runs, timed out, error) of a tool"""
        rs = runs.get((sc, tool), [])
        ok = [r for r in rs if r[2] == "ok"]
        to = any(r[2] == "timeout" for r in rs)
        err = next((r[2] for r in rs if r[2].startswith("error")), None)
        if not ok:
            return None, None, len(rs), to, err
        return (statistics.median(r[0] for r in ok), statistics.median(r[1] for r in ok), len(ok), to, err)

    def wall_s(w, to, err):
        if w is not None:
            return "%.2f" % w
        if to:
            return "> %g" % timeout
        return err or "-"

    def ratio(a, b):
        if a is None or b is None or b == 0:
            return "-"
        return "%.2f" % (a / b)

    print("cgnatcheck benchmark: %s" % g.get("cgnatcheck", "?"))
    print("kernel %s; %s" % (g.get("kernel", "?"), g.get("tools", "")))
    slow = g.get("slow", "60 1").split()
    print("median of %s runs (a tool whose first run takes more than %s s: %s run%s); each run capped at %g s"
          % (g.get("runs", "?"), slow[0], slow[1], "" if slow[1] == "1" else "s", timeout))
    print("wall time and peak RSS from /usr/bin/time -v (10 ms resolution); MiB = 1,048,576 bytes")

    for sc in order:
        m = meta[sc]
        kind = m["kind"]
        if kind == "policy":
            continue
        tools = [t for t in LABELS if (sc, t) in runs]
        print()
        title = "%s (%s): %s" % (sc, BACKEND[kind], m.get("params", ""))
        print("== " + title + " ==")
        desc = [m.get("generator", "")]
        if "rules" in m and kind == "kubenft":
            desc.append("%s rules read by the floor (kube-proxy's and Tailscale's)" % fmt_n(int(m["rules"])))
        elif "rules" in m:
            desc.append("%s rules in iptables-%s-save's text (IPv4)" % (fmt_n(int(m["rules"])), kind))
        desc.append("Tailscale (%s, new), %s routes, %s ip rules (ip route/rule show)"
                    % (BACKEND["nftables" if kind == "kubenft" else kind], fmt_n(int(m.get("routes", 0))),
                       m.get("ip_rules", "?")))
        print("   " + "; ".join(x for x in desc if x) + "; loaded in %s s" % m.get("load_s", "?"))
        cw, crss, _, cto, cerr = med(sc, "cgnatcheck")
        rows = [("tool", "runs", "wall s", "peak RSS MiB", "audit/tool wall", "audit/tool RSS")]
        for t in tools:
            w, rss, n, to, err = med(sc, t)
            rows.append((label(t, kind), str(n), wall_s(w, to, err),
                         "%.1f" % (rss / 1024) if rss is not None else "-",
                         ratio(cw, w) if t != "cgnatcheck" else "1.00",
                         ratio(crss, rss) if t != "cgnatcheck" else "1.00"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  " + "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                                   for i, c in enumerate(r)))
        # the text sizes, and the audit's peak RSS against the ruleset's text
        ref = STOCK[kind][0]
        texts = []
        for t in ("iptables-save", "nft-terse", "nft-json", "nft-full"):
            if "bytes." + t in m:
                texts.append("%s %s bytes" % (label(t, kind), fmt_n(int(m["bytes." + t]))))
        print("  text: " + "; ".join(texts))
        ref_bytes = int(m.get("bytes." + ref, "0"))
        if crss is not None and ref_bytes:
            rr = crss * 1024 / ref_bytes
            # The memory target is the default size's (issue 8): at the
            # --scale points below it, what does not grow with the ruleset
            # (the program itself, about 3.4 MiB in an empty namespace; a
            # megabyte-sized read-ahead window) weighs more against a small
            # text, so there the ratio is printed, not held to 2.
            default_size = m.get("point", "100") == "100"
            print("  audit peak RSS / %s text: %.2f (%s)" % (label(ref, kind), rr, "target < 2" if default_size
                                                              else "a smaller point: shown, the target is the default size's"))
            if rr < 2 and default_size:
                met.append("%s: the audit's peak RSS (%.1f MiB) is %.2fx the %s text, below 2x"
                           % (sc, crss / 1024, rr, label(ref, kind)))
            if rr >= 2 and default_size:
                failures.append("%s: the audit's peak RSS (%.1f MiB) is %.2fx the %s text (%s bytes), not below 2x"
                                % (sc, crss / 1024, rr, label(ref, kind), fmt_n(ref_bytes)))
        else:
            failures.append("%s: no peak RSS of the audit or no %s text to compare" % (sc, label(ref, kind)))
        verdicts = m.get("audit_verdicts", "none")
        print("  audit: 100.100.2.136 %s (exit %s)" % (verdicts, m.get("audit_exit", "?")))
        if cw is None:
            failures.append("%s: the audit did not complete (%s)" % (sc, "timeout" if cto else cerr))
        if "blocked" not in verdicts:
            failures.append("%s: the audit does not report 100.100.2.136 blocked (%s)" % (sc, verdicts))
        else:
            met.append("%s: the audit reports 100.100.2.136 %s" % (sc, verdicts))
        # The time targets: on the kube-proxy rulesets the audit against
        # iptables-save and nft --terse (dumping the same 300k rules). The
        # nftables scenario is a small ruleset around a 1M-element set:
        # --terse leaves the elements out (never asks the kernel for them),
        # so it does not read what the audit must reason about; there the
        # audit is held to `nft list ruleset`, the listing that does.
        targets = []
        if kind in ("legacy", "nft"):
            targets.append("iptables-save")
        if kind == "nft":
            targets.append("nft-terse")
        if kind in ("nftables", "kubenft"):
            targets.append("nft-full")
            print("  (time target: nft list ruleset, which reads the set's elements; nft --terse list ruleset "
                  "does not read them and is shown for information)")
        for t in targets:
            w, _, _, to, err = med(sc, t)
            if cw is not None and (w is not None and cw < w or w is None and to):
                met.append("%s: the audit (%s s) is faster than %s (%s s)"
                           % (sc, wall_s(cw, cto, cerr), label(t, kind), wall_s(w, to, err)))
                continue
            failures.append("%s: the audit (%s s) is not faster than %s (%s s)"
                            % (sc, wall_s(cw, cto, cerr), label(t, kind), wall_s(w, to, err)))
        # issue 20's targets, at the default size (the --scale points below it
        # print the ratios in the last table)
        if m.get("point", "100") == "100":
            if kind in ISSUE20_STOCK:
                t, most = ISSUE20_STOCK[kind]
                w, _, _, to, err = med(sc, t)
                text = ("%s: the audit (%s s) is %s x %s (%s s), target <= %g"
                        % (sc, wall_s(cw, cto, cerr), ratio(cw, w), label(t, kind), wall_s(w, to, err), most))
                (met if cw is not None and w and cw <= most * w else failures).append(text)
            if kind in ISSUE20_FLOOR:
                most = ISSUE20_FLOOR[kind]
                w, _, _, to, err = med(sc, "floor")
                text = ("%s: the audit (%s s) is %s x the kernel floor (%s s), target <= %g"
                        % (sc, wall_s(cw, cto, cerr), ratio(cw, w), wall_s(w, to, err), most))
                (met if cw is not None and w and cw <= most * w else failures).append(text)
            if kind == "kubenft":
                text = "%s: the audit takes %s s, target <= %g s" % (sc, wall_s(cw, cto, cerr), KUBENFT_MAX_S)
                lw, _, _, lto, lerr = med(sc, "chain-list")
                if lw is not None or lto:
                    text += "; the kernel's chain list alone (tests/bench/floor nft-chains) takes %s s" % \
                        wall_s(lw, lto, lerr)
                (met if cw is not None and cw <= KUBENFT_MAX_S else failures).append(text)
        if "floor_out" in m:
            print("  the floor read: " + m["floor_out"])
        print("  commands timed (in the scenario's host namespace, as built by run.sh):")
        for t in tools:
            print("    " + m.get("cmd." + t, "?"))

    if scale:
        print()
        print("== scale: time per 1,000 rules (iptables scenarios) or per 1,000 set elements (nftables) ==")
        bykind = collections.defaultdict(list)
        for sc in order:
            if meta[sc]["kind"] != "policy":
                bykind[meta[sc]["kind"]].append(sc)
        for kind, scs in bykind.items():
            def size(sc):
                m = meta[sc]
                if kind == "nftables":
                    p = dict(x.split("=") for x in m["params"].split())
                    return int(p["elements"])
                # kubenft: the rules the floor read
                return int(m.get("rules", "0"))
            scs.sort(key=lambda sc: int(meta[sc]["point"]))
            tools = [t for t in LABELS if any((sc, t) in runs for sc in scs)]
            # one row per tool, one column per point: seconds and ms per 1,000
            unit = "elements" if kind == "nftables" else "rules"
            rows = [("%s (%s)" % (kind, BACKEND[kind]),) + tuple("%s %s: s, ms/1k" % (fmt_n(size(sc)), unit)
                                                                  for sc in scs) + ("growth",)]
            per = {}
            for t in tools:
                row = [label(t, kind)]
                for sc in scs:
                    n = size(sc)
                    w, _, _, to, err = med(sc, t)
                    if w is None or not n:
                        row.append(wall_s(w, to, err))
                        continue
                    row.append("%.2f, %.2f" % (w, w * 1e6 / n))
                    per[(sc, t)] = w / n
                a_, b_ = per.get((scs[0], t)), per.get((scs[-1], t))
                row.append("%.2fx" % (b_ / a_) if a_ and b_ and len(scs) >= 2 else "-")
                rows.append(tuple(row))
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
            for r in rows:
                print("  " + "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                                       for i, c in enumerate(r)))
            print("  (growth: ms per 1,000 %s at the largest point / at the smallest)" % unit)
            if len(scs) >= 2:
                lo, hi = scs[0], scs[-1]
                a, b = per.get((lo, "cgnatcheck")), per.get((hi, "cgnatcheck"))
                if a and b:
                    print("  audit: time per unit at %s / at %s: %.2f (target <= 1.5)"
                          % (fmt_n(size(hi)), fmt_n(size(lo)), b / a))
                    if b / a > 1.5:
                        failures.append("scale %s: the audit's time per rule grows %.2fx from %s to %s (target <= 1.5x)"
                                        % (kind, b / a, fmt_n(size(lo)), fmt_n(size(hi))))
                    else:
                        met.append("scale %s: the audit's time per rule grows %.2fx from %s to %s (target <= 1.5x)"
                                   % (kind, b / a, fmt_n(size(lo)), fmt_n(size(hi))))
                else:
                    failures.append("scale %s: no audit time at %s or %s" % (kind, lo, hi))

    policy = [sc for sc in order if meta[sc]["kind"] == "policy"]
    if policy:
        policy_report(policy, meta, med, wall_s, failures)

    summary(order, meta, med, wall_s, ratio)

    print()
    print("targets (the policy scenario's are printed only when missed):")
    for f in met:
        print("  met: " + f)
    for f in failures:
        print("  MISSED: " + f)
    if failures:
        print("%d target%s missed%s" % (len(failures), "" if len(failures) == 1 else "s",
                                        "" if check else " (informational; --check makes them fatal)"))
    else:
        print("every target met")
    sys.exit(1 if check and failures else 0)


def summary(order, meta, med, wall_s, ratio):
    """Issue 20's table: per scenario and stock tool, the audit, the stock
    tool, the kernel floor and the audit's ratios to both."""
    scs = [sc for sc in order if meta[sc]["kind"] != "policy"]
    if not scs:
        return
    print()
    print("== audit, stock tool and kernel floor (median wall s; the floor: tests/bench/floor) ==")
    rows = [("scenario", "stock tool", "stock s", "floor s", "audit s", "audit/stock", "audit/floor",
             "audit MiB", "stock text MiB")]
    for sc in scs:
        kind = meta[sc]["kind"]
        cw, crss, _, cto, cerr = med(sc, "cgnatcheck")
        fw, _, _, fto, ferr = med(sc, "floor")
        for t in STOCK[kind]:
            w, _, _, to, err = med(sc, t)
            b = meta[sc].get("bytes." + t)
            rows.append(("%s (%s)" % (sc, BACKEND[kind]), label(t, kind), wall_s(w, to, err), wall_s(fw, fto, ferr),
                         wall_s(cw, cto, cerr), ratio(cw, w), ratio(cw, fw),
                         "%.1f" % (crss / 1024) if crss is not None else "-",
                         "%.1f" % (int(b) / 1048576) if b else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(r)))


def policy_report(scs, meta, med, wall_s, failures):
    """The policy scenario (issue 15): per point, the audit with the file
    present (parsed, not selected) and with it selected."""
    print()
    print("== policy: a large provider policy in the local policy directory (tests/bench/policy-gen.py) ==")
    base = next((sc for sc in scs if meta[sc]["point"] == "none"), None)
    bw, brss, _, _, _ = med(base, "policy-load") if base else (None, None, 0, False, None)
    btargets = int(meta[base].get("targets.policy-load", "-1")) if base else -1
    rows = [("point", "file bytes", "present: s", "MiB", "selected: s", "MiB", "its targets",
             "us/address", "KiB/address", "blocked: s", "MiB", "blocked", "us/address", "KiB/address")]
    per = {"policy-audit": {}, "policy-blocked": {}}
    for sc in scs:
        m = meta[sc]
        n = int(m.get("addresses", "0")) + int(m.get("services", "0"))
        what = ("%s addresses, 1 service" % fmt_n(int(m["addresses"])) if int(m.get("addresses", "0"))
                else "%s services" % fmt_n(int(m["services"])) if n else "no file")
        lw, lrss, _, lto, lerr = med(sc, "policy-load")
        row = [what, fmt_n(int(m.get("bytes", "0"))), wall_s(lw, lto, lerr),
               "%.1f" % (lrss / 1024) if lrss is not None else "-"]
        for tool in ("policy-audit", "policy-blocked"):
            aw, arss, _, ato, aerr = med(sc, tool)
            us = kib = "-"
            if n and aw is not None and bw is not None:
                per[tool][sc] = ((aw - bw) / n, (arss - brss) / n)
                us, kib = "%.1f" % (per[tool][sc][0] * 1e6), "%.1f" % (per[tool][sc][1])
            count = m.get("file_targets." + tool, "") if tool == "policy-audit" else m.get("blocked." + tool, "")
            row += [wall_s(aw, ato, aerr) if n else "", "%.1f" % (arss / 1024) if n and arss is not None else "",
                    count if n else "", us, kib]
            # the selected audit's targets at 100,000 addresses
            if n and int(m.get("addresses", "0")) == POLICY_AUDIT_N and aw is not None:
                max_s, max_mib = POLICY_AUDIT_MAX[tool]
                if aw >= max_s:
                    failures.append("policy %s: %s took %.2f s (target < %g s)" % (what, tool, aw, max_s))
                if arss / 1024 >= max_mib:
                    failures.append("policy %s: %s took %.1f MiB (target < %g MiB)"
                                    % (what, tool, arss / 1024, max_mib))
        rows.append(tuple(row))
        # the time target: an audit that has to parse the file
        if lw is None:
            failures.append("policy %s: the audit with the file present did not complete (%s)"
                            % (what, "timeout" if lto else lerr))
        elif lw >= POLICY_LOAD_MAX_S:
            failures.append("policy %s: the audit with the file present took %.2f s (target < %g s)"
                            % (what, lw, POLICY_LOAD_MAX_S))
        # the audits are the real ones: the file's targets, 2 per address
        if base and btargets >= 0:
            got = m.get("targets.policy-load")
            if got is not None and int(got) != btargets:
                failures.append("policy %s: %s targets with the file present but not selected, %d without it"
                                % (what, got, btargets))
            if m.get("file_targets.policy-load", "0") != "0":
                failures.append("policy %s: targets from the file when it is not selected" % what)
            for tool in ("policy-audit", "policy-blocked") if n else ():
                got = m.get("file_targets." + tool)
                aw, _, _, ato, aerr = med(sc, tool)
                if aw is None:
                    failures.append("policy %s: %s did not complete (%s)"
                                    % (what, tool, "timeout" if ato else aerr))
                elif got is None or int(got) != 2 * n:
                    failures.append("policy %s: %s: %s targets from the file, expected %d (2 x %s)"
                                    % (what, tool, got, 2 * n, fmt_n(n)))
            # beside Tailscale's CGNAT drop every target is blocked: the
            # file's and --dns 100.100.2.136's two
            if n and med(sc, "policy-blocked")[0] is not None:
                got = m.get("blocked.policy-blocked")
                if got is None or int(got) != 2 * n + 2:
                    failures.append("policy %s: %s targets blocked beside Tailscale's rules, expected %d"
                                    % (what, got, 2 * n + 2))
        else:
            failures.append("policy: no run without the file (the baseline)")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)))
    print("  present: the file is parsed by every audit, not selected (its DMI strings match nothing); "
          "time target < %g s" % POLICY_LOAD_MAX_S)
    print("  selected: --policy bench-large, every address a target per protocol (looked up, simulated, "
          "reported), all reachable; blocked: the same beside Tailscale's rules, all blocked by its CGNAT drop; "
          "us and KiB per address over the run without the file")
    for tool, (max_s, max_mib) in sorted(POLICY_AUDIT_MAX.items()):
        print("  %s at %s addresses: target < %g s, < %g MiB" % (tool, fmt_n(POLICY_AUDIT_N), max_s, max_mib))
    # linear growth: from the second largest to the largest address count
    pts = sorted((int(meta[sc]["addresses"]), sc) for sc in scs if int(meta[sc].get("addresses", "0")))
    for tool in ("policy-audit", "policy-blocked") if len(pts) >= 2 else ():
        (n1, lo), (n2, hi) = pts[-2], pts[-1]
        p = per[tool]
        if lo in p and hi in p and p[lo][0] > 0 and p[lo][1] > 0:
            gt, gm = p[hi][0] / p[lo][0], p[hi][1] / p[lo][1]
            print("  %s, per address at %s / at %s addresses: time %.2f, peak RSS %.2f (target <= 1.5)"
                  % (tool, fmt_n(n2), fmt_n(n1), gt, gm))
            if gt > 1.5:
                failures.append("policy: %s's time per address grows %.2fx from %s to %s "
                                "addresses (target <= 1.5x)" % (tool, gt, fmt_n(n1), fmt_n(n2)))
            if gm > 1.5:
                failures.append("policy: %s's peak RSS per address grows %.2fx from %s to %s "
                                "addresses (target <= 1.5x)" % (tool, gm, fmt_n(n1), fmt_n(n2)))
        else:
            failures.append("policy: no %s at %s or %s addresses to compare" % (tool, fmt_n(n1), fmt_n(n2)))
    print("  commands timed (in the scenario's host namespace; the local policy directory holds the point's file):")
    for t in ("policy-load", "policy-audit", "policy-blocked"):
        c = next((meta[sc]["cmd." + t] for sc in scs if "cmd." + t in meta[sc]), None)
        if c:
            print("    " + c)


if __name__ == "__main__":
    main()
