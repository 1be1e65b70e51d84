/*
 * image.c — the libvips adapter (see image.h): the only file that includes
 * <vips/vips.h>.
 *
 * Speed and memory: a JPEG, what phones send, is decoded with libjpeg's
 * DCT scaling at the largest factor (2, 4 or 8) that keeps what is needed
 * (a master's long side at least IMAGE_MASTER_MIN_SIDE, a rendition its
 * bounds), then fitted by vips_thumbnail_image(): a 4032x3024 photo is
 * decoded at 2016x1512 (a quarter of the pixels: 9 MB, about half the CPU
 * time of a full decode) and needs no resampling at all. vips_thumbnail()
 * alone keeps a factor of 2 in reserve (it would decode 4032 px to make
 * 2016). Other formats go through vips_thumbnail_buffer(), which uses
 * their own shrink-on-load (the HEIF thumbnail, WebP's scaled decode). The
 * header is read first (lazy open) to refuse decompression bombs before
 * any pixel is decoded.
 *
 * Safety: only the loaders of the five formats people mail are accepted
 * (image_loader_ok, matched on the loader libvips picks by sniffing the
 * bytes: never SVG, PDF, TIFF, ImageMagick...), the loaders libvips marks
 * untrusted are blocked as well, and a truncated picture is refused rather
 * than published half grey.
 *
 * Loading: libvips is not linked but opened (dlopen) the first time a
 * picture is handled. Linked, it brings some eighty libraries (librsvg,
 * poppler, OpenEXR, HDF5, ICU...) into every process at start-up, 11-13 MiB
 * of resident pages and their constructors even in a fan-out or an mlistctl
 * command that never sees a picture. The functions used are listed in
 * IMAGE_VIPS_FUNCTIONS and looked up once (their types come from the
 * headers); calling another one is a link error (no -lvips): add it there.
 * The library opened is the ABI this file was compiled against.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "image.h"
#include "log.h"
#include "util.h"

#define IMAGE_THREADS	1	/* worker threads per operation: 2 cores, shared */

#define IMAGE_VIPS_FUNCTIONS(X) \
	X(vips_init) X(vips_block_untrusted_set) X(vips_concurrency_set) \
	X(vips_cache_set_max) X(vips_cache_set_max_mem) X(vips_cache_set_max_files) \
	X(vips_error_buffer) X(vips_error_clear) X(vips_area_unref) \
	X(vips_array_double_newv) X(vips_flatten) X(vips_foreign_find_load_buffer) \
	X(vips_image_get_width) X(vips_image_get_height) X(vips_image_hasalpha) \
	X(vips_image_new_from_buffer) X(vips_image_new_from_file) \
	X(vips_jpegsave_buffer) X(vips_thumbnail) X(vips_thumbnail_buffer) \
	X(vips_foreign_find_load) X(vips_jpegload) X(vips_jpegload_buffer) \
	X(vips_thumbnail_image)

#define IMAGE_VIPS_FIELD(f)	__typeof__(f) *f;
#define IMAGE_VIPS_LOOKUP(f)	ok = ok && (*(void **)&image_vips.f = dlsym(h, #f)) != NULL;

static struct {
	IMAGE_VIPS_FUNCTIONS(IMAGE_VIPS_FIELD)
} image_vips;

static pthread_once_t image_once = PTHREAD_ONCE_INIT;
static int image_ready;		/* 1 once vips_init succeeded */
static char image_start_err[128];	/* why it did not */
static _Thread_local char image_err[256];

/* Open libvips and find its functions; 0, or -1 with image_start_err. */
static int
image_open(void)
{
	char name[32];
	void *h;
	int ok = 1;

	snprintf(name, sizeof name, "libvips.so.%d", VIPS_LIBRARY_CURRENT - VIPS_LIBRARY_AGE);
	if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(image_start_err, sizeof image_start_err, "cannot load %s (package"
		    " libvips42)", name);
		return -1;
	}
	IMAGE_VIPS_FUNCTIONS(IMAGE_VIPS_LOOKUP)
	if (!ok)
		snprintf(image_start_err, sizeof image_start_err, "%s lacks a function", name);
	return ok ? 0 : -1;	/* never closed: libvips keeps threads and types */
}

