/*
 * authres.c — Authentication-Results reader and the DKIM proof (see
 * authres.h).
 *
 * The grammar read (RFC 8601 section 2.2, with what real MTAs write):
 *   payload  = [CFWS] authserv-id [CFWS version] (";" "none" / 1*resinfo)
 *   resinfo  = ";" method["/"version] "=" result [reason] *propspec
 *   reason   = "reason" "=" value
 *   propspec = ptype "." property "=" pvalue
 * CFWS (blanks and comments, nested, with quoted-pairs) may stand between
 * any two items. Leniencies, each seen in the wild: no authserv-id at all
 * (Microsoft 365 starts with "spf=pass", and puts stray domain names
 * between results: "; receivingdomain.com;"), a trailing ";", a bare
 * "name=value" (Microsoft's "action=none"), and property values read as
 * any run of characters up to a blank, ";", "(" or a quote (header.b holds
 * base64 with "/", "+" and "="). Anything else is an error: a header that
 * does not parse proves nothing.
 *
 * The parser allocates as it goes and never recurses; on error everything
 * read so far is freed. Input is a NUL-terminated string of any bytes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "authres.h"
#include "config.h"
#include "mime.h"
#include "util.h"

struct authres_parser {
	const char	*p;
	const char	*err;
};

static int
authres_fail(struct authres_parser *ps, const char *why)
{
	if (ps->err == NULL)
		ps->err = why;
	return -1;
}

/* Skip blanks and comments; -1 on an unterminated comment. */
static int
authres_cfws(struct authres_parser *ps)
{
	const char *p = ps->p;
	size_t depth = 0;

	for (; *p; p++) {
		if (depth == 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			continue;
		if (*p == '(')
			depth++;
		else if (depth > 0 && *p == ')')
			depth--;
		else if (depth > 0 && *p == '\\' && p[1] != '\0')
			p++;
		else if (depth == 0)
			break;
	}
	ps->p = p;
	return depth == 0 ? 0 : authres_fail(ps, "unterminated comment");
}

static int
authres_is_keychar(int c)
{
	return isalnum(c) || c == '-' || c == '_';
}

/* A keyword (letters, digits, '-', '_'), lower-cased; NULL when none. */
static char *
authres_keyword(struct authres_parser *ps)
{
	const char *s = ps->p;

	if (!isalnum((unsigned char)*s))
		return NULL;
	while (authres_is_keychar((unsigned char)*ps->p))
		ps->p++;
	return str_lower(xstrndup(s, (size_t)(ps->p - s)));
}

/* A quoted-string at ps->p (the opening quote), unquoted; NULL when
 * unterminated. */
static char *
authres_quoted(struct authres_parser *ps)
{
	struct buf b;
	const char *p = ps->p + 1;

	buf_init(&b);
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		buf_addc(&b, *p);
	}
	if (*p != '"') {
		buf_free(&b);
		authres_fail(ps, "unterminated quoted string");
		return NULL;
	}
	ps->p = p + 1;
	return buf_steal(&b);
}

/* Does c end an unquoted value? */
static int
authres_value_end(int c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
	    c == '(' || c == ')' || c == '"' || c == '\\' || iscntrl(c);
}

/* A value: quoted-string (optionally followed by "@domain", a quoted
 * local-part) or a run of non-special characters. Must be followed by
 * CFWS, ';' or the end. NULL on error. */
static char *
authres_value(struct authres_parser *ps)
{
	char *v;
	const char *s;

	if (*ps->p == '"') {
		if ((v = authres_quoted(ps)) == NULL)
			return NULL;
		if (*ps->p == '@') {
			for (s = ps->p; !authres_value_end((unsigned char)*ps->p); ps->p++)
				;
			char *full = xasprintf("%s%.*s", v, (int)(ps->p - s), s);

			free(v);
			v = full;
		}
	} else {
		for (s = ps->p; !authres_value_end((unsigned char)*ps->p); ps->p++)
			;
		if (ps->p == s) {
			authres_fail(ps, "missing value");
			return NULL;
		}
		v = xstrndup(s, (size_t)(ps->p - s));
	}
	if (*ps->p != '\0' && (*ps->p == '"' || *ps->p == ')' || *ps->p == '\\' ||
	    (iscntrl((unsigned char)*ps->p) && !isspace((unsigned char)*ps->p)))) {
		free(v);
		authres_fail(ps, "unexpected character after a value");
		return NULL;
	}
	return v;
}

