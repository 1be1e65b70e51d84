/*
 * config.c — the parameter table and the mlistd.conf reader.
 *
 * Every parameter is one row of config_params[]: name, type, where it lives
 * in struct config, default, and bounds (numbers) or allowed values (enums).
 * Nothing else in the program knows a default. Errors are collected, never
 * fatal here: the caller decides (mlistd -n and mlistctl check-config print
 * them all and exit 78).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mime.h"
#include "util.h"

enum cf_type { CF_STR, CF_INT, CF_BOOL, CF_SIZE, CF_TIME, CF_ENUM, CF_ADDR, CF_LOCAL };

struct cf_param {
	const char	*name;
	enum cf_type	 type;
	size_t		 off;
	const char	*def;
	long		 min, max;	/* CF_INT, CF_SIZE, CF_TIME */
	const char	*values;	/* CF_ENUM: "a|b|c" */
};

#define S(f) offsetof(struct config, f)
static const struct cf_param config_params[] = {
	{ "domain",		CF_STR,  S(domain), "", 0, 0, NULL },
	{ "data_dir",		CF_STR,  S(data_dir), "/var/lib/mlistd", 0, 0, NULL },
	{ "language",		CF_ENUM, S(language), "fr", 0, 0, "fr|en" },
	{ "list_name",		CF_STR,  S(list_name), "", 0, 0, NULL },
	{ "national_address",	CF_LOCAL, S(national_address), "national", 0, 0, NULL },
	{ "bulletin_address",	CF_LOCAL, S(bulletin_address), "bulletin", 0, 0, NULL },
	{ "request_address",	CF_LOCAL, S(request_address), "aide", 0, 0, NULL },
	{ "reply_prefix",	CF_LOCAL, S(reply_prefix), "retour", 0, 0, NULL },
	{ "bounce_prefix",	CF_LOCAL, S(bounce_prefix), "rebonds", 0, 0, NULL },
	{ "confirm_prefix",	CF_LOCAL, S(confirm_prefix), "confirm", 0, 0, NULL },
	{ "admin_address",	CF_ADDR, S(admin_address), "", 0, 0, NULL },
	{ "postmaster",		CF_ADDR, S(postmaster), "", 0, 0, NULL },
	{ "templates_dir",	CF_STR,  S(templates_dir), MLISTD_PREFIX "/share/mlistd/templates", 0, 0, NULL },
	{ "min_contacts",	CF_INT,  S(min_contacts), "3", 1, 20, NULL },
	{ "max_contacts",	CF_INT,  S(max_contacts), "4", 1, 20, NULL },
	{ "lmtp_listen",	CF_STR,  S(lmtp_listen), "127.0.0.1:8024", 0, 0, NULL },
	{ "lmtp_max_clients",	CF_INT,  S(lmtp_max_clients), "32", 1, 1024, NULL },
	{ "lmtp_timeout",	CF_TIME, S(lmtp_timeout), "300s", 1, 3600, NULL },
	{ "lmtp_session_deadline", CF_TIME, S(lmtp_session_deadline), "10m", 1, 86400, NULL },
	{ "lmtp_min_data_rate",	CF_SIZE, S(lmtp_min_data_rate), "500", 0, 1L << 30, NULL },
	/* Never above what the MIME parser takes: a message acknowledged must
	 * be one mlistd can read. 40M: a report with 25 MB of attachments as
	 * Gmail or Outlook send it (base64: about 35 MB) and some margin. */
	{ "message_size_limit",	CF_SIZE, S(message_size_limit), "40M", 1024, MIME_MAX_SIZE, NULL },
	{ "trusted_authserv_ids", CF_STR, S(trusted_authserv_ids), "", 0, 0, NULL },
	{ "dkim_allow_parent_domain", CF_BOOL, S(dkim_allow_parent_domain), "yes", 0, 1, NULL },
	{ "approve_password",	CF_STR,  S(approve_password), "", 0, 0, NULL },
	{ "confirm_lifetime",	CF_TIME, S(confirm_lifetime), "3d", 600, 30 * 86400, NULL },
	{ "subject_tag",	CF_STR,  S(subject_tag), "", 0, 0, NULL },
	{ "dmarc_mitigation",	CF_ENUM, S(dmarc_mitigation), "auto", 0, 0, "none|munge|auto" },
	{ "dmarc_author_in",	CF_ENUM, S(dmarc_author_in), "reply-to", 0, 0, "reply-to|cc|both" },
	{ "smtp_relay",		CF_STR,  S(smtp_relay), "", 0, 0, NULL },
	{ "smtp_connections",	CF_INT,  S(smtp_connections), "8", 1, 64, NULL },
	{ "smtp_timeout",	CF_TIME, S(smtp_timeout), "60s", 1, 3600, NULL },
	{ "smtp_tls",		CF_ENUM, S(smtp_tls), "none", 0, 0, "none|starttls|tls" },
	{ "smtp_tls_verify",	CF_BOOL, S(smtp_tls_verify), "yes", 0, 1, NULL },
	{ "smtp_ca_file",	CF_STR,  S(smtp_ca_file), "", 0, 0, NULL },
	{ "smtp_user",		CF_STR,  S(smtp_user), "", 0, 0, NULL },
	{ "smtp_password_file",	CF_STR,  S(smtp_password_file), "", 0, 0, NULL },
	{ "smtp_helo_name",	CF_STR,  S(smtp_helo_name), "", 0, 0, NULL },
	{ "smtp_max_rcpt_per_transaction", CF_INT, S(smtp_max_rcpt_per_transaction), "1", 1, 1000, NULL },
	{ "smtp_rate_per_minute", CF_INT, S(smtp_rate_per_minute), "0", 0, 1000000, NULL },
	{ "smtp_rate_per_hour",	CF_INT,  S(smtp_rate_per_hour), "0", 0, 100000000, NULL },
	{ "retry_min",		CF_TIME, S(retry_min), "5m", 1, 86400, NULL },
	{ "retry_max",		CF_TIME, S(retry_max), "4h", 1, 7 * 86400, NULL },
	{ "queue_lifetime",	CF_TIME, S(queue_lifetime), "5d", 60, 30 * 86400, NULL },
	{ "queue_run_interval",	CF_TIME, S(queue_run_interval), "30s", 1, 3600, NULL },
	{ "handler_max_attempts", CF_INT, S(handler_max_attempts), "8", 1, 1000, NULL },
	{ "handler_retry_min",	CF_TIME, S(handler_retry_min), "1m", 0, 86400, NULL },
	{ "national_replies_to", CF_ADDR, S(national_replies_to), "", 0, 0, NULL },
	{ "bounce_score_threshold", CF_INT, S(bounce_score_threshold), "5", 1, 1000, NULL },
	{ "bounce_info_stale_after", CF_TIME, S(bounce_info_stale_after), "7d", 3600, 365 * 86400, NULL },
	{ "coverage_alert_after", CF_TIME, S(coverage_alert_after), "1h", 60, 30 * 86400, NULL },
	{ "broadcast_report_after", CF_TIME, S(broadcast_report_after), "2h", 0, 30 * 86400, NULL },
	{ "max_autoresponses_per_day", CF_INT, S(max_autoresponses_per_day), "10", 1, 1000, NULL },
	{ "bulletin_period_months", CF_INT, S(bulletin_period_months), "2", 1, 12, NULL },
	{ "bulletin_deadline_days", CF_INT, S(bulletin_deadline_days), "10", 0, 180, NULL },
	{ "bulletin_anchor",	CF_STR,  S(bulletin_anchor), "2026-01-01", 0, 0, NULL },
	{ "bulletin_reminders",	CF_STR,  S(bulletin_reminders), "14,3", 0, 0, NULL },
	{ "bulletin_photo_max",	CF_SIZE, S(bulletin_photo_max), "5M", 1024, 1L << 30, NULL },
	{ "bulletin_mail_max",	CF_SIZE, S(bulletin_mail_max), "10000000", 100000, 1L << 30, NULL },
	{ "bulletin_mail_photo_width", CF_INT, S(bulletin_mail_photo_width), "800", 200, 2048, NULL },
	{ "bulletin_archive_photo_width", CF_INT, S(bulletin_archive_photo_width), "1600", 400, 2048,
	  NULL },
	{ "bulletin_archive_url", CF_STR, S(bulletin_archive_url), "", 0, 0, NULL },
	{ "fetch_interval",	CF_TIME, S(fetch_interval), "60s", 5, 86400, NULL },
};
#undef S

