/*
 * issue.h — compiling a bulletin issue and sending it.
 *
 * issue_render(): the accepted submissions of the issue, by region then
 * committee (then the editors' order, then date), through the templates
 * templates/LANG/bulletin.html and bulletin.txt (ctemplate; all user text
 * HTML-escaped): header with number and period, table of contents, each
 * entry with committee, date, title, text and photos, a footer on how to
 * contribute. A submission's body says where its photos go: a line that
 * is exactly "[[photo:N]]" stands for its N-th photo (is_photo rows in id
 * order); photos without a marker follow the text (content.h, the
 * contract written at intake).
 * issue_archive(): data_dir/archive/bulletin-N.html (images beside it in
 * bulletin-N/), bulletin-N.txt and bulletin-N.pdf (A4, rendered by
 * WeasyPrint from the same HTML with print CSS).
 * issue_proof(): the mail as a committee contact would receive it
 * (multipart/alternative text + HTML, photos inline in multipart/related),
 * sent to the editors only: Subject "[ÉPREUVE] ...", To the editors, a
 * first line (section PROOF, key PROOF_TO) saying to whom it went and how
 * to publish, no List-* header, Reply-To the bulletin address.
 * issue_publish(): archive, then the same mail to every active contact and
 * every confirmed public subscriber, through the delivery queue; entries
 * indexed for search; the issue becomes 'published' (once).
 *
 * The mail stays within bulletin_mail_max bytes (photos at
 * bulletin_mail_photo_width, then 3/4 and 1/2 of it, then fewer photos per
 * report; the mail then says how many more and where the full issue is).
 * It is built once and stored once, as data_dir/mailings/TOKEN.eml, the
 * body every copy is sent from; a proof's body is dropped once a later
 * proof is queued and its own copies are out. Each proof and the
 * publication is a row of bulletin_mailing naming its message, whose
 * deliveries say sent / deferred / failed ("mlistctl bulletin show").
 * The mail's Reply-To is retour+TOKEN@ (a reply reaches the office like a
 * reply to a broadcast) and its Message-ID <TOKEN@domain>.
 *
 * Pages: the mail shows photos as cid: parts; the archive page
 * (bulletin-N.html, mode 0644 like every archive file) photos at
 * bulletin_archive_photo_width beside it in bulletin-N/; the PDF is printed
 * from a page whose photos are at most 640 x 620 px (about 200 dpi as
 * printed, 78 mm high at most).
 * Photos sit in a grid of two per row (a last landscape one alone takes the
 * full width). Template keys: LIST_NAME LIST_ADDRESS REQUEST_ADDRESS
 * BULLETIN_ADDRESS ISSUE_NUMBER PERIOD PUBLISH_DATE NENTRIES NCOMMITTEES;
 * sections PROOF (PROOF_TO), NEXT_DEADLINE (DEADLINE), TOO_LARGE and MORE_PHOTOS (MORE_COUNT,
 * MORE_PLURAL) with FULL_URL (FULL_URL) or NO_URL, TOC_REGION / REGION
 * (REGION_NAME REGION_ANCHOR, REGION_NAMED or REGION_UNNAMED) holding
 * TOC_COMMITTEE / COMMITTEE (COMMITTEE_NAME COMMITTEE_ANCHOR) holding
 * TOC_ENTRY / ENTRY (ENTRY_TITLE ENTRY_ANCHOR ENTRY_DATE ENTRY_TEXT, TXTPHOTO
 * with PHOTO_REF, and PART holding PARA with LINE (LINE_TEXT) or ROW with
 * PHOTO (PHOTO_SRC PHOTO_ALT PHOTO_PCT PHOTO_WIDTH) and ROW_GAP).
 *
 * Return 1 done, 0 refused with err_r (a rule, a missing issue), -1 error
 * with err_r (database, disk, PDF).
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
/* The same, only while the issue's content has the fingerprint hash (the
 * one its proof showed); refused (0) when it changed. */
int issue_publish_proofed(struct engine *e, int number, const char *hash, const char **err_r);
/* The fingerprint of the issue's content now (now_r) and the one its last
 * proof recorded (proof_r, "" when no proof was sent): 1, 0 when the issue
 * is unknown or has no accepted entry (err_r), -1 (err_r). */
int issue_hashes(struct engine *e, int number, char now_r[65], char proof_r[65],
    const char **err_r);
/* Send the published issue again: its failed copies (failed_only), or
 * every copy already sent or failed; *n_r = how many were queued. The
 * stored body is built again first when it is over bulletin_mail_max. */
int issue_resend(struct engine *e, int number, int failed_only, long *n_r, const char **err_r);

#endif
