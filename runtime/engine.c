/* engine.c - one rank's stage of a pipeline replica.
 *
 * Micro-batch m (images [m*B, m*B+B)) belongs to replica (m - m0) mod dp,
 * where m0 is the first micro-batch of this run (0, or where --resume
 * continues). Within a
 * replica, stage 0 reads and embeds it, every stage runs its layers (the TP
 * ranks of a stage each on their own heads and MLP columns, joined by an
 * allreduce), and the last stage's TP rank 0 computes the head and hands the
 * rows to the writer (last stage, TP rank 0 of replica 0), which writes them
 * in micro-batch order. Activations move between stages with non-blocking
 * sends and receives over a ring of three buffers, so the next micro-batch
 * arrives while this one is computed and the previous one leaves
 * (runtime/transport.h). A run over tar shards shares the steps and differs
 * in what feeds and ends them: runtime/engine_shards.c.
 */
#include "engine.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/input_h5.h"
#include "batch.h"
#include "engine_impl.h"
#include "signals.h"

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

/* vr_model_load's after_layer: layer i onto the back end now. */
static vr_status layer_read(void *ctx, size_t i, vr_status loaded)
{
    engine *e = ctx;
    const vr_options *o = e->o;
    return vr_forward_prepare_layer(&e->w, i, o->gemm, o->precision, e->g->tp, &e->tp_reduce,
                                    &(vr_int8_options){o->int8_keep, o->int8_calibrate != NULL},
                                    loaded);
}

vr_status engine_setup(engine *e)
{
    const vr_options *o = e->o;
    const vr_grid *g = e->g;
    vr_status st;
    e->first = g->stage == 0;
    e->last = g->stage == g->pp - 1;
    e->writer = e->last && g->tp_rank == 0 && g->replica == 0;
    e->writer_rank = vr_comm_world_of(g, 0, g->pp - 1, 0);

    e->tp_reduce = (vr_reducer){
        .sum = o->wire_bf16 ? vr_comm_tp_allreduce_bf16 : vr_comm_tp_allreduce,
        .max = vr_comm_tp_allreduce_max,
        .scatter = o->wire_bf16 ? vr_comm_tp_reduce_scatter_bf16 : vr_comm_tp_reduce_scatter,
        .gather = vr_comm_tp_allgather_tables,
        .gatherf = o->wire_bf16 ? vr_comm_tp_allgather_bf16 : vr_comm_tp_allgather_f32,
        .ctx = &e->rep->comm,
        .rank = g->tp_rank,
        .size = g->tp};
    st = vr_model_open(&e->model, o->model);
    if (!st)
        st = vr_model_set_size(&e->model, o->image_h, o->image_w, o->preprocess);
    const vr_config *c = &e->model.cfg;
    if (!st) {
        e->pre = e->model.pre;
        vr_run_resolve(&e->run, o, c);
        if (o->preprocess)
            st = vr_preprocess_preset(&e->pre, o->preprocess, c->image_h, c->image_w);
    }
    /* int8 with tp > 1 agrees with the TP group layer by layer while
     * loading (vr_forward_prepare_layer): so first on everything before */
    if (g->tp > 1 && o->precision == VR_INT8)
        st = vr_comm_agree(st);
    if (st)
        return st;
    e->shard = vr_plan_shard(e->plan, g->stage, g->tp_rank);
    /* each layer is prepared as soon as it is read, so its float32 pages go
     * back before the next layer's come in */
    if ((st = vr_model_load(&e->model, &e->w, &e->shard, layer_read, e)))
        return st;
    e->rep->weight_bytes = (double)e->model.bytes_read;
    /* from here on this rank may write (the manifest, the output): a stop
     * signal is honoured at the next step, with everything flushed */
    vr_signals_defer();
    /* one rank looks at the input (and walks a directory once) */
    if (g->world_rank == vr_comm_world_of(g, 0, 0, 0))
        return vr_feed_describe(&e->run, c, &e->info);
    return VR_OK;
}

/* The input as --resume must find it again: its real path (so ./a.h5 and
 * /data/a.h5 are one input) and, for a file, its inode, size and
 * modification time, so a file replaced by other images of the same shape
 * between the kill and the resume is not mixed into one output. (Not the
 * device number: an NFS mount's differs between nodes, and a requeued job
 * may resume on another node.) A folder's names are in the listing hash. */
