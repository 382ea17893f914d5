/* shardfeed.h - a first stage's input when it is webdataset tar shards:
 * the ledger's shards one after another (runtime/ledger.h), their samples
 * read as a stream (io/tarshard.h) into micro-batches of one shard each,
 * decoded ahead by the reader's threads (io/reader.h).
 *
 * TP rank 0 of the stage reads and decodes; the other TP ranks of the stage
 * receive each micro-batch from it. A shard that cannot be opened is tried
 * --retries more times, then recorded as failed in the manifest and
 * skipped; a tar that breaks mid-way ends its shard with a row saying where.
 */
#ifndef VR_SHARDFEED_H
#define VR_SHARDFEED_H

#include <stddef.h>
#include <stdint.h>

#include "../io/reader.h"
#include "../io/shardlist.h"
#include "../io/tarshard.h"
#include "batch.h"
#include "comm.h"
#include "config.h"
#include "ledger.h"

#define VR_SHARDFEED_AHEAD 2 /* micro-batches decoded ahead */

typedef struct {
    int64_t shard, first, count, flags;
} vr_shardfeed_mb;

typedef struct {
    const vr_grid *g;
    const vr_config *cfg;
    const vr_preprocess *pre;
    const vr_shardlist *list;
    vr_ledger *ledger;        /* TP rank 0 only */
    vr_tarshard_options topt;
    int retries;              /* more attempts at opening a shard */
    size_t B, img;            /* rows per micro-batch; bytes of one decoded image */
    vr_reader *reader;        /* TP rank 0 only */
    vr_shardfeed_mb pend[VR_SHARDFEED_AHEAD]; /* submitted to the reader, oldest first */
    int npend;
    int64_t mb;               /* micro-batches handed out */
    /* the shard being read */
    vr_tarshard *tar;
    int64_t cur;              /* -1: none */
    char stem[1024];
    int64_t cur_rows;
    double cur_t0;
    int cur_helping;
    int ended;                /* the LAST micro-batch was submitted */
    vr_row_meta *stage;       /* (B) rows being assembled */
    const uint8_t **bytes;    /* (B) */
    size_t *lens;             /* (B) */
    uint8_t *copy;            /* the assembled rows' image bytes */
    size_t copy_cap;
    size_t *copy_off;         /* (B) */
    uint8_t *u8;              /* (B, H, W, C) decoded */
    double decode_wait;
    size_t shards_failed;
    int stopped;              /* a stop request ended the work */
} vr_shardfeed;

vr_status vr_shardfeed_open(vr_shardfeed *f, const vr_grid *g, const vr_config *cfg,
                            const vr_preprocess *pre, const vr_shardlist *list,
                            vr_ledger *ledger, const vr_tarshard_options *topt,
                            const vr_jpeg_limits *lim, int retries, int decoders, size_t B);

/* The next micro-batch: pixels (count, C, H, W) normalised and meta (with
 * its shard and VR_MB_* flags); VR_MB_LAST when the replica's work is over. */
vr_status vr_shardfeed_next(vr_shardfeed *f, float *pixels, vr_batch_meta *meta,
                            vr_comm_stats *comm);

void vr_shardfeed_close(vr_shardfeed *f);

/* The stem of shard i (a thread-local buffer): vr_stem_fn for the ledger. */
const char *vr_shardlist_stem_of(void *list, size_t i);

#endif
