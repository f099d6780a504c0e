# Legacy iptables stage: libiptc collector, xt decoder and matcher, iptables-save renderer. Included from Makefile.am.
