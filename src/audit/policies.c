/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which policies apply: the shipped and local policy files, --policy, and
 * detection of the provider from DMI. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>

#include "cgnatcheck/audit.h"
#include "cgnatcheck/common.h"

#define POLICY_SUFFIX ".conf"

static bool dir_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether this program is one of the build tree's (not installed). */
static bool run_from_build_tree(void)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t len = strlen(CG_BUILDDIR);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	return strncmp(exe, CG_BUILDDIR, len) == 0 && exe[len] == '/';
}

const char *audit_policy_dir(void)
{
	const char *e = getenv("CGNATCHECK_POLICY_DIR");

	if (e && *e)
		return e;
	/* Run from the build tree before `make install`: the policies are
	 * beside the sources. Only then: an installed program never looks at
	 * the directory it was built in (a package built under /tmp would
	 * read policies anyone can put there). A source tree this user may not
	 * enter (a clone under /root, run with --user) is still where they
	 * are: reading it then fails naming it, instead of quietly auditing
	 * without them. */
	struct stat st;
	if (!dir_exists(CG_POLICYDIR) && run_from_build_tree() &&
	    (dir_exists(CG_SRC_POLICYDIR) || (stat(CG_SRC_POLICYDIR, &st) < 0 && errno == EACCES)))
		return CG_SRC_POLICYDIR;
	return CG_POLICYDIR;
}

const char *audit_policy_local_dir(void)
{
	const char *e = getenv("CGNATCHECK_POLICY_LOCAL_DIR");

	return e && *e ? e : CG_LOCAL_POLICYDIR;
}

const char *audit_dmi_dir(void)
{
	const char *e = getenv("CGNATCHECK_DMI_DIR");

	return e && *e ? e : "/sys/class/dmi/id";
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

struct policy_file {
	char *name;  /* file name, e.g. "alibaba.conf" */
	char *path;
};

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct policy_file *)x)->name, ((const struct policy_file *)y)->name);
}

/* Adds DIR's *.conf files to the list; a file already listed (from the
 * shipped directory) is replaced: local files override shipped ones. */
static int list_dir(const char *dir, struct policy_file **files, size_t *n, bool required)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		if (errno == ENOENT && !required)
			return 0;
		return log_error_errno(-errno, "Failed to read the policy directory %s", dir);
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !has_suffix(de->d_name, POLICY_SUFFIX))
			continue;
		size_t len = strlen(dir) + strlen(de->d_name) + 2;
		char *path = xmalloc(len);
		snprintf(path, len, "%s/%s", dir, de->d_name);
		size_t i;
		for (i = 0; i < *n; i++)
			if (strcmp((*files)[i].name, de->d_name) == 0)
				break;
		if (i < *n) {
			free((*files)[i].path);
			(*files)[i].path = path;
			continue;
		}
		*files = xreallocarray(*files, *n + 1, sizeof(**files));
		(*files)[(*n)++] = (struct policy_file){ xstrdup(de->d_name), path };
	}
	closedir(d);
	return 0;
}

static void files_free(struct policy_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(files[i].name);
		free(files[i].path);
	}
	free(files);
}

static int load_one(struct audit *a, const char *path, struct policy *out)
{
	char err[512];
	int r = policy_load_file(out, path, err, sizeof(err));

	if (r < 0) {
		log_error("invalid policy: %s (fix the file, or move it out of the policy directory)", err);
		policy_free(out);
		return r;
	}
	(void)a;
	return 0;
}

