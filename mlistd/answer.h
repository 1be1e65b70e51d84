/*
 * answer.h — whom mlistd answers, and when a mail's From counts as proof.
 *
 * Everything mlistd receives is written by strangers until proven
 * otherwise; the From header and the envelope sender are both chosen by
 * whoever sends. Two questions, answered here and nowhere else:
 *
 *  - May we answer? A notice or a command's answer goes to the From
 *    address only when that sender is plausible: the envelope sender is
 *    the From address, or the From address is in the roster (a contact, a
 *    national sender or an editor), or a trusted DKIM pass covers it.
 *    Otherwise the answer is withheld (logged "status=withheld"): a forged
 *    From never makes mlistd mail a third party, let alone echo the
 *    forger's Subject or text to it. What the mail itself does (a report
 *    held for the editors, a broadcast held for the admin) is unchanged.
 *
 *  - May the mail change someone's state (ARRET, DESABONNER, the editors'
 *    commands)? Only on proof: a trusted DKIM pass (authres.h) covering the
 *    From address. Without it the caller asks for a confirmation by reply
 *    to a one-time token sent to that address (confirm+TOKEN@, see
 *    request.h), itself only when the sender is plausible.
 */
#ifndef MLISTD_ANSWER_H
#define MLISTD_ANSWER_H

struct engine;
struct mime_msg;
struct notice_opts;

enum answer_trust {
	ANSWER_NONE = 0,	/* not plausible: no answer */
	ANSWER_PLAUSIBLE = 1,	/* may be answered; proves nothing */
	ANSWER_PROVEN = 2,	/* trusted DKIM pass for from's domain */
};

/* How far from (the address the mail claims to come from, normally its
 * From) can be believed, given the envelope sender and the parsed mail.
 * why_r (may be NULL) gets a short reason for the log when ANSWER_NONE. */
enum answer_trust answer_trust(struct engine *e, const char *envelope_sender,
    const struct mime_msg *m, const char *from, const char **why_r);

/* Queue notice NAME to from, the sender of mail m, only if answer_trust()
 * finds it plausible; else log that the answer is withheld. As
 * notice_send_opts(): 1 queued; 0 not sent (withheld, or the rate limit);
 * -1 error, its reason kept for the handler's result (engine_failf). */
int answer_notice(struct engine *e, const char *envelope_sender, const struct mime_msg *m,
    const char *from, const char *name, const char *const *vars,
    const struct notice_opts *o);

#endif

/*
 * Actions waiting for a confirmation by reply (kind 'confirm' rows of the
 * message table). answer_hold() keeps action (a word such as "stop") and
 * its text for from, under a new one-time token (token_r, 33 bytes) to be
 * used as confirm+TOKEN@. answer_take() gives it back once: the token
 * must be known, not older than confirm_lifetime, and from must be the
 * address it was sent to; the row is then marked done (single use).
 * answer_take: 1 with *action_r and *text_r (new strings), 0 when none
 * (logged), -1 on a database error. Both run in the caller's transaction.
 */
int answer_hold(struct engine *e, const char *from, const char *action, const char *text,
    char token_r[33]);
int answer_take(struct engine *e, const char *token, const char *from, char **action_r,
    char **text_r);
/* Is token one of answer_hold()'s (whatever its age)? */
int answer_is_token(struct engine *e, const char *token);
