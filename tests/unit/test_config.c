/* test_config.c — mlistd.conf parsing, defaults, bounds and file:line errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mime.h"
#include "util.h"

static char *
write_conf(const char *text)
{
	char path[] = "/tmp/mlistd-test-conf-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return xstrdup(path);
}

/* Load text; return the error count and the error output in *out_r. */
static int
load(const char *text, struct config *cf, char **out_r)
{
	char *path = write_conf(text), *out = NULL;
	size_t outlen = 0;
	FILE *errf = open_memstream(&out, &outlen);
	int n = config_load(cf, path, errf);

	fclose(errf);
	unlink(path);
	free(path);
	*out_r = out;
	return n;
}

struct conf_case {
	const char *text;
	int	    errors;
	const char *expect;	/* substring of the error output, or NULL */
};

static const struct conf_case cases[] = {
	{ "domain = comites.example.org\n", 0, NULL },
	{ "# comment\n\n  domain=comites.example.org  \nlanguage = en\n", 0, NULL },
	{ "", 1, "domain: required" },
	{ "domain = comites.example.org\nmin_contacts = 0\n", 1, ":2: min_contacts: out of bounds" },
	{ "domain = comites.example.org\nmax_contacts = 21\n", 1, ":2: max_contacts: out of bounds" },
	{ "domain = comites.example.org\nmin_contacts = 4\nmax_contacts = 3\n", 1,
	  "min_contacts (4) is greater than max_contacts (3)" },
	{ "domain = comites.example.org\nlanguage = de\n", 1, ":2: language: not one of" },
	{ "domain = comites.example.org\nbogus = 1\n", 1, ":2: unknown key: bogus" },
	{ "domain = comites.example.org\nno equals sign\n", 1, ":2: expected" },
	{ "domain = comites.example.org\nmessage_size_limit = 10Q\n", 1, "not a size" },
	/* never more than the MIME parser reads (64M): it would be acknowledged,
	 * then quarantined unread */
	{ "domain = comites.example.org\nmessage_size_limit = 65M\n", 1,
	  ":2: message_size_limit: out of bounds" },
	{ "domain = comites.example.org\nmessage_size_limit = 64M\n", 0, NULL },
	{ "domain = comites.example.org\nqueue_lifetime = 5x\n", 1, "not a duration" },
	{ "domain = comites.example.org\nnational_address = na tional\n", 1, "not a valid local part" },
	{ "domain = comites.example.org\nsmtp_tls_verify = maybe\n", 1, "expected yes or no" },
	{ "domain = comites.example.org\n[fetch boite]\nurl = imaps://imap.example.org\nrole = bulletin\n", 0, NULL },
	{ "domain = comites.example.org\n[fetch boite]\nrole = bulletin\n", 1, "url is required" },
	{ "domain = comites.example.org\n[fetch boite]\nurl = x\ncolour = red\n", 1, ":4: unknown key in [fetch boite]" },
	{ "domain = comites.example.org\n[mailbox x]\n", 1, "unknown section" },
	{ "domain = comites.example.org\nsmtp_user = u\n", 1, "smtp_password_file" },
	{ "domain = nodot\n", 1, "not a domain name" },
	/* several errors are all reported */
	{ "min_contacts = x\nmax_contacts = y\n", 3, NULL },
};

static void
test_cases(void **state)
{
	for (size_t i = 0; i < nitems(cases); i++) {
		struct config cf;
		char *out;
		int n = load(cases[i].text, &cf, &out);

		if (n != cases[i].errors || (cases[i].expect && strstr(out, cases[i].expect) == NULL))
			fail_msg("case %zu: %d errors (want %d): %s", i, n, cases[i].errors, out);
		free(out);
		config_free(&cf);
	}
}

/* The default takes a report with 25 MB of attachments as webmails send
 * it: base64 (4/3) in 76-character lines with CRLF, plus the text parts. */
static void
test_default_size_fits_a_25mb_report(void **state)
{
	struct config cf;
	char *out;
	long encoded = 25000000L / 3 * 4 / 76 * 78;

	assert_int_equal(load("domain = comites.example.org\n", &cf, &out), 0);
	free(out);
	assert_true(cf.message_size_limit >= encoded + 1000000);
	assert_true(cf.message_size_limit <= (long)MIME_MAX_SIZE);
	config_free(&cf);
}

static void
test_defaults_and_units(void **state)
{
	struct config cf;
	char *out;

	assert_int_equal(load("domain = comites.example.org\nmessage_size_limit = 2M\n"
	    "queue_lifetime = 2d\nretry_min = 90s\nsmtp_tls_verify = no\n", &cf, &out), 0);
	free(out);
	assert_string_equal(cf.language, "fr");
	assert_int_equal(cf.min_contacts, 3);
	assert_int_equal(cf.max_contacts, 4);
	assert_string_equal(cf.national_address, "national");
	assert_string_equal(cf.bounce_prefix, "rebonds");
	assert_string_equal(cf.lmtp_listen, "127.0.0.1:8024");
	assert_int_equal(cf.message_size_limit, 2 * 1024 * 1024);
	assert_int_equal(cf.queue_lifetime, 2 * 86400);
	assert_int_equal(cf.retry_min, 90);
	assert_int_equal(cf.smtp_tls_verify, 0);
	char *a = config_address(&cf, cf.national_address);
	assert_string_equal(a, "national@comites.example.org");
	free(a);
	config_free(&cf);
}

static void
test_find_order(void **state)
{
	char *p;

	setenv("MLISTD_CONF", "/nonexistent/env.conf", 1);
	p = config_find("/explicit.conf");
	assert_string_equal(p, "/explicit.conf");
	free(p);
	p = config_find(NULL);
	assert_string_equal(p, "/nonexistent/env.conf");
	free(p);
	unsetenv("MLISTD_CONF");
}

static void
test_list(void **state)
{
	size_t n;
	char **l = config_list("a.example.org:25, b.example.org:2525  c", &n);

	assert_int_equal(n, 3);
	assert_string_equal(l[1], "b.example.org:2525");
	config_list_free(l, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_defaults_and_units),
		cmocka_unit_test(test_default_size_fits_a_25mb_report),
		cmocka_unit_test(test_find_order),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
