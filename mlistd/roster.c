/*
 * roster.c — the roster rules over the database (see roster.h).
 *
 * Each change that must check a rule and then write (the contact limit, a
 * move between committees) runs in one BEGIN IMMEDIATE transaction, so two
 * mlistctl runs at once cannot both add a fourth contact.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "db.h"
#include "i18n.h"
#include "roster.h"
#include "util.h"

static __thread char roster_errbuf[512];

static int
roster_fail(const char **err_r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(roster_errbuf, sizeof roster_errbuf, fmt, ap);
	va_end(ap);
	if (err_r)
		*err_r = roster_errbuf;
	return code;
}

static int
roster_dberr(struct db *db, const char **err_r)
{
	return roster_fail(err_r, ROSTER_EDB, "%s: %s", tr("base de données", "database"),
	    db_errmsg(db));
}

void
roster_audit(struct db *db, const char *fmt, ...)
{
	va_list ap;
	char what[512];

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	db_run(db, "INSERT INTO audit (at, what) VALUES (?, ?)", "is", (int64_t)now(), what);
}

/* The code point of the UTF-8 sequence at p (*len_r bytes), or -1 when
 * invalid. */
static long
roster_utf8_at(const unsigned char *p, size_t *len_r)
{
	size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
	    (*p & 0xf8) == 0xf0 ? 4 : 0;
	long cp = n == 1 ? *p : n == 2 ? (*p & 0x1f) : n == 3 ? (*p & 0x0f) : (*p & 0x07);

	if (n == 0 || !utf8_valid((const char *)p, n))
		return -1;
	for (size_t i = 1; i < n; i++)
		cp = (cp << 6) | (p[i] & 0x3f);
	*len_r = n;
	return cp;
}

/* Characters a name may not hold: C0 controls (LF, CR, TAB...), DEL, C1
 * controls, and the bidirectional overrides that make text read otherwise
 * than it is stored (U+202A-U+202E, U+2066-U+2069). */
static int
roster_forbidden(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

int
roster_check_text(const char *what, const char *s, const char **err_r)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n;
	long cp;

	for (; *p; p += n) {
		if ((cp = roster_utf8_at(p, &n)) == -1)
			return roster_fail(err_r, ROSTER_EDATA, tr("%s\xc2\xa0: texte qui n'est pas de l'UTF-8"
			    " valide", "%s: text that is not valid UTF-8"), what);
		if (roster_forbidden(cp))
			return roster_fail(err_r, ROSTER_EDATA, tr("%s\xc2\xa0: caractère de contrôle interdit"
			    " (U+%04lX)", "%s: control character not allowed (U+%04lX)"), what, cp);
	}
	return ROSTER_OK;
}

int
roster_is_own_address(const struct config *cf, const char *addr)
{
	const char *own[] = { cf->national_address, cf->bulletin_address, cf->request_address,
	    cf->reply_prefix, cf->bounce_prefix, cf->confirm_prefix };
	char *local, *ext;
	int found = 0;

	if (addr == NULL || cf->domain == NULL || *cf->domain == '\0' ||
	    !addr_split_ours(addr, cf->domain, &local, &ext))
		return 0;
	for (size_t i = 0; !found && i < nitems(own); i++)
		found = own[i] && strcasecmp(local, own[i]) == 0;
	free(local);
	free(ext);
	return found;
}

static int
roster_own_address(const struct config *cf, const char *addr, const char **err_r)
{
	if (!roster_is_own_address(cf, addr))
		return ROSTER_OK;
	return roster_fail(err_r, ROSTER_EDATA, tr("%s est une adresse de la liste elle-même\xc2\xa0:"
	    " elle ne peut être ni contact ni expéditeur", "%s is one of the list's own addresses:"
	    " it can be neither a contact nor a sender"), addr);
}

