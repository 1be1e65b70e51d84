/*
 * import.c — CSV roster import and export (see import.h). csv.c does the
 * dialect and charset work; this file maps columns and applies the rows
 * through roster.c, so the rules (max_contacts, valid addresses) are the
 * same as for mlistctl contact add.
 */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "csv.h"
#include "db.h"
#include "i18n.h"
#include "import.h"
#include "roster.h"
#include "util.h"

enum col { COL_COMMITTEE, COL_REGION, COL_DEPARTMENT, COL_NAME, COL_EMAIL, COL_TAGS, NCOLS };

/* Header names after folding (lower case, no accents, no spaces/punctuation). */
static const char *const col_names[NCOLS][6] = {
	[COL_COMMITTEE]	 = { "committee", "comite", "comites", "committeename", "nomducomite", NULL },
	[COL_REGION]	 = { "region", NULL },
	[COL_DEPARTMENT] = { "department", "departement", "dept", "dep", NULL },
	[COL_NAME]	 = { "name", "nom", "contact", "nomprenom", "prenomnom", NULL },
	[COL_EMAIL]	 = { "email", "courriel", "mail", "adresse", "adressemail", "adressecourriel" },
	[COL_TAGS]	 = { "tags", "tag", "etiquettes", "etiquette", "mots-cles", "motscles" },
};

