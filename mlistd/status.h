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

#endif
