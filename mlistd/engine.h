/*
 * engine.h — what the mail-handling modules share while they run: the
 * configuration, a database connection of their own thread, the spool.
 * One engine per thread (the database connection is not shared).
 */
#ifndef MLISTD_ENGINE_H
#define MLISTD_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct config;
struct db;
struct spool;

struct engine {
	const struct config	*cf;
	struct db		*db;
	struct spool		*sp;
	char			*list_addr;	/* national@domain */
	char			*request_addr;	/* aide@domain */
	char			*list_id;	/* "<national.domain>", our List-Id */
	char			 error[512];	/* the reason engine_run() returned */
	int			 running;	/* inside engine_run() */
	struct buf		 later;		/* engine_logf() lines waiting for the commit */
};

/* One envelope recipient of a spooled message, as handlers see it. */
struct inmsg {
	const char	*spool_id;
	const char	*sender;	/* envelope sender */
	const char	*rcpt;		/* envelope recipient (ours) */
	const char	*ext;		/* +EXT of the recipient, "" if none */
	const char	*data;		/* as received, LF line endings */
	size_t		 len;
};

/*
 * The handler contract. A message handler (broadcast_accept,
 * broadcast_confirm, report_accept, request_accept, reply_accept,
 * bounce_accept) handles one envelope recipient's copy and says what
 * became of it with one of these; for anything but ENGINE_DONE *error_r
 * says why (a static string, or one kept in the engine until its next
 * engine_run()).
 */
enum engine_result {
	ENGINE_DONE,		/* handled and committed (a refusal told to its author too) */
	ENGINE_TEMPFAIL,	/* nothing kept; may work later: retried with back-off */
	ENGINE_REFUSED,		/* nothing kept; cannot work as it is: held for the admin */
	ENGINE_CORRUPT,		/* nothing kept; the message cannot be parsed: corrupt/ */
};

/* The work of a handler inside the transaction engine_run() opened. */
typedef enum engine_result engine_txn_fn(struct engine *e, const struct inmsg *in, void *arg,
    const char **error_r);
/*
 * The one transaction path of every handler: begin; if (spool_id, rcpt)
 * is already recorded in handled (a crash between a commit and the unlink
 * of the spool file), nothing more and ENGINE_DONE; else fn, then the
 * handled row, then commit, all or nothing. Whatever fn queued (notices,
 * deliveries) is in the same transaction: a failure to queue a notice is
 * a failure of the handler (fn returns ENGINE_TEMPFAIL) and rolls back.
 * Any other result than ENGINE_DONE rolls back. in->spool_id NULL (tests,
 * tools): nothing recorded.
 */
enum engine_result engine_run(struct engine *e, const struct inmsg *in, engine_txn_fn *fn,
    void *arg, const char **error_r);

struct mime_msg;
/* A handler of one recipient's copy, given the parsed message. */
typedef enum engine_result engine_handler_fn(struct engine *e, const struct inmsg *in,
    struct mime_msg *m, const char **error_r);
/* Parse in->data (ENGINE_CORRUPT if it cannot be) and engine_run() fn. */
enum engine_result engine_run_parsed(struct engine *e, const struct inmsg *in,
    engine_handler_fn *fn, const char **error_r);
/* For handlers: ENGINE_TEMPFAIL, and in *error_r the reason a lower layer
 * gave with engine_failf() during this engine_run(), else the database's
 * message. */
enum engine_result engine_dberr(struct engine *e, const char **error_r);
/* For what handlers call (notices, the queue): keep the reason of a
 * failure for the handler's result (the first one wins); returns -1. */
int engine_failf(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The log line of what a handler did ("status=held", "status=answered"...):
 * a line must not tell of what a rollback undoes, nor be missing for what
 * was kept. Inside engine_run() it waits for the commit and goes to the log
 * just after it, in order; a rollback (any result but ENGINE_DONE, a
 * failed commit) drops it, the router then logging the reason. Outside
 * engine_run() (tools, timers) it is logged at once. engine_warnf: the same
 * at warning level. Lines about a failure itself are logged at once with
 * log_warnx.
 */
void engine_logf(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void engine_warnf(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "done", "tempfail", "refused", "corrupt" (for logs). */
const char *engine_result_name(enum engine_result r);
/* Was (spool_id, rcpt) handled? 1 yes, 0 no, -1 database error. */
int engine_handled(struct engine *e, const char *spool_id, const char *rcpt);
/* The spool file is gone: its handled rows are no longer needed. */
int engine_forget(struct engine *e, const char *spool_id);

/* Our own mail coming back: X-Loop naming the list or request address, or
 * our List-Id. A short reason for the log, or NULL. */
const char *engine_loop_reason(const struct engine *e, const struct mime_msg *m);
/* The new text of a mail as people wrote it: the plain-text body (HTML
 * turned into text), quotes, signatures and disclaimers removed. Never
 * NULL; the caller frees. */
char *engine_new_text(const struct mime_msg *m);

/* How much engine_check reads of the database. */
enum engine_check_level {
	ENGINE_CHECK_EXISTS,	/* only that it is there (the MTA pipe) */
	ENGINE_CHECK_HEADER,	/* opens and reads its header (mlistctl) */
	ENGINE_CHECK_PAGES,	/* every page, PRAGMA quick_check (daemon start) */
};
/* Is cf->data_dir ready, without creating anything? A sysexits.h code:
 * EX_OK; EX_CONFIG when it was never initialised (no mlistd.db or no
 * spool/: "mlistctl init"); EX_DATAERR when the database is damaged.
 * *why_r: one line for the admin saying what to do (thread-local, valid
 * until the next call), NULL for EX_OK. */
int engine_check(const struct config *cf, enum engine_check_level level, const char **why_r);
/* The same, *why_r in the reader's language (tr(): mlistctl's answer, not
 * a log line). */
int engine_check_tr(const struct config *cf, enum engine_check_level level, const char **why_r);
/* The admin's line for a damaged database: the file, SQLite's diagnosis,
 * what to do (thread-local, valid until the next call). */
const char *engine_db_damaged(const struct config *cf, const char *diagnosis);
/* Open the database and the spool under cf->data_dir. -1 with error_r. */
int engine_open(struct engine *e, const struct config *cf, const char **error_r);
void engine_close(struct engine *e);
/* A new random public token (hex, 2*nbytes chars) into out. */
void engine_token(char *out, size_t nbytes);
/* Our address local[+ext]@domain (caller frees). */
char *engine_addr(const struct engine *e, const char *local, const char *ext);

#endif