struct cf_fetch_param {
	const char	*name;
	enum cf_type	 type;
	size_t		 off;
	const char	*def;
	const char	*values;
};

#define F(f) offsetof(struct config_fetch, f)
static const struct cf_fetch_param fetch_params[] = {
	{ "url",		CF_STR,  F(url), "", NULL },
	{ "role",		CF_ENUM, F(role), "auto", "auto|national|bulletin|request|replies|bounces" },
	{ "user",		CF_STR,  F(user), "", NULL },
	{ "password",		CF_STR,  F(password), "", NULL },
	{ "password_file",	CF_STR,  F(password_file), "", NULL },
	{ "ca_file",		CF_STR,  F(ca_file), "", NULL },
	{ "tls_verify",		CF_BOOL, F(tls_verify), "yes", NULL },
	{ "starttls",		CF_BOOL, F(starttls), "no", NULL },
	{ "folder",		CF_STR,  F(folder), "INBOX", NULL },
	{ "processed",		CF_STR,  F(processed), "", NULL },
};
#undef F

struct cf_reader {
	const char	*file;
	int		 line;
	FILE		*errf;
	int		 errors;
};

static void
cf_error(struct cf_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->line > 0)
		fprintf(r->errf, "%s:%d: ", r->file, r->line);
	else
		fprintf(r->errf, "%s: ", r->file);
	va_start(ap, fmt);
	vfprintf(r->errf, fmt, ap);
	va_end(ap);
	fputc('\n', r->errf);
	r->errors++;
}

