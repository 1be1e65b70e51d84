/*
 * mlistctl.c — the command-line tool's main: global options, the command
 * table, dispatch. Each command lives in a mlistctl_*.c file and is one
 * function of the table; this file only finds it and prepares what it
 * needs (configuration, database).
 *
 * What mlistctl prints is for the person at the terminal, in the
 * configured language: the answer on stdout, one error line on stderr.
 * Log lines (the same key=value lines as the daemon's, for the admin) go
 * to syslog LOG_MAIL like the daemon's, or to stderr with -v; never among
 * an answer. French lines follow French typography: a non-breaking space
 * before « : ; ? ! » and inside « ».
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "engine.h"
#include "i18n.h"
#include "log.h"
#include "mlistctl.h"
#include "status.h"
#include "util.h"

static const struct ctl_cmd *const ctl_tables[] = {
	ctl_admin_cmds, ctl_roster_cmds, ctl_mail_cmds, ctl_coverage_cmds, ctl_bulletin_cmds,
	ctl_spool_cmds,
};

static const struct ctl_cmd *ctl_cur;

int
ctl_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("mlistctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
ctl_code(int rc)
{
	return rc == 1 ? EX_OK : rc == 0 ? EX_DATAERR : EX_TEMPFAIL;
}

const struct ctl_cmd *
ctl_current(void)
{
	return ctl_cur;
}

/* The one usage prefix: "usage : " (NBSP) in French, "usage: " in English. */
#define CTL_USAGE	tr("usage\xc2\xa0: ", "usage: ")

int
ctl_usage(const struct ctl_cmd *cmd)
{
	printf("%smlistctl %s %s\n  %s\n", CTL_USAGE, cmd->name, cmd->args,
	    tr(cmd->help_fr, cmd->help_en));
	return EX_OK;
}

int
ctl_bad_usage(void)
{
	const struct ctl_cmd *c = ctl_current();

	return ctl_fail(EX_USAGE, "%smlistctl %s %s", CTL_USAGE, c->name, c->args);
}

int
ctl_engine(struct ctl *ctl, struct engine *e)
{
	const char *err = NULL;

	if (engine_open(e, &ctl->cf, &err) == 0)
		return EX_OK;
	engine_close(e);
	return ctl_fail(EX_CANTCREAT, "%s", err ? err : "engine");
}

int
ctl_broadcast_token(struct ctl *ctl, const char *id, char **token_r)
{
	const char *err = NULL;
	int rc = status_token_find(ctl->db, id, token_r, &err);

	return rc == 1 ? EX_OK : ctl_fail(rc == 0 ? EX_DATAERR : EX_TEMPFAIL, "%s", err);
}

char *
ctl_path(const struct ctl *ctl, const char *rel)
{
	return xasprintf("%s/%s", ctl->cf.data_dir, rel);
}

int
ctl_open(struct ctl *ctl, int needs_db)
{
	const char *err = NULL;
	char *path, *dbpath;
	int rc;

	if (!ctl->cf_loaded) {
		if ((path = config_find(ctl->conf_path)) == NULL)
			return ctl_fail(EX_CONFIG, "%s", tr("aucun fichier de configuration trouvé"
			    " (cherché\xc2\xa0: -c, $MLISTD_CONF, ./mlistd.conf,"
			    " /etc/mlistd/mlistd.conf)",
			    "no configuration file found (looked in: -c, $MLISTD_CONF, ./mlistd.conf,"
			    " /etc/mlistd/mlistd.conf)"));
		if (config_load(&ctl->cf, path, stderr) != 0) {
			free(path);
			config_free(&ctl->cf);
			return EX_CONFIG;
		}
		free(path);
		ctl->cf_loaded = 1;
		i18n_set_language(ctl->cf.language);
	}
	if (!needs_db || ctl->db)
		return EX_OK;
	if ((rc = engine_check_tr(&ctl->cf, ENGINE_CHECK_HEADER, &err)) != EX_OK)
		return ctl_fail(rc, "%s", err);
	dbpath = ctl_path(ctl, "mlistd.db");
	if (db_open(dbpath, &ctl->db, &err) == -1) {
		rc = ctl_fail(EX_CANTCREAT, "%s: %s", dbpath, err);
		free(dbpath);
		return rc;
	}
	free(dbpath);
	return EX_OK;
}

static void
ctl_help(void)
{
	printf("%s%s\n\n", CTL_USAGE, tr("mlistctl [-c FICHIER] [-v] COMMANDE [ARGUMENTS]\n"
	    "Outil d'administration de mlistd. «\xc2\xa0mlistctl COMMANDE --help\xc2\xa0» pour le"
	    " détail\xc2\xa0; -v montre aussi les lignes du journal.",
	    "mlistctl [-c FILE] [-v] COMMAND [ARGUMENTS]\n"
	    "mlistd's administration tool. \"mlistctl COMMAND --help\" for details; -v also shows"
	    " the log lines."));
	for (size_t t = 0; t < nitems(ctl_tables); t++)
		for (const struct ctl_cmd *c = ctl_tables[t]; c->name; c++)
			printf("  %-22s %s\n", c->name, tr(c->help_fr, c->help_en));
}

