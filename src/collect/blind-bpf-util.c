/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the BPF blind-spot reader's files share: the bpf() system call, a
 * program's name by its id, device names, words that fit. */
#include "config.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blind-bpf-internal.h"

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

int bpf_prog_name(uint32_t id, char *buf, size_t size)
{
	union bpf_attr attr;
	struct bpf_prog_info info;
	int fd, r = 0;

	buf[0] = '\0';
	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0)
		r = -errno;
	else
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
