/* reader.h - image rows (JPEG, PNG, WebP) decoded ahead of the compute by
 * worker threads.
 *
 * The stage that embeds images asks for row ranges in order (submit) and
 * collects them in the same order (take). Between the two, a pool of threads
 * reads and decodes the files of up to `depth` outstanding ranges, so the
 * next micro-batch is ready while the current one is being computed. Only the
 * calling thread touches MPI; the workers only read files and decode.
 */
#ifndef VR_READER_H
#define VR_READER_H

#include <stddef.h>
#include <stdint.h>

#include "../runtime/batch.h"
#include "../runtime/config.h"
#include "image.h"

typedef struct vr_reader vr_reader;

/* listing: the manifest or list file (NULL: rows come as bytes); base: the folder relative paths start
 * from; pixels: crop_h * crop_w (the model's image size); max_rows: most rows one
 * range holds; threads: decoding threads (0: decode in take()); depth:
 * ranges that may be outstanding. */
vr_status vr_reader_open(vr_reader **r, const char *listing, const char *base,
                         const vr_preprocess *p, const vr_jpeg_limits *lim, size_t pixels,
                         size_t max_rows, int threads, int depth);

/* Queues rows [first, first+count) (first at or after the last range's end). */
vr_status vr_reader_submit(vr_reader *r, size_t first, size_t count);

/* Queues `count` rows given as bytes in memory (a tar shard's members),
 * copied here: rows[i] names row i, and a row with ok = 0 is not decoded
 * (its error stays). The reader may have been opened without a listing. */
vr_status vr_reader_submit_bytes(vr_reader *r, const vr_row_meta *rows, const uint8_t *const *bytes,
                                 const size_t *lens, size_t count);

/* Outstanding ranges (submitted, not taken). */
int vr_reader_pending(const vr_reader *r);

/* The oldest range: px (count, crop_h, crop_w, 3) and for each row name, ok and
 * error. *waited grows by the seconds spent waiting for the workers. */
vr_status vr_reader_take(vr_reader *r, uint8_t *px, vr_row_meta *rows, double *waited);

/* Stops the workers (abandoning queued work) and frees everything. */
void vr_reader_close(vr_reader *r);

#endif
