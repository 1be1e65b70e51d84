/*
 * report.h — an activity report: an ordinary email to bulletin@ (or
 * bulletin+SLUG@) becomes the committee's submission for the open issue.
 *
 * The committee comes from bulletin+SLUG@, else from the sender's address
 * (a contact of exactly one committee); otherwise (unknown sender, contact
 * of two committees, no open issue) the submission is kept with state
 * 'held' for an editor and the sender is told in plain words. Title: the
 * Subject without Re:/TR:/Fwd:/[tags] (trim_subject); text: the new text
 * only (mime_text_plain, html_to_text, trim_reply), always valid UTF-8;
 * JPEG/PNG photos kept (bulletin_photo_max each; over it the sender is
 * told), other attachments kept and listed for editors; files under
 * data_dir/files/SUBMISSION/. The sender gets an acknowledgement (From
 * bulletin@, its Message-ID stored) showing title and text as they will
 * appear. A Subject starting with "Correction", or a reply to the
 * acknowledgement (In-Reply-To/References), replaces the committee's
 * earlier submission for that issue (state 'replaced'). Auto-replies,
 * bounces and the list's own mail are never submissions (logged, dropped).
 *
 * A message handler (engine.h). A mail from an editor that starts with
 * commands is the editor's commands (editor_command_mail), in the same
 * transaction path.
 */
#ifndef MLISTD_REPORT_H
#define MLISTD_REPORT_H

#include "engine.h"

enum engine_result report_accept(struct engine *e, const struct inmsg *in,
    const char **error_r);

#endif
