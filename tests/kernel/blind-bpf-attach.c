/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loads one program from a BPF object that clang compiled (its section's
 * instructions as they are: the test's programs have no maps and no
 * relocations) and attaches it to a cgroup the test made, with the bpf()
 * system call alone (no libbpf, no bpftool). The program stays attached
 * after this exits, until the cgroup is removed.
 *
 *   blind-bpf-attach OBJECT SECTION CGROUP-DIR [NAME]
 *
 * SECTION "cgroup_skb/ingress" or "cgroup_skb/egress"; NAME the program's
 * name (cg_drop_cgnat by default). Prints the program's id. Exit 0, 1 when the kernel refuses, 2 on bad arguments or objects. */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int fail(const char *what)
{
	fprintf(stderr, "blind-bpf-attach: %s\n", what);
	return 2;
}

/* The section's bytes, or NULL. */
static const uint8_t *elf_section(const uint8_t *img, size_t size, const char *name, size_t *len)
{
	Elf64_Ehdr eh;
	Elf64_Shdr strtab;

	if (size < sizeof(eh))
		return NULL;
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > size ||
	    (size - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum || eh.e_shstrndx >= eh.e_shnum)
		return NULL;
	memcpy(&strtab, img + eh.e_shoff + eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof(strtab));
	if (strtab.sh_offset > size || strtab.sh_size > size - strtab.sh_offset)
		return NULL;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		memcpy(&sh, img + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(sh));
		if (sh.sh_name >= strtab.sh_size)
			continue;
		const char *n = (const char *)img + strtab.sh_offset + sh.sh_name;
		if (strnlen(n, strtab.sh_size - sh.sh_name) == strtab.sh_size - sh.sh_name || strcmp(n, name) != 0)
			continue;
		if (sh.sh_type != SHT_PROGBITS || sh.sh_offset > size || sh.sh_size > size - sh.sh_offset)
			return NULL;
		*len = sh.sh_size;
		return img + sh.sh_offset;
	}
	return NULL;
}

int main(int argc, char *argv[])
{
	static uint8_t img[1 << 20];
	union bpf_attr attr;
	struct bpf_prog_info info;
	enum bpf_attach_type type;
	const uint8_t *insns;
	size_t size, len;
	char log[4096] = "";
	int prog, cg;
	FILE *f;

	if (argc != 4 && argc != 5)
		return fail("usage: blind-bpf-attach OBJECT SECTION CGROUP-DIR [NAME]");
	if (strcmp(argv[2], "cgroup_skb/ingress") == 0)
		type = BPF_CGROUP_INET_INGRESS;
	else if (strcmp(argv[2], "cgroup_skb/egress") == 0)
		type = BPF_CGROUP_INET_EGRESS;
	else
		return fail("SECTION: cgroup_skb/ingress or cgroup_skb/egress");
	f = fopen(argv[1], "rb");
	if (!f)
		return fail("cannot open the object");
	size = fread(img, 1, sizeof(img), f);
	fclose(f);
	insns = elf_section(img, size, argv[2], &len);
	if (!insns || !len || len % sizeof(struct bpf_insn))
		return fail("no such program section in the object");

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_SKB;
	attr.expected_attach_type = type;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)(len / sizeof(struct bpf_insn));
	attr.license = (uint64_t)(uintptr_t)"GPL";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	snprintf(attr.prog_name, sizeof(attr.prog_name), "%s", argc == 5 ? argv[4] : "cg_drop_cgnat");
	prog = (int)sys_bpf(BPF_PROG_LOAD, &attr);
	if (prog < 0 && errno == ENOSPC) {
		/* the verifier's log did not fit: load without it */
		attr.log_buf = 0;
		attr.log_size = 0;
		attr.log_level = 0;
		prog = (int)sys_bpf(BPF_PROG_LOAD, &attr);
	}
	if (prog < 0) {
		fprintf(stderr, "blind-bpf-attach: BPF_PROG_LOAD: %s\n%s\n", strerror(errno), log);
		return 1;
	}
	cg = open(argv[3], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return fail("cannot open the cgroup");
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cg;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = type;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) {
		fprintf(stderr, "blind-bpf-attach: BPF_PROG_ATTACH: %s\n", strerror(errno));
		return 1;
	}
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)prog;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0) {
		fprintf(stderr, "blind-bpf-attach: BPF_OBJ_GET_INFO_BY_FD: %s\n", strerror(errno));
		return 1;
	}
	printf("%u\n", info.id);
	return 0;
}
