/*
 * editor_mail.c — the editors' whole job by mail (see editor.h): the
 * commands an editor writes in a reply to the digest or in a mail to
 * bulletin@, one per line, in French with English aliases, any case,
 * accents optional:
 *
 *   ACCEPTER / REFUSER / ATTENTE n [n...]   ACCEPT / REJECT / HOLD
 *   ATTRIBUER n comité                      ASSIGN
 *   TITRE n nouveau titre                   TITLE
 *   DATE n JJ/MM/AAAA (or "14 mars", ...)   DATE
 *   TEXTE n (the text, ready to correct)    TEXT
 *   CORRIGER n, then the text up to FIN     CORRECT ... END
 *   EPREUVE [N]                             PROOF
 *   PUBLIER N                               PUBLISH
 *   AIDE                                    HELP
 *
 * Reading: the new text of the mail only (trim_reply cuts quotes, the
 * quoted digest and the signature); a line starting with ">" is never a
 * command. The commands start at the first line (a greeting line before
 * them is skipped) and end at the first line that is neither a command nor
 * a word in capitals (an unknown command: answered with the list).
 *
 * Proof of identity (answer.h): on a trusted DKIM pass the commands act at
 * once; otherwise they are kept under a one-time token and the editor asked
 * to confirm by reply. PUBLIER is always confirmed by reply to its own
 * one-time token, and only when the issue's content is the one its last
 * proof showed (issue_hashes): the token keeps that fingerprint, checked
 * again when confirmed and when publishing.
 *
 * One result mail per incoming mail, one line (or block) per command, and
 * the list of commands (template editor-help) in every mail to editors.
 *
 * EPREUVE and a confirmed PUBLIER render the issue (photos, the PDF): too
 * long for a message handler's transaction, so they are recorded as jobs
 * (message rows of kind 'editor-job') that editor_jobs() runs from the
 * queue thread, outside any transaction. A job is marked done after it
 * ran: a crash in between sends a proof twice at worst, and a publication
 * never twice (issue_publish refuses a published issue).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "answer.h"
#include "autoreply.h"
#include "bulletin.h"
#include "config.h"
#include "content.h"
#include "db.h"
#include "editor.h"
#include "engine.h"
#include "entry.h"
#include "frdate.h"
#include "i18n.h"
#include "issue.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "roster.h"
#include "trim.h"
#include "util.h"

#define NBSP		"\xc2\xa0"
#define EDITOR_MAX_IDS	64	/* ids on one command line */
#define EDITOR_TITLE_MAX 300	/* bytes of a title */

struct editor_cmd;

/* One mail's commands being applied. */
struct editor_run {
	struct engine	*e;
	const char	*who;		/* the editor */
	const char	*in_reply_to;	/* "<id>" of the mail answered, or NULL */
	struct buf	 out;		/* the results, one line or block each */
	int		 napplied;
	int		 unknown;	/* an unknown command was met */
	char		*publish;	/* PUBLIER's confirm+TOKEN@ address, or NULL */
	int		 publish_issue;
};

typedef int editor_cmd_fn(struct editor_run *r, const struct editor_cmd *c, char *args,
    char **rest);

struct editor_cmd {
	const char	*words;		/* folded words, space-separated */
	const char	*fr, *en;	/* the name shown */
	editor_cmd_fn	*fn;
	const char	*state;		/* for ACCEPTER, REFUSER, ATTENTE */
};

/* ---- parsing ---- */

/* Is the folded word w (n bytes) one of words (space-separated)? */
static int
editor_word_in(const char *w, size_t n, const char *words)
{
	for (const char *p = words; *p; ) {
		size_t len = strcspn(p, " ");

		if (len == n && strncmp(p, w, n) == 0)
			return 1;
		p += len + (p[len] == ' ');
	}
	return 0;
}

static int
editor_is_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

enum editor_line { EDITOR_TEXT, EDITOR_KNOWN, EDITOR_UNKNOWN };

/* What line is: a known command (*cmd_r, *args_r: after the verb), an
 * unknown word in capitals (*args_r: after it), or text. */
static enum editor_line editor_classify(const char *line, const struct editor_cmd **cmd_r,
    const char **args_r);

static int editor_cmd_state(struct editor_run *, const struct editor_cmd *, char *, char **);
static int editor_cmd_assign(struct editor_run *, const struct editor_cmd *, char *, char **);
static int editor_cmd_title(struct editor_run *, const struct editor_cmd *, char *, char **);
static int editor_cmd_date(struct editor_run *, const struct editor_cmd *, char *, char **);
static int editor_cmd_text(struct editor_run *, const struct editor_cmd *, char *, char **);
static int editor_cmd_correct(struct editor_run *, const struct editor_cmd *, char *, char **);
static int editor_cmd_proof(struct editor_run *, const struct editor_cmd *, char *, char **);
static int editor_cmd_publish(struct editor_run *, const struct editor_cmd *, char *, char **);
static int editor_cmd_help(struct editor_run *, const struct editor_cmd *, char *, char **);

