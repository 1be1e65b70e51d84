/*
 * test_authres.c — the Authentication-Results reader and the DKIM proof
 * (mlistd/authres.c).
 *
 * Parser cases are a table of header values (as OpenDKIM, rspamd, Amavis,
 * Gmail and Microsoft 365 write them, after their documentation and
 * published samples, and the forgeries of issue 11) and the structure
 * rendered as "ID/V|method/v=result[reason]{ptype.prop=value ...}|...", so
 * a case reads like the header it describes. Proof cases run whole
 * messages through authres_dkim_proof() with a trusted id and an author.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "authres.h"
#include "mime.h"
#include "util.h"

struct parse_case {
	const char	*name;
	const char	*value;
	const char	*expect;	/* rendered, or NULL: must not parse */
};

static const struct parse_case parse_cases[] = {
	/* RFC 8601 appendix B */
	{ "rfc none", "example.org 1; none", "example.org/1" },
	{ "rfc spf", "example.com;\r\n  spf=pass smtp.mailfrom=example.net",
	    "example.com|spf=pass{smtp.mailfrom=example.net}" },
	{ "rfc auth with comment", "example.com;\r\n\tauth=pass (cram-md5) smtp.auth=sender@example.net;"
	    "\r\n\tspf=pass smtp.mailfrom=example.net",
	    "example.com|auth=pass{smtp.auth=sender@example.net}|spf=pass{smtp.mailfrom=example.net}" },
	{ "rfc sender-id, version and comments",
	    "example.com; sender-id=fail header.from=example.com;\r\n dkim=pass (good signature)"
	    " header.d=example.com",
	    "example.com|sender-id=fail{header.from=example.com}|dkim=pass{header.d=example.com}" },
	{ "rfc method version", "example.com; dkim/1=pass header.d=example.com",
	    "example.com|dkim/1=pass{header.d=example.com}" },
	{ "rfc comments everywhere",
	    "foo.example.net (foobar) 1 (baz);\r\n dkim (Because I like it) / 1 (One yay) = (wait"
	    " for it) fail\r\n policy (A dot can go here) . (like that) expired\r\n (this surprised me)"
	    " = (as I wasn't expecting it) 1362471462",
	    "foo.example.net/1|dkim/1=fail{policy.expired=1362471462}" },
	/* OpenDKIM: comment holding ';', quoted header.b with '/' and '+' */
	{ "opendkim", "mail.example.org; dkim=pass (2048-bit key; secure) header.d=example.com"
	    " header.i=@example.com header.b=\"mj+deT/Q\";\r\n\tdkim-atps=neutral",
	    "mail.example.org|dkim=pass{header.d=example.com header.i=@example.com header.b=mj+deT/Q}"
	    "|dkim-atps=neutral" },
	{ "opendkim no signature", "mail.example.org; dkim=none", "mail.example.org|dkim=none" },
	/* rspamd */
	{ "rspamd", "mx.example.org;\r\n\tdkim=pass header.d=example.com header.s=dkim"
	    " header.b=Xa1+b/9Q;\r\n\tspf=pass (mx.example.org: domain of user@example.com designates"
	    " 192.0.2.1 as permitted sender) smtp.mailfrom=user@example.com;\r\n\tdmarc=pass"
	    " (policy=reject) header.from=example.com",
	    "mx.example.org|dkim=pass{header.d=example.com header.s=dkim header.b=Xa1+b/9Q}"
	    "|spf=pass{smtp.mailfrom=user@example.com}|dmarc=pass{header.from=example.com}" },
	/* Amavis: comment after the id, reason= quoted */
	{ "amavis", "mx.example.org (amavisd-new); dkim=pass (2048-bit key)"
	    " reason=\"pass (just generated, assumed good)\" header.d=example.com",
	    "mx.example.org|dkim=pass[pass (just generated, assumed good)]{header.d=example.com}" },
	/* Gmail: header.i only, spf comment with ':' */
	{ "gmail", "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=20230601"
	    " header.b=AbC12dEf;\r\n       spf=pass (google.com: domain of alice@example.com designates"
	    " 209.85.220.41 as permitted sender) smtp.mailfrom=alice@example.com;\r\n       dmarc=pass"
	    " (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=example.com",
	    "mx.google.com|dkim=pass{header.i=@example.com header.s=20230601 header.b=AbC12dEf}"
	    "|spf=pass{smtp.mailfrom=alice@example.com}|dmarc=pass{header.from=example.com}" },
	/* Microsoft 365: no authserv-id, strays, bare name=value, trailing ';' */
	{ "microsoft", "spf=pass (sender IP is 192.0.2.10) smtp.mailfrom=contoso.com; dkim=pass"
	    " (signature was verified) header.d=contoso.com;dmarc=pass action=none"
	    " header.from=contoso.com;compauth=pass reason=100",
	    "|spf=pass{smtp.mailfrom=contoso.com}|dkim=pass{header.d=contoso.com}"
	    "|dmarc=pass{.action=none header.from=contoso.com}|compauth=pass[100]" },
	{ "microsoft strays", "spf=fail (sender IP is 192.0.2.1) smtp.mailfrom=bounce.example.net;"
	    " receivingdomain.example; dkim=pass (signature was verified)"
	    " header.d=example.com;example.net; dmarc=bestguesspass action=none"
	    " header.from=example.com;",
	    "|spf=fail{smtp.mailfrom=bounce.example.net}|dkim=pass{header.d=example.com}"
	    "|dmarc=bestguesspass{.action=none header.from=example.com}" },
	{ "quoted local part", "mx.example.org; spf=pass smtp.mailfrom=\"a;b (c\"@example.net",
	    "mx.example.org|spf=pass{smtp.mailfrom=a;b (c@example.net}" },
	{ "quoted id", "\"mx.example.org\"; dkim=pass header.d=example.com",
	    "mx.example.org|dkim=pass{header.d=example.com}" },
	/* the forgeries of issue 11: they parse, as what they are */
	{ "forged pass in a comment", "mx.example.org; dkim=fail (bad sig; dkim=pass"
	    " header.d=national.example.org) header.d=national.example.org",
	    "mx.example.org|dkim=fail{header.d=national.example.org}" },
	{ "forged header.i", "mx.example.org; dkim=pass header.d=attacker.example"
	    " header.i=@national.example.org",
	    "mx.example.org|dkim=pass{header.d=attacker.example header.i=@national.example.org}" },
	{ "forged x-dkim", "mx.example.org; dkim=neutral header.d=attacker.example; x-dkim=pass"
	    " header.d=national.example.org",
	    "mx.example.org|dkim=neutral{header.d=attacker.example}"
	    "|x-dkim=pass{header.d=national.example.org}" },
	{ "nested comment", "mx.example.org; dkim=fail (a (b; dkim=pass) c) header.d=x.example",
	    "mx.example.org|dkim=fail{header.d=x.example}" },
	{ "escaped paren in comment", "mx.example.org; dkim=fail (a \\) dkim=pass) header.d=x.example",
	    "mx.example.org|dkim=fail{header.d=x.example}" },
	/* malformed: never a proof */
	{ "empty", "", NULL },
	{ "id only", "mx.example.org", NULL },
	{ "no result after ;", "mx.example.org;", NULL },
	{ "unterminated comment", "mx.example.org; dkim=pass (oops header.d=x.example", NULL },
	{ "unterminated quote", "mx.example.org; dkim=pass header.b=\"abc", NULL },
	{ "missing result", "mx.example.org; dkim= header.d=x.example", NULL },
	{ "missing =", "mx.example.org; dkim pass", NULL },
	{ "garbage in a result", "mx.example.org; dkim=pass header.d=x.example ,,,", NULL },
	{ "quote glued to a value", "mx.example.org; dkim=pass header.d=x\"y\"", NULL },
	{ "stray close paren", "mx.example.org; dkim=pass) header.d=x.example", NULL },
	{ "none then more", "mx.example.org; none; dkim=pass header.d=x.example", NULL },
	{ "control character", "mx.example.org; dkim=pass header.d=x.ex\x01" "ample", NULL },
};

