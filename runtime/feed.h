/* feed.h - the input side of a run: what the images are, and for a first
 * stage, the micro-batches of pixels in the order its replica computes them.
 *
 * Inputs: an HDF5 image file, generated (--synthetic), or JPEGs from a
 * directory or a list file (io/listing.h), decoded ahead by threads
 * (io/reader.h). With JPEGs, the TP ranks of a first stage each decode their
 * share of every micro-batch and allgather the pixels.
 */
#ifndef VR_FEED_H
#define VR_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "../io/input_h5.h"
#include "../io/jpeg.h"
#include "../io/listing.h"
#include "../io/reader.h"
#include "batch.h"
#include "run.h"
#include "comm.h"
#include "config.h"

/* What every rank knows about the input (found by one rank, broadcast). */
typedef struct {
    int32_t kind;          /* vr_input_kind, or -1 for --synthetic */
    int32_t pad;
    uint64_t n;            /* images */
    uint64_t hash;         /* FNV-1a of the path listing (JPEG inputs) */
    char listing[VR_PATH_MAX]; /* manifest or list file the readers stream */
    char base[VR_PATH_MAX];    /* folder the listing's relative paths start from */
} vr_input_info;

/* Finds the input's kind and size; for a directory writes (or with --resume
 * reuses) the manifest `output`.inputs. Called on one rank. */
vr_status vr_feed_describe(const vr_run *run, const vr_config *cfg, vr_input_info *info);

typedef struct {
    const vr_run *run;
    const vr_grid *g;
    const vr_config *cfg;
    const vr_preprocess *pre;
    vr_input_info info;
    vr_input_h5 h5;
    int have_h5;
    vr_reader *reader;
    size_t B, chunk;       /* micro-batch size; rows each TP rank decodes */
    /* this replica's micro-batches: m0 + replica + i*dp for i = 0, 1, ... */
    size_t m0, n_mb, next_submit, next_take;
    uint8_t *u8;           /* (tp * chunk, H, W, C) pixels, gathered */
    vr_row_meta *rows;     /* (tp * chunk) */
    char *names;           /* (B, VR_NAME_LEN): an HDF5 input's row names */
    double decode_wait;    /* seconds the compute waited for decoding */
} vr_feed;

/* First-stage ranks: opens the input; micro-batches m0.. of this replica
 * (m ≡ m0 + replica mod dp) are then read in order. */
vr_status vr_feed_open(vr_feed *f, const vr_run *run, const vr_grid *g, const vr_config *cfg,
                       const vr_preprocess *pre, const vr_input_info *info, size_t B,
                       size_t m0);

/* Next micro-batch of this replica: pixels (count, C, H, W) normalised,
 * meta filled (mb, first, count, rows). */
vr_status vr_feed_next(vr_feed *f, float *pixels, vr_batch_meta *meta, vr_comm_stats *comm);

void vr_feed_close(vr_feed *f);

#endif