/* From here on, the calls go through the functions found. */
#define vips_init			(*image_vips.vips_init)
#define vips_block_untrusted_set	(*image_vips.vips_block_untrusted_set)
#define vips_concurrency_set		(*image_vips.vips_concurrency_set)
#define vips_cache_set_max		(*image_vips.vips_cache_set_max)
#define vips_cache_set_max_mem		(*image_vips.vips_cache_set_max_mem)
#define vips_cache_set_max_files	(*image_vips.vips_cache_set_max_files)
#define vips_error_buffer		(*image_vips.vips_error_buffer)
#define vips_error_clear		(*image_vips.vips_error_clear)
#define vips_area_unref			(*image_vips.vips_area_unref)
#define vips_array_double_newv		(*image_vips.vips_array_double_newv)
#define vips_flatten			(*image_vips.vips_flatten)
#define vips_foreign_find_load_buffer	(*image_vips.vips_foreign_find_load_buffer)
#define vips_image_get_width		(*image_vips.vips_image_get_width)
#define vips_image_get_height		(*image_vips.vips_image_get_height)
#define vips_image_hasalpha		(*image_vips.vips_image_hasalpha)
#define vips_image_new_from_buffer	(*image_vips.vips_image_new_from_buffer)
#define vips_image_new_from_file	(*image_vips.vips_image_new_from_file)
#define vips_jpegsave_buffer		(*image_vips.vips_jpegsave_buffer)
#define vips_thumbnail			(*image_vips.vips_thumbnail)
#define vips_thumbnail_buffer		(*image_vips.vips_thumbnail_buffer)
#define vips_foreign_find_load		(*image_vips.vips_foreign_find_load)
#define vips_jpegload			(*image_vips.vips_jpegload)
#define vips_jpegload_buffer		(*image_vips.vips_jpegload_buffer)
#define vips_thumbnail_image		(*image_vips.vips_thumbnail_image)

/* libvips' warnings (a corrupt tile...) would go to stderr unformatted:
 * what matters reaches the caller as an error. */
static void
image_quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
}

static void
image_start(void)
{
	snprintf(image_start_err, sizeof image_start_err, "libvips could not start");
	if (image_open() == -1 || vips_init("mlistd") != 0) {
		/* once per process: every picture will be refused alike */
		log_warnx("image status=error reason=\"%s: no picture can be read\"",
		    image_start_err);
		return;
	}
	g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE |
	    G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG, image_quiet, NULL);
	vips_block_untrusted_set(TRUE);
	vips_concurrency_set(IMAGE_THREADS);
	vips_cache_set_max(0);		/* each picture is seen once */
	vips_cache_set_max_mem(0);
	vips_cache_set_max_files(0);
	image_ready = 1;
}

/* Copy libvips' message (its first line) for the caller, prefixed. */
static int
image_fail(const char *what, const char **error_r)
{
	const char *v = vips_error_buffer();
	size_t n = strcspn(v ? v : "", "\n");

	snprintf(image_err, sizeof image_err, "%s%s%.*s", what, n ? ": " : "", (int)n,
	    v ? v : "");
	vips_error_clear();
	*error_r = image_err;
	return -1;
}

static int
image_init(const char **error_r)
{
	pthread_once(&image_once, image_start);
	if (!image_ready) {
		*error_r = image_start_err;
		return -1;
	}
	return 0;
}

/* The loaders of JPEG, PNG, WebP, HEIF/HEIC/AVIF and GIF. */
static int
image_loader_ok(const char *loader)
{
	static const char *const ok[] = {
		"VipsForeignLoadJpegBuffer", "VipsForeignLoadPngBuffer",
		"VipsForeignLoadWebpBuffer", "VipsForeignLoadHeifBuffer",
		"VipsForeignLoadNsgifBuffer",
	};

	for (size_t i = 0; loader && i < sizeof ok / sizeof ok[0]; i++)
		if (strcmp(loader, ok[i]) == 0)
			return 1;
	return 0;
}

int
image_is_picture(const void *data, size_t len)
{
	const char *err;
	const char *loader;

	if (data == NULL || len < 12 || image_init(&err) == -1)
		return 0;
	loader = vips_foreign_find_load_buffer(data, len);
	vips_error_clear();
	return image_loader_ok(loader);
}

/* A JPEG cut short: libjpeg pads it with grey and only warns. Walk the
 * marker segments to the first scan, then look for the end-of-image marker
 * (0xFF 0xD9 cannot occur inside entropy-coded data, where 0xFF is stuffed;
 * whatever follows it, a phone's trailer or motion video, is ignored). */
