# nft-syntax rule renderer (report stage). Included from Makefile.am.
libcgnatcheck_a_SOURCES += src/report/nft-text.c
noinst_HEADERS += include/cgnatcheck/nft-text.h

# the renderer against `nft -a list ruleset` in a network namespace
check_PROGRAMS += tests/nft-text-dump
tests_nft_text_dump_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/nft-text.sh
EXTRA_DIST += tests/nft-text.sh tests/nft-text-compare.py tests/nft-text-rules.nft

# placeholders and the formatting contract on hand-built rules
check_PROGRAMS += tests/nft-text-unit
tests_nft_text_unit_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/nft-text-unit
