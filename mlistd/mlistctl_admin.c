/*
 * mlistctl_admin.c — set-up commands: init (data directory, database,
 * spool), check-config and config (print the effective configuration).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "i18n.h"
#include "mlistctl.h"
#include "spool.h"
#include "util.h"

/* Does the configuration file set list_name itself? */
static int
init_has_list_name(const char *text)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		p += strspn(p, " \t");
		if (strncmp(p, "list_name", 9) == 0 && strchr(" \t=", p[9]) != NULL)
			return 1;
	}
	return 0;
}

/* "list_name = NAME" written into the configuration file, before its first
 * [fetch] block (keys after one belong to it). */
static int
init_write_list_name(const char *file, const char *text, const char *name)
{
	const char *block = text;
	struct buf b;
	int rc;

	while (block && *block != '[')
		block = strchr(block, '\n') ? strchr(block, '\n') + 1 : NULL;
	if (block == NULL)
		block = text + strlen(text);
	buf_init(&b);
	buf_add(&b, text, (size_t)(block - text));
	if (b.len > 0 && b.data[b.len - 1] != '\n')
		buf_addc(&b, '\n');
	buf_printf(&b, "list_name = %s\n%s", name, block);
	rc = file_write_durable(file, b.data, b.len);
	buf_free(&b);
	return rc;
}

/* The name people see (it signs every mail and heads the bulletin): from
 * --list-name, else asked when stdin is a terminal; kept in the file. */
static int
init_list_name(struct ctl *ctl, const char *given)
{
	char line[256], *text = NULL;
	size_t len;
	int rc = EX_OK;

	if (ctl->cf.file == NULL || file_read(ctl->cf.file, 1 << 20, &text, &len) == -1)
		return given ? ctl_fail(EX_CANTCREAT, "%s: %s", ctl->cf.file ? ctl->cf.file :
		    "mlistd.conf", strerror(errno)) : EX_OK;
	if (given == NULL && !init_has_list_name(text) && isatty(STDIN_FILENO)) {
		fputs(tr("Nom de la liste, tel que les membres le liront en signature et en"
		    " tête du bulletin (par exemple «\u00a0Comités de Bretagne\u00a0»)\u00a0: ",
		    "Name of the list, as members will read it in signatures and atop the bulletin"
		    " (for instance \"Brittany committees\"): "), stdout);
		fflush(stdout);
		if (fgets(line, sizeof line, stdin) != NULL && *str_trim(line) != '\0')
			given = line;
	}
	if (given != NULL && init_has_list_name(text))
		rc = ctl_fail(EX_CONFIG, tr("%s fixe déjà list_name\u00a0: changez-le dans"
		    " le fichier", "%s already sets list_name: change it in the file"), ctl->cf.file);
	else if (given != NULL && init_write_list_name(ctl->cf.file, text, given) == -1)
		rc = ctl_fail(EX_CANTCREAT, tr("%s\u00a0: %s\u00a0; ajoutez-y vous-même la ligne"
		    " «\u00a0list_name = %s\u00a0» (avant un éventuel [fetch])", "%s: %s; add the"
		    " line \"list_name = %s\" to it yourself (before any [fetch])"), ctl->cf.file,
		    strerror(errno), given);
	else if (given != NULL)
		printf(tr("nom de la liste\u00a0: %s (%s)\n", "list name: %s (%s)\n"), given,
		    ctl->cf.file);
	else if (!init_has_list_name(text))
		printf(tr("list_name n'est pas réglé\u00a0: les courriels seront signés"
		    " «\u00a0%s\u00a0» (mlistctl init --list-name NOM pour le choisir)\n",
		    "list_name is not set: mails will be signed \"%s\" (mlistctl init"
		    " --list-name NAME to choose it)\n"), ctl->cf.domain);
	free(text);
	return rc;
}

static int
cmd_init(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list-name", required_argument, NULL, 'n' }, { NULL, 0, NULL, 0 },
	};
	const char *err = NULL, *list_name = NULL;
	struct spool *sp = NULL;
	char *dbpath, *spooldir;
	int rc = EX_OK, c;

	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		if (c != 'n')
			return ctl_bad_usage();
		list_name = optarg;
	}
	if (optind != argc)
		return ctl_bad_usage();
	if (list_name != NULL && (*list_name == '\0' || strpbrk(list_name, "\r\n") != NULL))
		return ctl_fail(EX_USAGE, tr("nom de liste vide ou sur plusieurs lignes",
		    "empty or multi-line list name"));
	if (mkdir_p(ctl->cf.data_dir, 0750) == -1)
		return ctl_fail(EX_CANTCREAT, "%s: %s", ctl->cf.data_dir, strerror(errno));
	spooldir = ctl_path(ctl, "spool");
	if (spool_open(spooldir, &sp, &err) == -1)
		rc = ctl_fail(EX_CANTCREAT, "%s: %s", spooldir, err);
	spool_close(&sp);
	free(spooldir);
	if (rc != EX_OK)
		return rc;
	dbpath = ctl_path(ctl, "mlistd.db");
	if (db_open(dbpath, &ctl->db, &err) == -1)
		rc = ctl_fail(EX_CANTCREAT, "%s: %s", dbpath, err);
	else
		printf(tr("prêt\xc2\xa0: %s\n", "ready: %s\n"), ctl->cf.data_dir);
	db_close(&ctl->db);
	free(dbpath);
	return rc == EX_OK ? init_list_name(ctl, list_name) : rc;
}

static int
cmd_check_config(struct ctl *ctl, int argc, char **argv)
{
	/* ctl_open() already loaded and validated it (exit 78 on errors). */
	printf(tr("%s\xc2\xa0: configuration valide\n", "%s: configuration is valid\n"), ctl->cf.file);
	return EX_OK;
}

static int
cmd_config(struct ctl *ctl, int argc, char **argv)
{
	config_dump(&ctl->cf, stdout);
	return EX_OK;
}

const struct ctl_cmd ctl_admin_cmds[] = {
	{ "init", cmd_init, 0, "[--list-name NOM]",
	  "crée le répertoire de données, la base et la file d'attente (sans risque si déjà fait)"
	  "\xc2\xa0; demande le nom de la liste s'il n'est pas réglé",
	  "create the data directory, database and spool (safe to repeat); asks for the list's"
	  " name when it is not set" },
	{ "check-config", cmd_check_config, 0, "",
	  "vérifie la configuration (fichier:ligne: erreur\xc2\xa0; code 78 si invalide)",
	  "check the configuration (file:line: error; exit 78 when invalid)" },
	{ "config", cmd_config, 0, "",
	  "affiche la configuration effective", "print the effective configuration" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};
