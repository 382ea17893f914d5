/* npy.h - embeddings as a .npy file (numpy's format 1.0): float32 or
 * float16 rows of one width, appended as they come, the row count written
 * into the header when the file is finished. The layout faiss/autofaiss
 * and numpy.load(mmap_mode='r') read directly. */
#ifndef VR_NPY_H
#define VR_NPY_H

#include <stddef.h>
#include <stdio.h>

#include "../runtime/status.h"

typedef struct {
    FILE *fp;
    char path[4096 + 300];
    size_t dim;            /* values per row */
    int f16;               /* rows stored as IEEE half (little-endian '<f2') */
    size_t rows;
    unsigned short *half;  /* (dim) conversion scratch */
} vr_npy;

/* Creates `path` with a header to be completed by vr_npy_finish. */
vr_status vr_npy_create(vr_npy *n, const char *path, size_t dim, int f16);
/* Appends rows (count, dim). */
vr_status vr_npy_append(vr_npy *n, const float *rows, size_t count);
/* Writes the final shape into the header, syncs and closes. */
vr_status vr_npy_finish(vr_npy *n);
/* Closes and removes the file (a shard abandoned). */
void vr_npy_abort(vr_npy *n);

#endif
