/*
 * relay.h — hand finished messages to the outgoing SMTP relay (smarthost).
 *
 * One message per item (VERP: each item has its own reverse path and one
 * recipient), many items per SMTP session, PIPELINING when the server offers
 * it, failover between the configured hosts, and a parallel mode with several
 * connections (fibers of the calling thread). This is the only module that
 * speaks to libesmtp; none of its types appear here.
 *
 * Outcomes: 2xx at the end of DATA -> RELAY_SENT; any 4xx (MAIL, RCPT or end
 * of DATA), or no host reachable -> RELAY_DEFERRED; any 5xx -> RELAY_FAILED.
 * With a user set, a refusal due to authentication (AUTH answered 535/534/538,
 * or 530 / 5.7.0 from a relay that wants it) is RELAY_DEFERRED: a
 * configuration error, not the contact's. A 2xx is always RELAY_SENT, with or
 * without AUTH (a relay that relays by IP offers none).
 * code/enhanced/text hold the server reply that decided, or code 0 and a local
 * reason. An item whose DATA was sent but whose final reply was lost (dropped
 * connection) is sent again on the next attempt: SMTP gives at-least-once.
 *
 * Ownership: the caller owns the config, the items and the message data; the
 * relay keeps no pointer to them after relay_send*() returns.
 */
#ifndef MLISTD_RELAY_H
#define MLISTD_RELAY_H

#include <stddef.h>

enum relay_tls {
	RELAY_TLS_NONE,
	RELAY_TLS_STARTTLS,	/* STARTTLS required, the session fails without it */
	RELAY_TLS_TLS,		/* implicit TLS (port 465): not supported by libesmtp,
				 * every item becomes RELAY_DEFERRED with that reason */
};

struct relay_config {
	char		**hosts;	/* "host:port" (no port: 587); used in turn */
	size_t		  nhosts;	/* and in failover */
	enum relay_tls	  tls;
	int		  tls_verify;	/* refuse invalid or mismatched certificates */
	const char	 *ca_file;	/* PEM CA list; NULL: the system's */
	const char	 *user;		/* AUTH PLAIN/LOGIN when user != NULL */
	const char	 *password;
	const char	 *helo;		/* EHLO name; NULL: the host name */
	int		  timeout_ms;	/* per stage (greeting, envelope, data,
					 * transfer) and for connect; <= 0: 60 s */
	size_t		  max_msgs_per_session;	/* e.g. 1000; 0: 1000 */
};

enum relay_outcome { RELAY_PENDING, RELAY_SENT, RELAY_DEFERRED, RELAY_FAILED };

struct relay_item {
	const char	*reverse_path;	/* VERP sender, "" for <> */
	const char	*rcpt;
	const char	*data;		/* the message, CRLF line endings (bare LF */
	size_t		 len;		/* is converted, with a warning), may be
					 * shared by many items */
	/* results, set by the relay */
	enum relay_outcome outcome;	/* set it to RELAY_PENDING before the call */
	int		 code;		/* SMTP reply code, 0 for a local reason */
	char		 enhanced[16];	/* "4.2.1" or "" */
	char		 text[256];	/* server reply text or local reason */
	void		*user;		/* the caller's, untouched */
};

/*
 * Called once per item as soon as its outcome is known, on the calling
 * thread (every connection is a fiber of it): never concurrently, except in
 * the fallback (relay_interposition() 0), where each connection is a thread
 * and done must be thread-safe. A connection goes on with its next message
 * only when done returns.
 */
typedef void relay_done_fn(struct relay_item *item, void *arg);

/*
 * Send every item whose outcome is RELAY_PENDING, in one or more sessions of
 * at most max_msgs_per_session messages. When a host cannot be reached (or
 * refuses the session), the pending items go to the next host; when no host
 * answers, they become RELAY_DEFERRED with the reason. done may be NULL.
 * Returns 0, or -1 when the configuration is unusable (no host, implicit TLS):
 * then every pending item is RELAY_DEFERRED with the reason.
 */
int relay_send(const struct relay_config *cfg, struct relay_item *items, size_t n,
    relay_done_fn *done, void *arg);

/*
 * The same with nconn connections at once, fibers of the calling thread
 * (fiber.h) taking batches of items from a shared index (a slow connection
 * does not hold up the others); connection t starts on host t mod nhosts.
 */
int relay_send_parallel(const struct relay_config *cfg, struct relay_item *items,
    size_t n, int nconn, relay_done_fn *done, void *arg);

/* Once at startup: ignore SIGPIPE, load the SASL mechanisms. relay_send*()
 * call it themselves if it has not been called. */
void relay_global_init(void);

/*
 * Whether libesmtp reaches the interposed poll(), connect() and write()
 * (interpose.h): the dynamic symbol lookup, then a session with a loopback
 * peer of its own that must go through all three. 0, or -1 with the reason.
 */
int relay_selftest(const char **error_r);

/* relay_selftest() once per process (relay_send*() call it): 1 when in
 * effect; else 0, logged once, and every run is stock libesmtp with one
 * thread per connection (no TCP_NODELAY, no gathering, TLS 1.2 at most). */
int relay_interposition(void);

#endif