/* Number with an optional unit suffix; -1 on syntax error. */
static int
cf_number(const char *s, enum cf_type type, long *v_r)
{
	char *end;
	long long v, mult = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno == ERANGE || v < 0)
		return -1;
	if (type == CF_SIZE && *end) {
		switch (*end++) {
		case 'k': case 'K': mult = 1024; break;
		case 'm': case 'M': mult = 1024 * 1024; break;
		case 'g': case 'G': mult = 1024 * 1024 * 1024; break;
		default: return -1;
		}
	} else if (type == CF_TIME && *end) {
		switch (*end++) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default: return -1;
		}
	}
	if (*end != '\0' || v > LONG_MAX / mult)
		return -1;
	*v_r = (long)(v * mult);
	return 0;
}

static int
cf_enum_ok(const char *values, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = values; p && *p; ) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, v, n) == 0)
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

static int
cf_local_ok(const char *v)
{
	if (*v == '\0')
		return 0;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr("._-", *v))
			return 0;
	return 1;
}

/* Parse and store one value; returns an error message or NULL. */
static const char *
cf_set(void *base, size_t off, enum cf_type type, long min, long max,
    const char *values, const char *v)
{
	long n;

	switch (type) {
	case CF_INT:
	case CF_SIZE:
	case CF_TIME:
		if (cf_number(v, type, &n) == -1)
			return type == CF_SIZE ? "not a size (e.g. 512k, 20M)" :
			    type == CF_TIME ? "not a duration (e.g. 30s, 5m, 4h, 5d)" :
			    "not a number";
		if (n < min || n > max)
			return "out of bounds";
		*(long *)((char *)base + off) = n;
		return NULL;
	case CF_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
			*(int *)((char *)base + off) = 1;
		else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
			*(int *)((char *)base + off) = 0;
		else
			return "expected yes or no";
		return NULL;
	case CF_ENUM:
		if (!cf_enum_ok(values, v))
			return "not one of the allowed values";
		break;
	case CF_LOCAL:
		if (!cf_local_ok(v))
			return "not a valid local part (letters, digits, . _ -)";
		break;
	case CF_ADDR:
		if (*v && (strchr(v, '@') == NULL || strchr(v, ' ')))
			return "not an email address";
		break;
	case CF_STR:
		break;
	}
	free(*(char **)((char *)base + off));
	*(char **)((char *)base + off) = xstrdup(v);
	return NULL;
}

static void
cf_defaults(struct config *cf)
{
	memset(cf, 0, sizeof *cf);
	for (size_t i = 0; i < nitems(config_params); i++) {
		const struct cf_param *p = &config_params[i];

		if (cf_set(cf, p->off, p->type, p->min, p->max, p->values, p->def) != NULL)
			abort();	/* a default outside its own bounds: a bug */
	}
}

