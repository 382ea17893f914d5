/* engine_impl.h - what runtime/engine.c (a rank's steps, the run over a
 * directory, list, HDF5 or synthetic input) and runtime/engine_shards.c
 * (the run over tar shards) share: one rank's state, and the steps both
 * runs are made of. Private to the engine. */
#ifndef VR_ENGINE_IMPL_H
#define VR_ENGINE_IMPL_H

#include "../io/dump.h"
#include "../io/heads_io.h"
#include "../io/model_io.h"
#include "../io/outlock.h"
#include "../io/shardlist.h"
#include "engine.h"
#include "feed.h"
#include "forward.h"
#include "ledger.h"
#include "shardfeed.h"
#include "shardout.h"
#include "run.h"
#include "sink.h"
#include "transport.h"

typedef struct engine {
    const vr_options *o;
    const vr_grid *g;
    const vr_plan *plan;
    vr_rank_report *rep;
    vr_shard shard;
    vr_model_file model;
    vr_weights w;
    vr_run_state st;
    vr_reducer tp_reduce;     /* the TP group's sum and max (runtime/forward.h) */
    vr_preprocess pre;        /* the model's preset, or --preprocess */
    vr_run run;               /* what the run does, resolved (runtime/run.h) */
    vr_input_info info;       /* what the input is (same on every rank) */
    vr_feed feed;             /* first stage: the input */
    int have_feed;
    vr_sink sink;             /* writer: rows, journal, output */
    int have_sink;
    vr_zero_shot zs;          /* writer: --zero-shot's classes */
    vr_score_heads sh;        /* writer: --score-heads */
    int have_zs, have_sh;
    size_t m0;                /* first micro-batch of this run */
    double t0;                /* when the scoring loop began */
    int complete;             /* --resume found the output finished */
    vr_dump dump;
    int have_dump;
    size_t n, B, k, n_mb;     /* images, batch, top-k, micro-batches in all */
    size_t n_local, n_steps;  /* micro-batches of this replica; steps every rank takes */
    int first, last, writer;  /* roles of this rank */
    int writer_rank;          /* world rank of the writer */
    vr_transport tr;          /* the ring of buffers and the messages between stages */
    int have_tr;
    float *pixels;            /* (B, C, H, W) */
    /* tar shards (runtime/ledger.h): every replica has its own writer */
    int shards;
    char job[128];            /* this job's identity, the same on all its ranks */
    vr_shardlist list;        /* readers and writers */
    int have_list;
    vr_outdir dir;            /* the output folder; dir.dir[0] == 0 with --no-output */
    vr_outlock lock;          /* rank 0, a folder this job owns */
    vr_ledger ledger;         /* a first stage's TP rank 0 */
    int have_ledger;
    vr_shardfeed sfeed;       /* first stage */
    int have_sfeed;
    vr_shardout so;           /* writers */
} engine;

#define DIE(st)                                                                       \
    do {                                                                              \
        if (e->g->world_size > 1)                                                     \
            fprintf(stderr, "vitrun: rank %d: %s: %s\n", e->g->world_rank,            \
                    vr_status_str(st), vr_last_error());                              \
        else                                                                          \
            fprintf(stderr, "vitrun: %s: %s\n", vr_status_str(st), vr_last_error());  \
        vr_comm_abort(vr_exit_code(st));                                              \
    } while (0)


/* Loads the model and the rank's weights; one rank describes the input. */
vr_status engine_setup(engine *e);
/* Whether the embedding is L2-normalised. */
int engine_normalize(const engine *e);
/* What a resumed run (or a shared output folder) must match. */
void engine_fingerprint(const engine *e, char *out, size_t cap);
/* A writer: --zero-shot's classes and --score-heads' heads. */
vr_status engine_load_heads(engine *e);
/* Buffers, the transport, the input (first stage), the dump. */
vr_status engine_allocate(engine *e);
void engine_teardown(engine *e);
/* Step i of this rank (n_local: steps of its replica, SIZE_MAX when a
 * VR_MB_LAST micro-batch ends them). */
vr_status engine_step(engine *e, size_t i, size_t n_local);
/* A writer: a finished micro-batch to the sink (and the dump). */
vr_status engine_write_rows(engine *e, const vr_batch_meta *meta, const float *res);

/* Tar shards (engine_shards.c): options that need them or exclude them;
 * then the whole run over them. */
vr_status engine_shard_options(engine *e);
vr_status engine_run_shards(engine *e);

#endif