/* Reads /sys/class/dmi/id/FIELD, or "" when absent. */
static void read_dmi(const char *field, char *buf, size_t size)
{
	char path[512];
	_cleanup_fclose_ FILE *f = NULL;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", audit_dmi_dir(), field);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)size, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static bool provider_detected(const struct policy *p, char dmi[_POLICY_DMI_MAX][256])
{
	for (int f = 0; f < _POLICY_DMI_MAX; f++)
		if (dmi[f][0] && policy_matches_dmi(p, f, dmi[f]))
			return true;
	return false;
}

static bool policy_named(const struct policy *p, const char *name)
{
	const char *base = strrchr(p->path, '/');
	size_t n = strlen(name);

	base = base ? base + 1 : p->path;
	return strcmp(p->name, name) == 0 ||
	       (strncmp(base, name, n) == 0 && strcmp(base + n, POLICY_SUFFIX) == 0);
}

static bool looks_like_path(const char *s)
{
	return strchr(s, '/') || has_suffix(s, POLICY_SUFFIX);
}

int audit_load_policies(struct audit *a)
{
	struct policy_file *files = NULL;
	struct policy *all = NULL;
	size_t n_files = 0, n_all = 0;
	bool *keep = NULL;
	char dmi[_POLICY_DMI_MAX][256];
	int r;

	r = list_dir(audit_policy_dir(), &files, &n_files, false);
	if (r >= 0)
		r = list_dir(audit_policy_local_dir(), &files, &n_files, false);
	if (r < 0)
		goto out;
	if (n_files) /* qsort() wants a non-NULL array even for none */
		qsort(files, n_files, sizeof(*files), by_name);

	all = xcalloc(n_files + a->opts->n_policies + 1, sizeof(*all));
	keep = xcalloc(n_files + a->opts->n_policies + 1, sizeof(*keep));
	for (size_t i = 0; i < n_files; i++) {
		r = load_one(a, files[i].path, &all[n_all]);
		if (r < 0)
			goto out;
		n_all++;
	}

	/* --policy: a file, or the name of a loaded policy */
	bool selected = false;
	for (size_t i = 0; i < a->opts->n_policies; i++) {
		const char *arg = a->opts->policies[i];
		size_t k;

		if (looks_like_path(arg)) {
			r = load_one(a, arg, &all[n_all]);
			if (r < 0)
				goto out;
			k = n_all++;
		} else {
			for (k = 0; k < n_all; k++)
				if (policy_named(&all[k], arg))
					break;
			if (k == n_all) {
				r = log_error("unknown policy '%s': no %s.conf in %s or %s (give a file path, "
					      "or see the names there)", arg, arg, audit_policy_dir(),
					      audit_policy_local_dir());
				goto out;
			}
		}
		keep[k] = true;
		if (all[k].is_provider) {
			selected = true;
			if (!a->provider)
				a->provider = all[k].name;
		}
	}

	/* detection: the first provider whose DMI strings match */
	if (!selected) {
		static const char *const fields[_POLICY_DMI_MAX] = {
			[POLICY_DMI_SYS_VENDOR] = "sys_vendor",
			[POLICY_DMI_PRODUCT_NAME] = "product_name",
			[POLICY_DMI_CHASSIS_ASSET_TAG] = "chassis_asset_tag",
		};
		for (int f = 0; f < _POLICY_DMI_MAX; f++)
			read_dmi(fields[f], dmi[f], sizeof(dmi[f]));
		for (size_t k = 0; k < n_all; k++)
			if (all[k].is_provider && provider_detected(&all[k], dmi)) {
				keep[k] = true;
				a->provider = all[k].name;
				log_info("provider detected from DMI: %s (%s)", all[k].name, all[k].path);
				break;
			}
	}
	/* overlays are always known: they say which interfaces and ranges are theirs */
	for (size_t k = 0; k < n_all; k++)
		if (all[k].n_overlays && !all[k].is_provider)
			keep[k] = true;

	a->policies = xcalloc(n_all + 1, sizeof(*a->policies));
	for (size_t k = 0; k < n_all; k++) {
		if (keep[k])
			a->policies[a->n_policies++] = all[k];
		else
			policy_free(&all[k]);
	}
	n_all = 0;
	r = 0;
out:
	for (size_t k = 0; k < n_all; k++)
		policy_free(&all[k]);
	free(all);
	free(keep);
	files_free(files, n_files);
	return r;
}
