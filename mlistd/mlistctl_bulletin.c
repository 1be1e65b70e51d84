/*
 * mlistctl_bulletin.c — the bulletin commands: the calendar (list, show,
 * open, close, dates), the editors' work on submissions (submissions,
 * accept, reject, hold, edit, order, set-date), proof and publication, and
 * the archive search.
 *
 * The rules live in bulletin.c, editor.c, issue.c and search.c; this file
 * parses arguments, reads what it shows, and answers with one clear line.
 * State overrides: "open" is refused once the deadline has passed (the
 * daemon would close the issue again at once): move the deadline first
 * with "bulletin dates N --deadline". A published issue is final.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bulletin.h"
#include "db.h"
#include "editor.h"
#include "engine.h"
#include "i18n.h"
#include "issue.h"
#include "mlistctl.h"
#include "search.h"
#include "util.h"

/* A positive decimal number, whole string. */
static int
ctl_number(const char *s, int64_t *n_r)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v <= 0 || v > 1000000000LL)
		return -1;
	*n_r = v;
	return 0;
}

static int
ctl_db_fail(struct engine *e)
{
	int rc = ctl_fail(EX_TEMPFAIL, "%s: %s", tr("base de données", "database"),
	    db_errmsg(e->db));

	engine_close(e);
	return rc;
}

/* Issue N from argv (or the current one when absent and optional). */
static int
ctl_issue(struct engine *e, const char *arg, struct bulletin_issue *bi)
{
	int64_t n = 0;
	int rc;

	if (arg && ctl_number(arg, &n) == -1)
		return ctl_fail(EX_USAGE, tr("numéro invalide\xc2\xa0: %s", "invalid issue"
		    " number: %s"), arg);
	if ((rc = bulletin_get(e, (int)n, bi)) == -1)
		return ctl_fail(EX_TEMPFAIL, "%s: %s", tr("base de données", "database"),
		    db_errmsg(e->db));
	if (rc == 1)
		return ctl_fail(EX_DATAERR, tr("numéro inconnu\xc2\xa0: %s", "unknown issue: %s"), arg);
	return EX_OK;
}

/* An issue's or a submission's state in the reader's language. */
static const char *
ctl_state_name(const char *state)
{
	const char *w = i18n_state("issue", state);

	return w != state ? w : i18n_state("submission", state);
}

/* s then spaces up to width columns, and one space. */
static void
ctl_pad(const char *s, size_t width)
{
	fput_padded(stdout, s, width);
	putchar(' ');
}

/* ---- the calendar ---- */

static int
cmd_bulletin_list(struct ctl *ctl, int argc, char **argv)
{
	struct bulletin_issue cur;
	struct engine e;
	struct db_stmt *st;
	struct table *t;
	int rc;

	if (argc != 1)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	if (bulletin_current(&e, now(), &cur) == -1 || (st = db_query(e.db, "SELECT number,"
	    " period_start, period_end, deadline, publish_date, state, (SELECT count(*) FROM"
	    " submission s WHERE s.issue_id = i.id AND s.state NOT IN ('rejected', 'replaced')),"
	    " (SELECT count(*) FROM submission s WHERE s.issue_id = i.id AND s.state ="
	    " 'accepted') FROM bulletin_issue i ORDER BY number", "")) == NULL)
		return ctl_db_fail(&e);
	t = table_new(7);
	table_row(t, (const char *[]){ tr("n°", "no."), tr("période", "period"), tr("limite",
	    "deadline"), tr("parution", "publish"), tr("état", "state"), tr("comptes rendus"
	    " (acceptés)", "submissions (accepted)"), "" });
	while ((rc = db_step(st)) == 1) {
		char num[24], period[48], counts[48];

		snprintf(num, sizeof num, "%lld", (long long)db_col_int(st, 0));
		snprintf(period, sizeof period, "%s..%s", db_col_text(st, 1), db_col_text(st, 2));
		snprintf(counts, sizeof counts, "%lld (%lld)", (long long)db_col_int(st, 6),
		    (long long)db_col_int(st, 7));
		table_row(t, (const char *[]){ num, period, db_col_text(st, 3), db_col_text(st, 4),
		    ctl_state_name(db_col_text(st, 5)), counts,
		    db_col_int(st, 0) == cur.number ? "*" : "" });
	}
	if (rc == 0)
		table_print(t, "", stdout);
	table_free(&t);
	db_finalize(&st);
	if (rc == -1)
		return ctl_db_fail(&e);
	engine_close(&e);
	return EX_OK;
}