static int
image_jpeg_complete(const unsigned char *p, size_t len)
{
	size_t i = 2;

	if (len < 4 || p[0] != 0xFF || p[1] != 0xD8)
		return 1;		/* not a JPEG: its loader judges */
	while (i + 4 <= len && p[i] == 0xFF && p[i + 1] != 0xDA)
		i += 2 + ((size_t)p[i + 2] << 8 | p[i + 3]);
	for (i += 2; i + 1 < len; i++)
		if (p[i] == 0xFF && p[i + 1] == 0xD9)
			return 1;
	return 0;
}

/* Refuse what no libvips loader we accept reads, or a decompression bomb,
 * reading the header only; *size_r its dimensions as stored. */
static int
image_check_header(const void *data, size_t len, struct image_size *size_r,
    const char **error_r)
{
	VipsImage *im;
	double pixels;

	if (!image_is_picture(data, len)) {
		*error_r = "not a JPEG, PNG, WebP, HEIF or GIF picture";
		return -1;
	}
	if (!image_jpeg_complete(data, len)) {
		*error_r = "truncated JPEG";
		return -1;
	}
	if ((im = vips_image_new_from_buffer(data, len, "", NULL)) == NULL)
		return image_fail("unreadable picture", error_r);
	size_r->width = vips_image_get_width(im);
	size_r->height = vips_image_get_height(im);
	pixels = (double)size_r->width * size_r->height;
	g_object_unref(im);
	if (pixels > (double)IMAGE_MAX_PIXELS) {
		*error_r = "picture of more than 300 megapixels";
		return -1;
	}
	return 0;
}

/* Transparency on white (a JPEG has none; libvips would use black). */
static int
image_flatten(VipsImage **im, const char **error_r)
{
	VipsImage *flat;
	VipsArrayDouble *white;
	int rc;

	if (!vips_image_hasalpha(*im))
		return 0;
	white = vips_array_double_newv(1, 255.0);
	rc = vips_flatten(*im, &flat, "background", white, NULL);
	vips_area_unref(VIPS_AREA(white));
	if (rc != 0)
		return image_fail("cannot flatten transparency", error_r);
	g_object_unref(*im);
	*im = flat;
	return 0;
}

/* Save im as a metadata-free JPEG into a malloc'd buffer; takes im. */
static int
image_save(VipsImage *im, int quality, char **jpeg_r, size_t *len_r,
    struct image_size *size_r, const char **error_r)
{
	void *out = NULL;
	size_t n = 0;
	int rc;

	if (image_flatten(&im, error_r) == -1) {
		g_object_unref(im);
		return -1;
	}
	if (size_r) {
		size_r->width = vips_image_get_width(im);
		size_r->height = vips_image_get_height(im);
	}
	rc = vips_jpegsave_buffer(im, &out, &n, "Q", quality, "strip", TRUE,
	    "optimize_coding", TRUE, NULL);
	g_object_unref(im);
	if (rc != 0)
		return image_fail("cannot encode JPEG", error_r);
	*jpeg_r = xmalloc(n);
	memcpy(*jpeg_r, out, n);
	*len_r = n;
	g_free(out);
	return 0;
}

/* The largest DCT scaling factor (1, 2, 4 or 8) after which a w x h JPEG
 * still fills a box_w x box_h box (one side reaches the box's): fitting it
 * in the box then never enlarges it. */
static int
image_jpeg_shrink(int w, int h, int box_w, int box_h)
{
	int s = 1;

	while (s < 8 && (w / (s * 2) >= box_w || h / (s * 2) >= box_h))
		s *= 2;
	return s;
}

/* Fit pre (taken) within max_w x max_h, upright: *im_r. */
static int
image_fit(VipsImage *pre, int max_w, int max_h, VipsImage **im_r, const char **error_r)
{
	int rc = vips_thumbnail_image(pre, im_r, max_w, "height", max_h, "size",
	    VIPS_SIZE_DOWN, NULL);

	g_object_unref(pre);
	return rc == 0 ? 0 : image_fail("cannot decode picture", error_r);
}

/* A picture in memory of stored size sz, decoded into *im_r, upright, with
 * its long side at most max_side (see the top of this file). */
