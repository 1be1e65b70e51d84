/*
 * office.h — what the office learns by mail about a national broadcast.
 *
 * office_tick() (daemon): broadcast_report_after after a broadcast was
 * released, its author (the From of the broadcast) receives ONE report
 * mail: the committees reached, those not reached yet with each contact's
 * delivery state, the replies received (how many, from whom). 0 turns the
 * reports off. The broadcast_report row and the queued mail are committed
 * in one transaction: a report is sent once, even across restarts and
 * crashes. Reports go through queue_message, not notice_send: the per-
 * address rate limit of answers must not lose one.
 *
 * office_report_dict(): the same report as a template dictionary
 * (templates/LANG/broadcast-report.txt), for STATUT by mail (request.c).
 * Both are written from status_load() (status.h), the computation behind
 * mlistctl status.
 */
#ifndef MLISTD_OFFICE_H
#define MLISTD_OFFICE_H

#include <stddef.h>
#include <stdint.h>

struct engine;
struct status_bcast;
struct tmpl_dict;

/* Reports queued, or -1 on an error (logged; retried at the next tick). */
int office_tick(struct engine *e);
/* Seconds until the next report is due (0: now), -1 when none waits. */
long office_next_due(struct engine *e);
/* Keys of broadcast-report.txt for b: SUBJECT SHORT_ID TOKEN DATE TARGET
 * NCOMMITTEES NREACHED NUNREACHED NREPLIES; sections NOT_SENT, ALL_TARGET
 * or ONE_TARGET, REACHED (REACHED_NAMES), ALL_REACHED, UNREACHED_ANY,
 * UNREACHED (COMMITTEE_NAME, PENDING or UNREACHABLE, NO_CONTACT, CONTACT
 * with RCPT, STATE (the catalogue's word, i18n.h), SERVER (LAST_REPLY)),
 * REPLY (WHO, REPLY_DATE, FROM_COMMITTEE (REPLY_COMMITTEE) or
 * FROM_UNKNOWN), NO_REPLY, AUTO (NAUTO). */
void office_report_dict(const struct engine *e, const struct status_bcast *b,
    struct tmpl_dict *d);
/* A date as the mails write it: "03/12/2026 à 09:15" (fr), "2026-12-03
 * 09:15" (en), local time, into out (at least 32 bytes). */
void office_date(const struct engine *e, int64_t t, char *out, size_t outlen);

#endif
