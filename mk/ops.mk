# Operations: the first-boot hook, the scheduled audit that mails reports,
# the long-running unit, the cron file and the cloud-init files (scripts/).
# Included from Makefile.am.

libcgnatcheck_a_SOURCES += \
	src/report/mail.c \
	src/audit/state.c
noinst_HEADERS += include/cgnatcheck/mail.h include/cgnatcheck/audit-state.h
cgnatcheck_SOURCES += \
	src/cmd-scheduled.c \
	src/cmd-wait.c

# ---------------------------------------------------------------------------
# Files generated from scripts/**/*.in: the paths this build installs to.
# tests/ops-units.sh substitutes the same names with its own paths.
ops_edit = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g'
ops_gen = $(AM_V_GEN)$(MKDIR_P) $(@D) && rm -f $@ $@.tmp && \
	$(ops_edit) $(srcdir)/$@.in >$@.tmp && chmod a-w $@.tmp && mv -f $@.tmp $@

OPS_UNITS_GENERATED = \
	scripts/systemd/cgnatcheck-firstboot.service \
	scripts/systemd/cgnatcheck-audit.service \
	scripts/systemd/cgnatcheck-keep.service
OPS_GENERATED = $(OPS_UNITS_GENERATED) \
	scripts/cron.d/cgnatcheck \
	scripts/cloud-init/per-boot/cgnatcheck \
	scripts/cloud-init/cloud-config.yaml

scripts/systemd/cgnatcheck-firstboot.service: $(srcdir)/scripts/systemd/cgnatcheck-firstboot.service.in Makefile
	$(ops_gen)
scripts/systemd/cgnatcheck-audit.service: $(srcdir)/scripts/systemd/cgnatcheck-audit.service.in Makefile
	$(ops_gen)
scripts/systemd/cgnatcheck-keep.service: $(srcdir)/scripts/systemd/cgnatcheck-keep.service.in Makefile
	$(ops_gen)
scripts/cron.d/cgnatcheck: $(srcdir)/scripts/cron.d/cgnatcheck.in Makefile
	$(ops_gen)
scripts/cloud-init/per-boot/cgnatcheck: $(srcdir)/scripts/cloud-init/per-boot/cgnatcheck.in Makefile
	$(ops_gen)
	$(AM_V_at)chmod a+x,a-w $@
scripts/cloud-init/cloud-config.yaml: $(srcdir)/scripts/cloud-init/cloud-config.yaml.in Makefile
	$(ops_gen)

CLEANFILES += $(OPS_GENERATED)
EXTRA_DIST += \
	scripts/systemd/cgnatcheck-firstboot.service.in \
	scripts/systemd/cgnatcheck-audit.service.in \
	scripts/systemd/cgnatcheck-keep.service.in \
	scripts/cron.d/cgnatcheck.in \
	scripts/cloud-init/per-boot/cgnatcheck.in \
	scripts/cloud-init/cloud-config.yaml.in

# ---------------------------------------------------------------------------
# Where they go (README "First boot", "Scheduled audit"; cgnatcheck(8) FILES).
# systemd units: $(systemdsystemunitdir), from systemd's pkg-config file or
# --with-systemdsystemunitdir (default /lib/systemd/system; "no": none).
if HAVE_SYSTEMD_UNITS
systemdsystemunit_DATA = $(OPS_UNITS_GENERATED)
dist_systemdsystemunit_DATA = scripts/systemd/cgnatcheck-audit.timer
else
EXTRA_DIST += scripts/systemd/cgnatcheck-audit.timer
endif

# cron(8) reads /etc/cron.d: configure --sysconfdir=/etc for a system install.
crondir = $(sysconfdir)/cron.d
cron_DATA = scripts/cron.d/cgnatcheck

# cloud-init runs every executable in /var/lib/cloud/scripts/per-boot/
# (--with-cloudinitscriptsdir, default /var/lib/cloud/scripts); the
# cloud-config snippet is for user data, installed beside the policies.
cloudperbootdir = $(cloudinitscriptsdir)/per-boot
cloudperboot_SCRIPTS = scripts/cloud-init/per-boot/cgnatcheck
cloudinitdir = $(pkgdatadir)/cloud-init
cloudinit_DATA = scripts/cloud-init/cloud-config.yaml

# /etc/default/cgnatcheck: installed when absent, never overwritten; an
# unmodified copy is removed by uninstall. Also an example under docdir.
opsexampledir = $(docdir)/examples
dist_opsexample_DATA = scripts/default/cgnatcheck
install-data-local: install-ops-default
uninstall-local: uninstall-ops-default
install-ops-default:
	$(MKDIR_P) '$(DESTDIR)$(sysconfdir)/default'
	@if test -e '$(DESTDIR)$(sysconfdir)/default/cgnatcheck'; then \
		echo "keeping $(DESTDIR)$(sysconfdir)/default/cgnatcheck (the new one is in $(docdir)/examples)"; \
	else \
		echo " $(INSTALL_DATA) $(srcdir)/scripts/default/cgnatcheck '$(DESTDIR)$(sysconfdir)/default/cgnatcheck'"; \
		$(INSTALL_DATA) $(srcdir)/scripts/default/cgnatcheck '$(DESTDIR)$(sysconfdir)/default/cgnatcheck'; \
	fi
uninstall-ops-default:
	@if cmp -s $(srcdir)/scripts/default/cgnatcheck '$(DESTDIR)$(sysconfdir)/default/cgnatcheck'; then \
		echo " rm -f '$(DESTDIR)$(sysconfdir)/default/cgnatcheck'"; \
		rm -f '$(DESTDIR)$(sysconfdir)/default/cgnatcheck'; \
	fi

# for tests/ops-units.sh: the installation directories of this build
ops-print-dirs:
	@echo "sbindir=$(sbindir)"
	@echo "sysconfdir=$(sysconfdir)"
	@echo "pkgdatadir=$(pkgdatadir)"
	@echo "docdir=$(docdir)"
	@echo "mandir=$(mandir)"
	@echo "systemdsystemunitdir=$(systemdsystemunitdir)"
	@echo "cloudinitscriptsdir=$(cloudinitscriptsdir)"
.PHONY: install-ops-default uninstall-ops-default ops-print-dirs

# ---------------------------------------------------------------------------
# Tests
TESTS += tests/ops-units.sh tests/scheduled-mail.sh tests/wait-overlay.sh
EXTRA_DIST += tests/ops-units.sh tests/scheduled-mail.sh tests/wait-overlay.sh
