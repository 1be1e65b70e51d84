/*
 * mlistctl_admin.c — set-up commands: init (data directory, database,
 * spool), check-config and config (print the effective configuration).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "i18n.h"
#include "mlistctl.h"
#include "spool.h"
#include "util.h"

static int
cmd_init(struct ctl *ctl, int argc, char **argv)
{
	const char *err = NULL;
	struct spool *sp = NULL;
	char *dbpath, *spooldir;
	int rc = EX_OK;

	if (argc > 1)
		return ctl_bad_usage();
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
	return rc;
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
	{ "init", cmd_init, 0, "",
	  "crée le répertoire de données, la base et la file d'attente (sans risque si déjà fait)",
	  "create the data directory, database and spool (safe to repeat)" },
	{ "check-config", cmd_check_config, 0, "",
	  "vérifie la configuration (fichier:ligne: erreur\xc2\xa0; code 78 si invalide)",
	  "check the configuration (file:line: error; exit 78 when invalid)" },
	{ "config", cmd_config, 0, "",
	  "affiche la configuration effective", "print the effective configuration" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};
