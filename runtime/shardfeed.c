/* shardfeed.c - micro-batches from tar shards (shardfeed.h). */
#include "shardfeed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "preprocess.h"
#include "signals.h"
#include "timer.h"

const char *vr_shardlist_stem_of(void *list, size_t i)
{
    static __thread char stem[1024];
    char path[4096];
    if (vr_shardlist_get(list, i, path, stem) != VR_OK)
        snprintf(stem, sizeof stem, "shard-%zu", i);
    return stem;
}

vr_status vr_shardfeed_open(vr_shardfeed *f, const vr_grid *g, const vr_config *cfg,
                            const vr_preprocess *pre, const vr_shardlist *list,
                            vr_ledger *ledger, const vr_tarshard_options *topt,
                            const vr_jpeg_limits *lim, int retries, int decoders, size_t B)
{
    memset(f, 0, sizeof *f);
    f->g = g;
    f->cfg = cfg;
    f->pre = pre;
    f->list = list;
    f->ledger = ledger;
    f->topt = *topt;
    f->retries = retries;
    f->B = B;
    f->cur = -1;
    f->img = cfg->image_h * cfg->image_w * cfg->channels;
    if (!(f->u8 = vr_alloc(B, f->img, "input pixels")))
        return VR_ERR_NOMEM;
    if (g->tp_rank != 0)
        return VR_OK;
    if (!(f->stage = vr_alloc(B, sizeof *f->stage, "input rows")) ||
        !(f->bytes = vr_alloc(B, sizeof *f->bytes, "input rows")) ||
        !(f->lens = vr_alloc(B, sizeof *f->lens, "input rows")) ||
        !(f->copy_off = vr_alloc(B, sizeof *f->copy_off, "input rows")))
        return VR_ERR_NOMEM;
    return vr_reader_open(&f->reader, NULL, NULL, pre, lim, cfg->image_h * cfg->image_w, B,
                          decoders, VR_SHARDFEED_AHEAD);
}

/* Opens shard i, trying again --retries times (a file system's hiccup);
 * NULL with the reason in why when it cannot be. */
static vr_tarshard *open_shard(vr_shardfeed *f, const char *path, char *why, size_t cap)
{
    vr_tarshard *t = NULL;
    for (int attempt = 0; attempt <= f->retries; attempt++) {
        if (attempt)
            vr_ledger_idle(f->ledger, attempt < 3 ? attempt : 3);
        vr_clear_error();
        vr_status st = vr_tarshard_open(&t, path, &f->topt);
        if (st == VR_OK)
            return t;
        snprintf(why, cap, "%s (after %d attempt%s)", vr_last_error(), attempt + 1,
                 attempt ? "s" : "");
        /* only a read that failed may succeed when tried again */
        if (st != VR_ERR_IO || vr_stop_requested())
            break;
    }
    return NULL;
}

/* A shard given up: one manifest line, and the claim goes so another job
 * may try it. */
static void record_failed(vr_shardfeed *f, size_t shard, const char *why)
{
    vr_ledger_failed(f->ledger, shard, why);
    f->shards_failed++;
    fprintf(stderr, "vitrun: rank %d: shard %s skipped: %s\n", f->g->world_rank,
            vr_shardlist_stem_of((void *)f->list, shard), why);
}

/* Appends one row to the micro-batch being assembled. */
static vr_status add_row(vr_shardfeed *f, size_t *n, const char *key, int ok, const char *err,
                         const uint8_t *img, size_t len, int label)
{
    vr_row_meta *r = &f->stage[*n];
    memset(r, 0, sizeof *r);
    r->ok = ok;
    r->label = label;
    snprintf(r->name, sizeof r->name, "%s/%s", f->stem, key);
    if (!ok)
        snprintf(r->error, sizeof r->error, "%s", err);
    f->lens[*n] = ok ? len : 0;
    f->copy_off[*n] = 0;
    if (ok && len) {
        /* the tar reader's buffer is reused by its next sample: keep a copy */
        size_t at = 0;
        for (size_t i = 0; i < *n; i++)
            at += f->lens[i];
        if (at + len > f->copy_cap) {
            size_t cap = (at + len) * 2;
            uint8_t *c = realloc(f->copy, cap);
            if (!c)
                return vr_fail(VR_ERR_NOMEM, "out of memory for %zu bytes of images", cap);
            f->copy = c;
            f->copy_cap = cap;
        }
        memcpy(f->copy + at, img, len);
        f->copy_off[*n] = at;
    }
    (*n)++;
    return VR_OK;
}

/* VITRUN_TEST_READ_DELAY_MS: the tests' straggler, slowed at each
 * micro-batch it reads (tests/test_shard_queue.py). */
