# Fuzz targets (tests/fuzz/): every parser we wrote ourselves. make check runs
# each target over its corpus and mutations of it; the libFuzzer builds
# (./configure CC=clang --enable-fuzzing && make fuzz-policy fuzz-legacy fuzz-saved fuzz-leases fuzz-units
# fuzz-port-holders fuzz-ssh-ident)
# explore further. Included from Makefile.am.
check_PROGRAMS += tests/fuzz/fuzz-policy-run tests/fuzz/fuzz-legacy-run tests/fuzz/fuzz-saved-run
tests_fuzz_fuzz_policy_run_SOURCES = tests/fuzz/fuzz-policy.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_policy_run_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_fuzz_fuzz_legacy_run_SOURCES = tests/fuzz/fuzz-legacy.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_legacy_run_LDADD = libcgnatcheck.a $(CG_LIBS)
tests_fuzz_fuzz_saved_run_SOURCES = tests/fuzz/fuzz-saved.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_saved_run_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/fuzz/fuzz-policy.sh tests/fuzz/fuzz-legacy.sh tests/fuzz/fuzz-saved.sh
# discover_config()'s parsers: chrony, timesyncd, cloud-init, apt (and its proxies), /etc/hosts
check_PROGRAMS += tests/fuzz/fuzz-discover-config-run
tests_fuzz_fuzz_discover_config_run_SOURCES = tests/fuzz/fuzz-discover-config.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_discover_config_run_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/fuzz/fuzz-discover-config.sh
EXTRA_DIST += tests/fuzz/fuzz-discover-config.sh \
	tests/fuzz/corpus-discover-config/chrony.conf \
	tests/fuzz/corpus-discover-config/timesyncd.conf \
	tests/fuzz/corpus-discover-config/instance-data.json \
	tests/fuzz/corpus-discover-config/cloud.cfg \
	tests/fuzz/corpus-discover-config/sources.list \
	tests/fuzz/corpus-discover-config/debian.sources \
	tests/fuzz/corpus-discover-config/hosts \
	tests/fuzz/corpus-discover-config/apt.conf
EXTRA_DIST += tests/fuzz/fuzz-policy.sh tests/fuzz/fuzz-legacy.sh tests/fuzz/fuzz-saved.sh \
	tests/fuzz/corpus-saved/empty.cgsave \
	tests/fuzz/corpus-saved/host.cgsave \
	tests/fuzz/corpus-saved/binary.cgsave \
	tests/fuzz/corpus-policy/alibaba.conf \
	tests/fuzz/corpus-policy/cloudflare-warp.conf \
	tests/fuzz/corpus-policy/huawei.conf \
	tests/fuzz/corpus-policy/mixed.conf \
	tests/fuzz/corpus-policy/netbird.conf \
	tests/fuzz/corpus-policy/tailscale.conf \
	tests/fuzz/corpus-policy/tencent.conf \
	tests/fuzz/corpus-legacy/v4-filter.bin \
	tests/fuzz/corpus-legacy/v4-mangle.bin \
	tests/fuzz/corpus-legacy/v4-nat.bin \
	tests/fuzz/corpus-legacy/v4-raw.bin \
	tests/fuzz/corpus-legacy/v6-filter.bin \
	tests/fuzz/corpus-legacy/v6-mangle.bin \
	tests/fuzz/corpus-legacy/v6-nat.bin \
	tests/fuzz/corpus-legacy/v6-raw.bin

if FUZZING
noinst_PROGRAMS = fuzz-policy fuzz-legacy fuzz-saved fuzz-discover-config
fuzz_discover_config_SOURCES = tests/fuzz/fuzz-discover-config.c
fuzz_discover_config_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
fuzz_discover_config_LDFLAGS = -fsanitize=fuzzer
fuzz_discover_config_LDADD = libcgnatcheck.a $(CG_LIBS)
fuzz_policy_SOURCES = tests/fuzz/fuzz-policy.c
fuzz_policy_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
fuzz_policy_LDFLAGS = -fsanitize=fuzzer
fuzz_policy_LDADD = libcgnatcheck.a $(CG_LIBS)
fuzz_legacy_SOURCES = tests/fuzz/fuzz-legacy.c
fuzz_legacy_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
fuzz_legacy_LDFLAGS = -fsanitize=fuzzer
fuzz_legacy_LDADD = libcgnatcheck.a $(CG_LIBS)
fuzz_saved_SOURCES = tests/fuzz/fuzz-saved.c
fuzz_saved_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
fuzz_saved_LDFLAGS = -fsanitize=fuzzer
fuzz_saved_LDADD = libcgnatcheck.a $(CG_LIBS)
endif

