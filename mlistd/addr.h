/*
 * addr.h — email addresses: validation, normalisation, and the parsing of
 * our own addresses with an extension (national+bretagne@, retour+ID@,
 * rebonds+TOKEN@).
 */
#ifndef MLISTD_ADDR_H
#define MLISTD_ADDR_H

#include <stddef.h>

/* A plain addr-spec a person can have: dot-atom local part (at most 64),
 * a domain of letters, digits and hyphens with at least one dot (or
 * "localhost"), at most 254 in all. No comments, no quoted local parts. */
int addr_valid(const char *addr);
/* Trimmed, without <>, domain lower-cased; NULL if not addr_valid(). */
char *addr_normalize(const char *addr);
/* Is addr "local[+ext]@domain" with our domain? Fills local (base) and ext
 * (may be ""), each a new string; returns 1 when ours, 0 otherwise. */
int addr_split_ours(const char *addr, const char *domain, char **local_r, char **ext_r);
/* The domain part (pointer into addr), or NULL. */
const char *addr_domain(const char *addr);

#endif
