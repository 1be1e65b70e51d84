/*
 * fuzz_authres.c — the Authentication-Results reader: authres_parse() on
 * the input as one header value, every accessor, and an oracle for the
 * proof: authres_dkim_covers() may say yes only when a result is exactly
 * dkim=pass and its signing domain (header.d, else the domain of
 * header.i) is the domain asked for, or a parent of it when allowed.
 * Then the input as the header of a message through authres_dkim_proof(),
 * as broadcasts, editors' commands and requests use it.
 */
#include <stdio.h>
#include <strings.h>

#include "authres.h"
#include "fuzz.h"
#include "mime.h"
#include "util.h"

#define FZ_DOMAIN	"national.example.org"
#define FZ_CHILD	"brest.national.example.org"

/* Independent of authres.c: is d the domain, or (parent) its parent? */
static int
fz_domain_ok(const char *d, const char *domain, int parent)
{
	size_t dl = strlen(d), l = strlen(domain);

	if (strcasecmp(d, domain) == 0)
		return 1;
	return parent && dl > 0 && l > dl && domain[l - dl - 1] == '.' &&
	    strcasecmp(domain + l - dl, d) == 0;
}

static int
fz_signs(const struct authres *ar, const char *domain, int parent)
{
	for (size_t i = 0; i < ar->nresults; i++) {
		const struct authres_result *r = &ar->results[i];
		const char *d = authres_prop(r, "header", "d"), *at;

		if (strcmp(r->method, "dkim") != 0 || strcmp(r->result, "pass") != 0)
			continue;
		if (d == NULL && (d = authres_prop(r, "header", "i")) != NULL &&
		    (at = strrchr(d, '@')) != NULL)
			d = at + 1;
		if (d != NULL && fz_domain_ok(d, domain, parent))
			return 1;
	}
	return 0;
}

static void
fz_check(const struct authres *ar)
{
	for (size_t i = 0; i < ar->nresults; i++)
		for (size_t j = 0; j < ar->results[i].nprops; j++)
			if (ar->results[i].props[j].ptype == NULL ||
			    ar->results[i].props[j].value == NULL)
				abort();
	(void)authres_trusted("mx.example.org, mx2.example.org", ar->authserv_id);
	if ((authres_dkim_covers(ar, FZ_DOMAIN, 0) && !fz_signs(ar, FZ_DOMAIN, 0)) ||
	    (authres_dkim_covers(ar, FZ_CHILD, 1) && !fz_signs(ar, FZ_CHILD, 1))) {
		fprintf(stderr, "fuzz_authres: a proof without a matching dkim=pass\n");
		abort();
	}
}

static void
fz_message(const char *value)
{
	char *msg = xasprintf("Authentication-Results: %s\nFrom: <bureau@" FZ_DOMAIN ">\n"
	    "Subject: x\n\nbody\n", value);
	struct mime_msg *m = NULL;
	const char *err;

	if (mime_parse(msg, strlen(msg), &m, &err) == 0) {
		(void)authres_dkim_proof(m, "mx.example.org", 0, "bureau@" FZ_DOMAIN);
		(void)authres_dkim_proof(m, "mx.example.org", 1, "x@" FZ_CHILD);
		mime_free(&m);
	}
	free(msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = fuzz_cstr(data, size);
	struct authres *ar = NULL;
	const char *err;

	(void)authres_trusted(value, "mx.example.org");
	if (authres_parse(value, &ar, &err) == 0) {
		fz_check(ar);
		authres_free(&ar);
	}
	fz_message(value);
	free(value);
	return 0;
}
