/*
 * report.c — an activity report mailed to bulletin@ becomes a submission
 * (see report.h).
 *
 * The steps, in order:
 *  1. parse (unparsable: -2); drop silently, with one log line, what no
 *     person wrote: a null envelope sender, our own X-Loop/List-Id or From,
 *     anything autoreply_classify() recognises;
 *  2. read title (entry.h: the Subject trimmed, a leading "Correction"
 *     noted and removed), the content (content_read: text parts in order with photo markers,
 *     every attachment's fate, photos decoded into masters here, outside
 *     the transaction) and the mail's date (Date header, local time);
 *  3. find the committee: bulletin+SLUG@, else the committee of the
 *     acknowledgement this mail replies to (same sender), else the sender
 *     as the active contact of exactly one committee; find the open issue;
 *     when either is missing the submission is 'held' with a reason; then
 *     the title (not our call's Subject) and the activity date, by the
 *     rules of entry.h;
 *  4. a correction (Subject "Correction ..." or a reply to one of our
 *     acknowledgements) replaces one earlier live submission (new,
 *     accepted or held) of the same committee for the same issue: the one
 *     acknowledged, else the latest with the same title, else the latest;
 *  5. in one transaction: the submission row, its files (the replaced
 *     one's first when kept: the inherited text's markers count them),
 *     the replaced row's state, the acknowledgement or hold notice. A
 *     reply to the photo-too-large notice of older versions still adds
 *     photos to the report it answers.
 *
 * Crash safety: the files are written durably (file_write_durable) before
 * the commit, so a crash leaves at worst orphan files under
 * data_dir/files/ID/, never a row without its file. A row id can be used
 * again after a rollback, so the directory of a new id is emptied first.
 * File names on disk are ours (N.ext); the name sent is only stored.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "autoreply.h"
#include "bulletin.h"
#include "config.h"
#include "content.h"
#include "csv.h"
#include "db.h"
#include "editor.h"
#include "engine.h"
#include "frdate.h"
#include "entry.h"
#include "log.h"
#include "mime.h"
#include "answer.h"
#include "notice.h"
#include "report.h"
#include "roster.h"
#include "trim.h"
#include "util.h"

#define REPORT_LIVE	"('new', 'accepted', 'held')"
/* The committee's live submissions for the issue, and the sender's held
 * without a committee (committee, sender, issue). */
#define REPORT_MINE	"(committee_id = ? OR (committee_id IS NULL AND sender = ?" \
	" COLLATE NOCASE)) AND issue_id = ? AND state IN " REPORT_LIVE

/* Why a report is held: the code stored for editors, and what the sender
 * reads (the hold notice's REASON; %s: the sender's address). */
struct report_hold {
	const char	*code;
	const char	*fr;
	const char	*en;
};

static const struct report_hold report_holds[] = {
	{ "unknown sender",
	  "Votre adresse (%s) n'est celle d'aucun contact de comité que nous connaissons\u00a0:"
	  " nous ne savons pas de quel comité vient ce compte rendu.",
	  "Your address (%s) is not the address of any committee contact we know:"
	  " we cannot tell which committee this report comes from." },
	{ "several committees",
	  "Votre adresse (%s) est celle d'un contact de plusieurs comités\u00a0:"
	  " nous ne savons pas pour lequel est ce compte rendu.",
	  "Your address (%s) belongs to a contact of several committees:"
	  " we cannot tell which one this report is for." },
	{ "no open issue",
	  "Aucun numéro du bulletin n'attend de comptes rendus en ce moment.",
	  "No issue of the bulletin is open for reports at the moment." },
};

enum report_hold_kind { HOLD_NONE = -1, HOLD_UNKNOWN, HOLD_SEVERAL, HOLD_NO_ISSUE };

