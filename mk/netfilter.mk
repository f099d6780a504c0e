# Netfilter stage: collect (libnftnl, libiptc), model, sim. Included from Makefile.am.
libcgnatcheck_a_SOURCES += src/util/arena.c
noinst_HEADERS += include/cgnatcheck/arena.h include/cgnatcheck/ruleset.h
libcgnatcheck_a_SOURCES += \
	src/model/hashmap.c \
	src/model/pack.c \
	src/model/ruleset.c \
	src/model/set.c \
	src/collect/nft.c \
	src/collect/nft-rule.c \
	src/collect/nft-events.c
noinst_HEADERS += \
	include/cgnatcheck/hashmap.h \
	include/cgnatcheck/collect-nft.h \
	include/cgnatcheck/nft-events.h

# nft_collect() made visible: the canonical dump the netns tests compare.
check_PROGRAMS += tests/nft-collect-dump
tests_nft_collect_dump_LDADD = libcgnatcheck.a $(CG_LIBS)

# model unit tests: set lookups (incl. a 1,000,000-range set), resolution
check_PROGRAMS += tests/test-set tests/test-set-model
tests_test_set_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_test_set_model_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/test-set tests/test-set-model

# packed rules: every expression kind round-trips, resolution in place
check_PROGRAMS += tests/test-pack
tests_test_pack_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/test-pack

# collector: rule messages with expressions libnftnl does not know
check_PROGRAMS += tests/nft-rule-parse
tests_nft_rule_parse_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/nft-rule-parse

# collector against nft(8) in network namespaces
TESTS += tests/nft-collect.sh
EXTRA_DIST += tests/nft-collect.sh tests/nft-compare.py tests/nft-gen.py
TESTS += tests/nft-collect-large.sh
EXTRA_DIST += tests/nft-collect-large.sh