static void input_identity(const char *input, char *out, size_t cap)
{
    char real[PATH_MAX];
    struct stat sb;
    if (!input) {
        snprintf(out, cap, "(synthetic)");
        return;
    }
    if (!realpath(input, real))
        snprintf(real, sizeof real, "%s", input);
    if (stat(input, &sb) == 0 && S_ISREG(sb.st_mode))
        snprintf(out, cap, "%s\ninput_file=inode %llu, %lld bytes, modified %lld.%09ld", real,
                 (unsigned long long)sb.st_ino, (long long)sb.st_size,
                 (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
    else
        snprintf(out, cap, "%s", real);
}

/* Whether the embedding is L2-normalised: --normalize/--no-normalize, else
 * the model's default (on for CLIP and SigLIP towers). */
int engine_normalize(const engine *e)
{
    return e->o->normalize >= 0 ? e->o->normalize : e->model.cfg.normalize;
}

/* What a journal must match for --resume to continue it: everything that
 * decides which rows exist and what numbers they hold. */
/* int8's choice of matrices (the keep list, calibration or not) as a hash:
 * FNV-1a, 0 for other precisions. */
static unsigned long long int8_choice(const vr_options *o)
{
    if (o->precision != VR_INT8)
        return 0;
    unsigned long long h = 1469598103934665603ULL;
    const char *parts[] = {o->int8_keep ? o->int8_keep : "", o->int8_calibrate ? "check" : ""};
    for (int i = 0; i < 2; i++)
        for (const char *c = parts[i]; ; c++) {
            h = (h ^ (unsigned char)*c) * 1099511628211ULL;
            if (!*c)
                break;
        }
    return h;
}

void engine_fingerprint(const engine *e, char *out, size_t cap)
{
    const vr_options *o = e->o;
    const vr_preprocess *p = &e->pre;
    char input[PATH_MAX + 128], zs[PATH_MAX + 128] = "", sh[PATH_MAX + 128] = "";
    input_identity(o->input, input, sizeof input);
    if (o->zero_shot)
        input_identity(o->zero_shot, zs, sizeof zs);
    if (o->score_heads)
        input_identity(o->score_heads, sh, sizeof sh);
    snprintf(out, cap,
             "model_id=%s\ninput=%s\ninput_kind=%d\nimages=%llu\nlisting=%016llx\n"
             "batch=%zu\ntopk=%zu\nlogits=%d\nembeddings=%d\nnormalize=%d\nembedding_dtype=%s\n"
             "pp=%d\ntp=%d\n"
             "preprocess=%d,%zu,%zu,%zu,%zu,%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n"
             "dct_scale=%d\nmax_pixels=%zu\nmax_file_bytes=%zu\nprecision=%s\n"
             "image=%zux%zu\nzero_shot=%s\nlogit_scale=%.17g\nlogit_bias=%.17g\n"
             "score_heads=%s\nint8=%016llx\nwire=%s\n",
             e->model.model_id, input, (int)e->info.kind,
             (unsigned long long)e->info.n, (unsigned long long)e->info.hash, o->batch, e->k,
             o->logits, o->embeddings, engine_normalize(e), o->emb_f16 ? "f16" : "f32", e->g->pp,
             e->g->tp, (int)p->resize, p->resize_size, p->resize_w,
             p->crop_h, p->crop_w, (int)p->interp, p->rescale, p->mean[0], p->mean[1], p->mean[2],
             p->std[0], p->std[1], p->std[2], o->dct_scale, o->max_pixels, o->max_file_bytes,
             vr_linear_precision_name(o->precision), e->model.cfg.image_h,
             e->model.cfg.image_w, zs, e->have_zs ? e->zs.scale : 0.0,
             e->have_zs ? e->zs.bias : 0.0, sh, int8_choice(o), o->wire_bf16 ? "bf16" : "fp32");
}

/* An HDF5 input's row names for the --labels check, read NAMES_AT_ONCE at a
 * time (one read per row took 63 us: 10 minutes for 10^7 rows). */
#define NAMES_AT_ONCE 1024
typedef struct {
    vr_input_h5 h5;
    size_t first, count; /* rows held in names */
    char *names;         /* (NAMES_AT_ONCE, VR_NAME_LEN) */
    vr_status st;        /* the first failure to read them */
    char why[1024];      /* and its message */
} row_names;

static void h5_row_name(void *ctx, size_t i, char *out, size_t cap)
{
    row_names *r = ctx;
    if (i < r->first || i >= r->first + r->count) {
        r->first = i;
        r->count = r->h5.n - i < NAMES_AT_ONCE ? r->h5.n - i : NAMES_AT_ONCE;
        vr_status st = vr_input_h5_names(&r->h5, r->first, r->count, r->names, VR_NAME_LEN);
        if (st && !r->st) {
            r->st = st;
            snprintf(r->why, sizeof r->why, "%s", vr_last_error());
        }
    }
    snprintf(out, cap, "%s", r->names + (i - r->first) * VR_NAME_LEN);
}

/* Writer: --zero-shot's classes and --score-heads' heads, on the model's
 * embedding width. */
vr_status engine_load_heads(engine *e)
{
    const vr_options *o = e->o;
    const vr_config *c = &e->model.cfg;
    vr_status st;
    if (o->zero_shot) {
        double scale = o->logit_scale > 0 ? o->logit_scale : c->logit_scale;
        if (!(scale > 0))
            return vr_fail(VR_ERR_USAGE, "--zero-shot: %s holds no logit scale; pass "
                           "--logit-scale (CLIP's is 100, exp of its logit_scale)", o->model);
        int have_bias = o->have_logit_bias || c->have_logit_bias;
        double bias = o->have_logit_bias ? o->logit_bias : c->logit_bias;
        if ((st = vr_zero_shot_load(&e->zs, o->zero_shot, o->zero_shot_names, c->embed_dim,
                                    scale, bias, have_bias)))
            return st;
        e->have_zs = 1;
        e->k = o->topk < e->zs.K ? o->topk : e->zs.K;
    }
    if (o->score_heads) {
        if ((st = vr_score_heads_load(&e->sh, o->score_heads, c->embed_dim)))
            return st;
        e->have_sh = 1;
    }
    return VR_OK;
}

/* Writer: the output and journal, or with --resume the interrupted run's. */
static vr_status open_sink(engine *e)
{
    const vr_config *c = &e->model.cfg;
    char fp[8192];
    if (!e->writer)
        return VR_OK;
    vr_status hst = engine_load_heads(e);
    if (hst)
        return hst;
    engine_fingerprint(e, fp, sizeof fp);
    int jpeg = e->info.kind == VR_INPUT_DIR || e->info.kind == VR_INPUT_LIST;
    /* --labels with an HDF5 input: its rows' names are checked against the
     * labels before anything is written, not when a row reaches them */
    row_names rn = {.names = NULL};
    int named = e->info.kind == VR_INPUT_HDF5 && e->o->truth;
    if (named) {
        vr_status st = vr_input_h5_open(&rn.h5, e->o->input, c);
        if (st)
            return st;
        if (!(rn.names = vr_alloc(NAMES_AT_ONCE, VR_NAME_LEN, "row names"))) {
            vr_input_h5_close(&rn.h5);
            return VR_ERR_NOMEM;
        }
    }
    vr_status st = vr_sink_check_output(e->o);
    if (!st)
        st = vr_sink_open(&e->sink, &e->run, fp, e->n, e->B, e->k,
                                e->have_zs ? e->zs.K : c->classes, c->embed_dim, engine_normalize(e),
                                e->have_zs ? &e->zs : NULL, e->have_sh ? &e->sh : NULL,
                                e->have_zs ? e->zs.names : e->model.labels, jpeg ? e->info.listing : NULL,
                                named ? h5_row_name : NULL, &rn, &e->complete);
    if (named) {
        if (rn.st && (!st || st == VR_ERR_INPUT))
            st = vr_fail(rn.st, "%s", rn.why); /* the names' own reason, not a mismatch */
        vr_input_h5_close(&rn.h5);
        free(rn.names);
    }
    e->have_sink = !st && !e->complete;
    return st;
}

/* After every rank agreed on setup: the sizes everyone needs, then buffers. */
vr_status engine_allocate(engine *e)
{
    const vr_options *o = e->o;
    const vr_config *c = &e->model.cfg;
    vr_status st;
    size_t img = c->channels * c->image_h * c->image_w;
    if ((st = vr_state_build(&e->st, &e->w, e->B)))
        return st;
    e->st.all_tokens = o->dump != NULL; /* the dump holds every token of every block */
    /* full micro-batches and the last one (a shard's last ones vary) */
    size_t sizes[2] = {e->B, e->shards ? 0 : e->n % e->B};
    if ((st = vr_state_warm(&e->st, &e->w, sizes, 2)))
        return st;
    e->have_tr = 1;
    if ((st = vr_transport_open(&e->tr, e->g, o->send, &e->rep->comm, e->B,
                                c->tokens * c->hidden, e->B * (c->classes + c->embed_dim),
                                e->writer, o->wire_bf16)))
        return st;
    e->st.poll = vr_transport_poll; /* sends advance while the layers compute */
    e->st.poll_ctx = &e->tr;
    if (e->first) {
        if (!(e->pixels = vr_alloc(e->B * img, sizeof(float), "input tensor")))
            return VR_ERR_NOMEM;
        if (e->shards) {
            vr_tarshard_options topt = {o->max_file_bytes, o->image_keys};
            vr_jpeg_limits lim = {o->max_pixels, o->max_file_bytes, o->dct_scale};
            if ((st = vr_shardfeed_open(&e->sfeed, e->g, c, &e->pre, &e->list,
                                        e->have_ledger ? &e->ledger : NULL, &topt, &lim,
                                        o->retries, o->decoders, e->B)))
                return st;
            e->have_sfeed = 1;
        } else {
            if ((st = vr_feed_open(&e->feed, &e->run, e->g, c, &e->pre, &e->info, e->B, e->m0)))
                return st;
            e->have_feed = 1;
        }
    }
    if (e->writer && o->dump) {
        if ((st = vr_dump_open(&e->dump, o->dump, e->n)))
            return st;
        e->have_dump = 1;
    }
    return VR_OK;
}

void engine_teardown(engine *e)
{
    if (e->o->precision == VR_INT8)
        e->rep->int8_n = (int)vr_forward_int8_list(&e->w, e->rep->int8, VR_REPORT_MATRICES);
    if (e->have_tr)
        vr_transport_close(&e->tr);
    e->have_tr = 0;
    if (e->have_dump)
        vr_dump_close(&e->dump);
    if (e->have_sink)
        vr_sink_close(&e->sink, 0);
    if (e->have_zs)
        vr_zero_shot_free(&e->zs);
    if (e->have_sh)
        vr_score_heads_free(&e->sh);
    e->have_zs = e->have_sh = 0;
    if (e->have_feed)
        vr_feed_close(&e->feed);
    if (e->have_sfeed)
        vr_shardfeed_close(&e->sfeed);
    e->have_sfeed = 0;
    if (e->have_ledger)
        vr_ledger_close(&e->ledger);
    e->have_ledger = 0;
    vr_shardout_close(&e->so);
    if (e->have_list)
        vr_shardlist_free(&e->list);
    e->have_list = 0;
    vr_outlock_release(&e->lock);
    vr_state_free(&e->st);
    vr_weights_free(&e->w);
    vr_model_close(&e->model);
    free(e->pixels);
}

/* Writer: a finished micro-batch to the sink (and the dump). */
vr_status engine_write_rows(engine *e, const vr_batch_meta *meta, const float *res)
{
    const vr_config *c = &e->model.cfg;
    size_t C = c->classes, count = (size_t)meta->count;
    const float *logits = res, *emb = res + e->B * C;
    double t0 = vr_now();
    vr_status st = vr_sink_write(&e->sink, meta, logits, emb);
    if (!st && e->have_dump)
        st = vr_dump_write(&e->dump, "embedding", (size_t)meta->first, count, c->embed_dim, 0,
                           emb);
    if (!st && e->have_dump)
        st = vr_dump_write(&e->dump, "logits", (size_t)meta->first, count, C, 0, logits);
    e->rep->write += vr_now() - t0;
    return st;
}

/* The writer takes micro-batch m from the replica that scored it. */
static vr_status collect(engine *e, size_t m)
{
    int src = vr_comm_world_of(e->g, vr_plan_replica_of(e->plan, m - e->m0), e->g->pp - 1, 0);
    vr_status st = vr_transport_collect(&e->tr, src);
    return st ? st : engine_write_rows(e, e->tr.wmeta, e->tr.wres);
}

/* Dumps (--dump-activations) of what the first stage read and embedded. */
static vr_status dump_input(engine *e, const vr_batch_meta *meta, const float *x)
{
    const vr_config *c = &e->model.cfg;
    vr_status st = vr_dump_write(&e->dump, "pixels", (size_t)meta->first, (size_t)meta->count,
                                 c->channels, c->image_h * c->image_w, e->pixels);
    return st ? st : vr_dump_write(&e->dump, "embed", (size_t)meta->first, (size_t)meta->count,
                                   c->tokens, c->hidden, x);
}

/* A block's output is complete after its MLP. */
static vr_status dump_block(engine *e, size_t l, const vr_batch_meta *meta, const float *x)
{
    const vr_config *c = &e->model.cfg;
    size_t layer = e->shard.layer_begin + l;
    if (!vr_shard_has_mlp(&e->shard, layer))
        return VR_OK;
    char name[32];
    snprintf(name, sizeof name, "block_%02zu", layer);
    return vr_dump_write(&e->dump, name, (size_t)meta->first, (size_t)meta->count, c->tokens,
                         c->hidden, x);
}

/* Step i of this rank: read and embed the micro-batch (first stage) or
 * receive it; its layers; then the head and the rows to the writer (last
 * stage), or on to the next stage. */
vr_status engine_step(engine *e, size_t i, size_t n_local)
{
    const vr_grid *g = e->g;
    const vr_config *c = &e->model.cfg;
    vr_transport *tr = &e->tr;
    int slot = (int)(i % VR_RING);
    float *x = tr->x[slot], *res = tr->res[slot];
    vr_batch_meta *meta = tr->meta[slot];
    float *tl = i < VR_TIMELINE_STEPS ? e->rep->timeline[i] : NULL;
    vr_status st;
    if (tl)
        tl[0] = (float)(vr_now() - e->t0);
    if (e->first) {
        size_t m = e->m0 + (size_t)g->replica + i * (size_t)g->dp;
        double t0 = vr_now();
        if ((st = vr_transport_reuse(tr, slot)) ||
            (st = e->shards ? vr_shardfeed_next(&e->sfeed, e->pixels, meta, &e->rep->comm)
                            : vr_feed_next(&e->feed, e->pixels, meta, &e->rep->comm)))
            return st;
        e->rep->read += vr_now() - t0;
        if (!e->shards && (size_t)meta->mb != m)
            return vr_fail(VR_ERR_INTERNAL, "feed gave micro-batch %lld, expected %zu",
                           (long long)meta->mb, m);
        /* (a shard's end may come with no rows: nothing to compute) */
        if ((meta->count && (st = vr_forward_embed(&e->st, &e->w, e->pixels,
                                                   (size_t)meta->count, x))) ||
            (e->have_dump && (st = dump_input(e, meta, x))))
            return st;
    } else if ((st = vr_transport_receive(tr, slot))) {
        return st;
    }
    if (tl)
        tl[1] = (float)(vr_now() - e->t0);
    size_t count = (size_t)meta->count;
    for (size_t l = 0; count && l < vr_shard_layers(&e->shard); l++) {
        /* attention + MLP (or the half of the block the shard holds), the TP
         * ranks' partial sums joined by an allreduce */
        if ((st = vr_forward_layer(&e->st, &e->w, l, x, count,
                                   g->tp > 1 ? &e->tp_reduce : NULL)) ||
            (e->have_dump && (st = dump_block(e, l, meta, x))))
            return st;
        vr_transport_progress(tr);
    }
    if (!e->last) {
        if (tl)
            tl[2] = (float)(vr_now() - e->t0);
        if ((st = vr_transport_send(tr, slot, count)))
            return st;
    } else if (g->tp_rank == 0) {
        /* results: logits (B, C), then embeddings (B, E) */
        if ((st = vr_transport_reuse(tr, slot)) ||
            (count && (st = vr_forward_head(&e->st, &e->w, x, count, res + e->B * c->classes,
                                            res))))
            return st;
        if (tl)
            tl[2] = (float)(vr_now() - e->t0);
        if (e->shards) { /* each replica writes its own shards */
            if (e->have_sink && (st = engine_write_rows(e, meta, res)))
                return st;
        } else if (!e->writer) {
            if ((st = vr_transport_deliver(tr, slot, count, e->writer_rank)))
                return st;
        } else {
            /* ours, then the other replicas' micro-batches up to our next one */
            size_t m = (size_t)meta->mb;
            if ((st = engine_write_rows(e, meta, res)))
                return st;
            for (size_t m2 = m + 1; m2 < m + (size_t)g->dp && m2 < e->n_mb; m2++)
                if ((st = collect(e, m2)))
                    return st;
        }
    }
    if (tl && e->last && g->tp_rank != 0)
        tl[2] = (float)(vr_now() - e->t0);
    e->rep->images += (double)count;
    e->rep->micro_batches += 1;
    /* ring: slot i+2 is slot i-1, whose sends have had a whole step to go */
    if (!e->first && i + VR_RING - 1 < n_local) {
        int s2 = (int)((i + VR_RING - 1) % VR_RING);
        if ((st = vr_transport_reuse(tr, s2)) || (st = vr_transport_post_recv(tr, s2)))
            return st;
    }
    if (tl) {
        tl[3] = (float)(vr_now() - e->t0);
        e->rep->timeline_steps = (int)i + 1;
    }
    return VR_OK;
}

/* A folder's manifest (OUT.inputs) serves the run that its journal can
 * resume. It goes when the run completes, and when the run ends with no
 * journal to resume (refused before scoring, e.g. a bad --labels; or
 * --no-output, whose manifest is a temporary file). */
static void drop_stale_manifest(const engine *e, vr_status st, int stopped)
{
    if (e->g->world_rank == vr_comm_world_of(e->g, 0, 0, 0) &&
        e->info.kind == VR_INPUT_DIR && e->info.listing[0])
        vr_ledger_listing_end(e->o->output, e->info.listing, !st && !stopped);
}

vr_status vr_engine_run(const vr_options *o, const vr_grid *g, const vr_plan *plan,
                        vr_rank_report *rep)
{
    engine eng, *e = &eng;
    memset(e, 0, sizeof *e);
    memset(rep, 0, sizeof *rep);
    e->o = o;
    e->g = g;
    e->plan = plan;
    e->rep = rep;
    rep->world_rank = g->world_rank;
    rep->replica = g->replica;
    rep->stage = g->stage;
    rep->tp_rank = g->tp_rank;
    vr_status st = vr_comm_agree(engine_setup(e));
    if (!st)
        st = vr_comm_agree(vr_forward_prepare(&e->w, o->gemm, o->precision, g->tp,
                                              &e->tp_reduce,
                                              &(vr_int8_options){o->int8_keep,
                                                                 o->int8_calibrate != NULL}));
    /* everyone learns what the input is from the rank that looked */
    if (!st)
        st = vr_comm_bcast(&e->info, sizeof e->info, vr_comm_world_of(g, 0, 0, 0));
    if (!st) {
        const vr_config *c = &e->model.cfg;
        e->n = (size_t)e->info.n;
        e->B = o->batch < e->n ? o->batch : (e->n ? e->n : 1);
        rep->batch = e->B;
        e->k = o->topk < c->classes ? o->topk : c->classes;
        if (o->zero_shot && c->classes)
            st = vr_fail(VR_ERR_USAGE, "--zero-shot: the model classifies itself (%zu classes, "
                         "head '%s'); zero-shot classification is for image towers (CLIP, "
                         "SigLIP) whose output is an embedding", c->classes, vr_head_name(c->head));
        else if (o->zero_shot_names && !o->zero_shot)
            st = vr_fail(VR_ERR_USAGE, "--zero-shot-names goes with --zero-shot FILE.npy");
        else if ((o->logit_scale > 0 || o->have_logit_bias) && !o->zero_shot)
            st = vr_fail(VR_ERR_USAGE, "--logit-scale and --logit-bias go with --zero-shot");
        else if ((o->emb_f16 || o->normalize >= 0) && c->classes && !o->embeddings)
            st = vr_fail(VR_ERR_USAGE, "%s: this model's output has no embedding column (it "
                         "classifies); add --embeddings to write it",
                         o->emb_f16 ? "--embedding-dtype" : "--normalize/--no-normalize");
        else if (!c->classes && !o->zero_shot && (o->logits || o->truth))
            st = vr_fail(VR_ERR_USAGE, "%s: the model has no classifier (head '%s'), so no "
                         "logits%s; its output is the embedding (%zu values per image)",
                         o->logits ? "--logits" : "--labels", vr_head_name(c->head),
                         o->truth ? " to judge against labels" : "", c->embed_dim);
        else if (o->topk_given && !c->classes && !o->zero_shot && g->world_rank == 0 &&
                 !o->quiet)
            fprintf(stderr, "vitrun: --topk: the model has no classifier (head '%s'); the "
                    "output holds the embedding\n", vr_head_name(c->head));
        else if (o->topk_given && o->topk > c->classes && c->classes && g->world_rank == 0 &&
                 !o->quiet)
            fprintf(stderr, "vitrun: --topk %zu is more than the model's %zu classes; each row "
                    "ranks all %zu\n", o->topk, c->classes, c->classes);
        e->n_mb = ceil_div(e->n, e->B);
        e->shards = e->info.kind == VR_INPUT_SHARDS;
        if (e->shards) { /* counted in shards: the micro-batch is --batch */
            e->B = o->batch;
            rep->batch = e->B;
        }
        if (!st)
            st = vr_comm_agree(engine_shard_options(e));
        if (!st && e->shards)
            return engine_run_shards(e);
        if (!st)
            st = vr_comm_agree(open_sink(e));
    }
    if (!st) {
        /* the writer says where the run starts: 0, or where the journal ends */
        unsigned long long w[2] = {e->sink.done, (unsigned long long)e->complete};
        st = vr_comm_bcast(w, sizeof w, e->writer_rank);
        /* a journal of every row (the run ended before its output was
         * renamed) starts past the last micro-batch, partial or not */
        e->m0 = ceil_div((size_t)w[0], e->B);
        e->complete = (int)w[1];
        if (e->writer)
            rep->resumed = (size_t)w[0]; /* counted once, by the writer */
    }
    if (!st && e->complete) {
        /* said even with --quiet: the run scored nothing */
        if (g->world_rank == 0)
            fprintf(stderr, "vitrun: %s is complete and no journal is left: nothing to "
                    "resume\n", o->output);
        engine_teardown(e);
        return VR_OK;
    }
    if (!st)
        st = vr_comm_agree(engine_allocate(e));
    if (st) {
        engine_teardown(e);
        drop_stale_manifest(e, st, 0);
        return st;
    }
    /* every rank takes the same number of steps (some empty) so that the stop
     * votes line up; a replica's i-th micro-batch is m0 + replica + i*dp */
    size_t todo = e->n_mb - e->m0;
    e->n_steps = ceil_div(todo, (size_t)g->dp);
    e->n_local = todo > (size_t)g->replica ? ceil_div(todo - (size_t)g->replica, (size_t)g->dp)
                                           : 0;
    size_t n_local = e->n_local;
    /* a vote is read this many steps after it is cast: more than the steps
     * a pipeline's first stage runs ahead of its last (pp - 1 when it
     * flows), so reading it does not throttle the pipeline; a stop then
     * takes about (pp + 2) / pp micro-batch times */
    vr_comm_vote_init(g->world_size == 1 ? 1 : g->pp + 2);
    double t0 = e->t0 = vr_now();
    for (size_t i = 0; !e->first && i + 1 < VR_RING && i < n_local; i++)
        if ((st = vr_transport_post_recv(&e->tr, (int)i)))
            DIE(st);
    int stopped = 0;
    for (size_t i = 0; i < e->n_steps; i++) {
        if ((st = vr_comm_vote(vr_stop_requested() != 0, &stopped)))
            DIE(st);
        if (stopped)
            break;
        if (i < n_local && (st = engine_step(e, i, n_local)))
            DIE(st);
    }
    if (stopped)
        vr_transport_cancel(&e->tr);
    if ((st = vr_transport_drain(&e->tr)))
        DIE(st);
    if ((st = vr_comm_vote_finish()))
        DIE(st);
    rep->wall = vr_now() - t0;
    rep->compute = e->st.t;
    if (e->have_feed)
        rep->decode_wait = e->feed.decode_wait;
    if (e->have_sink) {
        e->have_sink = 0;
        rep->failed = e->sink.failed;
        rep->done = e->sink.done;
        st = vr_sink_close(&e->sink, !stopped);
    }
    engine_teardown(e);
    /* all ranks leave with the writer's verdict on the output */
    st = vr_comm_agree(st);
    drop_stale_manifest(e, st, stopped);
    if (!st && stopped) {
        unsigned long long done = rep->done;
        vr_comm_bcast(&done, sizeof done, e->writer_rank);
        if (!o->output)
            return vr_fail(VR_STOPPED, "stopped after %llu of %zu images (--no-output: no "
                           "scores kept)", done, e->n);
        return vr_fail(VR_STOPPED, "%llu of %zu images are scored in %s.part and %s.journal; "
                       "rerun the same command with --resume to finish", done, e->n, o->output,
                       o->output);
    }
    return st;
}