static void
ctl_show_counts(struct engine *e, const struct bulletin_issue *bi)
{
	struct db_stmt *st = db_query(e->db, "SELECT state, count(*) FROM submission WHERE"
	    " issue_id = ? GROUP BY state ORDER BY state", "i", bi->id);

	fputs(tr("comptes rendus, par état\xc2\xa0:", "submissions by state:"), stdout);
	while (st && db_step(st) == 1)
		printf(" %s %lld", ctl_state_name(db_col_text(st, 0)), (long long)db_col_int(st, 1));
	printf("\n");
	db_finalize(&st);
	st = db_query(e->db, "SELECT kind, count(*), min(sent), max(message_id), (SELECT count(*)"
	    " FROM delivery d WHERE d.message_id = max(b.message_id) AND d.state = 'sent'),"
	    " (SELECT count(*) FROM delivery d WHERE d.message_id = max(b.message_id) AND d.state IN"
	    " ('queued', 'deferred')), (SELECT count(*) FROM delivery d WHERE d.message_id ="
	    " max(b.message_id) AND d.state = 'failed') FROM bulletin_mailing b WHERE issue_id = ?"
	    " AND kind NOT LIKE 'refused-%' GROUP BY kind ORDER BY min(sent)", "i", bi->id);
	while (st && db_step(st) == 1) {
		char when[20];

		time_iso((time_t)db_col_int(st, 2), when, sizeof when);
		if (db_col_null(st, 3))
			printf("%s %s, %lld, %s\n", tr("envoi\xc2\xa0:", "mailing:"),
			    i18n_state("mailing", db_col_text(st, 0)),
			    (long long)db_col_int(st, 1), when);
		else
			printf(tr("envoi\xc2\xa0: %s, %s\xc2\xa0: envoyés %lld, en attente"
			    " %lld, refusés %lld\n",
			    "mailing: %s, %s: sent %lld, deferred %lld, failed %lld\n"),
			    i18n_state("mailing", db_col_text(st, 0)), when, (long long)db_col_int(st, 4),
			    (long long)db_col_int(st, 5), (long long)db_col_int(st, 6));
	}
	db_finalize(&st);
}

static int
cmd_bulletin_show(struct ctl *ctl, int argc, char **argv)
{
	struct bulletin_issue bi;
	struct engine e;
	int rc;

	if (argc > 2)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	if ((rc = ctl_issue(&e, argc == 2 ? argv[1] : NULL, &bi)) != EX_OK) {
		engine_close(&e);
		return rc;
	}
	printf("%s%d\n", tr("bulletin n°\xc2\xa0", "bulletin no. "), bi.number);
	ctl_pad(tr("période", "period"), 10);
	printf("%s .. %s\n", bi.period_start, bi.period_end);
	ctl_pad(tr("limite", "deadline"), 10);
	printf("%s\n", bi.deadline);
	ctl_pad(tr("parution", "publish"), 10);
	printf("%s\n", bi.publish_date);
	ctl_pad(tr("état", "state"), 10);
	printf("%s\n", ctl_state_name(bi.state));
	ctl_show_counts(&e, &bi);
	engine_close(&e);
	return EX_OK;
}