static int
import_col(const char *header)
{
	char *f = str_fold(header), *w = f;

	for (char *r = f; *r; r++)	/* keep letters and digits only */
		if ((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9'))
			*w++ = *r;
	*w = '\0';
	for (int c = 0; c < NCOLS; c++)
		for (int i = 0; i < 6 && col_names[c][i]; i++)
			if (strcmp(f, col_names[c][i]) == 0) {
				free(f);
				return c;
			}
	free(f);
	return -1;
}

static int
import_map(const struct csv *csv, int map[NCOLS], const char **err_r)
{
	for (int c = 0; c < NCOLS; c++)
		map[c] = -1;
	for (size_t i = 0; i < csv_nfields(csv, 0); i++) {
		int c = import_col(csv_field(csv, 0, i));

		if (c >= 0 && map[c] == -1)
			map[c] = (int)i;
	}
	if (map[COL_COMMITTEE] == -1 || map[COL_EMAIL] == -1) {
		*err_r = tr("ligne 1 : il faut au moins les colonnes « comité » et « courriel »",
		    "line 1: the header needs at least the columns \"committee\" and \"email\"");
		return -1;
	}
	return 0;
}

static const char *
import_field(const struct csv *csv, size_t row, const int map[NCOLS], enum col c)
{
	return map[c] == -1 ? NULL : csv_field(csv, row, (size_t)map[c]);
}

/* The committee of a row: created, or updated with the row's details. */
static int64_t
import_committee(struct db *db, const struct csv *csv, size_t row, const int map[NCOLS],
    FILE *report, struct import_stats *st, const char **err_r)
{
	const char *name = import_field(csv, row, map, COL_COMMITTEE);
	const char *region = import_field(csv, row, map, COL_REGION);
	const char *dept = import_field(csv, row, map, COL_DEPARTMENT);
	const char *tags = import_field(csv, row, map, COL_TAGS);
	int64_t id = roster_committee_lookup(db, name);
	struct roster_committee c;

	if (id == 0) {
		if (roster_committee_add(db, name, NULL, region, dept, tags, &id, err_r) != ROSTER_OK)
			return -1;
		fprintf(report, "+ %s %s\n", tr("comité", "committee"), name);
		st->committees_added++;
		return id;
	}
	if (roster_committee_get(db, id, &c) != ROSTER_OK)
		return -1;
	if ((region && strcmp(region, c.region)) || (dept && strcmp(dept, c.department))) {
		if (roster_committee_update(db, id, region, dept, NULL, err_r) != ROSTER_OK)
			id = -1;
		else {
			fprintf(report, "~ %s %s\n", tr("comité", "committee"), c.slug);
			st->committees_updated++;
		}
	}
	if (id > 0 && tags && *tags)
		roster_committee_update(db, id, NULL, NULL, tags, err_r);
	roster_committee_clear(&c);
	return id;
}

static void
import_bad(FILE *report, struct import_stats *st, size_t line, const char *why)
{
	fprintf(report, "! %s %zu : %s\n", tr("ligne", "line"), line, why);
	st->bad_rows++;
}

static int
import_row(struct db *db, const struct config *cf, const struct csv *csv, size_t row,
    const int map[NCOLS], FILE *report, struct import_stats *st)
{
	const char *email = import_field(csv, row, map, COL_EMAIL);
	const char *name = import_field(csv, row, map, COL_NAME);
	const char *cname = import_field(csv, row, map, COL_COMMITTEE);
	const char *err = NULL;
	char *addr, *old;
	int64_t cid;
	int rc = 0;

	if (str_is_empty(cname))
		return import_bad(report, st, csv_line(csv, row), tr("comité manquant",
		    "missing committee")), 0;
	if (roster_check_text(tr("nom du contact", "contact name"), name, &err) != ROSTER_OK ||
	    roster_check_text(tr("comité", "committee"), cname, &err) != ROSTER_OK)
		return import_bad(report, st, csv_line(csv, row), err), 0;
	if ((addr = addr_normalize(email ? email : "")) == NULL) {
		char *why = xasprintf(tr("adresse invalide : %s", "invalid address: %s"), email);

		import_bad(report, st, csv_line(csv, row), why);
		free(why);
		return 0;
	}
	if ((cid = import_committee(db, csv, row, map, report, st, &err)) <= 0) {
		import_bad(report, st, csv_line(csv, row), err ? err : "?");
		free(addr);
		return 0;
	}
	old = db_str(db, "SELECT name FROM contact WHERE committee_id = ? AND email = ?",
	    "is", cid, addr);
	if (old == NULL) {
		char *slug = db_str(db, "SELECT slug FROM committee WHERE id = ?", "i", cid);

		rc = roster_contact_add(db, cf, slug, addr, name, &err);
		if (rc == ROSTER_EDATA)
			import_bad(report, st, csv_line(csv, row), err);
		else if (rc == ROSTER_OK) {
			fprintf(report, "+ contact %s (%s)\n", addr, slug);
			st->contacts_added++;
		}
		free(slug);
	} else if (name && *name && strcmp(old, name) != 0) {
		rc = db_run(db, "UPDATE contact SET name = ? WHERE committee_id = ? AND email = ?",
		    "sis", name, cid, addr) == -1 ? ROSTER_EDB : 0;
		fprintf(report, "~ contact %s : %s\n", addr, name);
		st->contacts_updated++;
	} else
		st->contacts_unchanged++;
	free(old);
	free(addr);
	return rc == ROSTER_EDB ? -1 : 0;
}

int
import_roster(struct db *db, const struct config *cf, const char *data, size_t len,
    int dry_run, FILE *report, struct import_stats *st, const char **err_r)
{
	struct csv *csv;
	int map[NCOLS], rc = 0;

	memset(st, 0, sizeof *st);
	if (csv_parse(data, len, &csv, err_r) == -1)
		return -1;
	if (import_map(csv, map, err_r) == -1) {
		csv_free(&csv);
		return -1;
	}
	/* One transaction; roster.c's own transactions nest inside it. */
	if (db_begin(db) == -1) {
		*err_r = db_errmsg(db);
		csv_free(&csv);
		return -2;
	}
	for (size_t row = 1; row < csv_nrows(csv) && rc == 0; row++)
		if (import_row(db, cf, csv, row, map, report, st) == -1) {
			*err_r = db_errmsg(db);
			rc = -2;
		}
	if (rc != 0 || dry_run)
		db_rollback(db);
	else if (db_commit(db) == -1) {
		*err_r = db_errmsg(db);
		db_rollback(db);
		rc = -2;
	}
	csv_free(&csv);
	return rc;
}

int
export_roster(struct db *db, FILE *out, const char **err_r)
{
	struct roster_contact *list;
	struct buf b;
	size_t n;
	const char *hdr_fr[] = { "comité", "région", "département", "nom", "courriel", "tags" };
	const char *hdr_en[] = { "committee", "region", "department", "name", "email", "tags" };

	if (roster_contacts(db, NULL, &list, &n, err_r) != ROSTER_OK)
		return -1;
	buf_init(&b);
	csv_write_row(&b, strcmp(i18n_language(), "en") ? hdr_fr : hdr_en, NCOLS, ';');
	for (size_t i = 0; i < n; i++) {
		struct roster_committee c;
		const char *f[NCOLS];

		if (roster_committee_get(db, list[i].committee_id, &c) != ROSTER_OK)
			continue;
		f[COL_COMMITTEE] = c.name;
		f[COL_REGION] = c.region;
		f[COL_DEPARTMENT] = c.department;
		f[COL_NAME] = list[i].name;
		f[COL_EMAIL] = list[i].email;
		f[COL_TAGS] = c.tags;
		csv_write_row(&b, f, NCOLS, ';');
		roster_committee_clear(&c);
	}
	fwrite(b.data ? b.data : "", 1, b.len, out);
	buf_free(&b);
	roster_contacts_free(list, n);
	return 0;
}
