/*
 * issue.h — compiling a bulletin issue and sending it.
 *
 * issue_render(): the accepted submissions of the issue, by region then
 * committee (then the editors' order, then date), through the templates
 * templates/LANG/bulletin.html and bulletin.txt (ctemplate; all user text
 * HTML-escaped): header with number and period, table of contents, each
 * entry with committee, date, title, text and photos, a footer on how to
 * contribute.
 * issue_archive(): data_dir/archive/bulletin-N.html (images beside it in
 * bulletin-N/), bulletin-N.txt and bulletin-N.pdf (A4, rendered by
 * WeasyPrint from the same HTML with print CSS).
 * issue_proof(): the mail as a committee contact would receive it
 * (multipart/alternative text + HTML, photos inline in multipart/related),
 * sent to the editors only.
 * issue_publish(): archive, then the same mail to every active contact and
 * every confirmed public subscriber, through the delivery queue; entries
 * indexed for search; the issue becomes 'published' (once).
 *
 * Return 0, -1 with err_r (rule or missing issue), -2 database/disk error.
 */
#ifndef MLISTD_ISSUE_H
#define MLISTD_ISSUE_H

struct engine;

struct issue_doc {
	char	*html;		/* for mail clients and the archive */
	char	*text;		/* plain-text version, same content */
	char	*subject;
	int	 nentries;
};

int issue_render(struct engine *e, int number, int for_archive, struct issue_doc *doc,
    const char **err_r);
void issue_doc_free(struct issue_doc *doc);
int issue_archive(struct engine *e, int number, int with_pdf, const char **err_r);
int issue_proof(struct engine *e, int number, const char **err_r);
int issue_publish(struct engine *e, int number, const char **err_r);

#endif
