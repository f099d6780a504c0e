# Unit tests (tests/unit/): no root, no namespaces. Included from Makefile.am.
UNIT_TEST_PROGS = \
	tests/unit/test-addr \
	tests/unit/test-options \
	tests/unit/test-policy \
	tests/unit/test-policy-scale \
	tests/unit/test-xt \
	tests/unit/test-ipset-match \
	tests/unit/golden-xt \
	tests/unit/test-set \
	tests/unit/test-set-model \
	tests/unit/test-pack \
	tests/unit/test-rule-identity \
	tests/unit/test-audit-state \
	tests/unit/test-lazyset \
	tests/unit/test-nf-eval \
	tests/unit/test-print \
	tests/unit/nft-rule-parse \
	tests/unit/test-nft-owner \
	tests/unit/nft-text-unit \
	tests/unit/ipt-set-target \
	tests/unit/golden-nft \
	tests/unit/route-lookup \
	tests/unit/route-parse \
	tests/unit/test-blind-bpf \
	tests/unit/test-discover-config \
	tests/unit/test-leases \
	tests/unit/test-units \
	tests/unit/test-services \
	tests/unit/test-port-holders \
	tests/unit/test-ssh-ident
check_PROGRAMS += $(UNIT_TEST_PROGS)
TESTS += $(UNIT_TEST_PROGS)
tests_unit_test_addr_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_blind_bpf_LDADD = libcgnatcheck.a $(CG_LIBS)
# the SSH identification parser of the live probe (RFC 4253 4.2)
tests_unit_test_ssh_ident_LDADD = libcgnatcheck.a $(CG_LIBS)
# systemd units, sshd_config, sysctls and the boot-safety analysis (issue 16):
# host roots built by the test, the seeds' shapes from tests/data/units/
tests_unit_test_units_SOURCES = tests/unit/test-units.c tests/unit/units-tree.h
tests_unit_test_units_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_services_SOURCES = tests/unit/test-services.c tests/unit/units-tree.h
tests_unit_test_services_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_services_CPPFLAGS = $(AM_CPPFLAGS) -DUNITS_DATA_DIR='"$(abs_top_srcdir)/tests/data/units"'
EXTRA_DIST += tests/data/units
# who holds a port (seed 002): fabricated sockets against tests/data/units/seed002-*
tests_unit_test_port_holders_SOURCES = tests/unit/test-port-holders.c tests/unit/units-tree.h
tests_unit_test_port_holders_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_port_holders_CPPFLAGS = $(AM_CPPFLAGS) -DUNITS_DATA_DIR='"$(abs_top_srcdir)/tests/data/units"'
tests_unit_test_options_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_policy_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_policy_scale_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_xt_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_ipset_match_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_golden_xt_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_golden_xt_CPPFLAGS = $(AM_CPPFLAGS) -DGOLDEN_DIR='"$(abs_top_srcdir)/tests/unit/golden"'
tests_unit_test_set_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_set_model_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_pack_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_rule_identity_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_audit_state_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_lazyset_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_nf_eval_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_print_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_nft_rule_parse_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_nft_owner_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_nft_text_unit_LDADD = libcgnatcheck.a $(CG_LIBS)
# -j SET's text from the target's blob and the table's ipset names
tests_unit_ipt_set_target_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_golden_nft_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_route_lookup_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_route_parse_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_leases_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_discover_config_LDADD = libcgnatcheck.a $(CG_LIBS)

# the command-line contract; the units, the cron file and the install layout
UNIT_SHELL_TESTS = tests/unit/cli.sh tests/unit/ops-units.sh tests/unit/layering.sh
TESTS += $(UNIT_SHELL_TESTS)
EXTRA_DIST += $(UNIT_SHELL_TESTS) tests/lib/layering.py

# the nft printer's golden files (tests/unit/golden-nft), their inputs and
# their generator (root: tests/unit/golden/gen-nft.py)
EXTRA_DIST += \
	tests/unit/golden/gen-nft.py \
	tests/unit/golden/nft-more.nft \
	tests/unit/golden/nft-placeholders.nft \
	tests/unit/golden/nft-rules.golden \
	tests/unit/golden/nft-more.golden \
	tests/unit/golden/nft-placeholders.golden \
	tests/unit/golden/nft-roundtrip.golden

# the xt printers' golden files (tests/unit/golden-xt)
EXTRA_DIST += tests/unit/golden/xt-iptables.txt tests/unit/golden/xt-structs.txt
