/*
 * addr.c — address checks (see addr.h). Deliberately stricter than RFC 5322:
 * the roster holds addresses people type into spreadsheets, and a quoted
 * local part or an address literal there is a typo far more often than a
 * real mailbox.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "util.h"

static int
addr_atext(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-", c)) || c >= 0x80;
}

static int
addr_local_valid(const char *s, size_t n)
{
	if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
		} else if (!addr_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static int
addr_domain_valid(const char *d)
{
	size_t label = 0, n = strlen(d);
	int dots = 0;

	if (n == 0 || n > 253)
		return 0;
	if (strcasecmp(d, "localhost") == 0)
		return 1;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || d[i - 1] == '-')
				return 0;
			if (c == '.')
				dots++;
			label = 0;
		} else if (isalnum(c) || (c == '-' && label > 0) || c >= 0x80)
			label++;
		else
			return 0;
	}
	return dots > 0;
}

int
addr_valid(const char *addr)
{
	const char *at;

	if (addr == NULL || strlen(addr) > 254 || (at = strrchr(addr, '@')) == NULL)
		return 0;
	return addr_local_valid(addr, (size_t)(at - addr)) && addr_domain_valid(at + 1);
}

char *
addr_normalize(const char *addr)
{
	char *s = xstrdup(addr), *t = str_trim(s), *at;
	size_t n = strlen(t);

	if (n >= 2 && t[0] == '<' && t[n - 1] == '>') {
		t[n - 1] = '\0';
		memmove(t, t + 1, n - 1);
	}
	if (!addr_valid(t)) {
		free(s);
		return NULL;
	}
	at = strrchr(t, '@');
	str_lower(at);
	return s;
}

const char *
addr_domain(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at ? at + 1 : NULL;
}

int
addr_split_ours(const char *addr, const char *domain, char **local_r, char **ext_r)
{
	const char *at = strrchr(addr, '@'), *plus;

	*local_r = *ext_r = NULL;
	if (at == NULL || strcasecmp(at + 1, domain) != 0 || at == addr)
		return 0;
	plus = memchr(addr, '+', (size_t)(at - addr));
	if (plus) {
		*local_r = str_lower(xstrndup(addr, (size_t)(plus - addr)));
		*ext_r = xstrndup(plus + 1, (size_t)(at - plus - 1));
	} else {
		*local_r = str_lower(xstrndup(addr, (size_t)(at - addr)));
		*ext_r = xstrdup("");
	}
	return 1;
}
