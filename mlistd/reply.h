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
 * The bulletin, its proofs and calls carry the same Reply-To (their
 * message's token): a reply to them is handled alike, forwarded to
 * national_replies_to, else admin_address, else the first national sender.
 * The same reply arriving twice (Reply-All: retour+TOKEN@ and national@)
 * is forwarded once.
 */
#ifndef MLISTD_REPLY_H
#define MLISTD_REPLY_H

#include "engine.h"

struct engine;
struct inmsg;

enum engine_result reply_accept(struct engine *e, const struct inmsg *in,
    const char **error_r);
/* Does the mail (raw, as spooled) answer one of our bulletin mails: an
 * In-Reply-To or References naming <TOKEN@domain> of a publication (or,
 * unless publication_only, a proof or a call)? Then 1 and its token: a
 * Reply-All reaching national@ is a reply, never a broadcast to refuse; a
 * mail to bulletin@ answering the publication is a reply, never a report
 * (one answering the call is a report, one answering a proof may be an
 * editor's commands). */
int reply_names_bulletin(struct engine *e, const char *data, size_t len, int publication_only,
    char token_r[33]);

#endif
