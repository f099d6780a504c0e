# Routing stage: collect (rtnetlink), sim (route lookup), report, tests. Included from Makefile.am.
