#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The pipeline's layering, read from the objects' symbols.

    layering.py ROOT [SRCDIR]

ROOT holds the build's objects under src/FOLDER/*.o; an object whose
source (SRCDIR/src/FOLDER/NAME.c, SRCDIR defaulting to ROOT) is gone is a
stale leftover of an earlier build and is not read. Every undefined symbol
of an object that another object defines is a call (or a reference) from the
first file to the second. It fails (exit 1), naming each one, on

  * a call that runs backwards: into a folder later in the pipeline
        util -> model -> format -> collect -> sim -> audit -> fix -> report -> cmd
  * a cycle between files: two or more files that reach each other (a
    shared helper living in one of its callers)
  * an object outside those folders (the picture must cover everything).
"""
import os
import subprocess
import sys

ORDER = ["util", "model", "format", "collect", "sim", "audit", "fix", "report", "cmd"]
RANK = {f: i for i, f in enumerate(ORDER)}


def objects(root, srcdir):
    objs = []
    for dirpath, _, files in os.walk(os.path.join(root, "src")):
        for f in files:
            if f.endswith(".o"):
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                if os.path.exists(os.path.join(srcdir, rel[:-2] + ".c")):
                    objs.append(rel)
    return sorted(objs)


def folder(obj):
    parts = obj.split(os.sep)
    return parts[1] if len(parts) >= 3 else None


def nm(root, objs, flag):
    out = subprocess.run(["nm", "-A", flag] + objs, cwd=root, capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        obj, rest = line.split(":", 1)
        fields = rest.split()
        if fields:
            yield obj, fields[-1]


def sccs(nodes, edges):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter[0]; counter[0] += 1
        stack.append(start); on.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1
                    stack.append(w); on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop(); on.discard(w); comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: layering.py BUILD_ROOT [SRCDIR]")
    root = sys.argv[1]
    objs = objects(root, sys.argv[2] if len(sys.argv) == 3 else root)
    if not objs:
        sys.exit(f"layering: no objects under {root}/src (build first)")
    problems = []
    for o in objs:
        if folder(o) not in RANK:
            problems.append(f"{o}: not in a pipeline folder ({' '.join(ORDER)})")
    defs = {}
    for obj, sym in nm(root, objs, "--defined-only"):
        defs.setdefault(sym, obj)
    edges, why = {}, {}
    for obj, sym in nm(root, objs, "--undefined-only"):
        callee = defs.get(sym)
        if callee is None or callee == obj:
            continue
        edges.setdefault(obj, set()).add(callee)
        why.setdefault((obj, callee), []).append(sym)
    n_edges = 0
    for (a, b), syms in sorted(why.items()):
        n_edges += 1
        fa, fb = folder(a), folder(b)
        if fa in RANK and fb in RANK and RANK[fb] > RANK[fa]:
            problems.append(f"backward call: {a} ({fa}) -> {b} ({fb}): {', '.join(sorted(syms))}")
    for comp in sccs(objs, edges):
        if len(comp) > 1:
            detail = "; ".join(f"{a} -> {b} ({', '.join(sorted(why[(a, b)]))})"
                               for a in comp for b in comp if (a, b) in why)
            problems.append(f"file cycle: {' '.join(comp)}: {detail}")
    for p in problems:
        print(p)
    print(f"layering: {len(objs)} objects, {n_edges} file-to-file references, {len(problems)} problems")
    sys.exit(1 if problems else 0)


main()
