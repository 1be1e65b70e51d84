/*
 * broadcast.h — a message to national[+TARGET]@: who may send, the proof,
 * holding and confirming, and the fan-out to every designated contact of
 * the targeted committees (one delivery row per contact, VERP).
 *
 * The entry points are message handlers: they return an engine_result
 * (engine.h), the reason in *error_r. A broadcast to every committee when
 * the roster has none is ENGINE_REFUSED (held for the admin, who retries
 * it once the roster is imported).
 */
#ifndef MLISTD_BROADCAST_H
#define MLISTD_BROADCAST_H

/* Added by fetch.c to a polled mail whose recipient is unclear (several of
 * our addresses, or national@ only in Delivered-To): the message goes to
 * the national address and is held there for the administrator. A sender
 * who writes it himself only gets his own mail held. Removed on release. */
#define BROADCAST_HOLD_HEADER	"X-Mlistd-Hold"

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct db;
struct engine;
struct inmsg;

enum engine_result broadcast_accept(struct engine *e, const struct inmsg *in,
    const char **error_r);
/* A reply to a confirmation request (confirm+TOKEN@). */
enum engine_result broadcast_confirm(struct engine *e, const struct inmsg *in,
    const char **error_r);
/* Release a held broadcast by its public token (mlistctl release): 1
 * released, 0 no held broadcast with that token, -1 error (error_r). */
int broadcast_release_token(struct engine *e, const char *token, const char **error_r);

/* Committees a target names (region, tag or committee slug; "" = all):
 * ids in *ids_r (free()), count in *n_r; -1 on database error. */
int broadcast_targets(struct db *db, const char *target, int64_t **ids_r, size_t *n_r);

#endif
