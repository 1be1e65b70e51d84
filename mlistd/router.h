/*
 * router.h — what happens to a spooled message: each envelope recipient is
 * one of our addresses, and its local part decides the handler
 * (national -> broadcast, confirm+TOKEN -> confirmation, bulletin -> a
 * report or an editor's commands, request, reply and bounce addresses ->
 * their own handlers). The spool file moves incoming/ -> active/ while it is handled,
 * then is removed once the database holds the outcome; a file the parser
 * cannot read goes to corrupt/; a temporary failure leaves it for the next
 * pass. A message already recorded (crash after commit) is not handled twice.
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
 * crash left in active/). Returns the number handled, -1 if the spool cannot be read. */
int router_run(struct engine *e);
/* At start-up: active/ -> incoming/, clean tmp/. */
void router_recover(struct engine *e);

#endif
