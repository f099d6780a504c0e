# Legacy iptables stage: libiptc collector, xt decoder and matcher, iptables-save renderer. Included from Makefile.am.
libcgnatcheck_a_SOURCES += \
	src/collect/legacy.c \
	src/collect/legacy-compile.c \
	src/collect/legacy-snapshot.c \
	src/model/xt.c \
	src/sim/xt.c \
	src/report/iptables-text.c
noinst_HEADERS += \
	include/cgnatcheck/collect-legacy.h \
	include/cgnatcheck/xt.h \
	include/cgnatcheck/iptables-text.h \
	src/collect/legacy-internal.h

# decoder (lengths, revisions, malformed blobs) and matcher unit tests
check_PROGRAMS += tests/test-xt
tests_test_xt_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/test-xt

# legacy_collect() + the renderer as iptables-save text, for the netns tests
check_PROGRAMS += tests/legacy-dump
tests_legacy_dump_LDADD = libcgnatcheck.a $(CG_LIBS)

# collector and renderer against iptables-legacy-save in network namespaces
TESTS += tests/legacy-collect.sh
EXTRA_DIST += tests/legacy-collect.sh tests/legacy-gen.py tests/legacy-rules.v4 tests/legacy-rules.v6

# a kube-proxy sized table: collection against iptables-legacy-save's speed
TESTS += tests/legacy-perf.sh
EXTRA_DIST += tests/legacy-perf.sh tests/legacy-kube-gen.py

# the same renderer on iptables-nft rules (nft_collect()) against iptables-nft-save
TESTS += tests/iptnft-render.sh
EXTRA_DIST += tests/iptnft-render.sh