struct report {
	struct engine		*e;
	const struct inmsg	*in;
	struct mime_msg		*m;
	char			*from;		/* who wrote, lower case */
	char			*msgid;		/* the report's Message-ID, no <> */
	char			*title;
	char			*body;
	char			 date[ENTRY_DATE_SIZE];	/* activity date */
	char			 mail_date[ENTRY_DATE_SIZE];	/* the mail's date */
	const char		*date_from;	/* "subject", "text", "mail", "reply" */
	int			 date_reply;	/* the text is only "Date : ..." */
	int			 correction;	/* Subject "Correction ..." */
	int64_t			 acked;		/* submission whose ack this answers */
	int			 add_photos;	/* it answers an old photo-too-large notice */
	const char		*contact;	/* the address found as a contact */
	int64_t			 committee;	/* 0: unknown */
	enum report_hold_kind	 hold;
	int			 have_issue;
	struct bulletin_issue	 bi;
	int64_t			 replaces;	/* 0: none */
	struct content		 c;		/* text with photo markers, files */
	int64_t			 id;
	int			 nphotos, nfiles;
	/* "- name" lines for the acknowledgement */
	struct buf		 photos, documents, files, unreadable;
	char			*dir;		/* data_dir/files/ID */
	char			*ack_id;	/* our notice's Message-ID, no <> */
};

static const char *
report_lang(const struct engine *e, const char *fr, const char *en)
{
	return strcmp(e->cf->language, "en") == 0 ? en : fr;
}

/* Takes s (NULL: "") and returns it as valid UTF-8: itself, or a new
 * string read as windows-1252 when it is not. */
static char *
report_utf8(char *s)
{
	char *t;

	if (s == NULL)
		return xstrdup("");
	if (utf8_valid(s, strlen(s)))
		return s;
	t = charset_cp1252_to_utf8(s, strlen(s));
	free(s);
	return t;
}

/* ---- 1. what is never a submission ---- */

static int
report_is_ours(const struct engine *e, const char *addr)
{
	char *bulletin = config_address(e->cf, e->cf->bulletin_address);
	int ours = addr && (strcasecmp(addr, e->list_addr) == 0 ||
	    strcasecmp(addr, e->request_addr) == 0 || strcasecmp(addr, bulletin) == 0);

	free(bulletin);
	return ours;
}

/* A reason to drop the mail silently, or NULL. */
static const char *
report_drop_reason(struct engine *e, const struct inmsg *in, const struct mime_msg *m)
{
	char *from = mime_from_address(m);
	const char *why = NULL;

	if (in->sender && (*in->sender == '\0' || strcmp(in->sender, "<>") == 0))
		why = "null sender";
	else if ((why = engine_loop_reason(e, m)) != NULL)
		;
	else if (report_is_ours(e, from))
		why = "loop: from ourselves";
	else if (autoreply_classify(m, in->sender, &why) == AUTO_NONE)
		why = NULL;
	free(from);
	return why;
}

/* ---- 2. title, text, date ---- */

static void
report_read_title(struct report *r)
{
	char *subject = report_utf8(mime_subject(r->m));

	r->title = entry_subject_title(subject, &r->correction);	/* may be "" */
	free(subject);
}

/* The text in order with its photo markers, and every attachment's fate
 * (photos normalised here, before the transaction). */
static void
report_read_content(struct report *r)
{
	content_read(r->m, MIME_MAX_SIZE, &r->c);
	r->body = report_utf8(xstrdup(r->c.body));
	r->date_reply = entry_is_date_reply(r->body);
}

static void
report_read_date(struct report *r)
{
	entry_mail_date(mime_date(r->m), r->mail_date);
	memcpy(r->date, r->mail_date, sizeof r->date);
	r->date_from = "mail";
}

/* The address to identify and answer: From, else the envelope sender. */
static void
report_read_from(struct report *r)
{
	char *from = mime_from_address(r->m);

	if (from == NULL || strchr(from, '@') == NULL || !utf8_valid(from, strlen(from))) {
		free(from);
		from = xstrdup(r->in->sender ? r->in->sender : "");
	}
	r->from = str_lower(from);
	r->msgid = mime_message_id(r->m);
	if (r->msgid && !utf8_valid(r->msgid, strlen(r->msgid))) {
		free(r->msgid);
		r->msgid = NULL;
	}
}


/* ---- 3. committee and issue ---- */

/* The submission acknowledged by our notice whose Message-ID is mid: the
 * acknowledgement's own "TOKEN@domain", or the photo notice's
 * "TOKEN-photo@domain" (then *photo_r = 1). 0 when none. */
static int64_t
report_ack_lookup(struct report *r, const char *mid, int *photo_r)
{
	const char *at = strrchr(mid, '@');
	size_t n = strlen("-photo"), pos = at ? (size_t)(at - mid) : 0;
	char *ack;
	int64_t id;

	*photo_r = pos > n && strncmp(mid + pos - n, "-photo", n) == 0;
	ack = *photo_r ? xasprintf("%.*s%s", (int)(pos - n), mid, mid + pos) : xstrdup(mid);
	db_int(r->e->db, &id, "SELECT max(id) FROM submission WHERE ack_message_id = ?", "s",
	    ack);
	free(ack);
	return id > 0 ? id : 0;
}

