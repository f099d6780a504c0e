# The fix stage (apply). Included from Makefile.am.
