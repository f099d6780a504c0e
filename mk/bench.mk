# The scale benchmark of issues 8 and 15 (tests/bench/): kube-proxy,
# nftables and routing at scale, the full audit against the stock tools on
# the same ruleset; a large provider policy. Included from Makefile.am.
#
#   make bench                         the default sizes (about 300,000 rules)
#   make bench BENCH_ARGS='--scale'    30k, 100k, 300k rules
#
# make check runs only its smoke test, at a tiny size.
TESTS += tests/bench/smoke.sh
# the kernel floor (issue 20): what any reader of every rule pays
check_PROGRAMS += tests/bench/floor
tests_bench_floor_LDADD = $(LIBMNL_LIBS)
EXTRA_DIST += \
	tests/bench/kube-nft-gen.py \
	tests/bench/keep-churn.sh \
	tests/bench/README.md \
	tests/bench/run.sh \
	tests/bench/report.py \
	tests/bench/kube-gen.py \
	tests/bench/nft-gen.py \
	tests/bench/policy-gen.py \
	tests/bench/route-gen.py \
	tests/bench/smoke.sh \
	tests/bench/collect-speed.sh

BENCH_ARGS =
.PHONY: bench
# collect-speed.sh drives three of the kernel tests' programs and two unit tests
bench: $(sbin_PROGRAMS) tests/bench/floor tests/kernel/nft-collect-dump tests/kernel/legacy-dump tests/kernel/route-perf \
	tests/unit/test-set tests/unit/test-set-model
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' CGNATCHECK='$(abs_top_builddir)/cgnatcheck' \
		bash '$(abs_top_srcdir)/tests/bench/run.sh' $(BENCH_ARGS)
