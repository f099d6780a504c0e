# Lazy sets: sets too large to dump are asked per key (src/collect/nft-setget.c).
# Included from Makefile.am.
libcgnatcheck_a_SOURCES += src/collect/nft-setget.c src/collect/nft-internal.h

# lookups in lazy sets against the dumped sets, the kernel's generation check
check_PROGRAMS += tests/nft-lazy-lookup
tests_nft_lazy_lookup_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/nft-lazy.sh
EXTRA_DIST += tests/nft-lazy.sh tests/nft-lazy-gen.py

# the model and the evaluator with a stub source
check_PROGRAMS += tests/test-lazyset
tests_test_lazyset_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/test-lazyset
