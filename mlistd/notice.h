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

/* Queue notice NAME (".txt" added) to rcpt. vars: "KEY", "value", ...,
 * NULL (keys are constants; a key "#NAME" shows section {{#NAME}} once, its
 * value unused). Rate-limited per address by
 * max_autoresponses_per_day. Returns 0 queued, 1 suppressed by the limit,
 * -1 error (logged). Runs inside the caller's transaction if any. */
int notice_send(struct engine *e, const char *name, const char *rcpt,
    const char *const *vars);
int notice_send_opts(struct engine *e, const char *name, const char *rcpt,
    const char *const *vars, const struct notice_opts *o);
/* Render only (tests, previews): new strings for subject and body. */
int notice_render(const struct engine *e, const char *name, const char *const *vars,
    char **subject_r, char **body_r, const char **error_r);
/* The same with the caller's dictionary (sections, lists); the shared
 * variables (LIST_NAME, DOMAIN, LIST_ADDRESS, REQUEST_ADDRESS) are added. */
int notice_render_dict(const struct engine *e, const char *name, struct tmpl_dict *d,
    char **subject_r, char **body_r, const char **error_r);

#endif
