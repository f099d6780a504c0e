# Live probes (--probe) and the test responders. Included from Makefile.am.
