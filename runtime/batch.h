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
    int32_t label;            /* a tar sample's class (KEY.cls), -1 without one */
    char error[VR_ERROR_LEN];
    char name[VR_NAME_LEN];   /* path, or the input index */
} vr_row_meta;

typedef struct {
    int64_t mb;               /* micro-batch index */
    int64_t first;            /* index of its first image */
    int64_t count;            /* images in it (the last one may be short) */
    int64_t shard;            /* tar input: the shard its rows are from (first: row in it) */
    int64_t flags;            /* tar input: VR_MB_* */
    vr_row_meta rows[];       /* (count) */
} vr_batch_meta;

/* With tar shards, a micro-batch holds rows of one shard, and says where
 * it stands in the shard and in the replica's work. */
enum {
    VR_MB_BEGIN = 1,   /* the shard's first rows: the writer opens its files */
    VR_MB_END = 2,     /* its last: the writer commits them */
    VR_MB_ABANDON = 4, /* with END: drop what was written of the shard */
    VR_MB_LAST = 8,    /* nothing follows: the replica's work is over */
    VR_MB_BROKEN = 16  /* with END: the tar broke; the last row says where */
};

/* Bytes of a meta block for `count` rows. */
static inline size_t vr_batch_meta_bytes(size_t count)
{
    return sizeof(vr_batch_meta) + count * sizeof(vr_row_meta);
}

#endif
