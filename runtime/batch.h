/* batch.h - what travels with a micro-batch from the reader to the writer:
 * which images it holds, and for each row its name and whether it is usable. */
#ifndef VR_BATCH_H
#define VR_BATCH_H

#include <stddef.h>
#include <stdint.h>

#define VR_ERROR_LEN 128
#define VR_NAME_LEN 4096

typedef struct {
    int32_t ok;               /* 0: the input could not be used; error says why */
    char error[VR_ERROR_LEN];
    char name[VR_NAME_LEN];   /* path, or the input index */
} vr_row_meta;

typedef struct {
    int64_t mb;               /* micro-batch index */
    int64_t first;            /* index of its first image */
    int64_t count;            /* images in it (the last one may be short) */
    int64_t reserved;
    vr_row_meta rows[];       /* (count) */
} vr_batch_meta;

/* Bytes of a meta block for `count` rows. */
static inline size_t vr_batch_meta_bytes(size_t count)
{
    return sizeof(vr_batch_meta) + count * sizeof(vr_row_meta);
}

#endif
