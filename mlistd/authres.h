/*
 * authres.h — the Authentication-Results header (RFC 8601): a reader, and
 * the one DKIM proof every part of mlistd uses (broadcasts, editors'
 * commands, requests).
 *
 * authres_parse() is a pure function over one header value (unfolded, not
 * RFC 2047 decoded): no I/O, no global state, safe to fuzz. It reads the
 * authserv-id and optional version, then each resinfo as
 * method[/version]=result, its reason and its properties
 * (ptype.property=value); comments (nested, with quoted-pairs) are skipped
 * everywhere and quoted strings may hold ';' or '('. What it returns owns
 * its strings; free it with authres_free().
 *
 * Trust (authres_dkim_proof): only the topmost Authentication-Results
 * header whose authserv-id is in trusted_authserv_ids is read; the MTA must
 * remove (or rename) incoming headers carrying its own id (RFC 8601
 * section 5; INSTALL says how). A dkim result counts when it is "pass" and
 * its signing domain (header.d, or the domain of header.i when header.d is
 * absent, as Gmail writes) is the author's domain, or a parent of it when
 * dkim_allow_parent_domain is set (DMARC relaxed alignment; the parent's
 * owner controls the child's DNS anyway). A header that does not parse
 * proves nothing.
 */
#ifndef MLISTD_AUTHRES_H
#define MLISTD_AUTHRES_H

#include <stddef.h>

struct mime_msg;

struct authres_prop {
	char	*ptype;		/* "header", "smtp", "policy"... ("" for a bare
				   name=value as Microsoft writes "action=none") */
	char	*property;	/* "d", "i", "from", "mailfrom"... */
	char	*value;		/* unquoted */
};

struct authres_result {
	char	*method;	/* lower case: "dkim", "spf", "x-dkim"... */
	int	 version;	/* method version, 0 when not given */
	char	*result;	/* lower case: "pass", "fail", "neutral"... */
	char	*reason;	/* unquoted reason=, NULL when absent */
	struct authres_prop *props;
	size_t	 nprops;
};

struct authres {
	char	*authserv_id;	/* as written; "" when the header has none
				   (Microsoft 365 writes none) */
	int	 version;	/* 0 when not given */
	struct authres_result *results;
	size_t	 nresults;	/* 0 for "none" */
};

/* Parse one header value. Returns 0 and *ar_r (free with authres_free()),
 * or -1 with a static reason in *error_r and nothing allocated. */
int authres_parse(const char *value, struct authres **ar_r, const char **error_r);
void authres_free(struct authres **ar);

/* Value of ptype.property (case-insensitive) in r; NULL when absent. */
const char *authres_prop(const struct authres_result *r, const char *ptype,
    const char *property);

/* Does ar hold a dkim=pass whose signing domain covers domain (equal, or a
 * parent of it when allow_parent)? 1 yes, 0 no. */
int authres_dkim_covers(const struct authres *ar, const char *domain, int allow_parent);

/* Is trusted_ids (the configuration list, commas or spaces) naming
 * authserv_id? Case-insensitive; an empty id is never trusted. */
int authres_trusted(const char *trusted_ids, const char *authserv_id);

/*
 * The proof for message m and the address addr (normally the From author):
 * 1 when the topmost Authentication-Results header whose authserv-id is in
 * trusted_ids parses and holds a dkim=pass covering addr's domain; 0 when
 * not (no trusted header, unparsable, another domain, not pass, empty
 * trusted_ids). Never an error: anything unexpected proves nothing.
 */
int authres_dkim_proof(const struct mime_msg *m, const char *trusted_ids,
    int allow_parent, const char *addr);

#endif