/* Digits as an int (capped); -1 when none. */
static int
authres_number(struct authres_parser *ps)
{
	int n = 0;

	if (!isdigit((unsigned char)*ps->p))
		return -1;
	for (; isdigit((unsigned char)*ps->p); ps->p++)
		n = n < 100000 ? n * 10 + (*ps->p - '0') : n;
	return n;
}

/* Expect character c after optional CFWS. */
static int
authres_expect(struct authres_parser *ps, char c, const char *why)
{
	if (authres_cfws(ps) == -1)
		return -1;
	if (*ps->p != c)
		return authres_fail(ps, why);
	ps->p++;
	return authres_cfws(ps);
}

static void
authres_result_clear(struct authres_result *r)
{
	for (size_t i = 0; i < r->nprops; i++) {
		free(r->props[i].ptype);
		free(r->props[i].property);
		free(r->props[i].value);
	}
	free(r->props);
	free(r->method);
	free(r->result);
	free(r->reason);
	memset(r, 0, sizeof *r);
}

static void
authres_add_prop(struct authres_result *r, char *ptype, char *property, char *value)
{
	if ((r->nprops & (r->nprops - 1)) == 0)	/* 0, 1, 2, 4...: grow */
		r->props = xrealloc(r->props, (r->nprops ? r->nprops * 2 : 1) * sizeof *r->props);
	r->props[r->nprops++] = (struct authres_prop){ ptype, property, value };
}

/* "reason=value", "ptype.property=value" or a bare "name=value", at a
 * keyword already read into name (taken). */
static int
authres_propspec(struct authres_parser *ps, struct authres_result *r, char *name)
{
	char *property = NULL, *value;

	if (authres_cfws(ps) == -1)
		goto fail;
	if (*ps->p == '.') {
		ps->p++;
		if (authres_cfws(ps) == -1)
			goto fail;
		if ((property = authres_keyword(ps)) == NULL) {
			authres_fail(ps, "missing property after ptype.");
			goto fail;
		}
	}
	if (authres_expect(ps, '=', "missing = in a property") == -1 ||
	    (value = authres_value(ps)) == NULL)
		goto fail;
	if (property == NULL && strcmp(name, "reason") == 0 && r->reason == NULL) {
		r->reason = value;
		free(name);
	} else if (property == NULL)
		authres_add_prop(r, xstrdup(""), name, value);
	else
		authres_add_prop(r, name, property, value);
	return 0;
fail:
	free(name);
	free(property);
	return -1;
}

/* method[/version] = result, at ps->p (CFWS skipped). */
static int
authres_methodspec(struct authres_parser *ps, struct authres_result *r)
{
	if ((r->method = authres_keyword(ps)) == NULL)
		return authres_fail(ps, "missing method");
	if (authres_cfws(ps) == -1)
		return -1;
	if (*ps->p == '/') {
		ps->p++;
		if (authres_cfws(ps) == -1 || (r->version = authres_number(ps)) < 0)
			return authres_fail(ps, "bad method version");
	}
	if (authres_expect(ps, '=', "missing = after the method") == -1)
		return -1;
	if ((r->result = authres_keyword(ps)) == NULL)
		return authres_fail(ps, "missing result");
	return 0;
}

