/* feed.c - micro-batches of pixels for a first stage. */
#include "feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../io/shardlist.h"
#include "../partition/plan.h"
#include "ledger.h"
#include "preprocess.h"

/* Decoded micro-batches that may be queued ahead of the compute. */
#define PREFETCH 2

vr_status vr_feed_describe(const vr_run *run, const vr_config *cfg, vr_input_info *info)
{
    memset(info, 0, sizeof *info);
    if (!run->input) {
        info->kind = -1;
        info->n = run->synthetic;
        return VR_OK;
    }
    vr_input_kind kind;
    vr_status st;
    if (vr_shardlist_is_shards(run->input)) {
        /* webdataset tar shards: the work is counted in shards; the images
         * are found as they are read */
        vr_shardlist l;
        if ((st = vr_shardlist_build(&l, run->input)))
            return st;
        info->kind = VR_INPUT_SHARDS;
        info->n = l.n;
        info->hash = l.hash;
        vr_shardlist_free(&l);
        if (cfg->channels != 3)
            return vr_fail(VR_ERR_INPUT, "image input needs a 3-channel (RGB) model; this one "
                           "has %zu channels", cfg->channels);
        return VR_OK;
    }
    st = vr_input_kind_of(run->input, &kind);
    if (st)
        return st;
    info->kind = (int32_t)kind;
    size_t n = 0;
    if (kind == VR_INPUT_HDF5) {
        vr_input_h5 h5;
        if ((st = vr_input_h5_open(&h5, run->input, cfg)))
            return st;
        info->n = h5.n;
        vr_input_h5_close(&h5);
        return VR_OK;
    }
    if (cfg->channels != 3)
        return vr_fail(VR_ERR_INPUT, "JPEG input needs a 3-channel (RGB) model; this one has "
                       "%zu channels", cfg->channels);
    if (kind == VR_INPUT_LIST) {
        snprintf(info->listing, sizeof info->listing, "%s", run->input);
        vr_dirname(run->input, info->base, sizeof info->base);
        st = vr_listing_scan(run->input, &n, &info->hash);
    } else {
        /* where the listing goes, and whether an interrupted run's is reused
         * or a finished output leaves nothing to do: runtime/ledger.h */
        int reuse, finished;
        if ((st = vr_ledger_listing(run->output, run->resume, info->listing, sizeof info->listing,
                                    &reuse, &finished)))
            return st;
        snprintf(info->base, sizeof info->base, "%s", run->input);
        if (finished) {
            info->n = 0;
            return VR_OK;
        }
        st = reuse ? vr_listing_scan(info->listing, &n, &info->hash)
                   : vr_listing_build(run->input, info->listing, &n, &info->hash);
    }
    info->n = n;
    return st;
}

vr_status vr_feed_open(vr_feed *f, const vr_run *run, const vr_grid *g, const vr_config *cfg,
                       const vr_preprocess *pre, const vr_input_info *info, size_t B,
                       size_t m0)
{
    memset(f, 0, sizeof *f);
    f->run = run;
    f->g = g;
    f->cfg = cfg;
    f->pre = pre;
    f->info = *info;
    f->B = B;
    f->m0 = m0;
    f->n_mb = (info->n + B - 1) / B;
    f->next_submit = f->next_take = m0 + (size_t)g->replica;
    vr_status st;
    if (info->kind == VR_INPUT_HDF5) {
        if ((st = vr_input_h5_open(&f->h5, run->input, cfg)))
            return st;
        f->have_h5 = 1;
        if (!(f->names = vr_alloc(B, VR_NAME_LEN, "row names")))
            return VR_ERR_NOMEM;
        if (f->h5.n != info->n)
            return vr_fail(VR_ERR_INPUT, "%s: has %zu images here but %llu on rank 0; is it "
                           "the same file on every node?", run->input, f->h5.n,
                           (unsigned long long)info->n);
    }
    size_t Hi = cfg->image_h, Wi = cfg->image_w, img = cfg->channels * Hi * Wi;
    size_t T = (size_t)g->tp;
    f->chunk = info->kind == VR_INPUT_HDF5 || info->kind < 0 ? B : (B + T - 1) / T;
    size_t rows = info->kind == VR_INPUT_HDF5 || info->kind < 0 ? B : f->chunk * T;
    if (!(f->u8 = vr_alloc(rows, img, "input pixels")) ||
        !(f->rows = vr_alloc(rows, sizeof *f->rows, "input rows")))
        return VR_ERR_NOMEM;
    if (info->kind == VR_INPUT_DIR || info->kind == VR_INPUT_LIST) {
        if ((st = vr_reader_open(&f->reader, info->listing, info->base, pre, &run->limits, Hi * Wi, f->chunk,
                                 run->decoders, PREFETCH)))
            return st;
    }
    return VR_OK;
}

