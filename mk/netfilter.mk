# Netfilter stage: collect (libnftnl, libiptc), model, sim. Included from Makefile.am.
libcgnatcheck_a_SOURCES += src/util/arena.c
noinst_HEADERS += include/cgnatcheck/arena.h include/cgnatcheck/ruleset.h
