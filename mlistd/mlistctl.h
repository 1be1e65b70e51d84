/*
 * mlistctl.h — what the tool's command files share: the context (the
 * configuration and, for commands that need it, the open database) and
 * the helpers every command uses to answer with one clear line and a
 * sysexits.h code.
 */
#ifndef MLISTD_MLISTCTL_H
#define MLISTD_MLISTCTL_H

#include <sysexits.h>

#include "config.h"

struct db;
struct engine;

struct ctl {
	const char	*conf_path;	/* -c */
	struct config	 cf;
	int		 cf_loaded;
	struct db	*db;
};

typedef int ctl_fn(struct ctl *ctl, int argc, char **argv);

struct ctl_cmd {
	const char	*name;		/* "committee add" */
	ctl_fn		*fn;
	int		 needs_db;
	const char	*args;		/* synopsis after the name */
	const char	*help_fr;
	const char	*help_en;
};

/* One line on stderr, "mlistctl: ...", and return code. */
int ctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit code for a roster return value (1 done, 0 a rule, -1 database). */
int ctl_code(int rc);
/* The usage and help of cmd on stdout (for --help); EX_OK. */
int ctl_usage(const struct ctl_cmd *cmd);
/* "usage: mlistctl NAME ARGS" of the running command on stderr; EX_USAGE. */
int ctl_bad_usage(void);
const struct ctl_cmd *ctl_current(void);
/* Load the configuration (when not yet) and open the database. */
int ctl_open(struct ctl *ctl, int needs_db);
/* Open the engine (database, addresses) for a command; EX_OK or a failure. */
int ctl_engine(struct ctl *ctl, struct engine *e);
/* The full token of the broadcast a person names by a short id (a unique
 * prefix of at least 8 characters, status.h); EX_OK, or the failure told
 * (unknown, ambiguous with the candidates, malformed). Caller frees. */
int ctl_broadcast_token(struct ctl *ctl, const char *id, char **token_r);
/* Paths under data_dir (caller frees). */
char *ctl_path(const struct ctl *ctl, const char *rel);

/* Command tables of each command file. */
extern const struct ctl_cmd ctl_roster_cmds[];
extern const struct ctl_cmd ctl_admin_cmds[];
extern const struct ctl_cmd ctl_mail_cmds[];
extern const struct ctl_cmd ctl_coverage_cmds[];
extern const struct ctl_cmd ctl_bulletin_cmds[];
extern const struct ctl_cmd ctl_spool_cmds[];

#endif