static const struct editor_cmd editor_cmds[] = {
	{ "accepter accepte accept", "ACCEPTER", "ACCEPT", editor_cmd_state, "accepted" },
	{ "refuser refuse rejeter rejete reject", "REFUSER", "REJECT", editor_cmd_state,
	  "rejected" },
	{ "attente attendre hold", "ATTENTE", "HOLD", editor_cmd_state, "held" },
	{ "attribuer assign", "ATTRIBUER", "ASSIGN", editor_cmd_assign, NULL },
	{ "titre title", "TITRE", "TITLE", editor_cmd_title, NULL },
	{ "date", "DATE", "DATE", editor_cmd_date, NULL },
	{ "texte text", "TEXTE", "TEXT", editor_cmd_text, NULL },
	{ "corriger correction correct", "CORRIGER", "CORRECT", editor_cmd_correct, NULL },
	{ "epreuve proof", "EPREUVE", "PROOF", editor_cmd_proof, NULL },
	{ "publier publish", "PUBLIER", "PUBLISH", editor_cmd_publish, NULL },
	{ "aide help commandes commands", "AIDE", "HELP", editor_cmd_help, NULL },
};

static enum editor_line
editor_classify(const char *line, const struct editor_cmd **cmd_r, const char **args_r)
{
	const char *p = line + strspn(line, " \t"), *w = p;
	char *word, *folded;
	int caps = 1;
	size_t n;

	*cmd_r = NULL;
	for (; editor_is_letter((unsigned char)*p); p++)
		if (*p >= 'a' && *p <= 'z')
			caps = 0;
	if (p == w || (*p != '\0' && !strchr(" \t\r:#,", *p)))
		return EDITOR_TEXT;
	*args_r = p + strspn(p, " \t\r:#,");
	word = xstrndup(w, (size_t)(p - w));
	folded = str_fold(word);
	n = strlen(folded);
	for (size_t i = 0; i < nitems(editor_cmds) && *cmd_r == NULL; i++)
		if (editor_word_in(folded, n, editor_cmds[i].words))
			*cmd_r = &editor_cmds[i];
	free(word);
	free(folded);
	if (*cmd_r)
		return EDITOR_KNOWN;
	return caps && n >= 3 ? EDITOR_UNKNOWN : EDITOR_TEXT;
}

/* The next line of *p (advanced past it), NULL at the end: a line ends
 * at LF, CRLF or a lone CR (never kept in a line we echo in a mail). */
static char *
editor_raw_line(char **p)
{
	char *line = *p;
	size_t n;

	if (**p == '\0')
		return NULL;
	n = strcspn(line, "\r\n");
	*p = line + n + (line[n] != '\0') + (line[n] == '\r' && line[n + 1] == '\n');
	line[n] = '\0';
	return line;
}

/* The next line worth reading: not blank, not quoted (">"). */
static char *
editor_next_line(char **p)
{
	char *line;

	while ((line = editor_raw_line(p)) != NULL)
		if (!str_is_empty(line) && line[strspn(line, " \t")] != '>')
			return line;
	return NULL;
}

/* A submission id at *s (advanced past it and the separators): > 0, or 0. */
static int64_t
editor_id(char **s)
{
	char *end;
	long long id;

	*s += strspn(*s, " \t:#,");
	if (**s < '0' || **s > '9')
		return 0;
	id = strtoll(*s, &end, 10);
	if (id <= 0 || (*end != '\0' && !strchr(" \t:,;", *end)))
		return 0;
	*s = end + strspn(end, " \t:,");
	return id;
}

/* Does text (an editor's new text) start with a command, after a greeting?
 * An unknown word in capitals counts only when a number follows it. */
int
editor_text_starts_with_command(const char *text)
{
	char *copy = xstrdup(text), *p = copy, *line;
	const struct editor_cmd *c;
	const char *args = NULL;
	int yes = 0;

	line = editor_next_line(&p);
	if (line && trim_is_greeting(line, strlen(line)))
		line = editor_next_line(&p);
	if (line) {
		enum editor_line k = editor_classify(line, &c, &args);
		char *a = xstrdup(args ? args : ""), *s = a;

		/* "Aide aux devoirs", "Épreuve sportive": titles, not commands */
		if (k == EDITOR_KNOWN && (c->fn == editor_cmd_proof || c->fn == editor_cmd_help))
			yes = *s == '\0' || (editor_id(&s) > 0 && *s == '\0');
		else if (k == EDITOR_KNOWN)
			yes = editor_id(&s) > 0;
		else if (k == EDITOR_UNKNOWN)
			yes = editor_id(&s) > 0 && *s == '\0';
		free(a);
	}
	free(copy);
	return yes;
}

/* ---- results ---- */

static const struct editor_cmd *
editor_cmd_of(editor_cmd_fn *fn)
{
	for (size_t i = 0; i < nitems(editor_cmds); i++)
		if (editor_cmds[i].fn == fn)
			return &editor_cmds[i];
	return &editor_cmds[0];
}

static const char *
editor_name(const struct editor_cmd *c)
{
	return tr(c->fr, c->en);
}

/* "NAME n : what" (n omitted when 0), one line of the results. */
static void
editor_say(struct editor_run *r, const struct editor_cmd *c, int64_t id, const char *what)
{
	if (id > 0)
		buf_printf(&r->out, "%s %lld" NBSP ": %s\n", editor_name(c), (long long)id, what);
	else
		buf_printf(&r->out, "%s" NBSP ": %s\n", editor_name(c), what);
}