static void test_delay(void)
{
    static long ms = -1;
    if (ms < 0) {
        const char *v = getenv("VITRUN_TEST_READ_DELAY_MS");
        ms = v ? atol(v) : 0;
    }
    if (ms > 0) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Assembles the next micro-batch and hands it to the decoding threads;
 * *later = 1 when it cannot yet (can_wait = 0: see vr_ledger_next). */
static vr_status submit_one(vr_shardfeed *f, int can_wait, int *later)
{
    *later = 0;
    test_delay();
    vr_shardfeed_mb mb = {-1, 0, 0, 0};
    size_t n = 0;
    vr_status st;
    if (vr_stop_requested()) {
        /* the shard being read will not be finished by this run */
        if (f->cur >= 0) {
            mb = (vr_shardfeed_mb){f->cur, f->cur_rows, 0, VR_MB_END | VR_MB_ABANDON};
            vr_ledger_read(f->ledger, (size_t)f->cur, f->cur_rows, 0, 1);
            vr_tarshard_close(f->tar);
            f->tar = NULL;
            f->cur = -1;
        }
        mb.flags |= VR_MB_LAST;
        f->ended = 1;
        f->stopped = 1;
        goto submit;
    }
    while (f->cur < 0) {
        size_t s;
        int helping;
        int r = vr_ledger_next(f->ledger, &s, &helping, can_wait);
        if (r < 0)
            return VR_ERR_OUTPUT;
        if (r == 2) {
            *later = 1;
            return VR_OK;
        }
        if (r == 0) {
            mb.flags = VR_MB_LAST;
            f->ended = 1;
            f->stopped = vr_stop_requested() != 0; /* (while waiting for others' shards) */
            goto submit;
        }
        char path[4096], why[1024];
        if ((st = vr_shardlist_get(f->list, s, path, f->stem)))
            return st;
        if (!(f->tar = open_shard(f, path, why, sizeof why))) {
            record_failed(f, s, why);
            continue;
        }
        f->cur = (int64_t)s;
        f->cur_rows = 0;
        f->cur_t0 = vr_now();
        f->cur_helping = helping;
        mb.flags = VR_MB_BEGIN;
    }
    mb.shard = f->cur;
    mb.first = f->cur_rows;
    /* finished elsewhere while this replica helped (or was slow): drop it */
    if (!(mb.flags & VR_MB_BEGIN) && vr_ledger_done(f->ledger, (size_t)f->cur)) {
        mb.flags |= VR_MB_END | VR_MB_ABANDON;
    } else {
        while (n < f->B) {
            vr_tarshard_sample smp;
            int r = vr_tarshard_next(f->tar, &smp);
            if (r == 0) {
                mb.flags |= VR_MB_END;
                break;
            }
            if (r < 0) { /* the rows so far stand; one row says where it broke */
                if ((st = add_row(f, &n, "", 0, smp.error, NULL, 0, -1)))
                    return st;
                mb.flags |= VR_MB_END | VR_MB_BROKEN;
                break;
            }
            if ((st = add_row(f, &n, smp.key, smp.ok, smp.error, smp.image, smp.image_len,
                              smp.has_cls && smp.cls >= 0 && smp.cls <= INT32_MAX
                                  ? (int)smp.cls : -1)))
                return st;
        }
    }
    mb.count = (int64_t)n;
    f->cur_rows += (int64_t)n;
    vr_ledger_rows(f->ledger, (size_t)f->cur, f->cur_rows);
    if (mb.flags & VR_MB_END) {
        vr_ledger_read(f->ledger, (size_t)f->cur, f->cur_rows, vr_now() - f->cur_t0,
                       (mb.flags & VR_MB_ABANDON) != 0);
        vr_tarshard_close(f->tar);
        f->tar = NULL;
        f->cur = -1;
    }
submit:
    for (size_t i = 0; i < n; i++)
        f->bytes[i] = f->lens[i] ? f->copy + f->copy_off[i] : NULL; /* (copy may be NULL) */
    if ((st = vr_reader_submit_bytes(f->reader, f->stage, f->bytes, f->lens, n)))
        return st;
    f->pend[(f->npend++)] = mb;
    return VR_OK;
}

vr_status vr_shardfeed_next(vr_shardfeed *f, float *pixels, vr_batch_meta *meta,
                            vr_comm_stats *comm)
{
    const vr_config *c = f->cfg;
    vr_status st;
    if (f->g->tp_rank == 0) {
        int later = 0;
        /* (with nothing of its own in flight, the reader may wait for others) */
        while (!f->ended && f->npend < VR_SHARDFEED_AHEAD && !later)
            if ((st = submit_one(f, f->npend == 0, &later)))
                return st;
        if (!f->npend)
            return vr_fail(VR_ERR_INTERNAL, "shard feed: read past the end of the work");
        vr_shardfeed_mb mb = f->pend[0];
        memset(meta, 0, vr_batch_meta_bytes((size_t)mb.count));
        if ((st = vr_reader_take(f->reader, f->u8, meta->rows, &f->decode_wait)))
            return st;
        memmove(f->pend, f->pend + 1, (size_t)(--f->npend) * sizeof *f->pend);
        meta->mb = f->mb++;
        meta->first = mb.first;
        meta->count = mb.count;
        meta->shard = mb.shard;
        meta->flags = mb.flags;
        /* the next one is read while this one is computed */
        if (!f->ended && f->npend < VR_SHARDFEED_AHEAD && !later &&
            (st = submit_one(f, 0, &later)))
            return st;
    }
    if (f->g->tp > 1) {
        double t0 = vr_now();
        if ((st = vr_comm_tp_bcast(meta, vr_batch_meta_bytes(f->B))) ||
            (st = vr_comm_tp_bcast(f->u8, (size_t)meta->count * f->img)))
            return st;
        comm->allreduce += vr_now() - t0;
    }
    vr_normalize_u8(pixels, f->u8, (size_t)meta->count, c->image_h, c->image_w, c->channels,
                    f->pre);
    return VR_OK;
}

void vr_shardfeed_close(vr_shardfeed *f)
{
    vr_reader_close(f->reader);
    if (f->tar)
        vr_tarshard_close(f->tar);
    if (f->cur >= 0 && f->ledger)
        vr_ledger_read(f->ledger, (size_t)f->cur, f->cur_rows, 0, 1);
    free(f->u8);
    free(f->stage);
    free(f->bytes);
    free(f->lens);
    free(f->copy);
    free(f->copy_off);
    memset(f, 0, sizeof *f);
}
