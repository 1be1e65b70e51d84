/*
 * editor.h — the editors' work on submissions, shared by mlistctl and by
 * email: accept, reject, hold, edit title/text, order, set the activity
 * date; the daily digest of new submissions; and the one-word commands
 * editors reply with ("ACCEPTER 12", "REFUSER 12", "ATTENTE 12",
 * "ATTRIBUER 12 rennes", English ACCEPT/REJECT/HOLD/ASSIGN too, any case,
 * accents optional, one per line).
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
/* Position of a submission in its issue (1 = first). */
int editor_set_position(struct engine *e, int64_t submission_id, int position,
    const char **err_r);
/* Give a submission (typically held: unknown sender, no open issue) to a
 * committee (slug or name) and an issue (issue_number, 0: the one it has,
 * else the open one); a held one becomes new, to be accepted. Also by
 * email: "ATTRIBUER ID COMITÉ" (ASSIGN). */
int editor_assign(struct engine *e, int64_t submission_id, const char *committee,
    int issue_number, const char **err_r);
/* A mail to the bulletin address, parsed as m (the caller's): does it come
 * from an editor and start with commands? 1 yes, 0 no (it is a report). */
int editor_is_command_mail(struct engine *e, const struct inmsg *in, struct mime_msg *m);
/* Apply the commands of such a mail and answer the editor with the
 * results, when a trusted DKIM pass proves the From address; otherwise keep
 * them under a one-time token and ask the editor to confirm by reply
 * (answer.h). Inside engine_run()'s transaction (a message handler). */
enum engine_result editor_command_mail(struct engine *e, const struct inmsg *in,
    struct mime_msg *m, const char **error_r);
/* The commands text of editor from, confirmed by reply (in, m: the reply):
 * applied, results sent. A message handler's result. */
enum engine_result editor_commands_confirmed(struct engine *e, const struct inmsg *in,
    struct mime_msg *m, const char *from, const char *text, const char **error_r);
/* The daily digest of new submissions to every editor (called by
 * bulletin_tick): 0, or -1 on an error (logged). */
int editor_digest(struct engine *e);

#endif