/* One resinfo after its ';' (CFWS skipped): into r. */
static int
authres_resinfo(struct authres_parser *ps, struct authres_result *r)
{
	char *name;

	if (authres_methodspec(ps, r) == -1)
		return -1;
	for (;;) {
		if (authres_cfws(ps) == -1)
			return -1;
		if (*ps->p == ';' || *ps->p == '\0')
			return 0;
		if ((name = authres_keyword(ps)) == NULL)
			return authres_fail(ps, "unexpected character in a result");
		if (authres_propspec(ps, r, name) == -1)
			return -1;
	}
}

static void
authres_add_result(struct authres *ar, const struct authres_result *r)
{
	if ((ar->nresults & (ar->nresults - 1)) == 0)
		ar->results = xrealloc(ar->results,
		    (ar->nresults ? ar->nresults * 2 : 1) * sizeof *ar->results);
	ar->results[ar->nresults++] = *r;
}

/* Is the text at p a resinfo rather than an authserv-id (Microsoft 365)?
 * A keyword, optional "/version", then "=". */
static int
authres_starts_with_result(const char *p)
{
	struct authres_parser look = { p, NULL };
	char *k = authres_keyword(&look);

	free(k);
	if (k == NULL || authres_cfws(&look) == -1)
		return 0;
	return *look.p == '=' || *look.p == '/';
}

/* authserv-id [version]; "" when absent. */
static int
authres_header_id(struct authres_parser *ps, struct authres *ar)
{
	if (authres_cfws(ps) == -1)
		return -1;
	if (authres_starts_with_result(ps->p)) {
		ar->authserv_id = xstrdup("");
		return 1;	/* a resinfo follows without its ';' */
	}
	if (*ps->p == ';' || (ar->authserv_id = authres_value(ps)) == NULL)
		return authres_fail(ps, "missing authserv-id");
	if (authres_cfws(ps) == -1)
		return -1;
	if (isdigit((unsigned char)*ps->p)) {
		ar->version = authres_number(ps);
		if (authres_cfws(ps) == -1)
			return -1;
	}
	return 0;
}

/* "; none" alone after the id? */
static int
authres_is_none(const char *p)
{
	struct authres_parser look = { p, NULL };
	char *k = authres_keyword(&look);
	int none = k && strcmp(k, "none") == 0 && authres_cfws(&look) == 0 && *look.p == '\0';

	free(k);
	return none;
}

static int
authres_body(struct authres_parser *ps, struct authres *ar, int bare_first)
{
	struct authres_result r;

	for (int first = 1;; first = 0) {
		if (!(first && bare_first)) {
			if (*ps->p == '\0')
				return ar->nresults || !first ? 0 : authres_fail(ps, "no result");
			if (authres_expect(ps, ';', "missing ; between results") == -1)
				return -1;
			if (*ps->p == '\0' && !first)	/* trailing ';' */
				return 0;
			if (first && authres_is_none(ps->p))
				return 0;
		}
		if (*ar->authserv_id == '\0' && !authres_starts_with_result(ps->p)) {
			/* Microsoft 365 strays ("; receivingdomain.com;") */
			char *stray = authres_value(ps);

			free(stray);
			if (stray == NULL || authres_cfws(ps) == -1)
				return -1;
			continue;
		}
		memset(&r, 0, sizeof r);
		if (authres_resinfo(ps, &r) == -1) {
			authres_result_clear(&r);
			return -1;
		}
		authres_add_result(ar, &r);
	}
}

int
authres_parse(const char *value, struct authres **ar_r, const char **error_r)
{
	struct authres_parser ps = { value ? value : "", NULL };
	struct authres *ar = xcalloc(1, sizeof *ar);
	int bare;

	*ar_r = NULL;
	if ((bare = authres_header_id(&ps, ar)) == -1 || authres_body(&ps, ar, bare) == -1) {
		*error_r = ps.err ? ps.err : "syntax error";
		authres_free(&ar);
		return -1;
	}
	*ar_r = ar;
	return 0;
}