/* The outcome of an editor_set_*-like rc: said, audited, counted. */
static int
editor_outcome(struct editor_run *r, const struct editor_cmd *c, int64_t id, int rc,
    const char *done, const char *err)
{
	if (rc == -1)
		return -1;
	editor_say(r, c, id, rc == 1 ? done : err);
	if (rc == 1) {
		roster_audit(r->e->db, "submission %lld %s by %s (email)", (long long)id, c->en,
		    r->who);
		r->napplied++;
	}
	return 0;
}

static int
editor_usage(struct editor_run *r, const struct editor_cmd *c, const char *example)
{
	char *s = xasprintf(tr("à écrire ainsi" NBSP ": %s", "to be written: %s"), example);

	editor_say(r, c, 0, s);
	free(s);
	return 0;
}

/* ---- the commands ---- */

static int
editor_cmd_state(struct editor_run *r, const struct editor_cmd *c, char *args, char **rest)
{
	int64_t ids[EDITOR_MAX_IDS], id;
	size_t n = 0;
	const char *err = NULL;

	while (n < nitems(ids) && (id = editor_id(&args)) > 0)
		ids[n++] = id;
	if (n == 0 || *args != '\0') {
		char *ex = xasprintf(tr("%s 12 (ou plusieurs" NBSP ": %s 12 13 14)",
		    "%s 12 (or several: %s 12 13 14)"), editor_name(c), editor_name(c));

		editor_usage(r, c, ex);
		free(ex);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (editor_outcome(r, c, ids[i], editor_set_state(r->e, ids[i], c->state, &err),
		    tr("fait", "done"), err) == -1)
			return -1;
	return 0;
}

static int
editor_cmd_assign(struct editor_run *r, const struct editor_cmd *c, char *args, char **rest)
{
	int64_t id = editor_id(&args);
	const char *err = NULL;
	char *done;
	int rc;

	str_trim(args);
	if (id <= 0 || *args == '\0')
		return editor_usage(r, c, tr("ATTRIBUER 12 Rennes", "ASSIGN 12 Rennes"));
	rc = editor_assign(r->e, id, args, 0, &err);
	done = xasprintf(tr("fait, compte rendu donné à %s", "done, report given to %s"), args);
	rc = editor_outcome(r, c, id, rc, done, err);
	free(done);
	return rc;
}

static int
editor_cmd_title(struct editor_run *r, const struct editor_cmd *c, char *args, char **rest)
{
	int64_t id = editor_id(&args);
	const char *err = NULL;
	char *body, *done;
	int rc;

	str_trim(args);
	if (id <= 0 || *args == '\0')
		return editor_usage(r, c, tr("TITRE 12 Le nouveau titre", "TITLE 12 The new title"));
	if (strlen(args) > EDITOR_TITLE_MAX)
		args[utf8_prefix_len(args, EDITOR_TITLE_MAX)] = '\0';
	body = db_str(r->e->db, "SELECT body FROM submission WHERE id = ?", "i", id);
	rc = editor_set_text(r->e, id, args, body ? body : "", &err);
	done = xasprintf(tr("fait, nouveau titre" NBSP ": «" NBSP "%s" NBSP "»", "done, new title: “%s”"),
	    args);
	rc = editor_outcome(r, c, id, rc, done, err);
	free(done);
	free(body);
	return rc;
}

static int
editor_cmd_date(struct editor_run *r, const struct editor_cmd *c, char *args, char **rest)
{
	int64_t id = editor_id(&args);
	const char *err = NULL;
	char ymd[11], when[64], *done;
	int rc;

	str_trim(args);
	if (id <= 0 || *args == '\0' || editor_date_read(r->e, id, args, ymd) != 1)
		return editor_usage(r, c, tr("DATE 12 14/03/2026 (ou DATE 12 14 mars)",
		    "DATE 12 14/03/2026 (or DATE 12 2026-03-14)"));
	rc = editor_set_date(r->e, id, ymd, &err);
	frdate_long(strcmp(r->e->cf->language, "en") == 0, ymd, when, sizeof when);
	done = xasprintf(tr("fait, date de l'activité" NBSP ": %s", "done, activity date: %s"),
	    when);
	rc = editor_outcome(r, c, id, rc, done, err);
	free(done);
	return rc;
}

static int
editor_cmd_text(struct editor_run *r, const struct editor_cmd *c, char *args, char **rest)
{
	int64_t id = editor_id(&args);
	char *title, *body;

	if (id <= 0 || *args != '\0')
		return editor_usage(r, c, tr("TEXTE 12", "TEXT 12"));
	title = db_str(r->e->db, "SELECT title FROM submission WHERE id = ?", "i", id);
	body = db_str(r->e->db, "SELECT body FROM submission WHERE id = ?", "i", id);
	if (title == NULL || body == NULL)
		editor_say(r, c, id, tr("compte rendu inconnu", "unknown report"));
	else
		buf_printf(&r->out, tr("%s %lld" NBSP ": «" NBSP "%s" NBSP "». Pour le corriger, recopiez ces lignes"
		    " dans une réponse et changez le texte (les lignes [[photo:N]] placent les"
		    " photos)" NBSP ":\n\nCORRIGER %lld\n%s\nFIN\n\n", "%s %lld: “%s”. To correct it,"
		    " copy these lines into a reply and change the text (the [[photo:N]] lines place"
		    " the photos):\n\nCORRECT %lld\n%s\nEND\n\n"), editor_name(c), (long long)id,
		    title, (long long)id, body);
	free(title);
	free(body);
	return 0;
}

/* Is line a marker of content.h? Its N, else 0. */
static int
editor_marker(const char *line)
{
	int n = 0, len = 0;

	if (sscanf(line, "[[photo:%d]]%n", &n, &len) == 1 && line[len] == '\0' && n > 0)
		return n;
	return 0;
}

/* The corrected text with the old text's photo markers kept where they
 * were: after the same paragraph (by count), or at the end when the new
 * text has fewer. Text that has markers of its own is taken as written. */
static char *
editor_keep_markers(const char *old, const char *text)
{
	char *copy = xstrdup(old), *p = copy, *line, *t, *q;
	int paras = 0, in_para = 0, nmarks = 0, marks[64], after[64];
	struct buf b;

	for (t = xstrdup(text), q = t; (line = editor_raw_line(&q)) != NULL; )
		if (editor_marker(line))
			nmarks = -1;
	free(t);
	while (nmarks >= 0 && (line = editor_raw_line(&p)) != NULL) {
		int m = editor_marker(line);

		if (m && nmarks < (int)nitems(marks)) {
			marks[nmarks] = m;
			after[nmarks++] = paras;
		}
		if (m || str_is_empty(line))
			in_para = 0;
		else if (!in_para) {
			paras++;
			in_para = 1;
		}
	}
	free(copy);
	if (nmarks <= 0)
		return xstrdup(text);
	buf_init(&b);
	paras = in_para = 0;
	t = xstrdup(text);
	for (q = t; ; ) {
		line = editor_raw_line(&q);
		if (line == NULL || str_is_empty(line)) {
			for (int i = 0; i < nmarks && in_para; i++)
				if (after[i] == paras)
					buf_printf(&b, "\n[[photo:%d]]\n", marks[i]);
			if (line == NULL)
				break;
			in_para = 0;
			buf_addc(&b, '\n');
			continue;
		}
		if (!in_para) {
			for (int i = 0; i < nmarks && paras == 0; i++)
				if (after[i] == 0)
					buf_printf(&b, "[[photo:%d]]\n\n", marks[i]);
			paras++;
			in_para = 1;
		}
		buf_printf(&b, "%s\n", line);
	}
	for (int i = 0; i < nmarks; i++)
		if (after[i] > paras)
			buf_printf(&b, "\n[[photo:%d]]\n", marks[i]);
	free(t);
	return buf_steal(&b);
}

/* The lines after CORRIGER up to a line FIN (END), the signature or the end;
 * quoted lines left out, blank lines at both ends and runs of blank lines
 * reduced. */
static char *
editor_take_text(const char *first, char **rest)
{
	struct buf b;
	char *line;
	int blank = 0;

	buf_init(&b);
	if (first && *first)
		buf_printf(&b, "%s\n", first);
	while ((line = editor_raw_line(rest)) != NULL) {
		char *f = str_fold(line);

		str_trim(f);
		if (strcmp(f, "fin") == 0 || strcmp(f, "end") == 0 || strcmp(line, "-- ") == 0) {
			free(f);
			break;
		}
		free(f);
		if (line[strspn(line, " \t")] == '>')
			continue;
		if (str_is_empty(line)) {
			blank = b.len > 0;
			continue;
		}
		if (blank)
			buf_addc(&b, '\n');
		blank = 0;
		buf_printf(&b, "%s\n", line);
	}
	return buf_steal(&b);
}

static int
editor_cmd_correct(struct editor_run *r, const struct editor_cmd *c, char *args, char **rest)
{
	int64_t id = editor_id(&args);
	char *text = editor_take_text(args, rest), *title, *old, *body;
	const char *err = NULL;
	int rc;

	if (id <= 0 || str_is_empty(text)) {
		free(text);
		return editor_usage(r, c, tr("CORRIGER 12, puis le texte corrigé sur les lignes"
		    " suivantes, puis une ligne FIN", "CORRECT 12, then the corrected text on the"
		    " next lines, then a line END"));
	}
	title = db_str(r->e->db, "SELECT title FROM submission WHERE id = ?", "i", id);
	old = db_str(r->e->db, "SELECT body FROM submission WHERE id = ?", "i", id);
	body = editor_keep_markers(old ? old : "", text);
	for (size_t n = strlen(body); n > 0 && body[n - 1] == '\n'; n--)
		body[n - 1] = '\0';	/* as intake writes a text */
	if (title == NULL) {
		rc = 0;
		err = tr("compte rendu inconnu", "unknown report");
	} else
		rc = editor_set_text(r->e, id, title, body, &err);
	rc = editor_outcome(r, c, id, rc, tr("fait, texte remplacé (photos gardées à leur place)",
	    "done, text replaced (photos kept in place)"), err);
	free(title);
	free(old);
	free(body);
	free(text);
	return rc;
}

/* Issue number named in args, else the open issue, else the last closed
 * one not published: 1 with *bi, 0 (said), -1. */
static int
editor_issue(struct editor_run *r, const struct editor_cmd *c, char *args,
    struct bulletin_issue *bi)
{
	int64_t n = editor_id(&args), last = 0;
	int rc;

	if (*args != '\0')
		return editor_usage(r, c, tr("EPREUVE (le numéro en cours) ou EPREUVE 6",
		    "PROOF (the current issue) or PROOF 6")), 0;
	if (n > 0)
		rc = bulletin_get(r->e, (int)n, bi);
	else if ((rc = bulletin_open_issue(r->e, now(), bi)) == 1 &&
	    db_int(r->e->db, &last, "SELECT coalesce(max(number), 0) FROM bulletin_issue WHERE"
	    " state = 'closed'", "") == 1 && last > 0)
		rc = bulletin_get(r->e, (int)last, bi);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		editor_say(r, c, n, tr("aucun numéro du bulletin en cours", "no bulletin issue"
		    " under way"));
		return 0;
	}
	return 1;
}

