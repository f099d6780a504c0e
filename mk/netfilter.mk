# Netfilter stage: collect (libnftnl, libiptc), model, sim. Included from Makefile.am.
libcgnatcheck_a_SOURCES += src/util/arena.c
noinst_HEADERS += include/cgnatcheck/arena.h include/cgnatcheck/ruleset.h
libcgnatcheck_a_SOURCES += \
	src/model/hashmap.c \
	src/model/ruleset.c \
	src/model/set.c \
	src/collect/nft.c \
	src/collect/nft-rule.c
noinst_HEADERS += \
	include/cgnatcheck/hashmap.h \
	include/cgnatcheck/collect-nft.h

# nft_collect() made visible: the canonical dump the netns tests compare.
check_PROGRAMS += tests/nft-collect-dump
tests_nft_collect_dump_LDADD = libcgnatcheck.a $(CG_LIBS)
