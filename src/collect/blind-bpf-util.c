/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the BPF blind-spot reader's files share: the bpf() system call, a
 * program's name by its id (from the names read at the start, while
 * CAP_SYS_ADMIN may still be there, else asked for now), device names,
 * words that fit. */
#include "config.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blind-bpf-internal.h"
#include "cgnatcheck/common.h"

void bpf_append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strnlen(buf, size);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

const char *bpf_dev_name(const struct bpf_devs *d, int ifindex, char buf[static IFNAMSIZ + 8])
{
	for (size_t i = 0; d && i < d->n; i++)
		if (d->v[i].ifindex == ifindex) {
			snprintf(buf, IFNAMSIZ + 8, "%s", d->v[i].name);
			return buf;
		}
	snprintf(buf, IFNAMSIZ + 8, "if%d", ifindex);
	return buf;
}

long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* The names read before the capabilities were dropped, by id. */
struct prog_name {
	uint32_t id;
	char name[BPF_OBJ_NAME_LEN];
};

static struct prog_name *names;
static size_t n_names;

/* the most programs whose names are kept (a host has tens, a Cilium node
 * hundreds) */
#define MAX_NAMES 65536

static int prog_name_cmp(const void *a, const void *b)
{
	const struct prog_name *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int prog_info(int fd, struct bpf_prog_info *info)
{
	union bpf_attr attr;

	memset(info, 0, sizeof(*info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(*info);
	attr.info.info = (uint64_t)(uintptr_t)info;
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0 ? -errno : 0;
}

void blind_bpf_names_load(void)
{
	size_t cap = 0;
	uint32_t id = 0;

	/* BPF_PROG_GET_NEXT_ID, like BPF_PROG_GET_FD_BY_ID, is CAP_SYS_ADMIN's
	 * alone: without it the first call fails and nothing is kept */
	while (n_names < MAX_NAMES) {
		union bpf_attr attr;
		struct bpf_prog_info info;
		int fd;

		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (sys_bpf(BPF_PROG_GET_NEXT_ID, &attr) < 0)
			break;
		id = attr.next_id;
		memset(&attr, 0, sizeof(attr));
		attr.prog_id = id;
		fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
		if (fd < 0)
			continue; /* gone since */
		if (prog_info(fd, &info) == 0 && info.name[0]) {
			grow_array((void **)&names, &cap, n_names + 1, sizeof(*names));
			names[n_names].id = id;
			memcpy(names[n_names++].name, info.name, sizeof(info.name));
		}
		close(fd);
	}
	/* the kernel hands them out in order; sorted all the same */
	if (n_names)
		qsort(names, n_names, sizeof(*names), prog_name_cmp);
}

int bpf_prog_name(uint32_t id, char *buf, size_t size)
{
	struct prog_name key = { .id = id };
	const struct prog_name *known = n_names ? bsearch(&key, names, n_names, sizeof(*names), prog_name_cmp) : NULL;
	union bpf_attr attr;
	struct bpf_prog_info info;
	int fd, r = 0;

	buf[0] = '\0';
	if (known) {
		snprintf(buf, size, "%.*s", (int)sizeof(known->name), known->name);
		return 0;
	}
	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd < 0)
		return -errno;
	r = prog_info(fd, &info);
	if (r == 0)
		snprintf(buf, size, "%.*s", (int)sizeof(info.name), info.name);
	close(fd);
	return r;
}

bool bpf_prog_label(uint32_t id, const char *detail, char *buf, size_t size)
{
	char name[BPF_OBJ_NAME_LEN + 1];
	int r = bpf_prog_name(id, name, sizeof(name));

	if (r == 0 && name[0])
		snprintf(buf, size, "%s (id %u, %s)", name, id, detail);
	else
		snprintf(buf, size, "id %u (%s)", id, detail);
	return r == -EPERM || r == -EACCES;
}
