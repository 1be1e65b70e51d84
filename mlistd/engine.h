/*
 * engine.h — what the mail-handling modules share while they run: the
 * configuration, a database connection of their own thread, the spool.
 * One engine per thread (the database connection is not shared).
 */
#ifndef MLISTD_ENGINE_H
#define MLISTD_ENGINE_H

#include <stddef.h>
#include <stdint.h>

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

struct mime_msg;
/* A handler of one recipient's copy, given the parsed message. */
typedef int engine_handler_fn(struct engine *e, const struct inmsg *in, struct mime_msg *m);
/* Parse in->data and run fn inside one transaction: 0 handled and
 * committed, -1 temporary trouble (rolled back, logged), -2 unparsable. */
int engine_run_parsed(struct engine *e, const struct inmsg *in, engine_handler_fn *fn);

/* Our own mail coming back: X-Loop naming the list or request address, or
 * our List-Id. A short reason for the log, or NULL. */
const char *engine_loop_reason(const struct engine *e, const struct mime_msg *m);
/* The new text of a mail as people wrote it: the plain-text body (HTML
 * turned into text), quotes, signatures and disclaimers removed. Never
 * NULL; the caller frees. */
char *engine_new_text(const struct mime_msg *m);

/* Open the database and the spool under cf->data_dir. -1 with error_r. */
int engine_open(struct engine *e, const struct config *cf, const char **error_r);
void engine_close(struct engine *e);
/* A new random public token (hex, 2*nbytes chars) into out. */
void engine_token(char *out, size_t nbytes);
/* Our address local[+ext]@domain (caller frees). */
char *engine_addr(const struct engine *e, const char *local, const char *ext);

#endif
