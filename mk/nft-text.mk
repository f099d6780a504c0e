# nft-syntax rule renderer (report stage). Included from Makefile.am.
