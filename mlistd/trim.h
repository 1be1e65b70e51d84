/*
 * trim.h — extract the new text of an emailed reply: what a committee member
 * actually wrote, without the quoted message, the attribution line
 * ("Le 12 mars 2026 à 10:15, Jean <j@example.org> a écrit :", "On ... wrote:"),
 * the Outlook header block ("De : ... Envoyé : ... À : ... Objet :"), the
 * forwarded message, the signature ("-- "), the "Envoyé de mon iPhone" lines
 * and the legal disclaimer. Also cleans a Subject into a bulletin title.
 *
 * Input is UTF-8 plain text (turn HTML into text first with html_to_text()).
 * CRLF and CR line endings are accepted. Time is linear in the input size.
 * Thread-safe.
 *
 * Ownership: every function returns a new string the caller frees with free();
 * none returns NULL (a NULL argument is treated as the empty string).
 */
#ifndef MLISTD_TRIM_H
#define MLISTD_TRIM_H

/* The new text only, without leading blank lines and trailing white space. */
char *trim_reply(const char *text_utf8);

/* Same; *elided_r (if elided_r is not NULL) receives the removed lines, in
 * order, without leading/trailing white space (caller frees). */
char *trim_reply_elided(const char *text_utf8, char **elided_r);

/* A Subject as a title: leading "Re:", "RE :", "TR:", "Tr :", "Fwd:", "Fw:",
 * "FW :", "AW:", "WG:", "Rép :"... and "[tags]" removed, repeated in any
 * order ("RE : TR: [Comités] Fête" -> "Fête"); white space collapsed. Other
 * words (e.g. "Correction") are kept: the caller decides. */
char *trim_subject(const char *subject);

/* Is line (len bytes, one line) a greeting: short (under 60 bytes) and
 * starting with a greeting word ("Bonjour", "Chers amis", "Hello Marie",
 * any case, accents optional)? The callers add what their place asks. */
int trim_is_greeting(const char *line, size_t len);

#endif