/* The committee's free texts. */
static int
roster_check_committee(const char *name, const char *region, const char *department,
    const char *tags, const char **err_r)
{
	if (roster_check_text(tr("nom du comité", "committee name"), name, err_r) != ROSTER_OK ||
	    roster_check_text(tr("région", "region"), region, err_r) != ROSTER_OK ||
	    roster_check_text(tr("département", "department"), department, err_r) != ROSTER_OK)
		return ROSTER_EDATA;
	return roster_check_text(tr("étiquettes", "tags"), tags, err_r);
}

/* Normalised tag list: slugs, comma separated, duplicates dropped. */
static char *
roster_tags_norm(const char *tags)
{
	size_t n;
	char **list = config_list(tags ? tags : "", &n);
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		char *slug = str_slugify(list[i]);
		char *probe = xasprintf(",%s,", slug);
		char *have = xasprintf(",%s,", b.len ? buf_cstr(&b) : "");

		if (*slug && strstr(have, probe) == NULL) {
			if (b.len)
				buf_addc(&b, ',');
			buf_adds(&b, slug);
		}
		free(probe);
		free(have);
		free(slug);
	}
	config_list_free(list, n);
	return b.len ? buf_steal(&b) : xstrdup("");
}

static int
roster_tags_store(struct db *db, int64_t id, const char *tags)
{
	char *norm = roster_tags_norm(tags);
	size_t n;
	char **list = config_list(norm, &n);
	int rc = db_run(db, "DELETE FROM committee_tag WHERE committee_id = ?", "i", id);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = db_run(db, "INSERT INTO committee_tag (committee_id, tag) VALUES (?, ?)",
		    "is", id, list[i]);
	config_list_free(list, n);
	free(norm);
	return rc;
}

int
roster_committee_add(struct db *db, const char *name, const char *slug,
    const char *region, const char *department, const char *tags,
    int64_t *id_r, const char **err_r)
{
	char *s = slug && *slug ? str_slugify(slug) : str_slugify(name ? name : "");
	int64_t same;
	int rc = 0;

	if (name == NULL || str_is_empty(name) || *s == '\0') {
		free(s);
		return roster_fail(err_r, ROSTER_EDATA, "%s", tr("nom de comité vide",
		    "empty committee name"));
	}
	if (roster_check_committee(name, region, department, tags, err_r) != ROSTER_OK) {
		free(s);
		return ROSTER_EDATA;
	}
	if ((rc = db_int(db, &same, "SELECT id FROM committee WHERE slug = ?", "s", s)) != 0) {
		if (rc == -1) {
			free(s);
			return roster_dberr(db, err_r);
		}
		rc = roster_fail(err_r, ROSTER_EDATA, tr("le comité « %s » existe déjà",
		    "committee \"%s\" already exists"), s);
		free(s);
		return rc;
	}
	if (db_begin(db) == -1 ||
	    db_run(db, "INSERT INTO committee (slug, name, region, department, created) "
	    "VALUES (?, ?, ?, ?, ?)", "ssssi", s, name, region ? region : "",
	    department ? department : "", (int64_t)now()) == -1)
		goto dberr;
	*id_r = db_last_id(db);
	if (roster_tags_store(db, *id_r, tags) == -1)
		goto dberr;
	roster_audit(db, "committee add %s", s);
	if (db_commit(db) == -1)
		goto dberr;
	free(s);
	return ROSTER_OK;
dberr:
	rc = roster_dberr(db, err_r);
	db_rollback(db);
	free(s);
	return rc;
}

int64_t
roster_committee_lookup(struct db *db, const char *key)
{
	char *slug = str_slugify(key);
	int64_t id;
	struct db_stmt *st;

	db_int(db, &id, "SELECT id FROM committee WHERE slug = ? OR slug = ?", "ss", key, slug);
	if (id == 0 && (st = db_query(db, "SELECT id, name FROM committee", "")) != NULL) {
		while (id == 0 && db_step(st) == 1) {
			char *s = str_slugify(db_col_text(st, 1));

			if (strcmp(s, slug) == 0)
				id = db_col_int(st, 0);
			free(s);
		}
		db_finalize(&st);
	}
	free(slug);
	return id < 0 ? 0 : id;
}