static void
cf_fetch_defaults(struct config_fetch *f, const char *name, int line)
{
	memset(f, 0, sizeof *f);
	f->name = xstrdup(name);
	f->line = line;
	for (size_t i = 0; i < nitems(fetch_params); i++)
		cf_set(f, fetch_params[i].off, fetch_params[i].type, 0, 1,
		    fetch_params[i].values, fetch_params[i].def);
}

static void
cf_line_fetch(struct cf_reader *r, struct config_fetch *f, const char *key, const char *v)
{
	for (size_t i = 0; i < nitems(fetch_params); i++) {
		const struct cf_fetch_param *p = &fetch_params[i];
		const char *err;

		if (strcmp(p->name, key) != 0)
			continue;
		if ((err = cf_set(f, p->off, p->type, 0, 1, p->values, v)) != NULL)
			cf_error(r, "%s: %s: %s", key, err, v);
		return;
	}
	cf_error(r, "unknown key in [fetch %s]: %s", f->name, key);
}

static void
cf_line_main(struct cf_reader *r, struct config *cf, const char *key, const char *v)
{
	for (size_t i = 0; i < nitems(config_params); i++) {
		const struct cf_param *p = &config_params[i];
		const char *err;

		if (strcmp(p->name, key) != 0)
			continue;
		if ((err = cf_set(cf, p->off, p->type, p->min, p->max, p->values, v)) != NULL) {
			if (p->type == CF_ENUM)
				cf_error(r, "%s: %s: %s (use %s)", key, err, v, p->values);
			else if (p->type == CF_INT || p->type == CF_SIZE || p->type == CF_TIME)
				cf_error(r, "%s: %s: %s (from %ld to %ld)", key, err, v, p->min, p->max);
			else
				cf_error(r, "%s: %s: %s", key, err, v);
		}
		return;
	}
	cf_error(r, "unknown key: %s", key);
}

static void
cf_section(struct cf_reader *r, struct config *cf, char *s, struct config_fetch **cur)
{
	char *end = strchr(s, ']'), *name;

	*cur = NULL;
	if (end == NULL || end[1] != '\0') {
		cf_error(r, "malformed section header (expected [fetch NAME])");
		return;
	}
	*end = '\0';
	name = str_trim(s + 1);
	if (strncmp(name, "fetch", 5) != 0 || !isspace((unsigned char)name[5])) {
		cf_error(r, "unknown section [%s] (expected [fetch NAME])", name);
		return;
	}
	name = str_trim(name + 5);
	if (cf->nfetch == CONFIG_MAX_FETCH) {
		cf_error(r, "too many [fetch] blocks (at most %d)", CONFIG_MAX_FETCH);
		return;
	}
	*cur = &cf->fetch[cf->nfetch++];
	cf_fetch_defaults(*cur, name, r->line);
}