/* Record a job for editor_jobs(): 0, -1. */
static int
editor_job_add(struct editor_run *r, const char *action, const char *text)
{
	char token[33];

	engine_token(token, 16);
	if (db_run(r->e->db, "INSERT INTO message (token, kind, state, author, target, received,"
	    " message_id, raw) VALUES (?, 'editor-job', 'held', ?, ?, ?, ?, ?)", "sssisb", token,
	    r->who, action, (int64_t)now(), r->in_reply_to ? r->in_reply_to : "", text,
	    strlen(text)) == -1)
		return -1;
	engine_logf(r->e, "job=%s editor=%s action=%s text=\"%s\" status=queued", token, r->who, action,
	    text);
	return 0;
}

/* The issue's accepted reports, or 0 (said). */
static int64_t
editor_accepted(struct editor_run *r, const struct editor_cmd *c, const struct bulletin_issue *bi)
{
	int64_t n = 0;

	if (db_int(r->e->db, &n, "SELECT count(*) FROM submission WHERE issue_id = ? AND"
	    " state = 'accepted'", "i", bi->id) == -1)
		return -1;
	if (n == 0)
		editor_say(r, c, bi->number, tr("aucun compte rendu accepté dans ce numéro",
		    "no accepted report in this issue"));
	return n;
}

