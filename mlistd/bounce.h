/*
 * bounce.h — delivery failures coming back to rebonds+VERP@.
 *
 * bounce_classify() reads one message (RFC 3464 DSN: Action, Status,
 * Final-Recipient, Diagnostic-Code; or the non-standard text of common
 * servers, as mature list managers recognise them) and says what it is:
 * a hard failure (the address is dead), a soft one (full mailbox, server
 * trouble), a delay notice (not a failure), a content/spam rejection of
 * this message (not a dead address), or unknown.
 *
 * bounce_accept() matches the VERP token to the exact (message, contact);
 * a forged or unknown token is dropped silently (no backscatter). A hard
 * bounce adds 1 to the contact's score, a soft one 0.5, others nothing;
 * the score decays (halved every bounce_info_stale_after without bounce).
 * Over bounce_score_threshold the contact is disabled (not deleted) and the
 * office (admin_address, else the national senders) is told which
 * committee now has fewer than min_contacts reachable contacts, with the
 * contact's name and last error. A message handler (engine.h).
 */
#ifndef MLISTD_BOUNCE_H
#define MLISTD_BOUNCE_H

#include <stddef.h>

#include "engine.h"

struct engine;
struct inmsg;

enum bounce_kind { BOUNCE_UNKNOWN, BOUNCE_HARD, BOUNCE_SOFT, BOUNCE_DELAYED, BOUNCE_SPAM };

struct bounce_info {
	enum bounce_kind kind;
	char	status[16];		/* "5.1.1" or "" */
	char	recipient[256];		/* Final-Recipient / the failed address, or "" */
	char	diagnostic[512];	/* Diagnostic-Code or the server's sentence */
};

void bounce_classify(const char *data, size_t len, struct bounce_info *bi);
const char *bounce_kind_name(enum bounce_kind kind);
/* A message handler (engine.h). */
enum engine_result bounce_accept(struct engine *e, const struct inmsg *in,
    const char **error_r);

#endif
