/*
 * notice.h — short mails to people (confirmation requests, refusals,
 * acknowledgements), written from templates/LANG/NAME.txt: the template's
 * first lines are headers (at least "Subject: ..."), then a blank line,
 * then the body. A notice goes out through the delivery queue like any
 * message, from the request address, with a null envelope sender and
 * "Auto-Submitted: auto-replied" (RFC 3834), so it never loops.
 */
#ifndef MLISTD_NOTICE_H
#define MLISTD_NOTICE_H

struct engine;
struct tmpl_dict;

/* Optional headers of a notice (NULL fields: the defaults). */
struct notice_opts {
	const char *from;		/* default: the request address */
	const char *reply_to;
	const char *message_id;		/* "<id@domain>", to recognise replies to it */
	const char *in_reply_to;	/* "<id>" of the mail answered (threading) */
};

/*
 * Queue notice NAME (".txt" added) to rcpt. vars: "KEY", "value", ...,
 * NULL (keys are constants; a key "#NAME" shows section {{#NAME}} once, its
 * value unused). Runs inside the caller's transaction if any. Returns, as
 * the other -1/0/1 functions do:
 *    1  queued;
 *    0  not sent, and rightly so: rcpt already had max_autoresponses_per_day
 *       notices in 24 hours (logged "status=suppressed");
 *   -1  error (no template, database): *error_r says why (valid until the
 *       next call in this thread), also kept for a handler's result
 *       (engine_failf), and logged.
 */
int notice_send(struct engine *e, const char *name, const char *rcpt,
    const char *const *vars, const char **error_r);
int notice_send_opts(struct engine *e, const char *name, const char *rcpt,
    const char *const *vars, const struct notice_opts *o, const char **error_r);
/* Render only (tests, previews): new strings for subject and body. */
int notice_render(const struct engine *e, const char *name, const char *const *vars,
    char **subject_r, char **body_r, const char **error_r);
/* The same with the caller's dictionary (sections, lists); the shared
 * variables (LIST_NAME, DOMAIN, LIST_ADDRESS, REQUEST_ADDRESS) are added. */
int notice_render_dict(const struct engine *e, const char *name, struct tmpl_dict *d,
    char **subject_r, char **body_r, const char **error_r);

#endif
