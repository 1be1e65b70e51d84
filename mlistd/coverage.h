/*
 * coverage.h — can every committee be reached?
 *
 * coverage_tick() (daemon): for each broadcast released more than
 * coverage_alert_after ago and less than queue_lifetime ago, each targeted
 * committee with no reachable contact (no delivery sent, every delivery
 * failed or its contact disabled) gets ONE alert mail to the office naming
 * it, its contacts and their last errors (coverage_alert table).
 * coverage_report() (mlistctl coverage): the roster's health: committees
 * with every active contact reachable, with fewer than min_contacts active
 * reachable contacts, with none.
 */
#ifndef MLISTD_COVERAGE_H
#define MLISTD_COVERAGE_H

#include <stdio.h>

struct engine;
struct db;
struct config;

int coverage_tick(struct engine *e);
int coverage_report(struct db *db, const struct config *cf, FILE *out);

#endif
