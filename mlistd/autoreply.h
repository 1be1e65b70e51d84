/*
 * autoreply.h — recognise mail written by a machine (RFC 3834 and vendor
 * practice, as Mailman and Sympa do): vacation replies, other automatic
 * mail, list traffic and bounces. Such mail is never counted as an answer
 * or a report and is never answered.
 */
#ifndef MLISTD_AUTOREPLY_H
#define MLISTD_AUTOREPLY_H

#include "mime.h"

enum autoreply_kind {
	AUTO_NONE = 0,		/* written by a person, as far as we can tell */
	AUTO_REPLY,		/* vacation / out-of-office */
	AUTO_GENERATED,		/* other automatic mail (Auto-Submitted...) */
	AUTO_LIST,		/* Precedence list/bulk/junk, List-Id... */
	AUTO_BOUNCE,		/* DSN, mailer-daemon, null sender */
};

/* Classify m. envelope_sender is the SMTP MAIL FROM ("" or "<>" for the
 * null sender), NULL if unknown (the Return-Path header is used then).
 * The strongest kind wins: bounce, then reply, then generated, then list.
 * A subject alone counts only when it starts with a known automatic
 * prefix ("Réponse automatique :", "Out of Office:"...); "Re: Absence"
 * is a person's. *why_r (may be NULL) gets a short static string naming the
 * signal, "" for AUTO_NONE. */
enum autoreply_kind autoreply_classify(const struct mime_msg *m,
    const char *envelope_sender, const char **why_r);

/* "none", "reply", "generated", "list", "bounce". */
const char *autoreply_kind_name(enum autoreply_kind kind);

#endif