static void
render(struct buf *b, const struct authres *ar)
{
	buf_adds(b, ar->authserv_id);
	if (ar->version)
		buf_printf(b, "/%d", ar->version);
	for (size_t i = 0; i < ar->nresults; i++) {
		const struct authres_result *r = &ar->results[i];

		buf_printf(b, "|%s", r->method);
		if (r->version)
			buf_printf(b, "/%d", r->version);
		buf_printf(b, "=%s", r->result);
		if (r->reason)
			buf_printf(b, "[%s]", r->reason);
		for (size_t k = 0; k < r->nprops; k++)
			buf_printf(b, "%s%s.%s=%s", k ? " " : "{", r->props[k].ptype,
			    r->props[k].property, r->props[k].value);
		if (r->nprops)
			buf_addc(b, '}');
	}
}

static void
test_parse(void **state)
{
	for (size_t i = 0; i < nitems(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct authres *ar = NULL;
		const char *err = NULL;
		int rc = authres_parse(c->value, &ar, &err);
		struct buf b;

		if (c->expect == NULL) {
			if (rc != -1)
				fail_msg("%s: parsed, expected an error", c->name);
			assert_null(ar);
			assert_non_null(err);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", c->name, err);
		buf_init(&b);
		render(&b, ar);
		if (strcmp(buf_cstr(&b), c->expect) != 0)
			fail_msg("%s:\n got    %s\n expect %s", c->name, buf_cstr(&b), c->expect);
		buf_free(&b);
		authres_free(&ar);
		assert_null(ar);
	}
}

struct covers_case {
	const char	*value;
	const char	*domain;
	int		 parent;
	int		 expect;
};

static const struct covers_case covers_cases[] = {
	{ "mx.example.org; dkim=pass header.d=national.example.org", "national.example.org", 0, 1 },
	{ "mx.example.org; dkim=pass header.d=NATIONAL.example.org.", "national.example.org", 0, 1 },
	{ "mx.example.org; dkim=pass header.d=example.org", "national.example.org", 0, 0 },
	{ "mx.example.org; dkim=pass header.d=example.org", "national.example.org", 1, 1 },
	{ "mx.example.org; dkim=pass header.d=org", "national.example.org", 1, 0 },
	{ "mx.example.org; dkim=pass header.d=ample.org", "national.example.org", 1, 0 },
	{ "mx.example.org; dkim=pass header.d=national.example.org", "example.org", 1, 0 },
	{ "mx.example.org; dkim=pass header.d=national.example.org.evil", "national.example.org", 1, 0 },
	/* Gmail: header.i alone */
	{ "mx.google.com; dkim=pass header.i=@national.example.org header.s=s", "national.example.org", 0, 1 },
	{ "mx.google.com; dkim=pass header.i=bureau@national.example.org", "national.example.org", 0, 1 },
	{ "mx.google.com; dkim=pass header.i=@other.example", "national.example.org", 1, 0 },
	/* two signatures: any pass for the domain counts */
	{ "mx.example.org; dkim=pass header.d=esp.example; dkim=pass header.d=national.example.org",
	    "national.example.org", 0, 1 },
	{ "mx.example.org; dkim=fail header.d=national.example.org; dkim=pass header.d=esp.example",
	    "national.example.org", 1, 0 },
	/* the forgeries */
	{ "mx.example.org; dkim=fail (bad sig; dkim=pass header.d=national.example.org)"
	    " header.d=national.example.org", "national.example.org", 1, 0 },
	{ "mx.example.org; dkim=pass header.d=attacker.example header.i=@national.example.org",
	    "national.example.org", 1, 0 },
	{ "mx.example.org; dkim=neutral header.d=national.example.org; x-dkim=pass"
	    " header.d=national.example.org", "national.example.org", 1, 0 },
	{ "mx.example.org; dkim=pass header.d=@national.example.org", "national.example.org", 1, 0 },
	{ "mx.example.org; dkim=temperror header.d=national.example.org", "national.example.org", 1, 0 },
	{ "mx.example.org; spf=pass smtp.mailfrom=national.example.org", "national.example.org", 1, 0 },
	{ "mx.example.org; dkim=pass reason=\"header.d=national.example.org\" header.d=x.example",
	    "national.example.org", 1, 0 },
};

static void
test_covers(void **state)
{
	for (size_t i = 0; i < nitems(covers_cases); i++) {
		const struct covers_case *c = &covers_cases[i];
		struct authres *ar;
		const char *err;

		if (authres_parse(c->value, &ar, &err) != 0)
			fail_msg("case %zu: %s", i, err);
		if (authres_dkim_covers(ar, c->domain, c->parent) != c->expect)
			fail_msg("case %zu (%s for %s, parent %d): expected %d", i, c->value,
			    c->domain, c->parent, c->expect);
		authres_free(&ar);
	}
}

static void
test_trusted(void **state)
{
	assert_int_equal(authres_trusted("mx.example.org", "mx.example.org"), 1);
	assert_int_equal(authres_trusted("a.example, MX.example.org b.example", "mx.EXAMPLE.org"), 1);
	assert_int_equal(authres_trusted("mx.example.org", "mx.example.org.evil"), 0);
	assert_int_equal(authres_trusted("mx.example.org", "example.org"), 0);
	assert_int_equal(authres_trusted("", "mx.example.org"), 0);
	assert_int_equal(authres_trusted("mx.example.org", ""), 0);
}

struct proof_case {
	const char	*name;
	const char	*headers;	/* A-R lines, top first */
	int		 expect;
};

#define PASS_NAT "Authentication-Results: mx.example.org; dkim=pass header.d=national.example.org\n"

static const struct proof_case proof_cases[] = {
	{ "trusted pass", PASS_NAT, 1 },
	{ "folded trusted pass", "Authentication-Results: mx.example.org;\n\tdkim=pass\n"
	    "\theader.d=national.example.org\n", 1 },
	{ "untrusted id", "Authentication-Results: mx.attacker.example; dkim=pass"
	    " header.d=national.example.org\n", 0 },
	{ "no header", "", 0 },
	{ "forgery 1", "Authentication-Results: mx.example.org; dkim=fail (bad sig; dkim=pass"
	    " header.d=national.example.org) header.d=national.example.org\n", 0 },
	{ "forgery 2", "Authentication-Results: mx.example.org; dkim=pass header.d=attacker.example"
	    " header.i=@national.example.org\n", 0 },
	{ "forgery 3", "Authentication-Results: mx.example.org; dkim=neutral header.d=x.example;"
	    " x-dkim=pass header.d=national.example.org\n", 0 },
	/* the attacker's own header below ours: only the topmost trusted counts */
	{ "ours fail, forged pass below", "Authentication-Results: mx.example.org; dkim=fail"
	    " header.d=national.example.org\n" PASS_NAT, 0 },
	{ "ours none, forged pass below", "Authentication-Results: mx.example.org; none\n" PASS_NAT, 0 },
	{ "ours unparsable, forged pass below", "Authentication-Results: mx.example.org; dkim=pass"
	    " (broken\n" PASS_NAT, 0 },
	{ "untrusted header above ours", "Authentication-Results: relay.example.net; dkim=fail"
	    " header.d=national.example.org\n" PASS_NAT, 1 },
	/* RFC 2047 is never decoded into syntax */
	{ "encoded word", "Authentication-Results: mx.example.org; dkim=fail (=?utf-8?q?x=29_dkim"
	    "=3Dpass_header=2Ed=3Dnational=2Eexample=2Eorg_=28?=) header.d=x.example\n", 0 },
};

static void
test_proof(void **state)
{
	for (size_t i = 0; i < nitems(proof_cases); i++) {
		const struct proof_case *c = &proof_cases[i];
		char *raw = xasprintf("%sFrom: Bureau <bureau@national.example.org>\nTo:"
		    " national@example.org\nSubject: x\n\nbody\n", c->headers);
		struct mime_msg *m;
		const char *err;

		assert_int_equal(mime_parse(raw, strlen(raw), &m, &err), 0);
		if (authres_dkim_proof(m, "mx.example.org", 1, "bureau@national.example.org") !=
		    c->expect)
			fail_msg("%s: expected %d", c->name, c->expect);
		/* nothing is trusted without a list, nor without an author */
		assert_int_equal(authres_dkim_proof(m, "", 1, "bureau@national.example.org"), 0);
		assert_int_equal(authres_dkim_proof(m, "mx.example.org", 1, NULL), 0);
		assert_int_equal(authres_dkim_proof(m, "mx.example.org", 1, "nobody"), 0);
		mime_free(&m);
		free(raw);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_covers),
		cmocka_unit_test(test_trusted),
		cmocka_unit_test(test_proof),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