static int
ctl_set_issue_state(struct ctl *ctl, int argc, char **argv, const char *state)
{
	struct bulletin_issue bi;
	struct engine e;
	char today[11];
	time_t t = now();
	int rc;

	if (argc != 2)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	if ((rc = ctl_issue(&e, argv[1], &bi)) != EX_OK) {
		engine_close(&e);
		return rc;
	}
	strftime(today, sizeof today, "%Y-%m-%d", localtime(&t));
	if (strcmp(bi.state, "published") == 0)
		rc = ctl_fail(EX_DATAERR, tr("le numéro %d est déjà publié", "issue %d is already"
		    " published"), bi.number);
	else if (strcmp(state, "open") == 0 && strcmp(today, bi.deadline) > 0)
		rc = ctl_fail(EX_DATAERR, tr("la date limite du numéro %d (%s) est"
		    " passée\xc2\xa0: changez-la"
		    " d'abord avec «\xc2\xa0mlistctl bulletin dates %d --deadline"
		    " AAAA-MM-JJ\xc2\xa0»", "the deadline"
		    " of issue %d (%s) has passed: change it first with \"mlistctl bulletin dates %d"
		    " --deadline YYYY-MM-DD\""), bi.number, bi.deadline, bi.number);
	else if (db_run(e.db, "UPDATE bulletin_issue SET state = ? WHERE id = ?", "si", state,
	    bi.id) == -1)
		return ctl_db_fail(&e);
	else
		printf(tr("numéro %d\xc2\xa0: %s\n", "issue %d:"
		    " %s\n"), bi.number, ctl_state_name(state));
	engine_close(&e);
	return rc;
}

static int
cmd_bulletin_open(struct ctl *ctl, int argc, char **argv)
{
	return ctl_set_issue_state(ctl, argc, argv, "open");
}

static int
cmd_bulletin_close(struct ctl *ctl, int argc, char **argv)
{
	return ctl_set_issue_state(ctl, argc, argv, "closed");
}

static int
cmd_bulletin_dates(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "deadline", required_argument, NULL, 'd' }, { "publish", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *deadline = NULL, *publish = NULL;
	struct bulletin_issue bi;
	struct engine e;
	int c, rc;

	while ((c = getopt_long(argc, argv, "d:p:", opts, NULL)) != -1) {
		if (c == 'd')
			deadline = optarg;
		else if (c == 'p')
			publish = optarg;
		else
			return ctl_bad_usage();
	}
	if (optind != argc - 1 || (deadline == NULL && publish == NULL))
		return ctl_bad_usage();
	if ((deadline && !bulletin_date_valid(deadline)) || (publish && !bulletin_date_valid(publish)))
		return ctl_fail(EX_USAGE, "%s", tr("date invalide (attendu AAAA-MM-JJ)",
		    "invalid date (expected YYYY-MM-DD)"));
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	if ((rc = ctl_issue(&e, argv[optind], &bi)) != EX_OK) {
		engine_close(&e);
		return rc;
	}
	if (db_run(e.db, "UPDATE bulletin_issue SET deadline = coalesce(?, deadline), publish_date ="
	    " coalesce(?, publish_date) WHERE id = ?", "ssi", deadline, publish, bi.id) == -1)
		return ctl_db_fail(&e);
	printf(tr("numéro %d\xc2\xa0: date limite %s, parution %s\n", "issue %d: deadline"
	    " %s, publish %s\n"),
	    bi.number, deadline ? deadline : bi.deadline, publish ? publish : bi.publish_date);
	engine_close(&e);
	return EX_OK;
}

/* ---- submissions ---- */

/* At most max characters of a UTF-8 string, into out. */
static void
ctl_cut(const char *s, size_t max, char *out, size_t outlen)
{
	size_t i = utf8_prefix_len(s, max);

	snprintf(out, outlen, "%.*s%s", (int)i, s, s[i] ? "…" : "");
}

