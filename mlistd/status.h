/*
 * status.h — what the office sees: the broadcasts and, for one of them,
 * per committee whether it is reached (at least one contact accepted the
 * message), pending (no acceptance yet, some delivery still queued or
 * deferred) or unreachable (every delivery failed), with each contact's
 * last SMTP reply.
 */
#ifndef MLISTD_STATUS_H
#define MLISTD_STATUS_H

#include <stdint.h>
#include <stdio.h>

struct db;

/* One broadcast as the office sees it, read by status_load(): the one
 * computation behind mlistctl status, the report mailed to the author
 * (office.h) and STATUT by mail. Strings are owned by the struct. */
struct status_contact {
	char	*rcpt;
	char	*state;		/* the delivery's: queued deferred sent failed */
	char	*reply;		/* last SMTP reply, "" if none */
};

struct status_committee {
	char	*name;
	int64_t	 id;
	int64_t	 sent;		/* deliveries accepted by the next server */
	int64_t	 pending;	/* still queued or deferred */
	struct status_contact *contacts;
	size_t	 ncontacts;
};

struct status_reply {
	char	*committee;	/* NULL: the sender is no contact of ours */
	char	*sender;
	int64_t	 received;
};

struct status_bcast {
	int64_t	 id;
	char	*token;
	char	*subject;
	char	*author;
	char	*target;	/* "" = every committee */
	char	*message_id;	/* of the mail as received, "" if none */
	int64_t	 received;
	int64_t	 released;	/* 0 while not sent */
	struct status_committee *committees;	/* by region, then name */
	size_t	 ncommittees;
	size_t	 nreached;	/* committees with sent > 0 */
	struct status_reply *replies;	/* by people, committees first */
	size_t	 nreplies;
	int64_t	 nauto;		/* automatic replies, only counted */
};

/* 1 with *b filled (status_free), 0 no broadcast with that token, -1 on
 * a database error. */
int status_load(struct db *db, const char *token, struct status_bcast *b);
void status_free(struct status_bcast *b);
/* The broadcasts that key names: a full token, a token prefix of at least
 * STATUS_ID_LEN hex digits, or words all found in the subject (case
 * and accents folded). Newest first, at most max; *tokens_r is a new array
 * of new strings (status_tokens_free). Returns how many, -1 on error. */
int status_find(struct db *db, const char *key, size_t max, char ***tokens_r);
void status_tokens_free(char **tokens, size_t n);

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
