/*
 * broadcast.h — a message to national[+TARGET]@: who may send, the proof,
 * holding and confirming, and the fan-out to every designated contact of
 * the targeted committees (one delivery row per contact, VERP).
 *
 * Return values of the entry points: 0 handled (the database says what
 * happened), -1 temporary trouble (try the spool file again later),
 * -2 the message cannot be parsed (the caller moves it to corrupt/).
 */
#ifndef MLISTD_BROADCAST_H
#define MLISTD_BROADCAST_H

#include <stddef.h>
#include <stdint.h>

struct engine;
struct inmsg;

int broadcast_accept(struct engine *e, const struct inmsg *in);
/* A reply to a confirmation request (confirm+TOKEN@). */
int broadcast_confirm(struct engine *e, const struct inmsg *in);
/* Release a held broadcast by its public token (mlistctl release). */
int broadcast_release_token(struct engine *e, const char *token, const char **err_r);

/* Committees a target names (region, tag or committee slug; "" = all):
 * ids in *ids_r (free()), count in *n_r; -1 on database error. */
int broadcast_targets(struct engine *e, const char *target, int64_t **ids_r, size_t *n_r);

#endif
