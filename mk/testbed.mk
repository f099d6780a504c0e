# Test bed (tests/netns/): programs, scripts and tests. Included from Makefile.am.
#
# cg-echo (the provider's UDP/TCP echo responder) and cg-probe (the kernel
# oracle) are check programs: built by `make check`, never installed. They use
# nothing but libc, so they do not link libcgnatcheck.a: the oracle must stay
# independent of the code it judges.
check_PROGRAMS += tests/netns/cg-echo tests/netns/cg-probe
tests_netns_cg_echo_SOURCES = tests/netns/cg-echo.c
tests_netns_cg_probe_SOURCES = tests/netns/cg-probe.c

# Every test builds its own namespaces (prefix cgt<pid>-), so they run in
# parallel safely. Each needs root; without it each skips (fails under CI=true).
TESTBED_TESTS = \
	tests/netns/testbed-tools.sh \
	tests/netns/testbed-scenario.sh \
	tests/netns/testbed-ipv6.sh \
	tests/netns/testbed-legacy.sh \
	tests/netns/testbed-nft.sh \
	tests/netns/testbed-nftables.sh \
	tests/netns/testbed-routing.sh \
	tests/netns/testbed-inbound.sh \
	tests/netns/testbed-cleanup.sh

TESTS += $(TESTBED_TESTS)
EXTRA_DIST += $(TESTBED_TESTS) \
	tests/netns/testbed-firewall.sh \
	tests/netns/cleanup-child.sh
