# Unit tests (tests/unit/): no root, no namespaces. Included from Makefile.am.
UNIT_TEST_PROGS = \
	tests/unit/test-addr \
	tests/unit/test-options \
	tests/unit/test-policy \
	tests/unit/test-xt \
	tests/unit/test-set \
	tests/unit/test-set-model \
	tests/unit/test-pack \
	tests/unit/test-lazyset \
	tests/unit/test-nf-eval \
	tests/unit/test-print \
	tests/unit/nft-rule-parse \
	tests/unit/nft-text-unit \
	tests/unit/route-lookup \
	tests/unit/route-parse
check_PROGRAMS += $(UNIT_TEST_PROGS)
TESTS += $(UNIT_TEST_PROGS)
tests_unit_test_addr_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_options_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_policy_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_xt_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_set_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_set_model_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_pack_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_lazyset_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_nf_eval_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_test_print_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_nft_rule_parse_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_nft_text_unit_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_route_lookup_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_unit_route_parse_LDADD = libcgnatcheck.a $(CG_LIBS)

# the command-line contract; the units, the cron file and the install layout
UNIT_SHELL_TESTS = tests/unit/cli.sh tests/unit/ops-units.sh tests/unit/layering.sh
TESTS += $(UNIT_SHELL_TESTS)
EXTRA_DIST += $(UNIT_SHELL_TESTS) tests/lib/layering.py