static int
ctl_list_submissions(struct engine *e, const struct bulletin_issue *bi, int all, int no_issue)
{
	struct db_stmt *st = db_query(e->db, "SELECT s.id, s.state, coalesce(s.position, 0),"
	    " s.activity_date, coalesce(c.slug, s.sender), s.title, (SELECT count(*) FROM"
	    " submission_file f WHERE f.submission_id = s.id AND f.is_photo) FROM submission s"
	    " LEFT JOIN committee c ON c.id = s.committee_id WHERE (s.issue_id = ? OR (? AND"
	    " s.issue_id IS NULL)) AND (? OR s.state NOT IN ('rejected', 'replaced'))"
	    " ORDER BY s.issue_id IS NULL, c.region COLLATE fr, c.name COLLATE fr, s.position IS NULL, s.position,"
	    " s.received, s.id", "idd", bi->id, no_issue, all);
	char title[256], pos[12];
	struct table *t;
	int rc;

	if (st == NULL)
		return -1;
	t = table_new(7);
	table_row(t, (const char *[]){ "id", tr("état", "state"), tr("ordre", "order"), "date",
	    tr("comité", "committee"), "photos", tr("titre", "title") });
	while ((rc = db_step(st)) == 1) {
		char id[24], photos[24];

		ctl_cut(db_col_text(st, 5), 50, title, sizeof title);
		snprintf(id, sizeof id, "%lld", (long long)db_col_int(st, 0));
		snprintf(pos, sizeof pos, "%lld", (long long)db_col_int(st, 2));
		snprintf(photos, sizeof photos, "%lld", (long long)db_col_int(st, 6));
		table_row(t, (const char *[]){ id, ctl_state_name(db_col_text(st, 1)),
		    db_col_int(st, 2) ? pos : "-", db_col_text(st, 3), db_col_text(st, 4), photos,
		    title });
	}
	if (rc == 0)
		table_print(t, "", stdout);
	table_free(&t);
	db_finalize(&st);
	return rc == 0 ? 0 : -1;
}

static int
cmd_bulletin_submissions(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 },
	};
	struct bulletin_issue bi;
	struct engine e;
	int c, rc, all = 0;

	while ((c = getopt_long(argc, argv, "a", opts, NULL)) != -1) {
		if (c != 'a')
			return ctl_bad_usage();
		all = 1;
	}
	if (argc - optind > 1)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	if (optind == argc) {
		rc = bulletin_open_issue(&e, now(), &bi);
		rc = rc == 1 ? (bulletin_current(&e, now(), &bi) == -1 ? -1 : 0) : rc;
		rc = rc == -1 ? EX_TEMPFAIL : EX_OK;
	} else
		rc = ctl_issue(&e, argv[optind], &bi);
	if (rc != EX_OK) {
		engine_close(&e);
		return rc;
	}
	printf("%s%d (%s)\n", tr("bulletin n°\xc2\xa0", "bulletin no. "), bi.number,
	    ctl_state_name(bi.state));
	if (ctl_list_submissions(&e, &bi, all, optind == argc) == -1)
		return ctl_db_fail(&e);
	engine_close(&e);
	return EX_OK;
}

/* The exit code of an editor or issue action (1 done, 0 refused, -1 error). */
static int
ctl_editor_rc(struct engine *e, int rc, const char *err)
{
	engine_close(e);
	if (rc == 1)
		return EX_OK;
	return ctl_fail(rc == 0 ? EX_DATAERR : EX_TEMPFAIL, "%s", err ? err : "?");
}

static int
ctl_set_state(struct ctl *ctl, int argc, char **argv, const char *state)
{
	const char *err = NULL;
	struct engine e;
	int64_t id;
	int rc;

	if (argc != 2 || ctl_number(argv[1], &id) == -1)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	rc = editor_set_state(&e, id, state, &err);
	if (rc == 1)
		printf(tr("compte rendu %lld\xc2\xa0: %s\n", "submission %lld: %s\n"), (long long)id,
		    ctl_state_name(state));
	return ctl_editor_rc(&e, rc, err);
}

