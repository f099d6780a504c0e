# The audit stage and its report. Included from Makefile.am.
libcgnatcheck_a_SOURCES += \
	src/audit/audit.c \
	src/audit/policies.c \
	src/audit/targets.c \
	src/report/audit-report.c
noinst_HEADERS += include/cgnatcheck/audit.h include/cgnatcheck/audit-report.h
libcgnatcheck_a_SOURCES += src/fix/plan.c
noinst_HEADERS += include/cgnatcheck/fix.h

# the audit against the kernel (scenarios of the design page)
TESTS += tests/audit-scenarios.sh
EXTRA_DIST += tests/audit-scenarios.sh

# least privilege
TESTS += tests/caps.sh
EXTRA_DIST += tests/caps.sh

# --fix / --dry-run / --undo through the command line
TESTS += tests/fix-cli.sh
EXTRA_DIST += tests/fix-cli.sh

# --keep: exceptions survive a tailscaled restart
TESTS += tests/keep.sh
EXTRA_DIST += tests/keep.sh
