/*
 * request.h — the request address (aide@): commands by email for people
 * who will never open a terminal. Commands are read from the Subject or
 * the first non-blank lines of the new text (trim_reply), French or
 * English, any case, accents optional:
 *   AIDE / HELP               what you can ask
 *   CONTACTS                  our committee's designated contacts
 *   STATUT / STATUS           the open bulletin issue, its deadline, what
 *                             our committee has submitted
 *   ARRET / STOP              I no longer want to receive: the contact is
 *                             deactivated, the office told, the committee
 *                             warned if it falls under min_contacts
 *   ABONNER / SUBSCRIBE       public bulletin, double opt-in (a confirmation
 *   DESABONNER / UNSUBSCRIBE  mail with a token: reply to confirm)
 *   CHERCHER mots / SEARCH    archive search, best 10 results
 * Answers are short templated notices (templates/LANG/request-*.txt) with
 * Auto-Submitted: auto-replied and a null envelope sender; at most
 * max_autoresponses_per_day per address; never to an auto-reply, never to
 * a list, never to an implausible sender (answer.h). A message handler
 * (engine.h).
 *
 * ARRET and DESABONNER change someone's state: they act at once only on a
 * trusted DKIM pass for the From address; otherwise the answer asks the
 * address to confirm by replying to confirm+TOKEN@ (one-time token,
 * confirm_lifetime), and request_confirm_accept() acts on that reply.
 */
#ifndef MLISTD_REQUEST_H
#define MLISTD_REQUEST_H

#include "engine.h"

struct engine;
struct inmsg;

enum engine_result request_accept(struct engine *e, const struct inmsg *in,
    const char **error_r);
/* A mail to confirm+TOKEN@ (in->ext) where the token is answer_hold()'s
 * (answer_is_token): the held action (ARRET, DESABONNER, editors'
 * commands) is done if the reply comes from its address in time. A
 * message handler (engine.h). */
enum engine_result request_confirm_accept(struct engine *e, const struct inmsg *in,
    const char **error_r);

#endif
