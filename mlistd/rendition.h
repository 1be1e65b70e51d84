/*
 * rendition.h — making many photo renditions at once (the bulletin's mail,
 * archive and print sizes), in parallel.
 *
 * Each job names a master (a JPEG from intake), the rendition file to make
 * and its bounds; a job whose file already exists is skipped (masters never
 * change, so an existing rendition is the right one). The missing ones are
 * made by up to RENDITION_THREADS threads through image.h (thread-safe),
 * each written durably.
 *
 * Returns 0, or -1 with err_r naming the first photo that failed (valid
 * until the next call from the same thread).
 */
#ifndef MLISTD_RENDITION_H
#define MLISTD_RENDITION_H

#include <stddef.h>

#define RENDITION_THREADS	4	/* at most; no more than the processors */

struct rendition_job {
	const char	*master;	/* full path */
	const char	*out;		/* full path */
	int		 width;		/* at most, px */
	int		 height;	/* at most, px; 0: no bound */
	int		 quality;
};

int rendition_make(const struct rendition_job *jobs, size_t n, const char **err_r);

#endif