static int
editor_cmd_proof(struct editor_run *r, const struct editor_cmd *c, char *args, char **rest)
{
	struct bulletin_issue bi;
	char num[16], *done;
	int64_t n;
	int rc;

	if ((rc = editor_issue(r, c, args, &bi)) != 1)
		return rc;
	if (strcmp(bi.state, "published") == 0) {
		editor_say(r, c, bi.number, tr("ce numéro est déjà publié", "already published"));
		return 0;
	}
	if ((n = editor_accepted(r, c, &bi)) <= 0)
		return n == -1 ? -1 : 0;
	snprintf(num, sizeof num, "%d", bi.number);
	if (editor_job_add(r, "proof", num) == -1)
		return -1;
	done = xasprintf(n > 1 ? tr("l'épreuve du bulletin n°\xc2\xa0%d (%lld comptes rendus) part dans"
	    " un instant à tous les rédacteurs", "the proof of bulletin no. %d (%lld reports)"
	    " goes to every editor in a moment") : tr("l'épreuve du bulletin n°\xc2\xa0%d (%lld compte"
	    " rendu) part dans un instant à tous les rédacteurs", "the proof of bulletin no. %d"
	    " (%lld report) goes to every editor in a moment"), bi.number, (long long)n);
	editor_say(r, c, 0, done);
	free(done);
	r->napplied++;
	return 0;
}

/* May issue number be published now? 1 with the fingerprint proofed (the
 * content's, unchanged since its last proof), 0 with the reason in why. */
static int
editor_publishable(struct engine *e, int number, char hash[65], const char **why)
{
	char proof[65];
	const char *err = NULL;
	int rc = issue_hashes(e, number, hash, proof, &err);

	if (rc != 1) {
		*why = rc == 0 ? tr("numéro inconnu ou sans compte rendu accepté", "unknown issue"
		    " or no accepted report") : err;
		return rc;
	}
	if (*proof == '\0')
		*why = tr("aucune épreuve n'a été envoyée" NBSP "; écrivez d'abord EPREUVE, relisez-la,"
		    " puis PUBLIER", "no proof was sent; write PROOF first, read it, then PUBLISH");
	else if (strcmp(proof, hash) != 0)
		*why = tr("le contenu a changé depuis la dernière épreuve" NBSP "; écrivez EPREUVE,"
		    " relisez-la, puis PUBLIER", "the content changed since the last proof; write"
		    " PROOF, read it, then PUBLISH");
	else
		return 1;
	return 0;
}

