/*
 * privacy.h — RGPD (GDPR) requests about one person, by address:
 * privacy_export() prints everything stored about them as JSON;
 * privacy_erase() deletes the person (contact and role rows) and
 * anonymises what must stay for the association's history (delivery and
 * message records keep their counts, not the address).
 */
#ifndef MLISTD_PRIVACY_H
#define MLISTD_PRIVACY_H

#include <stdio.h>

struct db;

/* 1 done, 0 unknown person (err_r), -1 database error (err_r). */
int privacy_export(struct db *db, const char *email, FILE *out, const char **err_r);
int privacy_erase(struct db *db, const char *email, const char **err_r);

#endif
