/*
 * fetch.h — ingress by polling, for installs with no MTA: each [fetch NAME]
 * block of the configuration names a mailbox (imap://, imaps://, pop3://,
 * pop3s://, maildir:/path) and the role of the mail in it (national,
 * bulletin, request, replies, bounces, or auto: any of our addresses found
 * in the recipient headers).
 *
 * A message is flagged \Seen and moved to the processed folder (or deleted,
 * as configured) only after it is durably in the spool; a connection
 * dropped between fetch and flag never loses or doubles a message: what
 * was spooled is remembered by (mailbox, UIDVALIDITY, UID) and by
 * Message-ID (fetch_seen table), so the next pass only finishes the flag.
 * IMAP uses IDLE where offered; reconnection backs off; a wrong password
 * is logged once per interval; TLS certificates are verified unless
 * tls_verify = no (ca_file for a private CA).
 *
 * The envelope of a fetched message:
 *   recipient  our address that fits the role in To, Cc, X-Original-To,
 *              else in Delivered-To (a catch-all's Delivered-To is often
 *              only the mailbox's name); extensions kept, a target never
 *              widened; failing that bulletin@ or the request address for
 *              those roles. Unclear (several of ours, or national@ known
 *              only from Delivered-To or the role): national@ with the
 *              BROADCAST_HOLD_HEADER, held for the administrator (see
 *              fetch_rcpt). For replies, bounces and auto there is no
 *              default: the message stays unflagged and is logged once.
 *   sender     the Return-Path header (added by the provider's MTA on final
 *              delivery; "<>" gives the null sender). Without one: the From
 *              address, except in a bounces mailbox (null sender), so that
 *              an ordinary message is never mistaken for a bounce.
 *
 * processed = ""        keep: flag \Seen only (IMAP reads UNSEEN messages;
 *                       POP3 leaves the message on the server, UIDL dedupe;
 *                       Maildir renames to cur/NAME:2,S)
 *             "delete"  delete: IMAP \Seen \Deleted + expunge; POP3 DELE;
 *                       Maildir unlink
 *             NAME      move: IMAP MOVE (or COPY + \Deleted + expunge) to
 *                       folder NAME, created if needed, then every undeleted
 *                       message of the folder is read, seen or not; POP3
 *                       keeps it (as ""); Maildir moves to .NAME/cur/ (Maildir++)
 * A message over message_size_limit is never spooled: logged, recorded, and
 * processed as above (moved or flagged) for a person to look at.
 */
#ifndef MLISTD_FETCH_H
#define MLISTD_FETCH_H

struct engine;

/* One pass over every mailbox: returns the number of messages spooled,
 * -1 when a mailbox could not be read (login, TLS, connection; the others
 * were read). Sessions are closed on return. */
int fetch_run(struct engine *e);
/* The polling thread's body: loops until *stop, IDLE or fetch_interval.
 * IMAP sessions stay open; where the server offers IDLE the thread waits
 * in IDLE (re-entered every 25 minutes) and wakes on activity; other
 * mailboxes are read every fetch_interval. A connection error retries
 * after 1 s, doubling up to fetch_interval; a refused login retries every
 * fetch_interval and is logged once per interval. spooled (may be NULL)
 * is called after a pass that spooled something. e is used by this thread
 * only (its database connection). */
void fetch_loop(struct engine *e, volatile int *stop, void (*spooled)(void));

#endif