#define COMMITTEE_COLS \
	"SELECT c.id, c.slug, c.name, c.region, c.department," \
	" (SELECT group_concat(tag, ',') FROM (SELECT tag FROM committee_tag t" \
	"   WHERE t.committee_id = c.id ORDER BY tag))," \
	" (SELECT count(*) FROM contact k WHERE k.committee_id = c.id)," \
	" (SELECT count(*) FROM contact k WHERE k.committee_id = c.id AND k.active)" \
	" FROM committee c "

static void
roster_committee_fill(struct db_stmt *st, struct roster_committee *c)
{
	c->id = db_col_int(st, 0);
	c->slug = xstrdup(db_col_text(st, 1));
	c->name = xstrdup(db_col_text(st, 2));
	c->region = xstrdup(db_col_text(st, 3));
	c->department = xstrdup(db_col_text(st, 4));
	c->tags = xstrdup(db_col_text(st, 5));
	c->ncontacts = (int)db_col_int(st, 6);
	c->nactive = (int)db_col_int(st, 7);
}

int
roster_committee_get(struct db *db, int64_t id, struct roster_committee *c)
{
	struct db_stmt *st = db_query(db, COMMITTEE_COLS "WHERE c.id = ?", "i", id);
	int rc;

	memset(c, 0, sizeof *c);
	if (st == NULL)
		return ROSTER_EDB;
	rc = db_step(st);
	if (rc == 1)
		roster_committee_fill(st, c);
	db_finalize(&st);
	return rc == 1 ? ROSTER_OK : rc == 0 ? ROSTER_EDATA : ROSTER_EDB;
}

int
roster_committees(struct db *db, enum roster_filter filter, long min_contacts,
    struct roster_committee **list_r, size_t *n_r)
{
	struct db_stmt *st = db_query(db, COMMITTEE_COLS
	    "ORDER BY c.region COLLATE fr, c.name COLLATE fr", "");
	struct roster_committee *list = NULL;
	size_t n = 0;
	int rc;

	if (st == NULL)
		return ROSTER_EDB;
	while ((rc = db_step(st)) == 1) {
		if (filter == ROSTER_UNDER && db_col_int(st, 7) >= min_contacts)
			continue;
		list = xrealloc(list, (n + 1) * sizeof *list);
		roster_committee_fill(st, &list[n++]);
	}
	db_finalize(&st);
	*list_r = list;
	*n_r = n;
	return rc == 0 ? ROSTER_OK : ROSTER_EDB;
}

void
roster_committee_clear(struct roster_committee *c)
{
	free(c->slug);
	free(c->name);
	free(c->region);
	free(c->department);
	free(c->tags);
	memset(c, 0, sizeof *c);
}

void
roster_committees_free(struct roster_committee *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		roster_committee_clear(&list[i]);
	free(list);
}

static int
roster_unknown_committee(const char *key, const char **err_r)
{
	return roster_fail(err_r, ROSTER_EDATA, tr("comité inconnu : %s",
	    "unknown committee: %s"), key);
}

int
roster_committee_update(struct db *db, int64_t id, const char *region,
    const char *department, const char *tags, const char **err_r)
{
	if (roster_check_committee(NULL, region, department, tags, err_r) != ROSTER_OK)
		return ROSTER_EDATA;
	if ((region && db_run(db, "UPDATE committee SET region = ? WHERE id = ?", "si",
	    region, id) == -1) ||
	    (department && db_run(db, "UPDATE committee SET department = ? WHERE id = ?", "si",
	    department, id) == -1) ||
	    (tags && roster_tags_store(db, id, tags) == -1))
		return roster_dberr(db, err_r);
	return ROSTER_OK;
}