/* Which of our notices this mail answers: In-Reply-To, then References
 * (last id first). */
static void
report_find_acked(struct report *r)
{
	static const char *const names[] = { "In-Reply-To", "References" };

	for (size_t k = 0; r->acked == 0 && k < nitems(names); k++) {
		char *v = mime_header_raw(r->m, names[k]), *p;

		for (p = v ? strrchr(v, '<') : NULL; r->acked == 0 && p != NULL;) {
			char *end = strchr(p, '>');

			if (end && end > p + 1 && end - p < 1000) {
				char *mid = xstrndup(p + 1, (size_t)(end - p - 1));

				r->acked = report_ack_lookup(r, mid, &r->add_photos);
				free(mid);
			}
			*p = '\0';
			p = strrchr(v, '<');
		}
		free(v);
	}
}

/* The one committee whose active contact addr is; HOLD_* when not one. */
static enum report_hold_kind
report_contact_committee(struct report *r, const char *addr, int64_t *id_r)
{
	int64_t n;

	db_int(r->e->db, &n, "SELECT count(DISTINCT committee_id) FROM contact"
	    " WHERE email = ? AND active = 1", "s", addr);
	*id_r = 0;
	if (n == 1)
		db_int(r->e->db, id_r, "SELECT committee_id FROM contact WHERE email = ?"
		    " AND active = 1", "s", addr);
	return n == 1 && *id_r > 0 ? HOLD_NONE : n > 1 ? HOLD_SEVERAL : HOLD_UNKNOWN;
}

static void
report_find_committee(struct report *r)
{
	const char *env = r->in->sender;

	if (r->in->ext && *r->in->ext &&
	    (r->committee = roster_committee_lookup(r->e->db, r->in->ext)) > 0)
		return;
	if (r->acked > 0 && db_int(r->e->db, &r->committee, "SELECT committee_id FROM"
	    " submission WHERE id = ? AND sender = ? COLLATE NOCASE AND committee_id IS NOT"
	    " NULL", "is", r->acked, r->from) == 1 && r->committee > 0)
		return;
	r->contact = r->from;
	r->hold = report_contact_committee(r, r->from, &r->committee);
	if (r->hold == HOLD_UNKNOWN && env && *env && strcasecmp(env, r->from) != 0) {
		r->contact = env;
		r->hold = report_contact_committee(r, env, &r->committee);
	}
}

static int
report_find_issue(struct report *r)
{
	int rc = bulletin_open_issue(r->e, now(), &r->bi);

	if (rc == -1)
		return -1;
	r->have_issue = rc == 0;
	if (!r->have_issue && r->hold == HOLD_NONE)
		r->hold = HOLD_NO_ISSUE;
	return 0;
}

/* ---- 3b. title and activity date ---- */

static char *report_committee_name(struct report *r);

/* Title: the Subject, unless it is our call's (a reply to the call), then
 * the first short line of the text, else "Compte rendu — Committee". */
static void
report_settle_title(struct report *r)
{
	char *t, *name;
	const char *word = report_lang(r->e, "Compte rendu", "Report");

	if (*r->title && !entry_is_call_subject(r->title))
		return;
	if ((t = entry_title_from_text(r->body)) == NULL) {
		name = report_committee_name(r);
		t = *name ? xasprintf("%s — %s", word, name) : xstrdup(word);
		free(name);
	}
	free(r->title);
	r->title = t;
}

/* Activity date: entry.h's rules, within the open issue's period. */
static void
report_settle_date(struct report *r)
{
	r->date_from = entry_activity_date(r->title, r->body, r->date_reply, r->mail_date,
	    r->have_issue ? r->bi.period_start : "", r->date);
}

/* ---- 4. corrections ---- */

/* From submission id, follow the corrections to the live one (0: none). */
static int64_t
report_live_successor(struct report *r, int64_t id)
{
	for (int hops = 0; id > 0 && hops < 100; hops++) {
		char *state = db_str(r->e->db, "SELECT state FROM submission WHERE id = ?", "i", id);
		int live = state && (strcmp(state, "new") == 0 || strcmp(state, "accepted") == 0 ||
		    strcmp(state, "held") == 0);

		if (state && strcmp(state, "replaced") != 0) {
			free(state);
			return live ? id : 0;
		}
		free(state);
		db_int(r->e->db, &id, "SELECT max(id) FROM submission WHERE replaces = ?", "i",
		    id);
	}
	return 0;
}