/* Find the longest command name matching the first one or two words. */
static const struct ctl_cmd *
ctl_find(int argc, char **argv, int *words_r)
{
	char two[128];

	if (argc >= 2) {
		snprintf(two, sizeof two, "%s %s", argv[0], argv[1]);
		for (size_t t = 0; t < nitems(ctl_tables); t++)
			for (const struct ctl_cmd *c = ctl_tables[t]; c->name; c++)
				if (strcmp(c->name, two) == 0)
					return *words_r = 2, c;
	}
	for (size_t t = 0; t < nitems(ctl_tables); t++)
		for (const struct ctl_cmd *c = ctl_tables[t]; c->name; c++)
			if (strcmp(c->name, argv[0]) == 0)
				return *words_r = 1, c;
	return NULL;
}

/* Levenshtein distance of two short ASCII words (command names). */
static size_t
ctl_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[128];

	if (lb + 1 > nitems(row))
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], left = row[0] = i;

		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			best = up + 1 < best ? up + 1 : best;
			best = left + 1 < best ? left + 1 : best;
			diag = up;
			left = row[j] = best;
		}
	}
	return row[lb];
}

/* The command closest to what was typed (at most 2 edits), or NULL; a
 * two-word command is compared with the first two words. */
static const struct ctl_cmd *
ctl_closest(int argc, char **argv)
{
	const struct ctl_cmd *best = NULL;
	size_t best_d = 3, d;
	char two[128];

	snprintf(two, sizeof two, "%s %s", argv[0], argc >= 2 ? argv[1] : "");
	for (size_t t = 0; t < nitems(ctl_tables); t++)
		for (const struct ctl_cmd *c = ctl_tables[t]; c->name; c++) {
			if (strchr(c->name, ' ') && argc < 2)
				continue;
			d = ctl_distance(strchr(c->name, ' ') ? two : argv[0], c->name);
			if (d < best_d)
				best = c, best_d = d;
		}
	return best;
}

/* "commande inconnue : committee lst ; vouliez-vous dire « committee list » ?" */
static int
ctl_unknown(int argc, char **argv, int group_known)
{
	const struct ctl_cmd *c = ctl_closest(argc, argv);
	int words = (c && strchr(c->name, ' ')) || (group_known && argc >= 2) ? 2 : 1;

	if (c)
		return ctl_fail(EX_USAGE, tr("commande inconnue\xc2\xa0: %s%s%s\xc2\xa0; vouliez-vous"
		    " dire «\xc2\xa0%s\xc2\xa0»\xc2\xa0?", "unknown command: %s%s%s; did you mean"
		    " \"%s\"?"), argv[0], words == 2 ? " " : "", words == 2 ? argv[1] : "", c->name);
	return ctl_fail(EX_USAGE, tr("commande inconnue\xc2\xa0: %s%s%s (voir mlistctl --help)",
	    "unknown command: %s%s%s (see mlistctl --help)"), argv[0], words == 2 ? " " : "",
	    words == 2 ? argv[1] : "");
}

/* "mlistctl committee --help": the sub-commands of one group. */
static int
ctl_group_help(const char *group)
{
	size_t n = strlen(group);
	int found = 0;

	for (size_t t = 0; t < nitems(ctl_tables); t++)
		for (const struct ctl_cmd *c = ctl_tables[t]; c->name; c++)
			if (strncmp(c->name, group, n) == 0 && c->name[n] == ' ') {
				printf("  mlistctl %s %s\n      %s\n", c->name, c->args,
				    tr(c->help_fr, c->help_en));
				found = 1;
			}
	return found;
}

static int
ctl_is_group(const char *word)
{
	size_t n = strlen(word);

	for (size_t t = 0; t < nitems(ctl_tables); t++)
		for (const struct ctl_cmd *c = ctl_tables[t]; c->name; c++)
			if (strncmp(c->name, word, n) == 0 && c->name[n] == ' ')
				return 1;
	return 0;
}

static int
ctl_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct ctl ctl;
	const struct ctl_cmd *cmd;
	int words = 0, rc, opt, verbose = 0;
	const char *env_lang = getenv("MLISTD_LANG");

	memset(&ctl, 0, sizeof ctl);
	umask(DATA_UMASK);
	i18n_set_language(env_lang);
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		ctl_help();
		return EX_OK;
	}
	while ((opt = getopt(argc, argv, "+c:hvV")) != -1) {
		switch (opt) {
		case 'c': ctl.conf_path = optarg; break;
		case 'v': verbose = 1; break;
		case 'V': puts("mlistctl " MLISTD_VERSION); return EX_OK;
		case 'h': ctl_help(); return EX_OK;
		default: ctl_help(); return EX_USAGE;
		}
	}
	log_init("mlistctl", verbose);	/* syslog unless -v: never among the answer */
	argc -= optind;
	argv += optind;
	if (argc == 0 || !strcmp(argv[0], "help") || !strcmp(argv[0], "--help")) {
		ctl_help();
		return argc == 0 ? EX_USAGE : EX_OK;
	}
	if ((cmd = ctl_find(argc, argv, &words)) == NULL) {
		if (argc >= 2 && ctl_wants_help(argc, argv) && ctl_group_help(argv[0]))
			return EX_OK;
		if (argc == 1 && ctl_group_help(argv[0]))
			return EX_USAGE;
		return ctl_unknown(argc, argv, ctl_is_group(argv[0]));
	}
	ctl_cur = cmd;
	if (ctl_wants_help(argc - words + 1, argv + words - 1))
		return ctl_usage(cmd);
	if ((rc = ctl_open(&ctl, cmd->needs_db)) == EX_OK) {
		optind = 0;	/* glibc: full getopt reset for the command's own options */
		rc = cmd->fn(&ctl, argc - words + 1, argv + words - 1);
	}
	db_close(&ctl.db);
	if (ctl.cf_loaded)
		config_free(&ctl.cf);
	return rc;
}