int
roster_committee_rename(struct db *db, const char *key, const char *new_name,
    const char *new_slug, const char **err_r)
{
	int64_t id = roster_committee_lookup(db, key), other;
	char *slug;
	int rc = 0;

	if (id == 0)
		return roster_unknown_committee(key, err_r);
	slug = new_slug ? str_slugify(new_slug) : NULL;
	if (slug && *slug && (rc = db_int(db, &other, "SELECT id FROM committee WHERE slug = ?"
	    " AND id != ?", "si", slug, id)) == -1)
		rc = roster_dberr(db, err_r);
	else if (slug && (*slug == '\0' || rc == 1))
		rc = roster_fail(err_r, ROSTER_EDATA, tr("identifiant déjà pris ou vide : %s",
		    "slug empty or already taken: %s"), new_slug);
	else if (new_name && str_is_empty(new_name))
		rc = roster_fail(err_r, ROSTER_EDATA, "%s", tr("nom de comité vide",
		    "empty committee name"));
	else if (roster_check_committee(new_name, NULL, NULL, NULL, err_r) != ROSTER_OK)
		rc = ROSTER_EDATA;
	else if ((new_name && db_run(db, "UPDATE committee SET name = ? WHERE id = ?", "si",
	    new_name, id) == -1) || (slug && db_run(db, "UPDATE committee SET slug = ? "
	    "WHERE id = ?", "si", slug, id) == -1))
		rc = roster_dberr(db, err_r);
	else {
		roster_audit(db, "committee rename %s name=%s slug=%s", key,
		    new_name ? new_name : "-", slug ? slug : "-");
		rc = ROSTER_OK;
	}
	free(slug);
	return rc;
}

int
roster_committee_remove(struct db *db, const char *key, int force, const char **err_r)
{
	int64_t id = roster_committee_lookup(db, key);
	int64_t n;

	if (id == 0)
		return roster_unknown_committee(key, err_r);
	if (db_int(db, &n, "SELECT count(*) FROM contact WHERE committee_id = ?", "i", id) == -1)
		return roster_dberr(db, err_r);
	if (n > 0 && !force)
		return roster_fail(err_r, ROSTER_EDATA, tr("le comité %s a encore %lld contact(s) ;"
		    " retirez-les ou utilisez --force", "committee %s still has %lld contact(s);"
		    " remove them or use --force"), key, (long long)n);
	if (db_run(db, "DELETE FROM committee WHERE id = ?", "i", id) == -1)
		return roster_dberr(db, err_r);
	roster_audit(db, "committee remove %s", key);
	return ROSTER_OK;
}

int64_t
roster_active_count(struct db *db, int64_t committee_id)
{
	int64_t n;

	db_int(db, &n, "SELECT count(*) FROM contact WHERE committee_id = ? AND active", "i",
	    committee_id);
	return n;
}

static int
roster_contact_insert(struct db *db, const struct config *cf, int64_t cid,
    const char *key, const char *email, const char *name, const char **err_r)
{
	int64_t id;
	int rc = db_int(db, &id, "SELECT id FROM contact WHERE committee_id = ? AND email = ?",
	    "is", cid, email);

	if (rc == -1)
		return roster_dberr(db, err_r);
	if (rc == 1)
		return roster_fail(err_r, ROSTER_EDATA, tr("%s est déjà contact du comité %s",
		    "%s is already a contact of committee %s"), email, key);
	if (roster_active_count(db, cid) >= cf->max_contacts)
		return roster_fail(err_r, ROSTER_EDATA, tr("le comité %s a déjà %ld contacts "
		    "(le maximum) ; retirez-en un avant d'ajouter %s", "committee %s already has "
		    "%ld contacts (the maximum); remove one before adding %s"), key,
		    cf->max_contacts, email);
	if (db_run(db, "INSERT INTO contact (committee_id, name, email, added) VALUES (?, ?, ?, ?)",
	    "issi", cid, name ? name : "", email, (int64_t)now()) == -1)
		return roster_dberr(db, err_r);
	roster_audit(db, "contact add %s committee=%s", email, key);
	return ROSTER_OK;
}