static int
image_decode_buffer(const void *data, size_t len, struct image_size sz, int max_side,
    VipsImage **im_r, const char **error_r)
{
	const char *loader = vips_foreign_find_load_buffer(data, len);
	int need = max_side < IMAGE_MASTER_MIN_SIDE ? max_side : IMAGE_MASTER_MIN_SIDE;
	int shrink = image_jpeg_shrink(sz.width, sz.height, need, need);
	VipsImage *pre;

	/* The buffer is only read: libvips' prototypes lack the const. */
	if (loader && strcmp(loader, "VipsForeignLoadJpegBuffer") == 0 && shrink > 1) {
		if (vips_jpegload_buffer((void *)data, len, &pre, "shrink", shrink, "fail_on",
		    VIPS_FAIL_ON_TRUNCATED, NULL) != 0)
			return image_fail("cannot decode picture", error_r);
		return image_fit(pre, max_side, max_side, im_r, error_r);
	}
	vips_error_clear();
	if (vips_thumbnail_buffer((void *)data, len, im_r, max_side, "height", max_side,
	    "size", VIPS_SIZE_DOWN, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL) != 0)
		return image_fail("cannot decode picture", error_r);
	return 0;
}

int
image_master(const void *data, size_t len, int max_side, int quality,
    char **jpeg_r, size_t *len_r, struct image_size *size_r, const char **error_r)
{
	VipsImage *im;
	struct image_size sz = { 0, 0 };

	*jpeg_r = NULL;
	*len_r = 0;
	if (max_side <= 0)
		max_side = IMAGE_MASTER_SIDE;
	if (quality <= 0 || quality > 100)
		quality = IMAGE_MASTER_QUALITY;
	if (image_init(error_r) == -1 || image_check_header(data, len, &sz, error_r) == -1 ||
	    image_decode_buffer(data, len, sz, max_side, &im, error_r) == -1)
		return -1;
	return image_save(im, quality, jpeg_r, len_r, size_r, error_r);
}

/* A picture file (a master: upright already) decoded into *im_r, fitted
 * in max_w x max_h. */
static int
image_decode_file(const char *path, int max_w, int max_h, VipsImage **im_r,
    const char **error_r)
{
	const char *loader = vips_foreign_find_load(path);
	VipsImage *head, *pre;
	int shrink = 1;

	if (loader && strcmp(loader, "VipsForeignLoadJpegFile") == 0 &&
	    (head = vips_image_new_from_file(path, NULL)) != NULL) {
		shrink = image_jpeg_shrink(vips_image_get_width(head),
		    vips_image_get_height(head), max_w, max_h);
		g_object_unref(head);
	}
	vips_error_clear();
	if (shrink > 1) {
		if (vips_jpegload(path, &pre, "shrink", shrink, "fail_on", VIPS_FAIL_ON_TRUNCATED,
		    NULL) != 0)
			return image_fail("cannot read master", error_r);
		return image_fit(pre, max_w, max_h, im_r, error_r);
	}
	if (vips_thumbnail(path, im_r, max_w, "height", max_h, "size", VIPS_SIZE_DOWN,
	    "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL) != 0)
		return image_fail("cannot read master", error_r);
	return 0;
}

int
image_rendition_buffer(const char *master_path, int max_width, int max_height,
    int quality, char **jpeg_r, size_t *len_r, struct image_size *size_r,
    const char **error_r)
{
	VipsImage *im;

	*jpeg_r = NULL;
	*len_r = 0;
	if (max_width <= 0 || quality <= 0 || quality > 100) {
		*error_r = "bad rendition width or quality";
		return -1;
	}
	if (image_init(error_r) == -1 || image_decode_file(master_path, max_width,
	    max_height > 0 ? max_height : VIPS_MAX_COORD, &im, error_r) == -1)
		return -1;
	return image_save(im, quality, jpeg_r, len_r, size_r, error_r);
}

int
image_rendition_file(const char *master_path, int max_width, int max_height,
    int quality, const char *out_path, struct image_size *size_r, const char **error_r)
{
	char *jpeg;
	size_t len;
	int rc;

	if (image_rendition_buffer(master_path, max_width, max_height, quality, &jpeg, &len,
	    size_r, error_r) == -1)
		return -1;
	rc = file_write_durable(out_path, jpeg, len);
	free(jpeg);
	if (rc == -1)
		*error_r = "cannot write rendition";
	return rc;
}

int
image_file_size(const char *path, struct image_size *size_r, const char **error_r)
{
	VipsImage *im;

	if (image_init(error_r) == -1)
		return -1;
	if ((im = vips_image_new_from_file(path, NULL)) == NULL)
		return image_fail("cannot read picture", error_r);
	size_r->width = vips_image_get_width(im);
	size_r->height = vips_image_get_height(im);
	g_object_unref(im);
	return 0;
}
