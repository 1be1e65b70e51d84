/*
 * fetch.h — ingress by polling, for installs with no MTA: each [fetch NAME]
 * block of the configuration names a mailbox (imap://, imaps://, pop3://,
 * pop3s://, maildir:/path) and the role of the mail in it (national,
 * bulletin, request, replies, bounces, or auto: from the recipient headers
 * Delivered-To, X-Original-To, To, Cc, the first of our addresses).
 *
 * A message is flagged \Seen and moved to the processed folder (or deleted,
 * as configured) only after it is durably in the spool; a connection
 * dropped between fetch and flag never loses or doubles a message: what
 * was spooled is remembered by (mailbox, UIDVALIDITY, UID) and by
 * Message-ID (fetch_seen table), so the next pass only finishes the flag.
 * IMAP uses IDLE where offered; reconnection backs off; a wrong password
 * is logged once per interval; TLS certificates are verified unless
 * tls_verify = no (ca_file for a private CA).
 */
#ifndef MLISTD_FETCH_H
#define MLISTD_FETCH_H

struct engine;

/* One pass over every mailbox: returns the number of messages spooled,
 * -1 when no mailbox could be read. */
int fetch_run(struct engine *e);
/* The polling thread's body: loops until *stop, IDLE or fetch_interval. */
void fetch_loop(struct engine *e, volatile int *stop, void (*spooled)(void));

#endif
