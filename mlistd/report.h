/*
 * report.h — an activity report: an ordinary email to bulletin@ (or
 * bulletin+SLUG@) becomes the committee's submission for the open issue.
 *
 * The committee comes from bulletin+SLUG@, else from the sender's address
 * (a contact of exactly one committee); otherwise (unknown sender, contact
 * of two committees, no open issue) the submission is kept with state
 * 'held' for an editor and the sender is told in plain words. Title: the
 * Subject without Re:/TR:/Fwd:/[tags] (trim_subject), unless it is our
 * call's (a reply to the call): then the first short line of the text,
 * else "Compte rendu — COMMITTEE". Activity date: a French date in the
 * Subject or the first paragraph (frdate.h), else the mail's date; a reply
 * to the acknowledgement saying only "Date : 14 novembre" changes only the
 * date. Text and attachments: content.h (every text part in order, photos
 * where they were as "[[photo:N]]" marker lines, which is how a stored
 * submission body says where its photos go; masters of at most 2048 px,
 * upright and without metadata, stored with kind 'photo', width, height;
 * PDFs kind 'document' for the archive; other files kind 'file' for the
 * editors; images that cannot be decoded kept as files and listed as not
 * published); files under data_dir/files/SUBMISSION/. The sender gets an
 * acknowledgement (From bulletin@, its Message-ID stored) showing title,
 * text, date and the fate of every attachment as they will
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