/* The acknowledged submission, when it is this committee's (or was held
 * without one) for this issue, sent by the same address. */
static int64_t
report_replaced_acked(struct report *r)
{
	int64_t id;

	if (r->acked == 0)
		return 0;
	db_int(r->e->db, &id, "SELECT id FROM submission WHERE id = ? AND"
	    " (committee_id = ? OR (committee_id IS NULL AND sender = ? COLLATE NOCASE))"
	    " AND (issue_id = ? OR issue_id IS NULL)", "iisi", r->acked, r->committee,
	    r->from, r->bi.id);
	return report_live_successor(r, id > 0 ? id : 0);
}

static void
report_find_replaced(struct report *r)
{
	int64_t id;

	if (!(r->correction || r->acked) || r->committee == 0 || !r->have_issue)
		return;
	if ((id = report_replaced_acked(r)) == 0 && r->add_photos)
		return;		/* photos for a report that is gone: a new one */
	if (id == 0 && *r->title)
		db_int(r->e->db, &id, "SELECT max(id) FROM submission WHERE " REPORT_MINE
		    " AND title = ? COLLATE NOCASE", "isis", r->committee, r->from, r->bi.id,
		    r->title);
	if (id <= 0)
		db_int(r->e->db, &id, "SELECT max(id) FROM submission WHERE " REPORT_MINE,
		    "isi", r->committee, r->from, r->bi.id);
	r->replaces = id > 0 ? id : 0;
}

/* *field, when empty (or always), becomes column col of submission id. */
static void
report_inherit_text(struct report *r, char **field, const char *col, int64_t id,
    int always)
{
	char *sql, *old;

	if (id == 0 || (!always && **field))
		return;
	sql = xasprintf("SELECT %s FROM submission WHERE id = ?", col);	/* col: constant */
	old = db_str(r->e->db, sql, "i", id);
	free(sql);
	if (old && *old) {
		free(*field);
		*field = old;
	} else
		free(old);
}

/* What a correction does not bring again is kept from the replaced
 * submission: title, text, files; a reply to the photo notice only adds
 * photos. A reply to one of our notices has our Subject, so its title is
 * the earlier one (a new title comes with a "Correction" Subject). Then an
 * empty title becomes "(untitled)". */
static void
report_inherit(struct report *r)
{
	report_inherit_text(r, &r->title, "title", r->replaces ? r->replaces : r->acked,
	    r->acked != 0);
	if (r->replaces)
		report_inherit_text(r, &r->body, "body", r->replaces,
		    r->add_photos || r->date_reply);
	if (r->replaces && strcmp(r->date_from, "mail") == 0) {
		char *old = db_str(r->e->db, "SELECT activity_date FROM submission WHERE id = ?",
		    "i", r->replaces);

		if (old && strlen(old) == 10) {
			memcpy(r->date, old, sizeof r->date);
			r->date_from = "kept";
		}
		free(old);
	}
	if (*r->title == '\0') {
		free(r->title);
		r->title = xstrdup(report_lang(r->e, "(sans titre)", "(untitled)"));
	}
}

/* Attachments this mail brought that are kept (logos skipped). */
static int
report_new_files(const struct report *r)
{
	int n = 0;

	for (size_t i = 0; i < r->c.nfiles; i++)
		n += r->c.files[i].kind != CONTENT_SKIP;
	return n;
}

/* One line of the acknowledgement's lists, by the file's kind. */
static void
report_list_add(struct report *r, const char *kind, const char *name, const char *dims)
{
	if (strcmp(kind, "photo") == 0) {
		buf_printf(&r->photos, "- %s%s\n", name, dims ? dims : "");
		r->nphotos++;
		return;
	}
	buf_printf(strcmp(kind, "document") == 0 ? &r->documents : &r->files, "- %s\n", name);
	r->nfiles++;
}

/* The replaced submission's file rows, for the new one (same files on
 * disk), when the correction brought no file of its own or only adds
 * photos. They come first: the inherited text's markers count them. */