static int
cmd_bulletin_accept(struct ctl *ctl, int argc, char **argv)
{
	return ctl_set_state(ctl, argc, argv, "accepted");
}

static int
cmd_bulletin_reject(struct ctl *ctl, int argc, char **argv)
{
	return ctl_set_state(ctl, argc, argv, "rejected");
}

static int
cmd_bulletin_hold(struct ctl *ctl, int argc, char **argv)
{
	return ctl_set_state(ctl, argc, argv, "held");
}

/* Run $EDITOR (default vi) on path through the shell; 0 when it exits 0. */
static int
ctl_run_editor(const char *path)
{
	const char *editor = getenv("EDITOR");
	char *cmd = xasprintf("%s \"$1\"", editor && *editor ? editor : "vi");
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		free(cmd);
		return -1;
	}
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
		_exit(127);
	}
	free(cmd);
	while (waitpid(pid, &status, 0) == -1)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The file as title (first line) and text (the rest, blank lines around removed). */
static int
ctl_read_edit(const char *path, char **title_r, char **body_r)
{
	char *data, *nl, *body;
	size_t len;

	if (file_read(path, 16 * 1024 * 1024, &data, &len) == -1)
		return -1;
	nl = strchr(data, '\n');
	body = nl ? nl + 1 : data + len;
	if (nl)
		*nl = '\0';
	*title_r = xstrdup(str_trim(data));
	while (*body == '\n' || *body == '\r')
		body++;
	*body_r = xstrdup(body);
	for (len = strlen(*body_r); len > 0 && strchr(" \t\r\n", (*body_r)[len - 1]); len--)
		(*body_r)[len - 1] = '\0';
	free(data);
	return 0;
}

/* The submission's title and text as they were, in the same shape. */
static int
ctl_load_text(struct engine *e, int64_t id, char **title_r, char **body_r)
{
	struct db_stmt *st = db_query(e->db, "SELECT title, body FROM submission WHERE id = ?",
	    "i", id);
	size_t len;
	int rc;

	if (st == NULL)
		return -1;
	if ((rc = db_step(st)) == 1) {
		*title_r = xstrdup(db_col_text(st, 0));
		*body_r = xstrdup(db_col_text(st, 1));
		for (len = strlen(*body_r); len > 0 && strchr(" \t\r\n", (*body_r)[len - 1]); len--)
			(*body_r)[len - 1] = '\0';
	}
	db_finalize(&st);
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

static int
ctl_edit(struct engine *e, int64_t id, const char *title, const char *body)
{
	const char *tmp = getenv("TMPDIR"), *err = NULL;
	char *path = xasprintf("%s/mlistctl-edit-XXXXXX.txt", tmp && *tmp ? tmp : "/tmp");
	char *text = xasprintf("%s\n\n%s\n", title, body), *nt = NULL, *nb = NULL;
	int fd = mkstemps(path, 4), rc;

	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) == -1) {
		rc = ctl_fail(EX_CANTCREAT, "%s: %s", path, tr("écriture impossible",
		    "cannot write"));
		if (fd != -1)
			unlink(path);
		free(text);
		free(path);
		return rc;
	}
	free(text);
	if (ctl_run_editor(path) == -1 || ctl_read_edit(path, &nt, &nb) == -1)
		rc = ctl_fail(EX_SOFTWARE, "%s", tr("l'éditeur a échoué\xc2\xa0: rien n'est changé",
		    "the editor failed: nothing changed"));
	else if (strcmp(nt, title) == 0 && strcmp(nb, body) == 0) {
		printf(tr("compte rendu %lld\xc2\xa0: rien n'a changé\n", "submission %lld: nothing"
		    " changed\n"), (long long)id);
		rc = EX_OK;
	} else if ((rc = editor_set_text(e, id, nt, nb, &err)) == 1) {
		printf(tr("compte rendu %lld\xc2\xa0: texte enregistré\n", "submission"
		    " %lld: text saved\n"),
		    (long long)id);
		rc = EX_OK;
	} else
		rc = ctl_fail(rc == 0 ? EX_DATAERR : EX_TEMPFAIL, "%s", err);
	unlink(path);
	free(path);
	free(nt);
	free(nb);
	return rc;
}

