/*
 * daemon.c — start-up, signals and the main loop (see daemon.h).
 * Start-up problems are fatal with one log line (EX_CONFIG, EX_CANTCREAT);
 * once running, nothing here exits but SIGTERM/SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "util.h"

static volatile sig_atomic_t daemon_stop;

static void
daemon_on_signal(int sig)
{
	daemon_stop = sig;
}

static void
daemon_roster_summary(struct db *db)
{
	log_info("roster committees=%lld contacts_active=%lld national_senders=%lld editors=%lld",
	    (long long)db_int(db, 0, "SELECT count(*) FROM committee", ""),
	    (long long)db_int(db, 0, "SELECT count(*) FROM contact WHERE active", ""),
	    (long long)db_int(db, 0, "SELECT count(*) FROM sender WHERE role = 'national'", ""),
	    (long long)db_int(db, 0, "SELECT count(*) FROM sender WHERE role = 'editor'", ""));
}

int
daemon_run(const struct config *cf, const struct daemon_opts *o)
{
	struct sigaction sa;
	struct db *db = NULL;
	const char *err = NULL;
	char *dbpath = xasprintf("%s/mlistd.db", cf->data_dir);

	if (db_open(dbpath, &db, &err) == -1) {
		log_warnx("cannot open database path=%s reason=%s (run mlistctl init)", dbpath, err);
		db_close(&db);
		free(dbpath);
		return EX_CANTCREAT;
	}
	free(dbpath);
	log_info("starting config=%s domain=%s data_dir=%s language=%s", cf->file, cf->domain,
	    cf->data_dir, cf->language);
	daemon_roster_summary(db);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = daemon_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!o->once && !daemon_stop)
		pause();
	log_info("stopping");
	db_close(&db);
	return EX_OK;
}
