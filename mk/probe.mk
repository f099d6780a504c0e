# Live probes (--probe) and the test responders. Included from Makefile.am.
libcgnatcheck_a_SOURCES += src/audit/probe.c
noinst_HEADERS += include/cgnatcheck/probe.h

# The DNS probe parses answers with libresolv (ns_initparse, ns_msg_getflag;
# res_nsend itself is in libc since glibc 2.34). Every program linking
# libcgnatcheck.a may pull probe.o in, so the library goes to CG_LIBS.
CG_LIBS += -lresolv

# cg-services: DNS, HTTP, NTP, banner and echo responders for the provider
# namespace; libc only, like cg-echo. probe-run: probe_target() from the
# command line, for tests/probe.sh.
check_PROGRAMS += tests/netns/cg-services tests/probe-run
tests_netns_cg_services_SOURCES = tests/netns/cg-services.c
tests_probe_run_LDADD = libcgnatcheck.a $(CG_LIBS)

TESTS += tests/probe.sh
EXTRA_DIST += tests/probe.sh