static int
cmd_bulletin_edit(struct ctl *ctl, int argc, char **argv)
{
	char *title = NULL, *body = NULL;
	struct engine e;
	int64_t id;
	int rc;

	if (argc != 2 || ctl_number(argv[1], &id) == -1)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	if ((rc = ctl_load_text(&e, id, &title, &body)) == -1)
		return ctl_db_fail(&e);
	if (rc == 1)
		rc = ctl_fail(EX_DATAERR, tr("compte rendu %lld inconnu", "unknown submission %lld"),
		    (long long)id);
	else
		rc = ctl_edit(&e, id, title, body);
	free(title);
	free(body);
	engine_close(&e);
	return rc;
}

static int
cmd_bulletin_order(struct ctl *ctl, int argc, char **argv)
{
	const char *err = NULL;
	struct engine e;
	int64_t id, pos;
	int rc;

	if (argc != 3 || ctl_number(argv[1], &id) == -1 || ctl_number(argv[2], &pos) == -1 ||
	    pos > 100000)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	rc = editor_set_position(&e, id, (int)pos, &err);
	if (rc == 1)
		printf(tr("compte rendu %lld\xc2\xa0: position %lld\n", "submission %lld:"
		    " position %lld\n"),
		    (long long)id, (long long)pos);
	return ctl_editor_rc(&e, rc, err);
}

static int
cmd_bulletin_set_date(struct ctl *ctl, int argc, char **argv)
{
	const char *err = NULL;
	struct engine e;
	int64_t id;
	int rc;

	if (argc != 3 || ctl_number(argv[1], &id) == -1)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	rc = editor_set_date(&e, id, argv[2], &err);
	if (rc == 1)
		printf(tr("compte rendu %lld\xc2\xa0: date %s\n", "submission %lld: date %s\n"),
		    (long long)id, argv[2]);
	return ctl_editor_rc(&e, rc, err);
}

/* bulletin title ID TITRE...: the title alone (the text kept). */
static int
cmd_bulletin_title(struct ctl *ctl, int argc, char **argv)
{
	char *title = NULL, *body = NULL, *t;
	const char *err = NULL;
	struct engine e;
	struct buf b;
	int64_t id;
	int rc;

	if (argc < 3 || ctl_number(argv[1], &id) == -1)
		return ctl_bad_usage();
	buf_init(&b);
	for (int i = 2; i < argc; i++)
		buf_printf(&b, "%s%s", i > 2 ? " " : "", argv[i]);
	t = buf_steal(&b);
	if ((rc = ctl_engine(ctl, &e)) != EX_OK) {
		free(t);
		return rc;
	}
	if ((rc = ctl_load_text(&e, id, &title, &body)) != 0) {
		free(t);
		if (rc == -1)
			return ctl_db_fail(&e);
		engine_close(&e);
		return ctl_fail(EX_DATAERR, tr("compte rendu %lld inconnu", "unknown submission %lld"),
		    (long long)id);
	}
	rc = editor_set_text(&e, id, t, body, &err);
	if (rc == 1)
		printf(tr("compte rendu %lld\xc2\xa0: titre «\xc2\xa0%s\xc2\xa0»\n",
		    "submission %lld: title “%s”\n"), (long long)id, t);
	free(title);
	free(body);
	free(t);
	return ctl_editor_rc(&e, rc, err);
}

