/*
 * reply.h — a member's answer to a broadcast, sent to retour+TOKEN@ (the
 * Reply-To of every broadcast). It is recorded against the broadcast and
 * the sender's committee and forwarded to the national office
 * (national_replies_to, default the broadcast's author) with the committee
 * in the Subject ("[Rennes] Re: ...") and the member as Reply-To, so the
 * office answers the person directly. Unknown senders are forwarded too,
 * marked "[inconnu]". Auto-replies (autoreply.h) are recorded as such,
 * never forwarded, never counted, never answered. An unknown token is
 * dropped with one log line.
 * A message handler (engine.h).
 */
#ifndef MLISTD_REPLY_H
#define MLISTD_REPLY_H

#include "engine.h"

struct engine;
struct inmsg;

enum engine_result reply_accept(struct engine *e, const struct inmsg *in,
    const char **error_r);

#endif
