#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A large nftables ruleset for the collector's tests and benchmark:
gen-nft-chains.py RULES PER-CHAIN prints `table inet big` with a base chain
that jumps, by destination /24, to RULES/PER-CHAIN chains of PER-CHAIN
rules each (saddr, tcp dport, counter, accept, a comment)."""
import sys

rules, per = int(sys.argv[1]), int(sys.argv[2])
chains = (rules + per - 1) // per
out = ["table inet big {", "\tchain input {", "\t\ttype filter hook input priority 0; policy accept;"]
out += [f"\t\tip daddr 10.{c >> 8 & 255}.{c & 255}.0/24 jump c{c}" for c in range(chains)]
out.append("\t}")
for c in range(chains):
    out.append(f"\tchain c{c} {{")
    for r in range(min(per, rules - c * per)):
        out.append(f'\t\tip saddr 100.{64 + r % 64}.{c & 255}.{r % 256} tcp dport {1000 + r} '
                   f'counter accept comment "c{c} r{r}"')
    out.append("\t}")
out.append("}")
print("\n".join(out))