# the DHCP lease parsers (src/collect/discover-leases-*.c); the corpus:
# leases the real clients wrote (tests/kernel/discover-dhcp.sh), a format
# byte first (fuzz-leases.c)
check_PROGRAMS += tests/fuzz/fuzz-leases-run
tests_fuzz_fuzz_leases_run_SOURCES = tests/fuzz/fuzz-leases.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_leases_run_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/fuzz/fuzz-leases.sh
EXTRA_DIST += tests/fuzz/fuzz-leases.sh \
	tests/fuzz/corpus-leases/dhclient-eth0.leases \
	tests/fuzz/corpus-leases/dhclient6.leases \
	tests/fuzz/corpus-leases/dhcpcd-eth0.lease \
	tests/fuzz/corpus-leases/dhcpcd-eth0.lease6 \
	tests/fuzz/corpus-leases/dhcpcd-overload.lease \
	tests/fuzz/corpus-leases/networkd-2
if FUZZING
noinst_PROGRAMS += fuzz-leases
fuzz_leases_SOURCES = tests/fuzz/fuzz-leases.c
fuzz_leases_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
fuzz_leases_LDFLAGS = -fsanitize=fuzzer
fuzz_leases_LDADD = libcgnatcheck.a $(CG_LIBS)
endif

# the unit-file, sshd_config and sysctl.d parsers (src/collect/units*.c,
# sshd-config.c) and the boot analysis over units read from memory
# (src/audit/services.c); one input read as each
check_PROGRAMS += tests/fuzz/fuzz-units-run
tests_fuzz_fuzz_units_run_SOURCES = tests/fuzz/fuzz-units.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_units_run_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/fuzz/fuzz-units.sh
EXTRA_DIST += tests/fuzz/fuzz-units.sh \
	tests/fuzz/corpus-units/odd.unit \
	tests/fuzz/corpus-units/ssh-override.conf \
	tests/fuzz/corpus-units/sshd_config \
	tests/fuzz/corpus-units/sysctl.conf \
	tests/fuzz/corpus-units/tailscaled.service \
	tests/fuzz/corpus-units/wg-quick@.service \
	tests/fuzz/corpus-units/wgsvc.socket
if FUZZING
noinst_PROGRAMS += fuzz-units
fuzz_units_SOURCES = tests/fuzz/fuzz-units.c
fuzz_units_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
fuzz_units_LDFLAGS = -fsanitize=fuzzer
fuzz_units_LDADD = libcgnatcheck.a $(CG_LIBS)
endif

# what the port-holder scan parses of a process (src/collect/port-holders.c):
# /proc/PID/cmdline, stat and cgroup, whose contents processes choose
check_PROGRAMS += tests/fuzz/fuzz-port-holders-run
tests_fuzz_fuzz_port_holders_run_SOURCES = tests/fuzz/fuzz-port-holders.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_port_holders_run_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/fuzz/fuzz-port-holders.sh
EXTRA_DIST += tests/fuzz/fuzz-port-holders.sh \
	tests/fuzz/corpus-port-holders/cmdline \
	tests/fuzz/corpus-port-holders/stat \
	tests/fuzz/corpus-port-holders/stat-paren \
	tests/fuzz/corpus-port-holders/cgroup-v2 \
	tests/fuzz/corpus-port-holders/cgroup-legacy \
	tests/fuzz/corpus-port-holders/cgroup-nested
if FUZZING
noinst_PROGRAMS += fuzz-port-holders
fuzz_port_holders_SOURCES = tests/fuzz/fuzz-port-holders.c
fuzz_port_holders_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
fuzz_port_holders_LDFLAGS = -fsanitize=fuzzer
fuzz_port_holders_LDADD = libcgnatcheck.a $(CG_LIBS)
endif

# the SSH identification parser of the live probe (src/audit/probe.c,
# ssh_ident_feed: RFC 4253 4.2), whole and in pieces
check_PROGRAMS += tests/fuzz/fuzz-ssh-ident-run
tests_fuzz_fuzz_ssh_ident_run_SOURCES = tests/fuzz/fuzz-ssh-ident.c tests/fuzz/fuzz-main.c
tests_fuzz_fuzz_ssh_ident_run_LDADD = libcgnatcheck.a $(CG_LIBS)
TESTS += tests/fuzz/fuzz-ssh-ident.sh
EXTRA_DIST += tests/fuzz/fuzz-ssh-ident.sh \
	tests/fuzz/corpus-ssh-ident/cisco \
	tests/fuzz/corpus-ssh-ident/compat-lf \
	tests/fuzz/corpus-ssh-ident/http \
	tests/fuzz/corpus-ssh-ident/long-line \
	tests/fuzz/corpus-ssh-ident/openssh \
	tests/fuzz/corpus-ssh-ident/preamble \
	tests/fuzz/corpus-ssh-ident/ssh1 \
	tests/fuzz/corpus-ssh-ident/tls-alert
if FUZZING
noinst_PROGRAMS += fuzz-ssh-ident
fuzz_ssh_ident_SOURCES = tests/fuzz/fuzz-ssh-ident.c
fuzz_ssh_ident_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
fuzz_ssh_ident_LDFLAGS = -fsanitize=fuzzer
fuzz_ssh_ident_LDADD = libcgnatcheck.a $(CG_LIBS)
endif
