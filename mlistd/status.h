/*
 * status.h — what the office sees: the broadcasts and, for one of them,
 * per committee whether it is reached (at least one contact accepted the
 * message), pending (no acceptance yet, some delivery still queued or
 * deferred) or unreachable (every delivery failed), with each contact's
 * last SMTP reply.
 */
#ifndef MLISTD_STATUS_H
#define MLISTD_STATUS_H

#include <stdio.h>

struct db;

int status_messages(struct db *db, FILE *out);
/* only_unreached: list only the committees not reached yet. -1: unknown token. */
int status_message(struct db *db, const char *token, int only_unreached, FILE *out);
/* Replies to one broadcast: which committees answered (when, by whom, and
 * the replies from unknown senders) and which did not; automatic replies
 * are only counted. -1: unknown token (or database error). */
int status_replies(struct db *db, const char *token, FILE *out);

#endif
