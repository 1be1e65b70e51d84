/*
 * search.h — the archive index (SQLite FTS5, accents ignored): every
 * broadcast when it is released and every published bulletin entry.
 */
#ifndef MLISTD_SEARCH_H
#define MLISTD_SEARCH_H

#include <stdio.h>

struct db;

/* kind: "broadcast" or "bulletin"; ref: message token or "N/submission id";
 * date YYYY-MM-DD. */
int search_index(struct db *db, const char *kind, const char *ref, const char *date,
    const char *committee, const char *title, const char *body);
/* Best `limit` results for words (plain words, no FTS syntax needed: each
 * word is quoted), one block per result on out. Returns the number found,
 * -1 on error. */
int search_query(struct db *db, const char *words, int limit, FILE *out);

#endif