static int
report_keep_files(struct report *r)
{
	struct db_stmt *st;

	if (r->replaces == 0 || (!r->add_photos && report_new_files(r) > 0))
		return 0;
	if (db_run(r->e->db, "INSERT INTO submission_file (submission_id, filename,"
	    " content_type, is_photo, size, path, kind, width, height) SELECT ?, filename,"
	    " content_type, is_photo, size, path, kind, width, height FROM submission_file"
	    " WHERE submission_id = ? ORDER BY id", "ii", r->id, r->replaces) == -1)
		return -1;
	st = db_query(r->e->db, "SELECT filename, kind FROM submission_file WHERE"
	    " submission_id = ? ORDER BY id", "i", r->replaces);
	while (st && db_step(st) == 1) {
		const char *kind = db_col_text(st, 1);

		report_list_add(r, kind, db_col_text(st, 0), NULL);
	}
	db_finalize(&st);
	return 0;
}

/* ---- 5. storing ---- */

static int
report_insert(struct report *r)
{
	const char *state = r->hold == HOLD_NONE ? "new" : "held";
	const char *reason = r->hold == HOLD_NONE ? "" : report_holds[r->hold].code;

	if (db_run(r->e->db, "INSERT INTO submission (issue_id, committee_id, sender,"
	    " message_id, title, body, activity_date, state, hold_reason, received, replaces)"
	    " VALUES (NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0))",
	    "iisssssssii", r->have_issue ? r->bi.id : (int64_t)0, r->committee, r->from,
	    r->msgid ? r->msgid : "", r->title, r->body, r->date, state, reason,
	    (int64_t)now(), r->replaces) == -1)
		return -1;
	r->id = db_last_id(r->e->db);
	if (r->replaces && db_run(r->e->db, "UPDATE submission SET state = 'replaced' WHERE"
	    " id = ?", "i", r->replaces) == -1)
		return -1;
	return 0;
}

/* Remove every file of dir (orphans of a rolled-back attempt), then dir
 * itself when rmdir_too. */
static void
report_clear_dir(const char *dir, int rmdir_too)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	if (rmdir_too)
		rmdir(dir);
}

/* Our file extension: from the type, else the sent name's if plain. */
static const char *
report_ext(const char *type, const char *filename, char *buf, size_t size)
{
	static const char *const known[][2] = {
		{ "image/jpeg", "jpg" }, { "image/png", "png" }, { "image/gif", "gif" },
		{ "application/pdf", "pdf" }, { "application/msword", "doc" },
		{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		  "docx" },
		{ "application/vnd.oasis.opendocument.text", "odt" }, { "text/plain", "txt" },
	};
	const char *dot = filename ? strrchr(filename, '.') : NULL;
	size_t n = 0;

	for (size_t i = 0; i < nitems(known); i++)
		if (strcmp(type, known[i][0]) == 0)
			return known[i][1];
	if (dot)
		for (dot++; n + 1 < size && n < 5 && isalnum((unsigned char)dot[n]); n++)
			buf[n] = (char)tolower((unsigned char)dot[n]);
	if (n == 0 || (dot && dot[n] != '\0'))
		return "bin";
	buf[n] = '\0';
	return buf;
}

