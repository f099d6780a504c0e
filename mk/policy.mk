# Provider policies: parser, tests, fuzz target. Included from Makefile.am.
libcgnatcheck_a_SOURCES += src/collect/policy.c
noinst_HEADERS += include/cgnatcheck/policy.h

check_PROGRAMS += tests/test-policy tests/fuzz/fuzz-policy-run
tests_test_policy_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_fuzz_fuzz_policy_run_SOURCES = tests/fuzz/fuzz-policy.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_policy_run_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/test-policy tests/fuzz-policy.sh
EXTRA_DIST += tests/fuzz-policy.sh \
	tests/fuzz/corpus-policy/alibaba.conf \
	tests/fuzz/corpus-policy/cloudflare-warp.conf \
	tests/fuzz/corpus-policy/huawei.conf \
	tests/fuzz/corpus-policy/mixed.conf \
	tests/fuzz/corpus-policy/netbird.conf \
	tests/fuzz/corpus-policy/tailscale.conf \
	tests/fuzz/corpus-policy/tencent.conf

# libFuzzer build: ./configure CC=clang --enable-fuzzing && make fuzz-policy
if FUZZING
noinst_PROGRAMS = fuzz-policy
fuzz_policy_SOURCES = tests/fuzz/fuzz-policy.c
fuzz_policy_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
fuzz_policy_LDFLAGS = -fsanitize=fuzzer
fuzz_policy_LDADD = libcgnatcheck.a $(CG_LIBS)
endif