void
authres_free(struct authres **arp)
{
	struct authres *ar = *arp;

	if (ar == NULL)
		return;
	for (size_t i = 0; i < ar->nresults; i++)
		authres_result_clear(&ar->results[i]);
	free(ar->results);
	free(ar->authserv_id);
	free(ar);
	*arp = NULL;
}

const char *
authres_prop(const struct authres_result *r, const char *ptype, const char *property)
{
	for (size_t i = 0; i < r->nprops; i++)
		if (strcasecmp(r->props[i].ptype, ptype) == 0 &&
		    strcasecmp(r->props[i].property, property) == 0)
			return r->props[i].value;
	return NULL;
}

/* Does signing domain d (trailing dot allowed) cover domain? */
static int
authres_domain_covers(const char *d, const char *domain, int allow_parent)
{
	size_t dl = strlen(d), l = strlen(domain);

	if (dl > 0 && d[dl - 1] == '.')
		dl--;
	if (dl == 0 || l == 0)
		return 0;
	if (dl == l)
		return strncasecmp(d, domain, dl) == 0;
	/* a parent: "example.org" covers "national.example.org", never a TLD */
	return allow_parent && dl < l && domain[l - dl - 1] == '.' &&
	    memchr(d, '.', dl) != NULL && strncasecmp(d, domain + l - dl, dl) == 0;
}

int
authres_dkim_covers(const struct authres *ar, const char *domain, int allow_parent)
{
	for (size_t i = 0; domain && i < ar->nresults; i++) {
		const struct authres_result *r = &ar->results[i];
		const char *d, *at;

		if (strcmp(r->method, "dkim") != 0 || strcmp(r->result, "pass") != 0)
			continue;
		/* header.d is the signing domain; header.i only when d is absent
		 * (Gmail): its domain is d or below it (RFC 6376 3.5). */
		if ((d = authres_prop(r, "header", "d")) == NULL &&
		    (d = authres_prop(r, "header", "i")) != NULL && (at = strrchr(d, '@')) != NULL)
			d = at + 1;
		if (d && strchr(d, '@') == NULL && authres_domain_covers(d, domain, allow_parent))
			return 1;
	}
	return 0;
}

int
authres_trusted(const char *trusted_ids, const char *authserv_id)
{
	size_t n;
	char **ids;
	int ok = 0;

	if (trusted_ids == NULL || authserv_id == NULL || *authserv_id == '\0')
		return 0;
	ids = config_list(trusted_ids, &n);
	for (size_t i = 0; !ok && i < n; i++)
		ok = strcasecmp(ids[i], authserv_id) == 0;
	config_list_free(ids, n);
	return ok;
}

/* The authserv-id of a header that may not parse as a whole ("" if none). */
static char *
authres_leading_id(const char *value)
{
	struct authres_parser ps = { value, NULL };
	struct authres ar = { 0 };

	if (authres_header_id(&ps, &ar) == -1) {
		free(ar.authserv_id);
		return xstrdup("");
	}
	return ar.authserv_id;
}

int
authres_dkim_proof(const struct mime_msg *m, const char *trusted_ids, int allow_parent,
    const char *addr)
{
	const char *domain = addr ? addr_domain(addr) : NULL, *err;
	struct authres *ar;
	char *v;
	int proof = 0, found = 0;

	if (domain == NULL || *domain == '\0' || trusted_ids == NULL || *trusted_ids == '\0')
		return 0;
	/* the topmost trusted header only: the one our MTA added */
	for (int i = 0; !found && (v = mime_header_raw_nth(m, "Authentication-Results", i)); i++) {
		if (authres_parse(v, &ar, &err) == 0) {
			found = authres_trusted(trusted_ids, ar->authserv_id);
			proof = found && authres_dkim_covers(ar, domain, allow_parent);
			authres_free(&ar);
		} else {
			char *id = authres_leading_id(v);

			found = authres_trusted(trusted_ids, id);
			free(id);
		}
		free(v);
	}
	return proof;
}
