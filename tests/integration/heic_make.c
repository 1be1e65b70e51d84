/*
 * heic_make.c — a small HEIC as an iPhone stores one, for test_heic.sh:
 * the pixels kept landscape (400x300, the left quarter red, the rest blue)
 * and an irot transform that turns them 90 degrees clockwise for display
 * (300x400, red at the top). Built by the test with libheif's encoder.
 *
 *   heic_make OUT.heic
 */
#include <stdint.h>
#include <stdio.h>

#include <libheif/heif.h>

int
main(int argc, char **argv)
{
	struct heif_context *ctx = heif_context_alloc();
	struct heif_encoder *enc;
	struct heif_image *img;
	struct heif_encoding_options *o;
	int stride, w = 400, h = 300;
	uint8_t *p;

	if (argc != 2 ||
	    heif_context_get_encoder_for_format(ctx, heif_compression_HEVC, &enc).code != 0)
		return 1;
	heif_encoder_set_lossy_quality(enc, 80);
	heif_image_create(w, h, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img);
	heif_image_add_plane(img, heif_channel_interleaved, w, h, 8);
	p = heif_image_get_plane(img, heif_channel_interleaved, &stride);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *q = p + y * stride + 3 * x;
			int red = x < w / 4;

			q[0] = red ? 230 : 20;
			q[1] = 20;
			q[2] = red ? 20 : 230;
		}
	o = heif_encoding_options_alloc();
	o->image_orientation = heif_orientation_rotate_90_cw;
	if (heif_context_encode_image(ctx, img, enc, o, NULL).code != 0)
		return 1;
	return heif_context_write_to_file(ctx, argv[1]).code != 0;
}