/* Checks that involve several keys. */
static void
cf_validate(struct cf_reader *r, struct config *cf)
{
	r->line = 0;
	if (str_is_empty(cf->domain))
		cf_error(r, "domain: required (the domain of the list addresses)");
	else if (strchr(cf->domain, '.') == NULL && strcmp(cf->domain, "localhost") != 0)
		cf_error(r, "domain: not a domain name: %s", cf->domain);
	if (str_is_empty(cf->list_name) && !str_is_empty(cf->domain)) {
		free(cf->list_name);	/* unset: the mails are signed with the domain */
		cf->list_name = xstrdup(cf->domain);
	}
	if (cf->min_contacts > cf->max_contacts)
		cf_error(r, "min_contacts (%ld) is greater than max_contacts (%ld)",
		    cf->min_contacts, cf->max_contacts);
	if (cf->retry_min > cf->retry_max)
		cf_error(r, "retry_min is greater than retry_max");
	{
		int y, m, d;
		char extra;

		if (sscanf(cf->bulletin_anchor, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 ||
		    m < 1 || m > 12 || d < 1 || d > 31)
			cf_error(r, "bulletin_anchor: not a date YYYY-MM-DD: %s", cf->bulletin_anchor);
	}
		if (*cf->smtp_user && !*cf->smtp_password_file)
		cf_error(r, "smtp_user is set but smtp_password_file is not");
	for (size_t i = 0; i < cf->nfetch; i++) {
		r->line = cf->fetch[i].line;
		if (!*cf->fetch[i].url)
			cf_error(r, "[fetch %s]: url is required", cf->fetch[i].name);
	}
}

int
config_load(struct config *cf, const char *path, FILE *errf)
{
	struct cf_reader r = { path ? path : "(defaults)", 0, errf, 0 };
	struct config_fetch *cur = NULL;
	char *line = NULL;
	size_t cap = 0;
	FILE *fp;

	cf_defaults(cf);
	cf->file = xstrdup(r.file);
	if (path == NULL) {
		cf_validate(&r, cf);
		return r.errors;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(errf, "%s: cannot open: %s\n", path, strerror(errno));
		return 1;
	}
	while (getline(&line, &cap, fp) != -1) {
		char *s = str_trim(line), *eq, *key, *v;

		r.line++;
		if (*s == '\0' || *s == '#')
			continue;
		if (*s == '[') {
			cf_section(&r, cf, s, &cur);
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL) {
			cf_error(&r, "expected \"key = value\"");
			continue;
		}
		*eq = '\0';
		key = str_trim(s);
		v = str_trim(eq + 1);
		if (cur && strncmp(key, "fetch_", 6) != 0 && strcmp(key, "fetch_interval") != 0)
			cf_line_fetch(&r, cur, key, v);
		else
			cf_line_main(&r, cf, key, v);
	}
	free(line);
	fclose(fp);
	cf_validate(&r, cf);
	return r.errors;
}

char *
config_find(const char *explicit_path)
{
	const char *env = getenv("MLISTD_CONF");

	if (explicit_path)
		return xstrdup(explicit_path);
	if (env && *env)
		return xstrdup(env);
	if (access("mlistd.conf", R_OK) == 0)
		return xstrdup("mlistd.conf");
	if (access("/etc/mlistd/mlistd.conf", R_OK) == 0)
		return xstrdup("/etc/mlistd/mlistd.conf");
	return NULL;
}

void
config_free(struct config *cf)
{
	for (size_t i = 0; i < nitems(config_params); i++)
		if (config_params[i].type != CF_INT && config_params[i].type != CF_SIZE &&
		    config_params[i].type != CF_TIME && config_params[i].type != CF_BOOL)
			free(*(char **)((char *)cf + config_params[i].off));
	for (size_t i = 0; i < cf->nfetch; i++) {
		free(cf->fetch[i].name);
		for (size_t j = 0; j < nitems(fetch_params); j++)
			if (fetch_params[j].type != CF_BOOL)
				free(*(char **)((char *)&cf->fetch[i] + fetch_params[j].off));
	}
	free(cf->file);
	memset(cf, 0, sizeof *cf);
}

void
config_dump(const struct config *cf, FILE *out)
{
	for (size_t i = 0; i < nitems(config_params); i++) {
		const struct cf_param *p = &config_params[i];
		const char *base = (const char *)cf + p->off;

		if (p->type == CF_BOOL)
			fprintf(out, "%s = %s\n", p->name, *(const int *)base ? "yes" : "no");
		else if (p->type == CF_INT || p->type == CF_SIZE || p->type == CF_TIME)
			fprintf(out, "%s = %ld\n", p->name, *(const long *)base);
		else if (strstr(p->name, "password") && **(char *const *)base)
			fprintf(out, "%s = (set)\n", p->name);
		else
			fprintf(out, "%s = %s\n", p->name, *(char *const *)base);
	}
	for (size_t i = 0; i < cf->nfetch; i++)
		fprintf(out, "[fetch %s] url = %s role = %s\n", cf->fetch[i].name,
		    cf->fetch[i].url, cf->fetch[i].role);
}

char *
config_address(const struct config *cf, const char *local)
{
	return xasprintf("%s@%s", local, cf->domain);
}

char **
config_list(const char *value, size_t *n_r)
{
	char **list = NULL, *copy = xstrdup(value), *save = NULL;
	size_t n = 0;

	for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		list = xrealloc(list, (n + 1) * sizeof *list);
		list[n++] = xstrdup(t);
	}
	free(copy);
	*n_r = n;
	return list;
}

void
config_list_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}
