/* sink.h - the writer's side of a run: scores to rows, rows to the journal
 * and the output, progress to the terminal or the log, and --resume.
 *
 * Exactly one rank (the last stage's TP rank 0 of replica 0) has a sink.
 */
#ifndef VR_SINK_H
#define VR_SINK_H

#include <stddef.h>

#include "../io/journal.h"
#include "../io/truth.h"
#include "../io/output.h"
#include "batch.h"
#include "cli.h"
#include "run.h"
#include "heads.h"
#include "shardout.h"

typedef struct {
    const vr_run *run;
    size_t n, B, k, C, D;  /* images, batch, top-k, classes, width */
    int normalize;         /* L2-normalise the embedding */
    int emb_f16;           /* the embedding is written as float16 */
    const vr_zero_shot *zs; /* --zero-shot: the classes C are its, the logits computed here */
    const vr_score_heads *sh; /* --score-heads */
    float *zlog;           /* (B, C) zero-shot logits */
    float *scores;         /* (B, S) the score heads' outputs */
    double *hscratch;      /* the heads' layer scratch */
    float *emb;            /* (B, D) the normalised embeddings */
    char *const *labels;
    vr_output out;
    int have_out;
    vr_journal journal;
    int have_journal;
    char journal_path[4096 + 16];
    float *prob;           /* (B, K) */
    int *idx;              /* (B, K) */
    vr_output_row *rows;   /* (B) */
    size_t done;           /* rows in the output, resumed ones included */
    size_t resumed;        /* rows taken over from an interrupted run */
    size_t failed;         /* rows with ok = 0 (this run and resumed) */
    int bar;               /* progress: 1 live bar, 0 log lines, -1 none */
    int printed;           /* a progress line has been shown */
    int shards;            /* tar shards: rows go shard by shard to so */
    vr_shardout *so;       /* the output folder's per-shard files (NULL: --no-output) */
    const char *(*stem)(void *ctx, size_t shard); /* a shard's name */
    void *stem_ctx;
    int labels_from_cls;   /* --labels-from cls: a row's label is its sample's */
    size_t shards_done;    /* shards committed by this writer */
    size_t shards_lost;    /* shards another replica or job committed first */
    size_t at_begin[5];    /* done, failed, judged, top1, top5 when the shard began */
    vr_truth truth;        /* --labels */
    int have_truth;
    size_t judged, top1, top5; /* rows with a label and ok; correct at 1 and 5 */
    double t0, last_print;
} vr_sink;

/* --output names a folder: it ends in '/' or is an existing folder. */
int vr_output_is_folder(const char *out);

/* The files the run writes (--output, --report, --dump-activations) are
 * not folders, files it reads, each other, or vitrun model files. */
vr_status vr_sink_check_paths(const vr_options *o);

/* The writer's own look at --output (rank 0 checked all the paths; the
 * writer may be on another node, with its own view of the file system). */
vr_status vr_sink_check_output(const vr_options *o);

/* Opens the output and the journal; with --resume replays an interrupted
 * run's journal and sets s->done. *complete = 1 when --resume finds OUT
 * already finished (nothing to do). `listing`: the rows' names, one per line,
 * when the input is JPEGs (--labels is checked against it), else NULL;
 * `names`: the rows' names by index otherwise (an HDF5 input), or NULL. */
vr_status vr_sink_open(vr_sink *s, const vr_run *run, const char *fingerprint, size_t n,
                       size_t B, size_t k, size_t C, size_t D, int normalize,
                       const vr_zero_shot *zs, const vr_score_heads *sh, char *const *labels,
                       const char *listing, vr_truth_names_fn names, void *names_ctx,
                       int *complete);

/* The writer of one replica when the input is tar shards: rows go to
 * `so` (an output folder; NULL with --no-output), shard by shard as the
 * micro-batches' VR_MB_* flags say; no journal (an interrupted shard is
 * done again). */
vr_status vr_sink_open_shards(vr_sink *s, const vr_run *run, vr_shardout *so,
                              const char *(*stem)(void *ctx, size_t shard), void *stem_ctx,
                              size_t B, size_t k, size_t C, size_t D, int normalize,
                              const vr_zero_shot *zs, const vr_score_heads *sh);

/* One finished micro-batch: logits (count, C) and embeddings (count, D);
 * with --zero-shot the logits are computed here from the embeddings (C is
 * then the zero-shot classes), as are the score heads' outputs. */
vr_status vr_sink_write(vr_sink *s, const vr_batch_meta *meta, const float *logits,
                        const float *emb);

/* Ends the run: complete -> OUT.part becomes OUT and the journal goes;
 * otherwise both stay for --resume. Frees everything. */
vr_status vr_sink_close(vr_sink *s, int complete);

#endif
