# Routing stage: collect (rtnetlink), sim (route lookup), report, tests. Included from Makefile.am.
libcgnatcheck_a_SOURCES += \
	src/collect/rtnl.c \
	src/collect/links.c \
	src/collect/addrs.c \
	src/collect/rules.c \
	src/collect/routes.c \
	src/collect/nexthops.c \
	src/collect/sysctl.c \
	src/collect/route-state.c \
	src/collect/route-collect.c
noinst_HEADERS += \
	include/cgnatcheck/netlink.h \
	include/cgnatcheck/route.h \
	include/cgnatcheck/route-index.h \
	include/cgnatcheck/route-collect.h
libcgnatcheck_a_SOURCES += \
	src/sim/route-lookup.c \
	src/sim/route-source.c
noinst_HEADERS += src/sim/route-internal.h
libcgnatcheck_a_SOURCES += src/sim/route-kernel.c
libcgnatcheck_a_SOURCES += src/sim/route-compare.c
libcgnatcheck_a_SOURCES += src/report/route.c
noinst_HEADERS += include/cgnatcheck/route-report.h
