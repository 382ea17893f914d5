/* shardout.c - per-shard tables and arrays (shardout.h). */
#include "shardout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger.h"
#include "timer.h"

void vr_shardout_init(vr_shardout *w, const vr_outdir *dir, const char *job, int replica,
                      const char *fingerprint, size_t k, size_t C, size_t D, int logits,
                      int emb, char *const *labels, const vr_score_cols *cols)
{
    memset(w, 0, sizeof *w);
    w->dir = dir;
    w->replica = replica;
    gethostname(w->host, sizeof w->host - 1);
    snprintf(w->job, sizeof w->job, "%s", job);
    snprintf(w->who, sizeof w->who, "%s/r%d@%s:%ld", job, replica, w->host, (long)getpid());
    w->fingerprint = fingerprint;
    w->k = k;
    w->C = C;
    w->D = D;
    w->logits = logits;
    w->emb = emb;
    w->labels = labels;
    if (cols)
        w->cols = *cols;
}

/* A name for this writer's temporary files: vr_outdir_tmp_tag (a replica
 * writes one shard at a time, so job and replica make it unique, and a job
 * taking over a lapsed claim can find and remove the dead writer's). */
static void tag(const vr_shardout *w, char *out, size_t cap)
{
    vr_outdir_tmp_tag(w->job, w->replica, out, cap);
}

vr_status vr_shardout_begin(vr_shardout *w, const char *stem)
{
    if (w->open)
        return vr_fail(VR_ERR_INTERNAL, "shard %s begins before %s ended", stem, w->stem);
    char t[300], npy[sizeof w->table + 8];
    tag(w, t, sizeof t);
    snprintf(w->stem, sizeof w->stem, "%s", stem);
    snprintf(w->table, sizeof w->table, "%s/%s.%s.%s", w->dir->tmp, stem, t, w->dir->ext);
    vr_status st = vr_output_open(&w->out, w->table, w->k, w->C, w->D, w->logits, 0, w->labels,
                                  &w->cols);
    if (!st)
        st = vr_output_describe_run(&w->out, w->fingerprint);
    if (st) {
        vr_output_close(&w->out);
        remove(w->out.path);
        return st;
    }
    if (w->emb) {
        snprintf(npy, sizeof npy, "%s/%s.%s.npy.part", w->dir->tmp, stem, t);
        if ((st = vr_npy_create(&w->npy, npy, w->D, w->emb == VR_EMB_F16))) {
            vr_output_close(&w->out);
            remove(w->out.path);
            return st;
        }
    }
    w->open = 1;
    w->rows = w->failed = 0;
    w->t0 = vr_now();
    return VR_OK;
}

vr_status vr_shardout_append(vr_shardout *w, const vr_output_row *rows, const float *emb,
                             size_t count)
{
    if (!w->open)
        return vr_fail(VR_ERR_INTERNAL, "rows for a shard that has not begun");
    vr_status st = vr_output_append(&w->out, rows, count);
    if (!st && w->emb)
        st = vr_npy_append(&w->npy, emb, count);
    if (st)
        return st;
    w->rows += count;
    for (size_t i = 0; i < count; i++)
        w->failed += !rows[i].ok;
    return VR_OK;
}

static void drop(vr_shardout *w)
{
    char part[sizeof w->out.path];
    snprintf(part, sizeof part, "%s", w->out.path);
    vr_output_close(&w->out);
    remove(part);
    if (w->emb)
        vr_npy_abort(&w->npy);
    w->open = 0;
}

/* The file's data on disk before its name is published. */
static vr_status sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return vr_fail(VR_ERR_OUTPUT, "cannot sync %s: %s", path, strerror(e));
    }
    close(fd);
    return VR_OK;
}

vr_status vr_shardout_end(vr_shardout *w, int abandon, const char *detail, int *committed)
{
    *committed = 0;
    if (!w->open)
        return vr_fail(VR_ERR_INTERNAL, "end of a shard that has not begun");
    if (abandon) {
        drop(w);
        return VR_OK;
    }
    char part[sizeof w->out.path], npy[sizeof w->npy.path];
    snprintf(part, sizeof part, "%s", w->out.path);
    snprintf(npy, sizeof npy, "%s", w->npy.path);
    vr_status st = vr_output_close(&w->out);
    if (!st)
        st = sync_file(part);
    if (!st && w->emb)
        st = vr_npy_finish(&w->npy);
    w->open = 0;
    if (st) {
        remove(part);
        if (w->emb)
            remove(npy);
        return st;
    }
    int r = vr_ledger_commit(w->dir, w->stem, part, w->emb ? npy : NULL, w->rows, w->failed,
                             vr_now() - w->t0, w->replica, w->job, detail);
    if (r < 0)
        return VR_ERR_OUTPUT;
    if (r == 0) { /* another replica or job was first */
        w->shards_lost++;
        return VR_OK;
    }
    *committed = 1;
    w->shards_done++;
    w->rows_done += w->rows;
    w->rows_failed += w->failed;
    return VR_OK;
}

void vr_shardout_close(vr_shardout *w)
{
    if (w->open)
        drop(w);
}
