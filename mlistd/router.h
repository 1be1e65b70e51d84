/*
 * router.h — what happens to a spooled message: each envelope recipient is
 * one of our addresses, and its local part decides the handler
 * (national -> broadcast, confirm+TOKEN -> confirmation, bulletin -> a
 * report or an editor's commands, request, reply and bounce addresses ->
 * their own handlers). The spool file moves incoming/ -> active/ while it
 * is handled. Each recipient goes through its handler, which runs in
 * engine_run() (engine.h): the outcome and handled(spool_id, rcpt) are
 * committed together, so a recipient handled before a crash (between the
 * commit and the unlink) is never handled again. Then, by the worst
 * result of its recipients:
 *   done      the file is removed;
 *   tempfail  deferred/, retried on its own after handler_retry_min,
 *             doubled after each failure (at most an hour); after
 *             handler_max_attempts failures, as refused;
 *   refused   hold/, one log line and one mail to the postmaster; the
 *             admin acts with mlistctl spool list|retry|drop;
 *   corrupt   corrupt/, one log line.
 * The attempts, the first failure, the next try and the last reason are
 * in the file's spool note (spool.h). One message's failure never stops
 * the pass for the messages behind it.
 */
#ifndef MLISTD_ROUTER_H
#define MLISTD_ROUTER_H

struct config;
struct engine;

enum router_role { ROLE_NONE, ROLE_NATIONAL, ROLE_CONFIRM, ROLE_BULLETIN, ROLE_REQUEST,
	ROLE_REPLY, ROLE_BOUNCE };

/* Which of our addresses is rcpt (pure: configuration only)? */
enum router_role router_role(const struct config *cf, const char *rcpt);
/* For the LMTP listener: 0 ours, 1 not ours. */
int router_rcpt_check(void *cf, const char *rcpt);
/* Handle every message in incoming/ (router_recover() has put back what a
 * crash left in active/), then those of deferred/ that are due. Returns
 * the number done or held (both may queue mail), -1 if incoming/ cannot
 * be read. */
int router_run(struct engine *e);
/* At start-up: active/ -> incoming/, clean tmp/, forget the handled rows
 * of spool files that are gone. */
void router_recover(struct engine *e);

#endif
