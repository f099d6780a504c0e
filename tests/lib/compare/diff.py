#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Compares what two captured test runs printed (tests/lib/compare/run.sh).

    diff.py BEFORE AFTER

For each test, the n-th run of cgnatcheck with the same arguments in the
same network namespace is paired between the two captures, and its stdout and stderr compared after the
parts that differ from run to run by nature are masked: temporary paths,
the trees' own paths, times of day and durations, process ids in namespace
names, the changes log's timestamps, probe durations and --keep's count of
rounds. Prints each difference and a
summary; exit 1 when a run's output differs or a run is missing."""
import os
import re
import sys
import difflib

MASKS = [
    (re.compile(r"/tmp/[A-Za-z0-9._-]+"), "/tmp/T"),
    (re.compile(r"cgt\d+-"), "cgtPID-"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?"), "TIME"),
    (re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d+ \w+ \d{4} \d\d:\d\d:\d\d [+-]\d{4}"), "DATE"),
    (re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b"), "DUR"),
    (re.compile(r"boundary=\"?[^\"\s;]+"), "boundary=B"),
    (re.compile(r"--=_[A-Za-z0-9._=-]+"), "--=_B"),
    (re.compile(r"\"(time|started|finished|date)\": ?\"[^\"]*\""), r'"\1":"T"'),
    (re.compile(r"\bpid \d+"), "pid N"),
    (re.compile(r"\"ms\": ?[0-9.e+-]+"), '"ms":N'),
    # --keep's rounds: one per batch of ruleset notifications, however the
    # kernel happened to group them before the test stopped it
    (re.compile(r"stopped after \d+ rounds"), "stopped after N rounds"),
]


def load(root):
    runs = {}
    for test in sorted(os.listdir(root)):
        d = os.path.join(root, test)
        if not os.path.isdir(d):
            continue
        seen = {}
        for n in sorted((x for x in os.listdir(d) if x.isdigit()), key=int):
            r = os.path.join(d, n)
            try:
                args = open(os.path.join(r, "args"), "rb").read().split(b"\0")[:-1]
            except FileNotFoundError:
                continue
            try:
                # the namespace (a test bed of a test's own): tests run cases
                # at once, whose runs with the same arguments come in any order
                netns = open(os.path.join(r, "netns"), "rb").read().decode(errors="replace").strip()
            except FileNotFoundError:
                netns = ""
            key = (mask(netns, root),) + tuple(mask(a.decode(errors="replace"), root) for a in args)
            i = seen.get(key, 0)
            seen[key] = i + 1
            outs = []
            for name in ("stdout", "stderr"):
                try:
                    outs.append(open(os.path.join(r, name), "rb").read().decode(errors="replace"))
                except FileNotFoundError:
                    outs.append("")
            runs[(test, key, i)] = outs
    return runs


TREES = []


def mask(s, root=None):
    for t in TREES:
        s = s.replace(t, "TREE")
    for rx, rep in MASKS:
        s = rx.sub(rep, s)
    return s


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: diff.py BEFORE AFTER [TREE...]")
    before, after = sys.argv[1], sys.argv[2]
    TREES.extend(sorted(sys.argv[3:], key=len, reverse=True))
    a, b = load(before), load(after)
    same = differ = missing = 0
    for k in sorted(set(a) | set(b)):
        test, key, i = k
        label = f"{test}: cgnatcheck {' '.join(key[1:])}{' in ' + key[0] if key[0] else ''} (run {i + 1})"
        if k not in a or k not in b:
            missing += 1
            print(f"only in {'after' if k not in a else 'before'}: {label}")
            continue
        bad = False
        for name, x, y in zip(("stdout", "stderr"), a[k], b[k]):
            x, y = mask(x), mask(y)
            if x != y:
                bad = True
                print(f"--- {label}: {name} differs")
                sys.stdout.writelines(list(difflib.unified_diff(x.splitlines(True), y.splitlines(True), "before", "after", n=1))[:40])
        if bad:
            differ += 1
        else:
            same += 1
    print(f"{same} runs identical, {differ} differ, {missing} in one capture only")
    sys.exit(1 if differ or missing else 0)


main()
