# Kernel tests (tests/kernel/): each builds network namespaces of its own
# (prefix cgt<pid>-) and judges the product against the kernel and the stock
# tools. They need root; without it each skips (a failure under CI=true).
# Included from Makefile.am.

# The test bed (tests/lib/netns/): cg-echo (the provider's responder),
# cg-probe (the kernel oracle) and cg-services (DNS, HTTP, NTP, banner) use
# nothing but libc and never link libcgnatcheck.a: the oracle stays
# independent of the code it judges.
check_PROGRAMS += tests/lib/netns/cg-echo tests/lib/netns/cg-probe tests/lib/netns/cg-services
# cg-serve.c: the two responders' shared scaffolding (libc only, too)
tests_lib_netns_cg_echo_SOURCES = tests/lib/netns/cg-echo.c \
	tests/lib/netns/cg-serve.c tests/lib/netns/cg-serve.h
tests_lib_netns_cg_probe_SOURCES = tests/lib/netns/cg-probe.c
tests_lib_netns_cg_services_SOURCES = tests/lib/netns/cg-services.c \
	tests/lib/netns/cg-serve.c tests/lib/netns/cg-serve.h

TESTBED_TESTS = \
	tests/lib/netns/testbed-tools.sh \
	tests/lib/netns/testbed-scenario.sh \
	tests/lib/netns/testbed-ipv6.sh \
	tests/lib/netns/testbed-legacy.sh \
	tests/lib/netns/testbed-nft.sh \
	tests/lib/netns/testbed-nftables.sh \
	tests/lib/netns/testbed-routing.sh \
	tests/lib/netns/testbed-inbound.sh \
	tests/lib/netns/testbed-cleanup.sh
EXTRA_DIST += $(TESTBED_TESTS) \
	tests/lib/netns/lib.sh \
	tests/lib/netns/render.sh \
	tests/lib/netns/testbed-firewall.sh \
	tests/lib/netns/firewalls.sh \
	tests/lib/netns/cleanup-child.sh

# The boot test bed (tests/lib/nspawn/): this machine's systemd booted in
# containers (systemd-nspawn), the oracle of what a boot does with units;
# its helpers run inside them (Python 3 and shell, nothing built).
EXTRA_DIST += \
	tests/lib/nspawn/lib.sh \
	tests/lib/nspawn/checks.sh \
	tests/lib/nspawn/overlay-standin \
	tests/lib/nspawn/port-service \
	tests/lib/nspawn/ssh-standin \
	tests/lib/nspawn/tcp-probe \
	tests/lib/nspawn/units/port-service@.service \
	tests/lib/nspawn/units/ssh.socket \
	tests/lib/nspawn/units/ssh@.service \
	tests/lib/nspawn/units/tailscale-wait-ready.service \
	tests/lib/nspawn/units/tailscaled.service \
	tests/lib/nspawn/units/wg-quick@.service

# Programs the kernel tests drive: the product's stages made visible
KERNEL_TEST_PROGS = \
	tests/kernel/legacy-dump \
	tests/kernel/nft-collect-dump \
	tests/kernel/nft-text-dump \
	tests/kernel/nft-lazy-lookup \
	tests/kernel/nft-chain-cache-run \
	tests/kernel/nf-simulate \
	tests/kernel/fix-apply-run \
	tests/kernel/fix-race-run \
	tests/kernel/probe-run \
	tests/kernel/route-diff \
	tests/kernel/route-perf \
	tests/kernel/blind-bpf-dump \
	tests/kernel/blind-bpf-attach \
	tests/kernel/blind-net-dump \
	tests/kernel/port-holders-run
check_PROGRAMS += $(KERNEL_TEST_PROGS)
tests_kernel_legacy_dump_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_nft_collect_dump_SOURCES = tests/kernel/nft-collect-dump.c tests/lib/nft-dump-util.c \
	tests/lib/nft-dump-util.h
tests_kernel_nft_collect_dump_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_nft_text_dump_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_nft_lazy_lookup_SOURCES = tests/kernel/nft-lazy-lookup.c tests/lib/nft-dump-util.c \
	tests/lib/nft-dump-util.h
tests_kernel_nft_lazy_lookup_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_nf_simulate_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_nft_chain_cache_run_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_fix_apply_run_LDADD = libcgnatcheck.a $(CG_LIBS)
# the program's own commands, with a hook between plan and change
tests_kernel_fix_race_run_SOURCES = tests/kernel/fix-race-run.c src/cmd/cmd-audit.c src/cmd/cmd-keep.c \
	src/cmd/cmd-save.c
