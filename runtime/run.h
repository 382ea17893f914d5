/* run.h - what a run does, resolved once from the command line and the
 * model: the modules under the program (feed, sink) read this, not the
 * options, so that a default, an implication (a model without a classifier
 * writes its embedding) or a check is decided in one place. */
#ifndef VR_RUN_H
#define VR_RUN_H

#include <stddef.h>

#include "../io/image_common.h"
#include "cli.h"
#include "config.h"

typedef struct {
    const char *input;     /* what is scored; NULL: `synthetic` generated inputs */
    size_t synthetic;
    const char *output;    /* a file, or a folder (tar shards); NULL: nothing kept */
    int resume;            /* continue what an earlier run left (--resume) */
    int strict;            /* an input that cannot be scored ends the run */
    int logits;            /* the table holds the logits (the model has them, --logits) */
    int embedding;         /* 0, or VR_EMB_F32 / VR_EMB_F16 (io/output.h): the embedding is
                            * written (--embeddings, or a model without a classifier) */
    const char *truth;     /* --labels FILE */
    int labels_from_cls;   /* a tar sample's KEY.cls is its label */
    vr_image_limits limits; /* what an image may be (--max-pixels, --max-file-mb, --dct-scale) */
    int decoders;          /* decoding threads per reading rank */
    int progress;          /* 1 a live bar, 0 log lines every progress_every s, -1 none */
    double progress_every;
    int quiet;             /* no progress, no summary */
} vr_run;

/* The run `o` describes for a model of configuration c. */
void vr_run_resolve(vr_run *r, const vr_options *o, const vr_config *c);

#endif
