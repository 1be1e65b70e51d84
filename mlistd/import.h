/*
 * import.h — the office's spreadsheet (CSV) in and out of the roster.
 *
 * One row per contact: committee, region, department, name, email, tags
 * (headers in French or English, any order, accents and case ignored).
 * Rows of one committee repeat its region, department and tags.
 * Re-importing updates: a known committee gets the file's region,
 * department and tags; a known contact its name; only new contacts are
 * added. A bad row is reported with its line number and skipped; the rest
 * is imported. With dry_run nothing is written (one transaction, rolled back).
 */
#ifndef MLISTD_IMPORT_H
#define MLISTD_IMPORT_H

#include <stddef.h>
#include <stdio.h>

struct db;
struct config;

struct import_stats {
	int	committees_added;
	int	committees_updated;
	int	contacts_added;
	int	contacts_updated;
	int	contacts_unchanged;
	int	bad_rows;
};

/* Returns 0 when the file could be read (even with bad rows), -1 when it
 * cannot be used at all (err_r), -2 on a database failure (err_r).
 * Each change and each bad row is one line on report. */
int import_roster(struct db *db, const struct config *cf, const char *data, size_t len,
    int dry_run, FILE *report, struct import_stats *st, const char **err_r);
/* Write the roster in the same format (delimiter ';', UTF-8, header in the
 * configured language). */
int export_roster(struct db *db, FILE *out, const char **err_r);

#endif
