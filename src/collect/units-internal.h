/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What units.c, units-sysctl.c and sshd-config.c share from units-fs.c:
 * a string map and directory listings below the host root. */
#pragma once

#include <stddef.h>

/* A map from strings (not copied: they must outlive it) to pointers,
 * growing as it fills. */
struct units_map {
	struct units_map_slot *slots;
	size_t cap, n;
};

void *units_map_get(const struct units_map *m, const char *key);
/* Sets key -> value (replacing what was there). */
void units_map_put(struct units_map *m, const char *key, void *value);
void units_map_free(struct units_map *m);
/* Calls fn for every entry, in no particular order. */
void units_map_each(const struct units_map *m, void (*fn)(const char *key, void *value, void *ud), void *ud);

/* The entries of a host directory (resolved with host_chase()), without "."
 * and "..", sorted by name; malloc'd array of malloc'd names. Returns how
 * many, or -errno (-ENOENT: no such directory, nothing noted). */
int host_list_dir(const char *dir, char ***names);
void host_list_free(char **names, int n);

/* lstat() of a host path that host_chase() resolved: its type (S_IFREG,
 * S_IFDIR, S_IFLNK ...) and size; -errno. */
int host_stat_resolved(const char *resolved, unsigned *mode, long long *size);
/* readlink() of a host path (not resolved: the link itself) into out. */
int host_readlink(const char *path, char *out, size_t size);

