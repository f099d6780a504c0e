# Netfilter simulator: hook ordering and rule evaluation. Included from Makefile.am.
libcgnatcheck_a_SOURCES += \
	src/sim/nf-eval.c \
	src/sim/nf-hooks.c \
	src/sim/nf-packet.c \
	src/sim/nf-internal.h
noinst_HEADERS += include/cgnatcheck/sim-netfilter.h

check_PROGRAMS += tests/test-nf-eval
tests_test_nf_eval_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/test-nf-eval