static int
roster_bad_address(const char *email, const char **err_r)
{
	return roster_fail(err_r, ROSTER_EDATA, tr("adresse invalide : %s",
	    "invalid address: %s"), email ? email : "");
}

int
roster_contact_add(struct db *db, const struct config *cf, const char *key,
    const char *email, const char *name, const char **err_r)
{
	char *addr = email ? addr_normalize(email) : NULL;
	int64_t cid;
	int rc;

	if (addr == NULL)
		return roster_bad_address(email, err_r);
	if ((rc = roster_own_address(cf, addr, err_r)) != ROSTER_OK ||
	    (rc = roster_check_text(tr("nom du contact", "contact name"), name, err_r)) != ROSTER_OK) {
		free(addr);
		return rc;
	}
	if (db_begin(db) == -1) {
		free(addr);
		return roster_dberr(db, err_r);
	}
	if ((cid = roster_committee_lookup(db, key)) == 0)
		rc = roster_unknown_committee(key, err_r);
	else
		rc = roster_contact_insert(db, cf, cid, key, addr, name, err_r);
	if (rc == ROSTER_OK && db_commit(db) == -1)
		rc = roster_dberr(db, err_r);
	if (rc != ROSTER_OK)
		db_rollback(db);
	free(addr);
	return rc;
}

/* The one committee id holding email (key given or unique); 0 + error otherwise. */
static int64_t
roster_contact_committee(struct db *db, const char *email, const char *key, const char **err_r)
{
	int64_t n, cid;
	int rc;

	if (key) {
		if ((cid = roster_committee_lookup(db, key)) == 0)
			return roster_unknown_committee(key, err_r), 0;
		if ((rc = db_int(db, &n, "SELECT id FROM contact WHERE committee_id = ? AND"
		    " email = ?", "is", cid, email)) == -1)
			return roster_dberr(db, err_r), 0;
		if (rc == 0)
			return roster_fail(err_r, ROSTER_EDATA, tr("%s n'est pas contact du comité %s",
			    "%s is not a contact of committee %s"), email, key), 0;
		return cid;
	}
	if (db_int(db, &n, "SELECT count(*) FROM contact WHERE email = ?", "s", email) == -1 ||
	    (n == 1 && db_int(db, &cid, "SELECT committee_id FROM contact WHERE email = ?", "s",
	    email) == -1))
		return roster_dberr(db, err_r), 0;
	if (n == 0)
		return roster_fail(err_r, ROSTER_EDATA, tr("contact inconnu : %s",
		    "unknown contact: %s"), email), 0;
	if (n > 1)
		return roster_fail(err_r, ROSTER_EDATA, tr("%s est contact de plusieurs comités ;"
		    " précisez --committee", "%s is a contact of several committees;"
		    " give --committee"), email), 0;
	return cid;
}

int
roster_contact_remove(struct db *db, const char *email, const char *key, const char **err_r)
{
	int64_t cid = roster_contact_committee(db, email, key, err_r);

	if (cid == 0)
		return ROSTER_EDATA;
	if (db_run(db, "DELETE FROM contact WHERE committee_id = ? AND email = ?", "is",
	    cid, email) == -1)
		return roster_dberr(db, err_r);
	roster_audit(db, "contact remove %s", email);
	return ROSTER_OK;
}

int
roster_contact_move(struct db *db, const struct config *cf, const char *email,
    const char *from_key, const char *to_key, const char **err_r)
{
	int64_t from, to;
	char *name;
	int rc;

	if (db_begin(db) == -1)
		return roster_dberr(db, err_r);
	rc = ROSTER_EDATA;
	if ((from = roster_contact_committee(db, email, from_key, err_r)) == 0)
		goto out;
	if ((to = roster_committee_lookup(db, to_key)) == 0) {
		rc = roster_unknown_committee(to_key, err_r);
		goto out;
	}
	name = db_str(db, "SELECT name FROM contact WHERE committee_id = ? AND email = ?",
	    "is", from, email);
	if (db_run(db, "DELETE FROM contact WHERE committee_id = ? AND email = ?", "is",
	    from, email) == -1)
		rc = roster_dberr(db, err_r);
	else
		rc = roster_contact_insert(db, cf, to, to_key, email, name, err_r);
	free(name);
	if (rc == ROSTER_OK && db_commit(db) == -1)
		rc = roster_dberr(db, err_r);
out:
	if (rc != ROSTER_OK)
		db_rollback(db);
	return rc;
}

