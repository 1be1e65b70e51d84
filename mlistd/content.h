/*
 * content.h — what a report says: its text, every text part in the order
 * the sender wrote it with each photo where it was, and the fate of each
 * attachment (photo, document, file kept for the editors).
 *
 * Photo markers (the contract with whoever renders a submission's body:
 * issue.c, the archive, the acknowledgement): a line that is exactly
 * "[[photo:N]]" stands for the N-th photo of the submission (N from 1, the
 * submission_file rows with is_photo = 1 in id order). A renderer shows
 * that photo there; photos whose marker is absent follow the text, in
 * order; a marker naming no photo is dropped. Marker lines people typed
 * themselves are removed at intake, so every marker is ours.
 *
 * The text: text/plain parts (format=flowed unwrapped), HTML parts turned
 * into text; each part trimmed of quotes, signatures and the footers phones
 * and webmails add (trim_reply); Gmail's "[image: NAME]" placeholders and
 * the <img src="cid:..."> of HTML parts become the marker of that photo
 * (or vanish).
 *
 * Attachments: a picture (JPEG, PNG, WebP, HEIF/HEIC, GIF, by its bytes)
 * becomes a master (image_master: upright, no metadata, <= 2048 px); one
 * that cannot be decoded, or an image type we do not read (TIFF, SVG...),
 * is kept as a file for the editors and listed as unreadable. A PDF is a
 * document (published in the archive); anything else a file for the
 * editors. Small inline images (signature logos) are skipped.
 */
#ifndef MLISTD_CONTENT_H
#define MLISTD_CONTENT_H

#include <stddef.h>

struct mime_msg;
struct mime_attachment;

#define CONTENT_MARK_FMT	"[[photo:%d]]"

enum content_kind { CONTENT_SKIP, CONTENT_PHOTO, CONTENT_DOCUMENT, CONTENT_FILE };

struct content_file {
	const struct mime_attachment *att;	/* as sent (name, type) */
	enum content_kind kind;
	int		 unreadable;	/* a picture not decoded: kept as a file */
	const char	*why;		/* its reason (English, for the log) */
	char		*master;	/* a photo's JPEG master (owned) */
	const char	*data;		/* what to store: master, else att->data */
	size_t		 len;
	const char	*content_type;	/* stored type */
	const char	*kind_name;	/* "photo", "document", "file" */
	int		 width, height;	/* a photo's */
	int		 ordinal;	/* a photo's N in its marker */
};

struct content {
	char			*body;		/* UTF-8 text with marker lines */
	struct content_file	*files;		/* one per attachment, in order */
	size_t			 nfiles;
	int			 nphotos;
	int			 overflow;	/* attachments over max_total: none kept */
	struct mime_attachment	*att;
	size_t			 natt;
	unsigned char		*placed;	/* [ordinal]: its marker is in body */
};

/* Read m into c (content_free() it). max_total bounds the decoded
 * attachments (over it: text only, overflow = 1). Never fails. */
void content_read(const struct mime_msg *m, size_t max_total, struct content *c);
void content_free(struct content *c);

/* N when the line (len bytes, no newline) is a marker, else 0. */
int content_marker(const char *line, size_t len);

#endif
