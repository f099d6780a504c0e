# Test bed (tests/netns/): programs, scripts and tests. Included from Makefile.am.
