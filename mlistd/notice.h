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

/* Queue notice NAME (".txt" added) to rcpt. vars: "KEY", "value", ...,
 * NULL (keys are constants); a "REPLY_TO" var also sets the Reply-To
 * header. Rate-limited per address by
 * max_autoresponses_per_day. Returns 0 queued, 1 suppressed by the limit,
 * -1 error (logged). Runs inside the caller's transaction if any. */
int notice_send(struct engine *e, const char *name, const char *rcpt,
    const char *const *vars);
/* Render only (tests, previews): new strings for subject and body. */
int notice_render(const struct engine *e, const char *name, const char *const *vars,
    char **subject_r, char **body_r, const char **error_r);

#endif