int
roster_contact_set_active(struct db *db, const char *email, int active,
    const char *reason, const char **err_r)
{
	/* Re-enabling starts afresh: the bounce score that disabled it is reset. */
	if (db_run(db, "UPDATE contact SET active = ?1, disabled_reason = ?2,"
	    " bounce_score = CASE WHEN ?1 THEN 0 ELSE bounce_score END,"
	    " bounce_updated = CASE WHEN ?1 THEN NULL ELSE bounce_updated END WHERE email = ?3",
	    "dss", active, active ? NULL : reason, email) == -1)
		return roster_dberr(db, err_r);
	if (db_changes(db) == 0)
		return roster_fail(err_r, ROSTER_EDATA, tr("contact inconnu : %s",
		    "unknown contact: %s"), email);
	roster_audit(db, "contact %s %s", active ? "enable" : "disable", email);
	return ROSTER_OK;
}

int
roster_contacts(struct db *db, const char *key, struct roster_contact **list_r,
    size_t *n_r, const char **err_r)
{
	int64_t cid = 0;
	struct db_stmt *st;
	struct roster_contact *list = NULL;
	size_t n = 0;
	int rc;

	if (key && (cid = roster_committee_lookup(db, key)) == 0)
		return roster_unknown_committee(key, err_r);
	st = db_query(db, "SELECT k.id, k.committee_id, c.slug, k.name, k.email, k.active,"
	    " k.added, k.disabled_reason FROM contact k JOIN committee c ON c.id = k.committee_id"
	    " WHERE ? = 0 OR k.committee_id = ? ORDER BY c.region COLLATE fr, c.name"
	    " COLLATE fr, k.name COLLATE fr, k.email", "ii", cid, cid);
	if (st == NULL)
		return roster_dberr(db, err_r);
	while ((rc = db_step(st)) == 1) {
		struct roster_contact *k;

		list = xrealloc(list, (n + 1) * sizeof *list);
		k = &list[n++];
		k->id = db_col_int(st, 0);
		k->committee_id = db_col_int(st, 1);
		k->committee_slug = xstrdup(db_col_text(st, 2));
		k->name = xstrdup(db_col_text(st, 3));
		k->email = xstrdup(db_col_text(st, 4));
		k->active = (int)db_col_int(st, 5);
		k->added = db_col_int(st, 6);
		k->disabled_reason = db_col_null(st, 7) ? NULL : xstrdup(db_col_text(st, 7));
	}
	db_finalize(&st);
	*list_r = list;
	*n_r = n;
	return rc == 0 ? ROSTER_OK : roster_dberr(db, err_r);
}

void
roster_contacts_free(struct roster_contact *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].committee_slug);
		free(list[i].name);
		free(list[i].email);
		free(list[i].disabled_reason);
	}
	free(list);
}

static int
roster_role_ok(const char *role, const char **err_r)
{
	if (role && (!strcmp(role, "national") || !strcmp(role, "editor")))
		return 1;
	roster_fail(err_r, ROSTER_EDATA, tr("rôle inconnu : %s (national ou editor)",
	    "unknown role: %s (national or editor)"), role ? role : "");
	return 0;
}

