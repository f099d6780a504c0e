/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Provider and overlay policies (policies/NAME.conf): who lives in 100.64.0.0/10
 * on this host, and how to recognise them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgnatcheck/addr.h"
#include "cgnatcheck/arena.h"

enum policy_direction {
	POLICY_OUTBOUND,  /* the host reaches the service; the reply must come back */
	POLICY_INBOUND,   /* the provider opens connections to the host (health checks) */
};

struct policy_service {
	const char *name;
	const char *description;
	const char *role;             /* dns, metadata, mirror, ntp, health-check, ... */
	struct cg_prefix *addrs;
	size_t n_addrs;
	unsigned protos;              /* CG_PROTO_* */
	uint16_t port;                /* 0 with listener = true */
	bool listener;                /* Port=listener: the operator's own port */
	enum policy_direction direction;
	const char *interface;        /* NULL: whatever the route says */
	unsigned line;                /* where the section starts, for messages */
};

struct policy_overlay {
	const char *name;
	const char *description;
	const char *interface;
	struct cg_prefix *ranges;
	size_t n_ranges;
	uint32_t route_table;         /* 0 when not given */
	uint32_t fwmark_mask, bypass_mark;
	const char **chains;
	size_t n_chains;
};

/* DMI fields a [Provider] section matches on (any one matching selects it). */
enum policy_dmi_field {
	POLICY_DMI_SYS_VENDOR,
	POLICY_DMI_PRODUCT_NAME,
	POLICY_DMI_CHASSIS_ASSET_TAG,
	_POLICY_DMI_MAX,
};

struct policy {
	struct arena arena;
	const char *path;
	const char *name;             /* Name= of [Provider] or the file's stem */
	const char *description;
	bool is_provider;
	const char **dmi_match[_POLICY_DMI_MAX];
	size_t n_dmi_match[_POLICY_DMI_MAX];
	struct policy_service *services;
	size_t n_services;
	struct policy_overlay *overlays;
	size_t n_overlays;
};

/* Parses a policy from memory. `path` names the input in messages. On a
 * syntax or value error returns -EINVAL and writes "PATH:LINE: what" to
 * err (size errlen). The policy must be released with policy_free() either way. */
int policy_parse(struct policy *p, const char *path, const char *text, size_t len,
		 char *err, size_t errlen);
int policy_load_file(struct policy *p, const char *path, char *err, size_t errlen);
void policy_free(struct policy *p);

/* True when one of the policy's DMI matches equals the given field value
 * (trailing whitespace in the value ignored, as the kernel pads some). */
bool policy_matches_dmi(const struct policy *p, enum policy_dmi_field f, const char *value);
