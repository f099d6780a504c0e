# The fix stage (apply). Included from Makefile.am.
libcgnatcheck_a_SOURCES += \
	src/fix/apply.c \
	src/fix/apply-legacy.c \
	src/fix/apply-nft.c
noinst_HEADERS += include/cgnatcheck/fix-apply.h

# inserting and removing exceptions in the three backends, in namespaces
check_PROGRAMS += tests/fix-apply-run
tests_fix_apply_run_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/fix-apply.sh
EXTRA_DIST += tests/fix-apply.sh
