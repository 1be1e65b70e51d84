/*
 * image.h — pictures: the only module that touches libvips (image.c).
 *
 * A photo mailed in (JPEG, PNG, WebP, HEIF/HEIC, GIF: its first frame) is
 * turned into a *master*: decoded with shrink-on-load, turned upright (the
 * EXIF orientation applied to the pixels), transparency flattened on white,
 * converted to sRGB, stripped of every metadata (EXIF with GPS, phone
 * model, dates, XMP, IPTC, ICC) and saved as a baseline JPEG whose long side
 * is at most IMAGE_MASTER_SIDE (a larger JPEG is decoded at 1/2, 1/4 or
 * 1/8 of its size when that keeps IMAGE_MASTER_MIN_SIDE: a 4032x3024 phone
 * photo becomes 2016x1512). A photo is never refused for its size
 * alone: a large one is reduced. Only what cannot be decoded is refused
 * (and what claims more than IMAGE_MAX_PIXELS, a decompression bomb).
 *
 * Renditions (the bulletin mail ~800 px wide, the archive and PDF ~1600 px)
 * are made from a master file; never enlarged.
 *
 * Threads: every function may be called from any thread; libvips is
 * started once per process, lazily, on first use (pthread_once), with
 * untrusted loaders blocked, IMAGE_THREADS worker threads per operation and
 * no operation cache (a daemon sees each picture once).
 *
 * Errors: -1 and *error_r, a short English reason for the log, valid until
 * the next call from the same thread (copied from libvips' message).
 * Buffers returned are malloc'd: the caller frees them with free().
 */
#ifndef MLISTD_IMAGE_H
#define MLISTD_IMAGE_H

#include <stddef.h>

#define IMAGE_MASTER_SIDE	2048		/* long side of a master, px, at most */
#define IMAGE_MASTER_MIN_SIDE	1600		/* ... and at least, when larger */
#define IMAGE_MASTER_QUALITY	88		/* JPEG quality of a master */
#define IMAGE_MAX_PIXELS	(300L * 1000 * 1000)	/* beyond: refused as a bomb */

struct image_size {
	int	width;
	int	height;
};

/* Is this content (its first bytes) a picture we can publish (JPEG, PNG,
 * WebP, HEIF/HEIC/AVIF, GIF)? Sniffs the bytes, not the name or type. */
int image_is_picture(const void *data, size_t len);

/* Normalise a picture held in memory into a master: upright, metadata-free
 * JPEG, long side <= max_side (0: IMAGE_MASTER_SIDE), quality (0:
 * IMAGE_MASTER_QUALITY). On 0, *jpeg_r (free()) holds *len_r bytes and
 * *size_r the master's dimensions. -1 when it cannot be decoded. */
int image_master(const void *data, size_t len, int max_side, int quality,
    char **jpeg_r, size_t *len_r, struct image_size *size_r, const char **error_r);

/* A rendition of the master file master_path at most max_width wide (and,
 * when max_height > 0, at most max_height high), JPEG quality (1-100):
 * into memory (*jpeg_r, free()) ... */
int image_rendition_buffer(const char *master_path, int max_width, int max_height,
    int quality, char **jpeg_r, size_t *len_r, struct image_size *size_r,
    const char **error_r);
/* ... or durably into the file out_path (file_write_durable, mode 0640). */
int image_rendition_file(const char *master_path, int max_width, int max_height,
    int quality, const char *out_path, struct image_size *size_r, const char **error_r);

/* The dimensions of a picture file, reading only its header. */
int image_file_size(const char *path, struct image_size *size_r, const char **error_r);

#endif