/* bulletin date ID DATE: the activity date as people write it. */
static int
cmd_bulletin_date(struct ctl *ctl, int argc, char **argv)
{
	const char *err = NULL;
	struct engine e;
	char ymd[11];
	int64_t id;
	int rc;

	if (argc != 3 || ctl_number(argv[1], &id) == -1)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	if (editor_date_read(&e, id, argv[2], ymd) != 1) {
		engine_close(&e);
		return ctl_fail(EX_DATAERR, tr("date illisible\xc2\xa0: %s (JJ/MM/AAAA)",
		    "unreadable date: %s (DD/MM/YYYY)"), argv[2]);
	}
	rc = editor_set_date(&e, id, ymd, &err);
	if (rc == 1)
		printf(tr("compte rendu %lld\xc2\xa0: date %s\n", "submission %lld: date %s\n"),
		    (long long)id, ymd);
	return ctl_editor_rc(&e, rc, err);
}

/* ---- proof, publication, search ---- */

static int
ctl_issue_action(struct ctl *ctl, int argc, char **argv, int publish)
{
	const char *err = NULL;
	struct engine e;
	int64_t n;
	int rc;

	if (argc != 2 || ctl_number(argv[1], &n) == -1)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	rc = publish ? issue_publish(&e, (int)n, &err) : issue_proof(&e, (int)n, &err);
	if (rc == 1 && publish)
		printf(tr("bulletin n°\xc2\xa0%lld publié\xc2\xa0: envoi en cours, archive écrite\n", "bulletin"
		    " no. %lld published: sending, archive written\n"), (long long)n);
	else if (rc == 1)
		printf(tr("épreuve du bulletin n°\xc2\xa0%lld envoyée aux rédacteurs\n", "proof of bulletin"
		    " no. %lld sent to the editors\n"), (long long)n);
	return ctl_editor_rc(&e, rc, err);
}

static int
cmd_bulletin_proof(struct ctl *ctl, int argc, char **argv)
{
	return ctl_issue_action(ctl, argc, argv, 0);
}

static int
cmd_bulletin_publish(struct ctl *ctl, int argc, char **argv)
{
	return ctl_issue_action(ctl, argc, argv, 1);
}

static int
cmd_bulletin_resend(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "failed", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 },
	};
	const char *err = NULL;
	struct engine e;
	int64_t n;
	long copies;
	int c, rc, failed = 0;

	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			return ctl_bad_usage();
		failed = 1;
	}
	if (optind != argc - 1 || ctl_number(argv[optind], &n) == -1)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	rc = issue_resend(&e, (int)n, failed, &copies, &err);
	if (rc == 1)
		printf(tr("bulletin n°\xc2\xa0%lld\xc2\xa0: %ld exemplaire(s) remis en"
		    " envoi\n", "bulletin no. %lld:"
		    " %ld copies queued again\n"), (long long)n, copies);
	return ctl_editor_rc(&e, rc, err);
}

static int
cmd_bulletin_assign(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "issue", required_argument, NULL, 'i' }, { NULL, 0, NULL, 0 },
	};
	const char *err = NULL;
	struct engine e;
	int64_t id, issue = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "i:", opts, NULL)) != -1) {
		if (c != 'i' || ctl_number(optarg, &issue) == -1)
			return ctl_bad_usage();
	}
	if (optind != argc - 2 || ctl_number(argv[optind], &id) == -1)
		return ctl_bad_usage();
	if ((rc = ctl_engine(ctl, &e)) != EX_OK)
		return rc;
	rc = editor_assign(&e, id, argv[optind + 1], (int)issue, &err);
	if (rc == 1)
		printf(tr("compte rendu %lld\xc2\xa0: comité %s\n", "submission %lld: committee %s\n"),
		    (long long)id, argv[optind + 1]);
	return ctl_editor_rc(&e, rc, err);
}

static int
cmd_search(struct ctl *ctl, int argc, char **argv)
{
	struct buf words;
	int n;

	if (argc < 2)
		return ctl_bad_usage();
	buf_init(&words);
	for (int i = 1; i < argc; i++)
		buf_printf(&words, "%s%s", i > 1 ? " " : "", argv[i]);
	n = search_query(ctl->db, buf_cstr(&words), 10, stdout);
	buf_free(&words);
	if (n == -1)
		return ctl_fail(EX_TEMPFAIL, "%s", tr("recherche impossible", "search failed"));
	if (n == 0)
		printf("%s\n", tr("aucun résultat", "no result"));
	return EX_OK;
}