int
roster_sender_add(struct db *db, const struct config *cf, const char *email, const char *role,
    const char *name, const char **err_r)
{
	char *addr = email ? addr_normalize(email) : NULL;
	int rc = 0;

	if (addr == NULL)
		return roster_bad_address(email, err_r);
	if (!roster_role_ok(role, err_r))
		rc = ROSTER_EDATA;
	else if ((rc = roster_own_address(cf, addr, err_r)) != ROSTER_OK ||
	    (rc = roster_check_text(tr("nom", "name"), name, err_r)) != ROSTER_OK)
		;
	else if (roster_is_sender(db, addr, role))
		rc = roster_fail(err_r, ROSTER_EDATA, tr("%s a déjà le rôle %s",
		    "%s already has the role %s"), addr, i18n_state("role", role));
	else if (db_run(db, "INSERT INTO sender (email, role, name, added) VALUES (?, ?, ?, ?)",
	    "sssi", addr, role, name ? name : "", (int64_t)now()) == -1)
		rc = roster_dberr(db, err_r);
	else {
		roster_audit(db, "sender add %s role=%s", addr, role);
		rc = ROSTER_OK;
	}
	free(addr);
	return rc;
}

int
roster_sender_remove(struct db *db, const char *email, const char *role,
    const char **err_r)
{
	if (!roster_role_ok(role, err_r))
		return ROSTER_EDATA;
	if (db_run(db, "DELETE FROM sender WHERE email = ? AND role = ?", "ss", email, role) == -1)
		return roster_dberr(db, err_r);
	if (db_changes(db) == 0)
		return roster_fail(err_r, ROSTER_EDATA, tr("%s n'a pas le rôle %s",
		    "%s does not have the role %s"), email, i18n_state("role", role));
	roster_audit(db, "sender remove %s role=%s", email, role);
	return ROSTER_OK;
}

int
roster_is_sender(struct db *db, const char *email, const char *role)
{
	int64_t n;

	return db_int(db, &n, "SELECT count(*) FROM sender WHERE email = ? AND role = ?", "ss",
	    email, role) == 1 && n > 0;
}

int
roster_senders(struct db *db, const char *role, struct roster_sender **list_r, size_t *n_r)
{
	struct db_stmt *st = db_query(db, "SELECT email, role, name FROM sender WHERE ? IS NULL"
	    " OR role = ? ORDER BY role, email", "ss", role, role);
	struct roster_sender *list = NULL;
	size_t n = 0;
	int rc;

	if (st == NULL)
		return ROSTER_EDB;
	while ((rc = db_step(st)) == 1) {
		list = xrealloc(list, (n + 1) * sizeof *list);
		list[n].email = xstrdup(db_col_text(st, 0));
		list[n].role = xstrdup(db_col_text(st, 1));
		list[n++].name = xstrdup(db_col_text(st, 2));
	}
	db_finalize(&st);
	*list_r = list;
	*n_r = n;
	return rc == 0 ? ROSTER_OK : ROSTER_EDB;
}

void
roster_senders_free(struct roster_sender *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].email);
		free(list[i].role);
		free(list[i].name);
	}
	free(list);
}

char **
roster_office(struct db *db, const char *admin_address, size_t *n_r)
{
	struct roster_sender *s = NULL;
	size_t n = 0;
	char **list;

	if (admin_address && *admin_address) {
		list = xcalloc(2, sizeof *list);
		list[0] = xstrdup(admin_address);
		*n_r = 1;
		return list;
	}
	if (roster_senders(db, "national", &s, &n) != ROSTER_OK)
		n = 0;
	list = xcalloc(n + 1, sizeof *list);
	for (size_t i = 0; i < n; i++)
		list[i] = xstrdup(s[i].email);
	roster_senders_free(s, n);
	*n_r = n;
	return list;
}

void
roster_office_free(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

int
roster_is_known(struct db *db, const char *email)
{
	int64_t n;

	return db_int(db, &n, "SELECT (SELECT count(*) FROM contact WHERE email = ?) +"
	    " (SELECT count(*) FROM sender WHERE email = ?)", "ss", email, email) == 1 && n > 0;
}
