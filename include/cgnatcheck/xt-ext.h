/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One x_tables extension, kept together the way iptables keeps
 * extensions/libxt_NAME.c: the blobs it accepts (names, revisions,
 * families, the kernel struct's size), how a blob becomes its decoded value,
 * how that value matches a packet or changes it, how iptables-save
 * prints it, and what of it makes a rule's identity.
 *
 * Each extension lives in src/model/xt/match-NAME.c or target-NAME.c (one
 * file per extension, or per family of extensions sharing one kernel
 * struct: tcp and udp, the NAT targets) and exports one descriptor;
 * src/model/xt/registry.c lists them by the kind of value they decode to,
 * and xt_decode(), xt_match(), xt_target_apply(), xt_print() and the
 * rule identity (rule-identity.c) dispatch through that list. Adding an
 * extension: its kind and value in xt.h, its file, its line in the
 * registry, its golden cases in tests/unit/golden/. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "cgnatcheck/arena.h"
#include "cgnatcheck/canon.h"
#include "cgnatcheck/xt.h"

/* How one decode call allocates: strings either point into the blob or,
 * for a blob that goes away (xt_decode_owned()), are copied. */
struct xt_dec_ctx {
	struct arena *arena;
	bool own_strings;
};

/* Fills the union member of d (whose kind, name, revision and family are
 * set) from info, `size` bytes long: the form's struct size, so info holds
 * at least that. false: values the kernel's checkentry refuses. */
typedef bool (*xt_decode_fn)(struct xt_decoded *d, const void *info, uint32_t size, struct xt_dec_ctx *c);
/* Evaluates a decoded match as the kernel module would (see xt_match()). */
typedef enum tri (*xt_match_fn)(const struct xt_decoded *m, const struct cg_packet *pkt,
				const struct cg_addr_env *env);
/* Applies a decoded target to pkt; res is cleared already (see
 * xt_target_apply()). */
typedef void (*xt_apply_fn)(const struct xt_decoded *t, struct cg_packet *pkt, struct xt_target_result *res);
/* Prints the options of a decoded value as the extension's save() does:
 * each with its leading space, nothing for none. */
typedef void (*xt_print_fn)(FILE *f, const struct xt_decoded *d);
/* The name iptables prints for a decoded value when it is not d->name. */
typedef const char *(*xt_print_name_fn)(const struct xt_decoded *d);
/* Writes what identifies a decoded value to rule_equal() and rule_hash()
 * (rule-identity.c has written its kind and family): each field of its
 * kind's union member (the only one allocated), in a fixed order. Changing
 * what a kind writes changes the rule_hash() of every rule using it, which
 * scheduled audits keep in their state (audit-state.h). */
typedef void (*xt_ident_fn)(struct canon *c, const struct xt_decoded *d);

/* One blob the kernel accepts: a name at revisions rev_min..rev_max of a
 * family, carrying a struct of `size` bytes. */
struct xt_ext_form {
	const char *name;
	enum xt_kind kind;
	uint8_t rev_min, rev_max;
	uint8_t family;             /* NFPROTO_UNSPEC: any */
	uint32_t size;              /* the kernel's matchsize/targetsize */
	xt_decode_fn decode;
};

struct xt_ext {
	bool target;
	const struct xt_ext_form *forms;
	size_t n_forms;
	uint32_t value_size;        /* the union member of struct xt_decoded decode() fills */
	xt_match_fn match;          /* matches; NULL: always TRI_UNKNOWN */
	xt_apply_fn apply;          /* targets; NULL: the simulator cannot apply it */
	xt_print_fn print;          /* NULL: printed by libxtables from the blob the value keeps (xt_fields_dec) */
	xt_print_name_fn print_name; /* NULL: d->name */
	xt_ident_fn ident;          /* NULL: identified by its kind and family alone */
};

/* The registry: the extension whose forms decode to each kind (several
 * kinds may share one extension, the NAT targets do). */
extern const struct xt_ext *const xt_registry[XT_KIND_COUNT];

/* ---- iptables' spellings, shared by the extensions' printers and the rule
 * printer (src/model/xt/print-util.c) ---------------------------------------- */

/* " !" when inv: an option's inversion, printed before it. */
void xt_print_inv(FILE *f, bool inv);
/* xtables_save_string(): " word", or " \"quoted\"" with \, " and ' escaped. */
void xt_print_string(FILE *f, const char *s);
/* xtables_print_mark_mask(): " 0xMARK" or " 0xMARK/0xMASK". */
void xt_print_mark_mask(FILE *f, uint32_t mark, uint32_t mask);
/* xtables_ip6mask_to_cidr(): the prefix length of a 16-byte mask, -1 when
 * it is not contiguous. */
int xt_ip6mask_to_cidr(const uint8_t *mask);
/* xtables_ipaddr_to_numeric() + xtables_ipmask_to_numeric(): " ADDR",
 * " ADDR/LEN" or " ADDR/MASK" (no "/32", no "/128"). */
void xt_print_addr_mask(FILE *f, const struct cg_addr *a, const struct cg_addr *m);
/* The names of the bits set in mask, names[i] naming bit i, joined by ","
 * after `sep`: print_state()-like lists. */
void xt_print_bit_names(FILE *f, uint32_t mask, const char *const *names, size_t n, const char *sep);