/* This TP rank's share of micro-batch m: rows [lo, hi) of it. */
static void my_share(const vr_feed *f, size_t count, size_t *lo, size_t *hi)
{
    size_t t = (size_t)f->g->tp_rank;
    *lo = t * f->chunk < count ? t * f->chunk : count;
    *hi = *lo + f->chunk < count ? *lo + f->chunk : count;
}

static vr_status submit_ahead(vr_feed *f)
{
    while (f->next_submit < f->n_mb && vr_reader_pending(f->reader) < PREFETCH) {
        size_t first, count, lo, hi;
        vr_plan_microbatch(f->next_submit, f->B, f->info.n, &first, &count);
        my_share(f, count, &lo, &hi);
        vr_status st = vr_reader_submit(f->reader, first + lo, hi - lo);
        if (st)
            return st;
        f->next_submit += (size_t)f->g->dp;
    }
    return VR_OK;
}

vr_status vr_feed_next(vr_feed *f, float *pixels, vr_batch_meta *meta, vr_comm_stats *comm)
{
    const vr_config *c = f->cfg;
    size_t Hi = c->image_h, Wi = c->image_w, img = c->channels * Hi * Wi, m = f->next_take;
    size_t first, count;
    vr_status st;
    if (m >= f->n_mb)
        return vr_fail(VR_ERR_INTERNAL, "feed: read past the last micro-batch");
    vr_plan_microbatch(m, f->B, f->info.n, &first, &count);
    f->next_take += (size_t)f->g->dp;
    memset(meta, 0, vr_batch_meta_bytes(count));
    meta->mb = (int64_t)m;
    meta->first = (int64_t)first;
    meta->count = (int64_t)count;
    if (f->reader) {
        size_t lo, hi;
        if ((st = submit_ahead(f)))
            return st;
        my_share(f, count, &lo, &hi);
        size_t t = (size_t)f->g->tp_rank;
        if ((st = vr_reader_take(f->reader, f->u8 + t * f->chunk * img, f->rows + t * f->chunk,
                                 &f->decode_wait)) ||
            (st = submit_ahead(f)))
            return st;
        (void)hi;
        if (f->g->tp > 1 &&
            ((st = vr_comm_tp_allgather_bytes(f->u8, f->chunk * img, comm)) ||
             (st = vr_comm_tp_allgather_bytes(f->rows, f->chunk * sizeof *f->rows, comm))))
            return st;
        memcpy(meta->rows, f->rows, count * sizeof *f->rows);
        vr_normalize_u8(pixels, f->u8, count, Hi, Wi, c->channels, f->pre);
        return VR_OK;
    }
    if (f->have_h5) {
        if ((st = vr_input_h5_read(&f->h5, first, count, f->u8, pixels)) ||
            (st = vr_input_h5_names(&f->h5, first, count, f->names, VR_NAME_LEN)))
            return st;
        if (f->h5.is_uint8)
            vr_normalize_u8(pixels, f->u8, count, Hi, Wi, c->channels, f->pre);
    } else {
        vr_synthetic(pixels, first, count, c->channels, Hi, Wi);
    }
    for (size_t b = 0; b < count; b++) {
        vr_row_meta *r = &meta->rows[b];
        r->ok = !vr_has_nonfinite(pixels + b * img, img);
        if (!r->ok)
            snprintf(r->error, sizeof r->error, "input holds NaN or Inf");
        if (f->have_h5)
            memcpy(r->name, f->names + b * VR_NAME_LEN, VR_NAME_LEN);
        else
            snprintf(r->name, sizeof r->name, "%zu", first + b);
    }
    return VR_OK;
}

void vr_feed_close(vr_feed *f)
{
    vr_reader_close(f->reader);
    if (f->have_h5)
        vr_input_h5_close(&f->h5);
    free(f->u8);
    free(f->rows);
    free(f->names);
    memset(f, 0, sizeof *f);
}
