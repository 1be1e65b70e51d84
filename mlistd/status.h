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

/* A broadcast's id as people see it: the first 8 characters of its token
 * (32 hex); any unique prefix of at least 8 names it. */
#define STATUS_ID_LEN	8

/* The full token of the broadcast named by id (a prefix of at least
 * STATUS_ID_LEN lower-case hex characters): 1 and *token_r (caller frees);
 * 0 when it is malformed, names none or several (*error_r, in the reader's
 * language, lists the candidates); -1 database error (*error_r). */
int status_token_find(struct db *db, const char *id, char **token_r, const char **error_r);
/* Every broadcast, one row each under a header row: short id, date, state
 * and reason (catalogue words), copies sent, target, author and subject. */
int status_messages(struct db *db, FILE *out);
/* only_unreached: list only the committees not reached yet. -1: unknown token. */
int status_message(struct db *db, const char *token, int only_unreached, FILE *out);
/* Replies to one broadcast: which committees answered (when, by whom, and
 * the replies from unknown senders) and which did not; automatic replies
 * are only counted. -1: unknown token (or database error). */
int status_replies(struct db *db, const char *token, FILE *out);

#endif
