/*
 * queue.h — the delivery runner: sends every due delivery row (queued, or
 * deferred whose next_try has come) through the relay, or into the local
 * outbox Maildir when no smtp_relay is configured, and records each
 * outcome with the server's reply:
 *   250      -> sent
 *   4xx, connection trouble -> deferred, next_try = now + retry_min * 2^(n-1)
 *               capped at retry_max; failed once queue_lifetime has passed
 *   5xx      -> failed (never retried)
 * Each outcome is durable (data_dir/queue.journal) before its connection
 * starts the next message, and in the database within 100 ms: a crash,
 * even kill -9, re-sends at most one message per connection (queue.c).
 */
#ifndef MLISTD_QUEUE_H
#define MLISTD_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct engine;

struct queue_rcpt {
	const char	*email;
	int64_t		 contact_id;	/* 0 when not a contact (editor, subscriber) */
	int64_t		 committee_id;	/* 0 when none */
};

/* Store a prepared outgoing message (CRLF line endings) of kind ("bulletin",
 * "proof", ...) with one delivery per recipient (an address twice gets one
 * copy), in one transaction; the runner sends it with VERP return paths.
 * Returns the message row id (and its public token), or -1. */
int64_t queue_message(struct engine *e, const char *kind, const char *subject,
    const char *body, size_t len, const struct queue_rcpt *rcpts, size_t n, char token_r[33]);

/* The same for a large message sent to many (the bulletin): its body is
 * the file body_file (relative to data_dir, written durably by the caller
 * and kept while the message may be sent again), read once per queue run
 * and shared by every copy; the token is the caller's (engine_token), so
 * the message can name itself (Reply-To retour+TOKEN@, Message-ID). */
int64_t queue_message_file(struct engine *e, const char *kind, const char *subject,
    const char *token, const char *body_file, const struct queue_rcpt *rcpts, size_t n);

/* Send what is due now. Returns the number of deliveries attempted, -1 on
 * a database error. */
long queue_run(struct engine *e);
/* Deliveries deferred by an attempt at or after since (relay unreachable,
 * TLS or AUTH refused, a 4xx reply); -1 on a database error. */
long queue_deferred_since(struct engine *e, int64_t since);
/* Seconds until the next deferred delivery is due (-1: none waiting). */
long queue_next_due(struct engine *e);

#endif