const struct ctl_cmd ctl_bulletin_cmds[] = {
	{ "bulletin list", cmd_bulletin_list, 1, "",
	  "liste les numéros du bulletin (*\xc2\xa0: le numéro en cours)",
	  "list the bulletin issues (*: the current one)" },
	{ "bulletin show", cmd_bulletin_show, 1, "[N]",
	  "dates, état, comptes rendus et envois d'un numéro",
	  "dates, state, submissions and mailings of an issue" },
	{ "bulletin open", cmd_bulletin_open, 1, "N",
	  "ouvre un numéro aux comptes rendus", "open an issue for submissions" },
	{ "bulletin close", cmd_bulletin_close, 1, "N",
	  "ferme un numéro aux comptes rendus", "close an issue for submissions" },
	{ "bulletin dates", cmd_bulletin_dates, 1, "N [--deadline AAAA-MM-JJ] [--publish AAAA-MM-JJ]",
	  "change la date limite ou de parution d'un numéro",
	  "change an issue's deadline or publication date" },
	{ "bulletin submissions", cmd_bulletin_submissions, 1, "[N] [--all]",
	  "liste les comptes rendus (--all\xc2\xa0: refusés et remplacés aussi)",
	  "list the submissions (--all: rejected and replaced too)" },
	{ "bulletin accept", cmd_bulletin_accept, 1, "ID",
	  "accepte un compte rendu", "accept a submission" },
	{ "bulletin reject", cmd_bulletin_reject, 1, "ID",
	  "refuse un compte rendu", "reject a submission" },
	{ "bulletin hold", cmd_bulletin_hold, 1, "ID",
	  "met un compte rendu en attente", "hold a submission" },
	{ "bulletin edit", cmd_bulletin_edit, 1, "ID",
	  "corrige le titre et le texte avec $EDITOR", "edit title and text with $EDITOR" },
	{ "bulletin order", cmd_bulletin_order, 1, "ID POSITION",
	  "place un compte rendu dans le numéro (1\xc2\xa0: en premier)",
	  "set a submission's place in its issue (1: first)" },
	{ "bulletin set-date", cmd_bulletin_set_date, 1, "ID AAAA-MM-JJ",
	  "change la date de l'activité", "change the activity date" },
	{ "bulletin title", cmd_bulletin_title, 1, "ID TITRE",
	  "change le titre d'un compte rendu", "change a submission's title" },
	{ "bulletin date", cmd_bulletin_date, 1, "ID JJ/MM/AAAA",
	  "change la date de l'activité (JJ/MM/AAAA, « 14 mars »...)",
	  "change the activity date (DD/MM/YYYY, YYYY-MM-DD)" },
	{ "bulletin proof", cmd_bulletin_proof, 1, "N",
	  "envoie l'épreuve d'un numéro aux rédacteurs", "mail an issue's proof to the editors" },
	{ "bulletin publish", cmd_bulletin_publish, 1, "N",
	  "publie un numéro\xc2\xa0: envoi à tous et archive", "publish an issue: send it"
	      " and archive it" },
	{ "bulletin resend", cmd_bulletin_resend, 1, "N [--failed]",
	  "renvoie un numéro publié (--failed\xc2\xa0: les exemplaires refusés seulement)",
	  "send a published issue again (--failed: only the refused copies)" },
	{ "bulletin assign", cmd_bulletin_assign, 1, "ID COMITÉ [--issue N]",
	  "donne un compte rendu en attente à un comité (et un numéro)",
	  "give a held submission to a committee (and an issue)" },
	{ "search", cmd_search, 1, "MOTS...",
	  "cherche dans les archives (envois et bulletins)",
	  "search the archive (broadcasts and bulletins)" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};