/* The name as sent, printable UTF-8, or "attachment-N". */
static char *
report_filename(const struct mime_attachment *a, int n)
{
	char *s;

	if (a->filename == NULL || *a->filename == '\0')
		return xasprintf("%s-%d", "attachment", n);
	s = report_utf8(xstrdup(a->filename));
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

/* " (1536 × 2048)": a photo's size as the acknowledgement shows it. */
static char *
report_dims(const struct content_file *f)
{
	return f->kind == CONTENT_PHOTO ? xasprintf(" (%d × %d)", f->width, f->height) : NULL;
}

static int
report_save_one(struct report *r, const struct content_file *f, int n)
{
	char extbuf[8], *name = report_filename(f->att, n), *dims = report_dims(f);
	const char *ext = report_ext(f->content_type, f->att->filename, extbuf, sizeof extbuf);
	char *rel = xasprintf("files/%lld/%d.%s", (long long)r->id, n, ext);
	char *path = xasprintf("%s/%s", r->e->cf->data_dir, rel);
	int rc = file_write_durable(path, f->data, f->len);

	if (rc == -1)
		log_warn("submission=%lld cannot write %s", (long long)r->id, path);
	else
		rc = db_run(r->e->db, "INSERT INTO submission_file (submission_id, filename,"
		    " content_type, is_photo, size, path, kind, width, height) VALUES"
		    " (?, ?, ?, ?, ?, ?, ?, ?, ?)", "issdissdd", r->id, name, f->content_type,
		    f->kind == CONTENT_PHOTO, (int64_t)f->len, rel, f->kind_name, f->width,
		    f->height);
	if (rc == 0 && f->unreadable) {
		buf_printf(&r->unreadable, "- %s\n", name);
		r->nfiles++;
		log_info("report submission=%lld file=%d status=unreadable reason=\"%s\"",
		    (long long)r->id, n, f->why);
	} else if (rc == 0)
		report_list_add(r, f->kind_name, name, dims);
	free(name);
	free(dims);
	free(rel);
	free(path);
	return rc;
}

static int
report_save_files(struct report *r)
{
	int n = 0;

	r->dir = xasprintf("%s/files/%lld", r->e->cf->data_dir, (long long)r->id);
	if (report_new_files(r) == 0)
		return 0;
	if (mkdir_p(r->dir, 0750) == -1) {
		log_warn("submission=%lld cannot create %s", (long long)r->id, r->dir);
		return -1;
	}
	report_clear_dir(r->dir, 0);
	for (size_t i = 0; i < r->c.nfiles; i++)
		if (r->c.files[i].kind != CONTENT_SKIP &&
		    report_save_one(r, &r->c.files[i], ++n) == -1)
			return -1;
	return 0;
}

/* ---- notices ---- */


static char *
report_committee_name(struct report *r)
{
	char *name = r->committee ? db_str(r->e->db, "SELECT name FROM committee WHERE id = ?",
	    "i", r->committee) : NULL;

	return name ? name : xstrdup("");
}

/* "- Name : bulletin+slug@domain" for each committee of the sender. */
static char *
report_committee_addresses(struct report *r)
{
	struct db_stmt *st = db_query(r->e->db, "SELECT DISTINCT c.name, c.slug FROM committee c"
	    " JOIN contact k ON k.committee_id = c.id WHERE k.email = ? AND k.active = 1"
	    " ORDER BY c.name", "s", r->contact ? r->contact : r->from);
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%s\n", report_lang(r->e, "Pour dire de quel comité il s'agit, écrivez"
	    " à l'adresse du comité\u00a0:", "To say which committee it is, write to the"
	    " committee's address:"));
	while (st && db_step(st) == 1) {
		char *addr = engine_addr(r->e, r->e->cf->bulletin_address, db_col_text(st, 1));

		buf_printf(&b, "- %s%s %s\n", db_col_text(st, 0), report_lang(r->e, "\u00a0:",
		    ":"), addr);
		free(addr);
	}
	db_finalize(&st);
	buf_adds(&b, "");
	return buf_steal(&b);
}

/* The length of a photo list line's name (before " (W × H)" and the end). */
static size_t
report_name_len(const char *line)
{
	size_t n = strcspn(line, "\n");
	const char *dims = memmem(line, n, " (", 2), *next;

	while (dims && (next = memmem(dims + 2, n - (size_t)(dims + 2 - line), " (", 2)))
		dims = next;
	return dims ? (size_t)(dims - line) : n;
}

/* The text as the sender reads it in our notice: each photo marker
 * becomes "[Photo N : NAME]" (NAME from the photo list). */
static char *
report_notice_text(struct report *r)
{
	struct buf b;
	const char *word = report_lang(r->e, "Photo", "Photo"), *colon = report_lang(r->e,
	    "\u00a0:", ":");

	buf_init(&b);
	buf_add(&b, "", 0);
	for (const char *p = r->body; *p;) {
		size_t n = strcspn(p, "\n");
		int k = content_marker(p, n);
		const char *name = r->photos.data;

		for (int i = 1; k > 0 && name && i < k; i++)
			name = (name = strchr(name, '\n')) ? name + 1 : NULL;
		if (k > 0 && name && strncmp(name, "- ", 2) == 0)
			buf_printf(&b, "[%s %d%s %.*s]\n", word, k, colon,
			    (int)report_name_len(name + 2), name + 2);
		else if (k > 0)
			buf_printf(&b, "[%s %d]\n", word, k);
		else {
			buf_add(&b, p, n);
			buf_addc(&b, '\n');
		}
		p += n + (p[n] == '\n');
	}
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return buf_steal(&b);
}

