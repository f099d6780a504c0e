# Routing stage: collect (rtnetlink), sim (route lookup), report, tests. Included from Makefile.am.

# collect: one file per rtnetlink object, like iproute2; the state container
libcgnatcheck_a_SOURCES += \
	src/collect/rtnl.c \
	src/collect/links.c \
	src/collect/addrs.c \
	src/collect/rules.c \
	src/collect/routes.c \
	src/collect/nexthops.c \
	src/collect/neighs.c \
	src/collect/sysctl.c \
	src/collect/route-state.c \
	src/collect/route-collect.c

# sim: the user-space lookup, source selection, the live lookup, comparison
libcgnatcheck_a_SOURCES += \
	src/sim/route-lookup.c \
	src/sim/route-source.c \
	src/sim/route-kernel.c \
	src/sim/route-compare.c

# report: --show-route, text and JSON
libcgnatcheck_a_SOURCES += src/report/route.c

noinst_HEADERS += \
	include/cgnatcheck/netlink.h \
	include/cgnatcheck/route.h \
	include/cgnatcheck/route-index.h \
	include/cgnatcheck/route-collect.h \
	include/cgnatcheck/route-report.h \
	src/sim/route-internal.h

# Tests: unit tests of the lookup and of message parsing (no root); the
# differential test against the kernel (CG_ROUTE_DIFF_CASES, default 2000;
# CG_ROUTE_DIFF_SEED), the --show-route scenarios and the 100k-route
# performance check, each in namespaces of its own (root).
check_PROGRAMS += tests/route-lookup tests/route-parse tests/route-diff tests/route-perf
tests_route_lookup_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_route_parse_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_route_diff_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_route_perf_LDADD = libcgnatcheck.a $(CG_LIBS)
ROUTE_TESTS = tests/route-diff.sh tests/route-scenario.sh tests/route-perf.sh
TESTS += tests/route-lookup tests/route-parse $(ROUTE_TESTS)
EXTRA_DIST += $(ROUTE_TESTS)