static int
editor_cmd_publish(struct editor_run *r, const struct editor_cmd *c, char *args, char **rest)
{
	int64_t n = editor_id(&args);
	struct bulletin_issue bi;
	const char *why = NULL;
	char hash[65], token[33], *text;
	int rc;

	if (n <= 0 || *args != '\0')
		return editor_usage(r, c, tr("PUBLIER 6 (le numéro du bulletin)",
		    "PUBLISH 6 (the bulletin's number)"));
	if ((rc = bulletin_get(r->e, (int)n, &bi)) == 0 && strcmp(bi.state, "published") == 0)
		why = tr("ce numéro est déjà publié", "already published");
	else if (rc == -1 || (rc = editor_publishable(r->e, (int)n, hash, &why)) == -1)
		return -1;
	if (why) {
		editor_say(r, c, n, why);
		return 0;
	}
	text = xasprintf("%lld %s", (long long)n, hash);
	rc = answer_hold(r->e, r->who, "editor-publish", text, token);
	free(text);
	if (rc == -1)
		return -1;
	free(r->publish);
	r->publish = engine_addr(r->e, r->e->cf->confirm_prefix, token);
	r->publish_issue = (int)n;
	editor_say(r, c, n, tr("à confirmer (voir ci-dessous)", "to be confirmed (see below)"));
	return 0;
}

static int
editor_cmd_help(struct editor_run *r, const struct editor_cmd *c, char *args, char **rest)
{
	editor_say(r, c, 0, tr("la liste des commandes est ci-dessous",
	    "the list of commands is below"));
	return 0;
}

/* ---- a mail's commands ---- */