/* Everything a notice about this report may say. */
struct report_vars {
	char	*bulletin, *msgid, *in_reply_to, *committee, *reason, *addresses, *text;
	char	 issue[16], deadline[64], date[64];
	const char *v[48];
};

/* A "- name" list without its last newline. */
static const char *
report_list(struct buf *b, const char *none)
{
	if (b->len == 0)
		return none;
	if (b->data[b->len - 1] == '\n')
		b->data[--b->len] = '\0';
	return b->data;
}

static void
report_vars_build(struct report *r, struct report_vars *rv)
{
	const char *none = report_lang(r->e, "(aucune)", "(none)");
	size_t n = 0;

	memset(rv, 0, sizeof *rv);
	rv->bulletin = config_address(r->e->cf, r->e->cf->bulletin_address);
	rv->msgid = xasprintf("<%s>", r->ack_id);
	rv->in_reply_to = r->msgid ? xasprintf("<%s>", r->msgid) : NULL;
	rv->committee = report_committee_name(r);
	rv->reason = r->hold == HOLD_NONE ? xstrdup("") : xasprintf(report_lang(r->e,
	    report_holds[r->hold].fr, report_holds[r->hold].en), r->from);
	rv->addresses = r->hold == HOLD_SEVERAL ? report_committee_addresses(r) : xstrdup("");
	snprintf(rv->issue, sizeof rv->issue, "%d", r->have_issue ? r->bi.number : 0);
	frdate_long(strcmp(r->e->cf->language, "en") == 0, r->have_issue ?
	    r->bi.deadline : "", rv->deadline, sizeof rv->deadline);
	frdate_long(strcmp(r->e->cf->language, "en") == 0, r->date, rv->date,
	    sizeof rv->date);
	rv->text = report_notice_text(r);
#define V(k, val) (rv->v[n++] = (k), rv->v[n++] = (val))
	V("TITLE", r->title);
	V("TEXT", *rv->text ? rv->text : report_lang(r->e, "(pas de texte)", "(no text)"));
	V("DATE", rv->date);
	V("DATE_HOW", entry_date_how(r->date_from, strcmp(r->e->cf->language, "en") == 0));
	V("COMMITTEE", rv->committee);
	V("ISSUE", rv->issue);
	V("DEADLINE", rv->deadline);
	V("BULLETIN_ADDRESS", rv->bulletin);
	V("SENDER", r->from);
	V("REASON", rv->reason);
	V("COMMITTEE_ADDRESSES", rv->addresses);
	V("PHOTOS", report_list(&r->photos, none));
	V("DOCUMENTS", report_list(&r->documents, none));
	V("FILES", report_list(&r->files, none));
	V("UNREADABLE", report_list(&r->unreadable, ""));
	if (r->photos.len)
		V("#PHOTO_LIST", "");
	if (r->documents.len)
		V("#DOCUMENT_LIST", "");
	if (r->files.len)
		V("#FILE_LIST", "");
	if (r->unreadable.len)
		V("#UNREADABLE_LIST", "");
	if (r->c.overflow)
		V("#DROPPED", "");
	V("REPLACED", r->replaces ? report_lang(r->e, "Il remplace celui que vous aviez envoyé"
	    " avant.", "It replaces the one you sent before.") : "");
	V("ATTACHMENTS_DROPPED", r->c.overflow ? report_lang(r->e, "Vos pièces jointes étaient"
	    " trop lourdes ensemble\u00a0: aucune n'a été gardée.", "Your attachments were too large"
	    " together: none was kept.") : "");
#undef V
	rv->v[n] = NULL;
}

static void
report_vars_free(struct report_vars *rv)
{
	free(rv->bulletin);
	free(rv->msgid);
	free(rv->in_reply_to);
	free(rv->committee);
	free(rv->reason);
	free(rv->addresses);
	free(rv->text);
}

/* Queue one notice; a failure (logged by notice.c) undoes the submission
 * like any failure of a handler (engine.h): -1, retried later. */
static int
report_notice(struct report *r, const char *name, const char *const *vars,
    const struct notice_opts *o)
{
	return answer_notice(r->e, r->in->sender, r->m, r->from, name, vars, o) == -1 ? -1 : 0;
}