tests_kernel_fix_race_run_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_probe_run_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_route_diff_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_route_perf_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_blind_bpf_dump_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_blind_net_dump_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_kernel_port_holders_run_LDADD = libcgnatcheck.a $(CG_LIBS)

# Longest first (measured on the 2-core machine), so that `make -j2 check`
# keeps both cores busy to the end instead of starting a long one last.
KERNEL_TESTS = \
	tests/kernel/fix-atomic.sh \
	tests/kernel/nft-busy.sh \
	tests/kernel/fix-cli.sh \
	tests/kernel/fix-apply.sh \
	tests/kernel/nf-diff.sh \
	tests/kernel/firewalls.sh \
	tests/kernel/boot-oracle.sh \
	tests/kernel/boot-fix.sh \
	tests/kernel/boot-holders.sh \
	tests/kernel/keep.sh \
	tests/kernel/audit-scenarios.sh \
	tests/kernel/blind-bpf.sh \
	tests/kernel/nf-tailscale.sh \
	tests/kernel/nft-fib.sh \
	tests/kernel/mark-reroute.sh \
	tests/kernel/unknown-fields.sh \
	tests/kernel/metrics.sh \
	tests/kernel/offline.sh \
	tests/kernel/probe.sh \
	tests/kernel/probe-ssh-banner.sh \
	tests/kernel/nft-collect-large.sh \
	tests/kernel/legacy-stream.sh \
	tests/kernel/route-diff.sh \
	tests/kernel/nft-text.sh \
	tests/kernel/nft-roundtrip.sh \
	tests/kernel/nft-kept-eval.sh \
	tests/kernel/xt-eval.sh \
	tests/kernel/kube-nft.sh \
	tests/kernel/nft-ondemand.sh \
	tests/kernel/nft-chain-cache.sh \
	tests/kernel/nf-trace.sh \
	tests/kernel/scheduled-mail.sh \
	tests/kernel/nft-collect.sh \
	tests/kernel/nft-owner.sh \
	tests/kernel/route-scenario.sh \
	tests/kernel/wait-overlay.sh \
	tests/kernel/iptnft-render.sh \
	tests/kernel/xt-roundtrip.sh \
	tests/kernel/route-perf.sh \
	tests/kernel/legacy-collect.sh \
	tests/kernel/nft-lazy.sh \
	tests/kernel/legacy-perf.sh \
	tests/kernel/discover-lan.sh \
	tests/kernel/overlay-services.sh \
	tests/kernel/discover-dhcp.sh \
	tests/kernel/blind-net.sh \
	tests/kernel/ipset.sh \
	tests/kernel/discover-conntrack.sh \
	tests/kernel/discover-listen.sh \
	tests/kernel/port-holders.sh \
	tests/kernel/counters.sh \
	tests/kernel/discover-config.sh \
	tests/kernel/blind-bpf-boot.sh \
	tests/kernel/caps.sh
TESTS += $(KERNEL_TESTS)
# the test bed's own tests, short, after the long kernel tests
TESTS += $(TESTBED_TESTS)
EXTRA_DIST += $(KERNEL_TESTS) \
	tests/lib/gen-nft-chains.py \
	tests/lib/compare/wrap.sh \
	tests/lib/compare/run.sh \
	tests/lib/compare/diff.py \
	tests/kernel/legacy-gen.py \
	tests/kernel/legacy-rules.v4 \
	tests/kernel/xt-roundtrip.rules \
	tests/kernel/legacy-rules.v6 \
	tests/kernel/nf-gen.py \
	tests/kernel/nft-compare.py \
	tests/kernel/nft-gen.py \
	tests/kernel/nft-lazy-gen.py \
	tests/kernel/nft-text-compare.py \
	tests/kernel/nft-text-rules.nft \
	tests/kernel/nft-roundtrip.nft \
	tests/kernel/bpf/bpf-mini.h \
	tests/kernel/bpf/xdp_drop.c \
	tests/kernel/bpf/tc_pass.c \
	tests/kernel/bpf/cg_skb_drop.c \
	tests/kernel/bpf/cg_skb_drop_all.c \
	tests/kernel/ssh-banner-serve.py
