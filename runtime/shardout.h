/* shardout.h - a replica's writer when the output is a folder: each shard's
 * rows to their own table (OUT/STEM.h5 or .csv) and embeddings to
 * OUT/STEM.npy, written under temporary names in OUT/.vitrun/tmp and
 * committed when the shard's last row is in (io/claims.h: the first of two
 * replicas finishing one shard wins, the other's files are dropped), then a
 * line in OUT/manifest.csv. A shard abandoned (a stop, or finished
 * elsewhere first) leaves nothing behind.
 */
#ifndef VR_SHARDOUT_H
#define VR_SHARDOUT_H

#include <stddef.h>

#include "../io/claims.h"
#include "../io/npy.h"
#include "../io/output.h"
#include "status.h"

typedef struct {
    const vr_outdir *dir;
    char who[256];           /* JOB/rREPLICA@HOST:PID */
    char job[128], host[128];
    int replica;
    const char *fingerprint; /* the run's, in each table's 'vitrun_run' */
    /* the table's columns (io/output.h) and the embeddings' */
    size_t k, C, D;
    int logits;
    int emb;                 /* 0, VR_EMB_F32 or VR_EMB_F16: STEM.npy */
    char *const *labels;
    vr_score_cols cols;
    /* the shard being written */
    int open;
    char stem[1024];
    char table[VR_OUTDIR_PATH + 1400]; /* the temporary table's name, before ".part" */
    vr_output out;
    vr_npy npy;
    size_t rows, failed;
    double t0;
    /* totals of this writer */
    size_t shards_done, shards_lost, rows_done, rows_failed;
} vr_shardout;

void vr_shardout_init(vr_shardout *w, const vr_outdir *dir, const char *job, int replica,
                      const char *fingerprint, size_t k, size_t C, size_t D, int logits,
                      int emb, char *const *labels, const vr_score_cols *cols);

/* A shard's first rows are coming. */
vr_status vr_shardout_begin(vr_shardout *w, const char *stem);
/* rows (count) and their embeddings (count, D) in the shard's order. */
vr_status vr_shardout_append(vr_shardout *w, const vr_output_row *rows, const float *emb,
                             size_t count);
/* The shard's rows are all in: commit (and the manifest line, `detail`
 * saying e.g. where a broken tar ended), or with `abandon` drop them.
 * *committed = 1 when this writer's files became the shard's. */
vr_status vr_shardout_end(vr_shardout *w, int abandon, const char *detail, int *committed);

/* Frees a shard left open (a run that stops). */
void vr_shardout_close(vr_shardout *w);


#endif
