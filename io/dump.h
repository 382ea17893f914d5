/* dump.h - writes intermediate activations for the reference tests.
 *
 * Datasets: pixels (N, C, H*W) the preprocessed input, embed (N, T, D) after
 * the embedding, block_LL (N, T, D) after
 * encoder block LL, embedding (N, D) and logits (N, C). Rows are input indices.
 */
#ifndef VR_DUMP_H
#define VR_DUMP_H

#include <stddef.h>

#include "../runtime/status.h"

typedef struct {
    char path[4096];
    long long file; /* hid_t */
    size_t n;       /* images */
} vr_dump;

vr_status vr_dump_open(vr_dump *d, const char *path, size_t n);
/* Writes rows [first, first+count) of dataset `name` with per-row shape
 * (r1, r2) (r2 == 0 for vectors), creating it on first use. */
vr_status vr_dump_write(vr_dump *d, const char *name, size_t first, size_t count, size_t r1,
                        size_t r2, const float *data);
void vr_dump_close(vr_dump *d);

#endif