/* Apply every command of text; results in r->out. 0, or -1 (database). */
static int
editor_apply(struct editor_run *r, char *text)
{
	const struct editor_cmd *c;
	const char *args;
	char *p = text, *line;
	int first = 1;

	while ((line = editor_next_line(&p)) != NULL) {
		enum editor_line k;

		if (first && trim_is_greeting(line, strlen(line)))
			continue;
		first = 0;
		if ((k = editor_classify(line, &c, &args)) == EDITOR_TEXT)
			break;
		if (k == EDITOR_UNKNOWN) {
			str_trim(line);
			buf_printf(&r->out, tr("%s" NBSP ": commande inconnue (la liste est ci-dessous)\n",
			    "%s: unknown command (the list is below)\n"), line);
			r->unknown = 1;
			continue;
		}
		char *a = xstrdup(args);
		int rc = c->fn(r, c, a, &p);

		free(a);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* The list of commands (template editor-help), for every mail to editors. */
char *
editor_help(struct engine *e, int64_t example)
{
	char *bulletin = config_address(e->cf, e->cf->bulletin_address), *subject = NULL,
	    *body = NULL, id[24], num[16];
	struct bulletin_issue bi;
	const char *err = NULL;

	if (example <= 0 && db_int(e->db, &example, "SELECT coalesce(max(id), 12) FROM"
	    " submission", "") == -1)
		example = 12;
	snprintf(id, sizeof id, "%lld", (long long)example);
	snprintf(num, sizeof num, "%d", bulletin_open_issue(e, now(), &bi) == 0 ? bi.number : 1);
	if (notice_render(e, "editor-help", (const char *[]){ "BULLETIN_ADDRESS", bulletin,
	    "EXAMPLE_ID", id, "ISSUE", num, NULL }, &subject, &body, &err) == -1) {
		log_warnx("notice=editor-help status=error reason=\"%s\"", err ? err : "");
		body = xstrdup("");
	}
	free(subject);
	free(bulletin);
	return body;
}

/* Send r's results to the editor (one mail): 0, -1. */
static int
editor_answer(struct editor_run *r, const struct inmsg *in, struct mime_msg *m)
{
	char *bulletin = config_address(r->e->cf, r->e->cf->bulletin_address), count[16],
	    issue[16], *help = editor_help(r->e, 0);
	struct notice_opts o = { .from = bulletin, .in_reply_to = r->in_reply_to,
	    .reply_to = r->publish };
	const char *err;
	int rc;

	if (r->out.len == 0)
		buf_adds(&r->out, tr("(aucune commande trouvée)\n", "(no command found)\n"));
	snprintf(count, sizeof count, "%d", r->napplied);
	snprintf(issue, sizeof issue, "%d", r->publish_issue);
	const char *vars[] = { "RESULTS", buf_cstr(&r->out), "COUNT", count, "HELP", help,
	    r->publish ? "#PUBLISH" : "#NOPUBLISH", "", "CONFIRM_ADDRESS",
	    r->publish ? r->publish : "", "ISSUE", issue, NULL };

	/* a job answers an editor of the roster, no mail to judge */
	rc = m ? answer_notice(r->e, in->sender, m, r->who, "editor-result", vars, &o) :
	    notice_send_opts(r->e, "editor-result", r->who, vars, &o, &err);
	free(help);
	free(bulletin);
	return rc == -1 ? -1 : 0;
}

static void
editor_run_init(struct editor_run *r, struct engine *e, const char *who, char *reply_to)
{
	memset(r, 0, sizeof *r);
	r->e = e;
	r->who = who;
	r->in_reply_to = reply_to;
	buf_init(&r->out);
}

static void
editor_run_free(struct editor_run *r)
{
	buf_free(&r->out);
	free(r->publish);
}

/* The mail's Message-ID as "<id>" for In-Reply-To, or NULL. */
static char *
editor_reply_ref(struct mime_msg *m)
{
	char *id = mime_message_id(m), *ref = id ? xasprintf("<%s>", id) : NULL;

	free(id);
	return ref;
}

/* Apply text's commands for editor from and send the results: 0, -1. */
static int
editor_run(struct engine *e, const struct inmsg *in, struct mime_msg *m, const char *from,
    char *text)
{
	struct editor_run r;
	char *ref = editor_reply_ref(m);
	int rc;

	editor_run_init(&r, e, from, ref);
	rc = editor_apply(&r, text);
	if (rc == 0)
		rc = editor_answer(&r, in, m);
	if (rc == 0)
		engine_logf(e, "spool=%s from=%s editor-mail status=done applied=%d", in->spool_id, from,
		    r.napplied);
	editor_run_free(&r);
	free(ref);
	return rc;
}

/* ---- the mail handlers ---- */

struct editor_mail {
	char	*from;
	char	*text;		/* the new text only */
	int	 is_editor;
};

static void
editor_mail_free(struct editor_mail *em)
{
	free(em->from);
	free(em->text);
	memset(em, 0, sizeof *em);
}

/* Who sent the parsed mail m; is_editor: a person's mail from an editor. */
static void
editor_mail_open(struct engine *e, const struct inmsg *in, struct mime_msg *m,
    struct editor_mail *em)
{
	memset(em, 0, sizeof *em);
	em->from = mime_from_address(m);
	if (em->from == NULL || autoreply_classify(m, in->sender, NULL) != AUTO_NONE ||
	    !roster_is_sender(e->db, em->from, "editor"))
		return;
	em->is_editor = 1;
	em->text = engine_new_text(m);
}

int
editor_is_command_mail(struct engine *e, const struct inmsg *in, struct mime_msg *m)
{
	struct editor_mail em;
	int rc;

	editor_mail_open(e, in, m, &em);
	rc = em.is_editor && em.text && editor_text_starts_with_command(em.text);
	editor_mail_free(&em);
	return rc;
}

/* The command lines of text as the editor will read them again. */
char *
editor_command_lines(const char *text)
{
	char *copy = xstrdup(text), *p = copy, *line;
	const struct editor_cmd *c;
	const char *args;
	struct buf b;

	buf_init(&b);
	while ((line = editor_next_line(&p)) != NULL) {
		enum editor_line k = editor_classify(line, &c, &args);

		if (k == EDITOR_TEXT && !(b.len == 0 && trim_is_greeting(line, strlen(line))))
			break;
		if (k == EDITOR_TEXT)
			continue;
		buf_printf(&b, "    %s\n", str_trim(line));
		if (k == EDITOR_KNOWN && c->fn == editor_cmd_correct) {
			char *t = editor_take_text("", &p);

			for (char *q = t, *l; (l = editor_raw_line(&q)) != NULL; )
				buf_printf(&b, "      | %s\n", l);
			buf_printf(&b, "    %s\n", tr("FIN", "END"));
			free(t);
		}
	}
	free(copy);
	return buf_steal(&b);
}

/* Commands without proof: kept under a one-time token, and the editor
 * asked to confirm them by reply. 0, or -1 on a database error. */
static int
editor_hold(struct engine *e, const struct inmsg *in, struct mime_msg *m,
    const struct editor_mail *em)
{
	char token[33], *lines = editor_command_lines(em->text), *confirm, *bulletin, *help;
	char *ref = editor_reply_ref(m);
	struct notice_opts o = { 0 };
	int rc = answer_hold(e, em->from, "editor", em->text, token);

	if (rc == 0) {
		confirm = engine_addr(e, e->cf->confirm_prefix, token);
		bulletin = config_address(e->cf, e->cf->bulletin_address);
		help = editor_help(e, 0);
		o.from = bulletin;
		o.reply_to = confirm;
		o.in_reply_to = ref;
		rc = answer_notice(e, in->sender, m, em->from, "editor-confirm", (const char *[]){
		    "COMMANDS", lines, "CONFIRM_ADDRESS", confirm, "HELP", help, NULL }, &o) == -1 ?
		    -1 : 0;
		free(help);
		free(confirm);
		free(bulletin);
	}
	free(ref);
	free(lines);
	return rc;
}

enum engine_result
editor_command_mail(struct engine *e, const struct inmsg *in, struct mime_msg *m,
    const char **error_r)
{
	struct editor_mail em;
	int rc;

	editor_mail_open(e, in, m, &em);
	if (answer_trust(e, in->sender, m, em.from, NULL) == ANSWER_PROVEN)
		rc = editor_run(e, in, m, em.from, em.text ? em.text : "");
	else
		rc = editor_hold(e, in, m, &em);
	editor_mail_free(&em);
	return rc == -1 ? engine_dberr(e, error_r) : ENGINE_DONE;
}

/* A confirmed PUBLIER ("N HASH"): checked again, then a job; refused with a
 * result mail when the content changed. 0, -1. */
static int
editor_publish_confirmed(struct engine *e, const struct inmsg *in, struct mime_msg *m,
    const char *from, const char *text)
{
	const struct editor_cmd *c = editor_cmd_of(editor_cmd_publish);
	char hash[65], *ref = editor_reply_ref(m);
	const char *why = NULL;
	struct editor_run r;
	int n = 0, rc;

	editor_run_init(&r, e, from, ref);
	if (sscanf(text, "%d", &n) != 1 || strchr(text, ' ') == NULL)
		rc = -1;
	else if ((rc = editor_publishable(e, n, hash, &why)) == 1 &&
	    strcmp(hash, strchr(text, ' ') + 1) != 0) {
		why = tr("le contenu a changé depuis la demande" NBSP "; écrivez EPREUVE, relisez-la,"
		    " puis PUBLIER", "the content changed since the request; write PROOF, read it,"
		    " then PUBLISH");
		rc = 0;
	}
	if (rc == 1)
		rc = editor_job_add(&r, "publish", text);
	else if (rc == 0) {
		editor_say(&r, c, n, why);
		engine_logf(e, "bulletin=%d editor=%s status=refused reason=\"changed since the proof\"",
		    n, from);
		rc = editor_answer(&r, in, m);
	}
	editor_run_free(&r);
	free(ref);
	return rc;
}

enum engine_result
editor_commands_confirmed(struct engine *e, const struct inmsg *in, struct mime_msg *m,
    const char *from, const char *action, const char *text, const char **error_r)
{
	char *copy;
	int rc;

	if (!roster_is_sender(e->db, from, "editor")) {
		engine_logf(e, "from=%s editor-mail status=ignored reason=\"no longer an editor\"", from);
		return ENGINE_DONE;
	}
	if (strcmp(action, "editor-publish") == 0)
		rc = editor_publish_confirmed(e, in, m, from, text);
	else {
		copy = xstrdup(text);
		rc = editor_run(e, in, m, from, copy);
		free(copy);
	}
	return rc == -1 ? engine_dberr(e, error_r) : ENGINE_DONE;
}

/* ---- jobs: the proof and the publication, outside a transaction ---- */

struct editor_job {
	int64_t	 id;
	char	*who, *action, *ref, *text;
};

/* Run one job; the result line in r (publication always, proof when it
 * failed). */
static void
editor_job_run(struct engine *e, const struct editor_job *j, struct editor_run *r)
{
	const struct editor_cmd *c = editor_cmd_of(strcmp(j->action, "proof") == 0 ?
	    editor_cmd_proof : editor_cmd_publish);
	const char *err = NULL, *hash = strchr(j->text, ' ');
	int n = atoi(j->text), rc;
	int64_t copies = 0;
	char *done;

	if (c->fn == editor_cmd_proof) {
		if ((rc = issue_proof(e, n, &err)) != 1)
			editor_say(r, c, n, err);
		return;
	}
	rc = issue_publish_proofed(e, n, hash ? hash + 1 : "", &err);
	if (rc != 1) {
		editor_say(r, c, n, err);
		return;
	}
	db_int(e->db, &copies, "SELECT count(*) FROM delivery d JOIN bulletin_issue i ON"
	    " d.message_id = i.message_id WHERE i.number = ?", "d", n);
	done = xasprintf(copies > 1 ? tr("fait, le bulletin part à %lld adresses" NBSP "; l'archive"
	    " est écrite", "done, the bulletin goes to %lld addresses; the archive is written") :
	    tr("fait, le bulletin part à %lld adresse" NBSP "; l'archive est écrite", "done, the"
	    " bulletin goes to %lld address; the archive is written"), (long long)copies);
	editor_say(r, c, n, done);
	free(done);
	r->napplied++;
}

static void
editor_job_free(struct editor_job *j)
{
	free(j->who);
	free(j->action);
	free(j->ref);
	free(j->text);
}

/* The oldest job waiting: 1 with *j, 0 none, -1. */
static int
editor_job_next(struct engine *e, struct editor_job *j)
{
	struct db_stmt *st = db_query(e->db, "SELECT id, author, target, message_id, raw FROM"
	    " message WHERE kind = 'editor-job' AND state = 'held' ORDER BY id LIMIT 1", "");
	size_t len = 0;
	const void *raw;
	int rc = st ? db_step(st) : -1;

	if (rc == 1) {
		j->id = db_col_int(st, 0);
		j->who = xstrdup(db_col_text(st, 1));
		j->action = xstrdup(db_col_text(st, 2));
		j->ref = xstrdup(db_col_text(st, 3));
		raw = db_col_blob(st, 4, &len);
		j->text = xstrndup(raw ? raw : "", len);
	}
	db_finalize(&st);
	return rc;
}

int
editor_jobs(struct engine *e)
{
	struct editor_job j;
	int rc;

	while ((rc = editor_job_next(e, &j)) == 1) {
		struct editor_run r;

		editor_run_init(&r, e, j.who, *j.ref ? j.ref : NULL);
		editor_job_run(e, &j, &r);
		if (db_begin(e->db) == -1 || db_run(e->db, "UPDATE message SET state = 'done',"
		    " released = ? WHERE id = ?", "ii", (int64_t)now(), j.id) == -1 ||
		    (r.out.len > 0 && editor_answer(&r, NULL, NULL) == -1) ||
		    db_commit(e->db) == -1) {
			db_rollback(e->db);
			rc = -1;
		} else
			log_info("job=%lld editor=%s action=%s status=done", (long long)j.id, j.who,
			    j.action);
		editor_run_free(&r);
		editor_job_free(&j);
		if (rc == -1)
			break;
	}
	if (rc == -1)
		log_warnx("editor-jobs status=error reason=\"%s\"", db_errmsg(e->db));
	return rc == -1 ? -1 : 0;
}
