/*
 * editor.h — the editors' work on submissions, shared by mlistctl and by
 * email: accept, reject, hold, edit title/text, order, set the activity
 * date; the daily digest of new submissions; and the commands editors
 * write by mail, one per line (editor_mail.c: ACCEPTER, REFUSER, ATTENTE,
 * ATTRIBUER, TITRE, DATE, TEXTE, CORRIGER, EPREUVE, PUBLIER, AIDE and
 * their English names).
 *
 * The editor_set_* and editor_assign functions return 1 done, 0 refused by
 * a rule (err_r says which, in the configured language), -1 database
 * error (err_r).
 */
#ifndef MLISTD_EDITOR_H
#define MLISTD_EDITOR_H

#include <stdint.h>

#include "engine.h"

struct engine;
struct mime_msg;
struct inmsg;

/* state: "accepted", "rejected", "held" (or "new"). */
int editor_set_state(struct engine *e, int64_t submission_id, const char *state,
    const char **err_r);
int editor_set_text(struct engine *e, int64_t submission_id, const char *title,
    const char *body, const char **err_r);
int editor_set_date(struct engine *e, int64_t submission_id, const char *yyyy_mm_dd,
    const char **err_r);
/* The date written in text as YYYY-MM-DD into ymd: AAAA-MM-JJ, JJ/MM/AAAA
 * or a French date ("14 mars 2026", "samedi 14/03"; without a year, the
 * one frdate_pick() chooses for today and the submission's issue). 1, 0
 * when there is none. */
int editor_date_read(struct engine *e, int64_t submission_id, const char *text, char ymd[11]);
/* Position of a submission in its issue (1 = first). */
int editor_set_position(struct engine *e, int64_t submission_id, int position,
    const char **err_r);
/* Give a submission (typically held: unknown sender, no open issue) to a
 * committee (slug or name) and an issue (issue_number, 0: the one it has,
 * else the open one); a held one becomes new, to be accepted. Also by
 * email: "ATTRIBUER ID COMITÉ" (ASSIGN). */
int editor_assign(struct engine *e, int64_t submission_id, const char *committee,
    int issue_number, const char **err_r);
/* ---- by mail (editor_mail.c) ---- */
/* A mail to the bulletin address, parsed as m (the caller's): does it come
 * from an editor and start with commands? 1 yes, 0 no (it is a report). */
int editor_is_command_mail(struct engine *e, const struct inmsg *in, struct mime_msg *m);

/* The parsing of an editor's new text (pure, what fuzz_editor drives):
 * does it start with a command (after a greeting line)? The commands it
 * holds, one per line indented by 4 spaces, a CORRIGER's text under it
 * ("      | "), as the confirmation mail shows them (caller frees). */
int editor_text_starts_with_command(const char *text);
char *editor_command_lines(const char *text);
/* Apply the commands of such a mail and answer the editor with the
 * results, when a trusted DKIM pass proves the From address; otherwise keep
 * them under a one-time token and ask the editor to confirm by reply
 * (answer.h). Inside engine_run()'s transaction (a message handler). */
enum engine_result editor_command_mail(struct engine *e, const struct inmsg *in,
    struct mime_msg *m, const char **error_r);
/* What editor from kept under a token, confirmed by reply (in, m: the
 * reply): action "editor" (commands text: applied, results sent) or
 * "editor-publish" (PUBLIER: checked again, then published by
 * editor_jobs()). A message handler's result. */
enum engine_result editor_commands_confirmed(struct engine *e, const struct inmsg *in,
    struct mime_msg *m, const char *from, const char *action, const char *text,
    const char **error_r);
/* Run the proofs and publications asked by mail (called by the daemon's
 * queue thread and by --once, outside any transaction), each answered to
 * its editor: 0, -1 on a database error (logged). */
int editor_jobs(struct engine *e);
/* The list of commands by mail (template editor-help), a new string; its
 * examples name submission example (0: the last one). */
char *editor_help(struct engine *e, int64_t example);
/* The daily digest of new submissions to every editor (called by
 * bulletin_tick): 0, or -1 on an error (logged). */
int editor_digest(struct engine *e);

#endif
