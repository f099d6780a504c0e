# Legacy iptables stage: libiptc collector, xt decoder and matcher, iptables-save renderer. Included from Makefile.am.
libcgnatcheck_a_SOURCES += \
	src/collect/legacy.c \
	src/collect/legacy-compile.c \
	src/collect/legacy-snapshot.c \
	src/collect/legacy-stream.c \
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

# the streamed read (userfaultfd) against the whole one and iptables-legacy-save
TESTS += tests/legacy-stream.sh
EXTRA_DIST += tests/legacy-stream.sh

# a kube-proxy sized table: collection against iptables-legacy-save's speed
TESTS += tests/legacy-perf.sh
EXTRA_DIST += tests/legacy-perf.sh tests/legacy-kube-gen.py

# the same renderer on iptables-nft rules (nft_collect()) against iptables-nft-save
TESTS += tests/iptnft-render.sh
EXTRA_DIST += tests/iptnft-render.sh

# the snapshot parser and entry compiler under a fuzz target: real snapshots
# (legacy-dump --export of tests/legacy-rules.v4/.v6) and mutations of them
check_PROGRAMS += tests/fuzz/fuzz-legacy-run
tests_fuzz_fuzz_legacy_run_SOURCES = tests/fuzz/fuzz-legacy.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_legacy_run_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/fuzz-legacy.sh
EXTRA_DIST += tests/fuzz-legacy.sh \
	tests/fuzz/corpus-legacy/v4-filter.bin \
	tests/fuzz/corpus-legacy/v4-mangle.bin \
	tests/fuzz/corpus-legacy/v4-nat.bin \
	tests/fuzz/corpus-legacy/v4-raw.bin \
	tests/fuzz/corpus-legacy/v6-filter.bin \
	tests/fuzz/corpus-legacy/v6-mangle.bin \
	tests/fuzz/corpus-legacy/v6-nat.bin \
	tests/fuzz/corpus-legacy/v6-raw.bin

# libFuzzer build: ./configure CC=clang --enable-fuzzing && make fuzz-legacy
if FUZZING
noinst_PROGRAMS += fuzz-legacy
fuzz_legacy_SOURCES = tests/fuzz/fuzz-legacy.c
fuzz_legacy_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
fuzz_legacy_LDFLAGS = -fsanitize=fuzzer
fuzz_legacy_LDADD = libcgnatcheck.a $(CG_LIBS)
endif
