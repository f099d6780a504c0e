# Netfilter simulator: hook ordering and rule evaluation. Included from Makefile.am.
libcgnatcheck_a_SOURCES += \
	src/sim/nf-eval.c \
	src/sim/nf-hooks.c \
	src/sim/nf-packet.c \
	src/sim/nf-flow.c \
	src/sim/nf-internal.h \
	src/collect/netfilter.c
noinst_HEADERS += include/cgnatcheck/sim-netfilter.h include/cgnatcheck/collect-netfilter.h \
	include/cgnatcheck/packet.h

# kernel-differential tests: the simulator's side
check_PROGRAMS += tests/nf-simulate
tests_nf_simulate_LDADD = libcgnatcheck.a $(CG_LIBS)

check_PROGRAMS += tests/test-nf-eval
tests_test_nf_eval_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/test-nf-eval
TESTS += tests/nf-tailscale.sh
EXTRA_DIST += tests/nf-tailscale.sh

# random rulesets against the kernel, every backend (NF_DIFF_RULESETS per backend)
TESTS += tests/nf-diff.sh
EXTRA_DIST += tests/nf-diff.sh tests/nf-gen.py

# the deciding rule against nft monitor trace (nftables rulesets)
TESTS += tests/nf-trace.sh
EXTRA_DIST += tests/nf-trace.sh