/* The acknowledgement (or hold notice). */
static int
report_notify(struct report *r)
{
	struct report_vars rv;
	struct notice_opts o = { 0 };
	char token[33];
	int rc;

	engine_token(token, 16);
	r->ack_id = xasprintf("%s@%s", token, r->e->cf->domain);
	if (db_run(r->e->db, "UPDATE submission SET ack_message_id = ? WHERE id = ?", "si",
	    r->ack_id, r->id) == -1)
		return -1;
	report_vars_build(r, &rv);
	o.from = rv.bulletin;
	o.message_id = rv.msgid;
	o.in_reply_to = rv.in_reply_to;
	rc = report_notice(r, r->hold == HOLD_NONE ? "report-ack" : "report-held", rv.v, &o);
	report_vars_free(&rv);
	return rc;
}

/* ---- the whole ---- */

static void
report_log(const struct report *r)
{
	log_info("report spoolid=%s submission=%lld committee=%lld from=%s state=%s"
	    " photos=%d files=%d date=%s date_from=%s%s%s%s%s", r->in->spool_id ?
	    r->in->spool_id : "-",
	    (long long)r->id, (long long)r->committee, r->from,
	    r->hold == HOLD_NONE ? "new" : "held", r->nphotos, r->nfiles, r->date, r->date_from,
	    r->hold == HOLD_NONE ? "" : " reason=\"", r->hold == HOLD_NONE ? "" :
	    report_holds[r->hold].code, r->hold == HOLD_NONE ? "" : "\"",
	    r->unreadable.len ? " unreadable=yes" : "");
	if (r->replaces)
		log_info("report submission=%lld replaces=%lld", (long long)r->id,
		    (long long)r->replaces);
}

static void
report_free(struct report *r)
{
	mime_free(&r->m);
	content_free(&r->c);
	free(r->from);
	free(r->msgid);
	free(r->title);
	free(r->body);
	free(r->dir);
	free(r->ack_id);
	buf_free(&r->photos);
	buf_free(&r->documents);
	buf_free(&r->files);
	buf_free(&r->unreadable);
}

/* Steps 3 to 5, inside the caller's transaction. */
static int
report_store(struct report *r)
{
	report_find_acked(r);
	report_find_committee(r);
	if (report_find_issue(r) == -1)
		return -1;
	report_settle_title(r);
	report_settle_date(r);
	report_find_replaced(r);
	report_inherit(r);
	if (report_insert(r) == -1 || report_keep_files(r) == -1 || report_save_files(r) == -1)
		return -1;
	return report_notify(r);
}

/* engine_txn_fn: steps 3 to 5 in engine_run's transaction. */
static enum engine_result
report_txn(struct engine *e, const struct inmsg *in, void *arg, const char **error_r)
{
	(void)in;
	return report_store(arg) == 0 ? ENGINE_DONE : engine_dberr(e, error_r);
}

/* engine_handler_fn: an editor's commands, in engine_run's transaction. */
static enum engine_result
report_editor_txn(struct engine *e, const struct inmsg *in, void *arg, const char **error_r)
{
	return editor_command_mail(e, in, arg, error_r);
}

static enum engine_result
report_file(struct report *r, const char **error_r)
{
	enum engine_result res;

	buf_init(&r->photos);
	buf_init(&r->documents);
	buf_init(&r->files);
	buf_init(&r->unreadable);
	report_read_from(r);
	report_read_title(r);
	report_read_content(r);	/* photos decoded here, outside the transaction */
	report_read_date(r);
	res = engine_run(r->e, r->in, report_txn, r, error_r);
	if (res == ENGINE_DONE && r->id > 0)
		report_log(r);
	else if (res != ENGINE_DONE && r->dir)
		report_clear_dir(r->dir, 1);
	return res;
}

enum engine_result
report_accept(struct engine *e, const struct inmsg *in, const char **error_r)
{
	struct report r = { .e = e, .in = in, .hold = HOLD_NONE };
	enum engine_result res = ENGINE_DONE;
	const char *why;

	if (mime_parse_borrowed(in->data, in->len, &r.m, error_r) == -1)
		return ENGINE_CORRUPT;
	if (editor_is_command_mail(e, in, r.m))
		res = engine_run(e, in, report_editor_txn, r.m, error_r);
	else if ((why = report_drop_reason(e, in, r.m)) != NULL)
		log_info("report spoolid=%s sender=%s status=dropped reason=\"%s\"",
		    in->spool_id ? in->spool_id : "-", in->sender ? in->sender : "", why);
	else
		res = report_file(&r, error_r);
	report_free(&r);
	return res;
}
