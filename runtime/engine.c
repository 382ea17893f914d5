/* engine.c - one rank's stage of a pipeline replica.
 *
 * Micro-batch m (images [m*B, m*B+B)) belongs to replica m mod dp. Within a
 * replica, stage 0 reads and embeds it, every stage runs its layers (the TP
 * ranks of a stage each on their own heads and MLP columns, joined by an
 * allreduce), and the last stage's TP rank 0 computes the head and hands the
 * rows to the writer (last stage, TP rank 0 of replica 0), which writes them
 * in micro-batch order. Activations move between stages with non-blocking
 * sends and receives over a ring of three buffers, so the next micro-batch
 * arrives while this one is computed and the previous one leaves.
 */
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/dump.h"
#include "../io/input_h5.h"
#include "../io/model_io.h"
#include "../io/output.h"
#include "batch.h"
#include "forward.h"
#include "kernels.h"
#include "preprocess.h"

enum { TAG_META = 11, TAG_X = 12, TAG_RES_META = 13, TAG_RES = 14 };
#define RING 3

typedef struct {
    const vr_options *o;
    const vr_grid *g;
    const vr_plan *plan;
    vr_rank_report *rep;
    vr_shard shard;
    vr_model_file model;
    vr_weights w;
    vr_run_state st;
    vr_input_h5 in;
    int have_input;
    vr_output out;
    int have_output;
    vr_dump dump;
    int have_dump;
    size_t n, B, k, n_mb;     /* images, batch, top-k, micro-batches in all */
    size_t piece;             /* floats per TP rank in slice mode */
    int first, last, writer;  /* roles of this rank */
    int prev, next, writer_rank; /* world ranks */
    float *x[RING];           /* (B*T*D, padded to tp*piece) residual streams */
    vr_batch_meta *meta[RING]; /* (B rows) */
    vr_request rx[RING], rm[RING], sx[RING], sm[RING];
    uint8_t *u8;              /* (B, H, W, C) */
    float *pixels;            /* (B, C, H, W) */
    float *res[RING];         /* (B*C logits, then B*D embeddings) */
    vr_request sres[RING], srm[RING];
    float *prob;              /* (B, K) */
    int *idx;                 /* (B, K) */
    vr_output_row *rows;      /* (B) */
    vr_batch_meta *wmeta;     /* writer: another replica's metadata (B rows) */
    float *wres;              /* writer: another replica's results */
} engine;

#define DIE(st)                                                                       \
    do {                                                                              \
        fprintf(stderr, "vitrun: rank %d: %s: %s\n", e->g->world_rank,                \
                vr_status_str(st), vr_last_error());                                  \
        vr_comm_abort(vr_exit_code(st));                                              \
    } while (0)

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

static vr_status setup(engine *e)
{
    const vr_options *o = e->o;
    const vr_grid *g = e->g;
    vr_status st;
    e->first = g->stage == 0;
    e->last = g->stage == g->pp - 1;
    e->writer = e->last && g->tp_rank == 0 && g->replica == 0;
    e->writer_rank = vr_comm_world_of(g, 0, g->pp - 1, 0);
    e->prev = e->first ? -1 : vr_comm_world_of(g, g->replica, g->stage - 1, g->tp_rank);
    e->next = e->last ? -1 : vr_comm_world_of(g, g->replica, g->stage + 1, g->tp_rank);
    for (int i = 0; i < RING; i++)
        e->rx[i] = e->rm[i] = e->sx[i] = e->sm[i] = e->sres[i] = e->srm[i] = -1;

    if ((st = vr_model_open(&e->model, o->model)))
        return st;
    const vr_config *c = &e->model.cfg;
    e->shard = vr_plan_shard(e->plan, g->stage, g->tp_rank);
    if ((st = vr_model_load(&e->model, &e->w, &e->shard)))
        return st;
    e->rep->weight_bytes = (double)e->model.bytes_read;
    if (e->first && o->input) {
        if ((st = vr_input_h5_open(&e->in, o->input, c)))
            return st;
        e->have_input = 1;
        e->n = e->in.n;
    } else {
        e->n = o->synthetic;
    }
    return VR_OK;
}

/* After every rank agreed on setup: the sizes everyone needs, then buffers. */
static vr_status allocate(engine *e)
{
    const vr_options *o = e->o;
    const vr_config *c = &e->model.cfg;
    vr_status st;
    e->B = o->batch < e->n ? o->batch : (e->n ? e->n : 1);
    e->k = o->topk < c->classes ? o->topk : c->classes;
    e->n_mb = ceil_div(e->n, e->B);
    size_t btd = e->B * c->tokens * c->hidden, img = c->channels * c->image_size * c->image_size;
    e->piece = ceil_div(btd, (size_t)e->g->tp);
    if ((st = vr_state_build(&e->st, &e->w, e->B)))
        return st;
    for (int i = 0; i < RING; i++) {
        e->x[i] = vr_alloc(e->piece * (size_t)e->g->tp, sizeof(float), "activations");
        e->meta[i] = vr_alloc(vr_batch_meta_bytes(e->B), 1, "batch metadata");
        if (!e->x[i] || !e->meta[i])
            return VR_ERR_NOMEM;
        if (e->last && e->g->tp_rank == 0 &&
            !(e->res[i] = vr_alloc(e->B * (c->classes + c->hidden), sizeof(float), "results")))
            return VR_ERR_NOMEM;
    }
    if (e->first && (!(e->u8 = vr_alloc(e->B, img, "input pixels")) ||
                     !(e->pixels = vr_alloc(e->B * img, sizeof(float), "input tensor"))))
        return VR_ERR_NOMEM;
    if (e->writer) {
        if (!(e->wmeta = vr_alloc(vr_batch_meta_bytes(e->B), 1, "batch metadata")) ||
            !(e->wres = vr_alloc(e->B * (c->classes + c->hidden), sizeof(float), "results")) ||
            !(e->prob = vr_alloc(e->B * e->k, sizeof(float), "probabilities")) ||
            !(e->idx = vr_alloc(e->B * e->k, sizeof(int), "top-k")) ||
            !(e->rows = vr_alloc(e->B, sizeof(vr_output_row), "output rows")))
            return VR_ERR_NOMEM;
        if ((st = vr_output_open(&e->out, o->output, e->k, c->classes, c->hidden, o->logits,
                                 o->embeddings, e->model.labels)))
            return st;
        e->have_output = 1;
        if (o->dump) {
            if ((st = vr_dump_open(&e->dump, o->dump, e->n)))
                return st;
            e->have_dump = 1;
        }
    }
    return VR_OK;
}

static void teardown(engine *e)
{
    for (int i = 0; i < RING; i++) {
        vr_comm_wait(&e->sx[i], NULL);
        vr_comm_wait(&e->sm[i], NULL);
        vr_comm_wait(&e->sres[i], NULL);
        vr_comm_wait(&e->srm[i], NULL);
        free(e->x[i]);
        free(e->meta[i]);
        free(e->res[i]);
    }
    if (e->have_dump)
        vr_dump_close(&e->dump);
    if (e->have_output)
        vr_output_close(&e->out);
    if (e->have_input)
        vr_input_h5_close(&e->in);
    vr_state_free(&e->st);
    vr_weights_free(&e->w);
    vr_model_close(&e->model);
    free(e->u8);
    free(e->pixels);
    free(e->prob);
    free(e->idx);
    free(e->rows);
    free(e->wmeta);
    free(e->wres);
}

/* Stage 0: images of micro-batch m into pixels, their metadata into meta. */
static vr_status read_batch(engine *e, size_t m, vr_batch_meta *meta)
{
    const vr_config *c = &e->model.cfg;
    size_t first, count, img = c->channels * c->image_size * c->image_size;
    vr_plan_microbatch(m, e->B, e->n, &first, &count);
    double t0 = vr_now();
    memset(meta, 0, vr_batch_meta_bytes(count));
    meta->mb = (int64_t)m;
    meta->first = (int64_t)first;
    meta->count = (int64_t)count;
    if (e->have_input) {
        vr_status st = vr_input_h5_read(&e->in, first, count, e->u8, e->pixels);
        if (st)
            return st;
        if (e->in.is_uint8)
            vr_normalize_u8(e->pixels, e->u8, count, c->image_size, c->image_size, c->channels,
                            &e->model.pre);
    } else {
        vr_synthetic(e->pixels, first, count, c->channels, c->image_size, c->image_size);
    }
    for (size_t b = 0; b < count; b++) {
        vr_row_meta *r = &meta->rows[b];
        r->ok = !vr_has_nonfinite(e->pixels + b * img, img);
        if (!r->ok)
            snprintf(r->error, sizeof r->error, "input holds NaN or Inf");
        if (e->have_input)
            vr_input_h5_name(&e->in, first + b, r->name, sizeof r->name);
        else
            snprintf(r->name, sizeof r->name, "%zu", first + b);
    }
    e->rep->read += vr_now() - t0;
    return VR_OK;
}

/* Writer: top-k and one output row per image of a finished micro-batch. */
static vr_status write_rows(engine *e, const vr_batch_meta *meta, const float *res)
{
    const vr_config *c = &e->model.cfg;
    size_t C = c->classes, K = e->k, count = (size_t)meta->count;
    const float *logits = res, *emb = res + e->B * C;
    double t0 = vr_now();
    for (size_t b = 0; b < count; b++) {
        const float *l = logits + b * C;
        vr_topk(e->idx + b * K, l, C, K);
        double mx = l[e->idx[b * K]], s = 0.0;
        for (size_t j = 0; j < C; j++)
            s += exp((double)l[j] - mx);
        for (size_t t = 0; t < K; t++)
            e->prob[b * K + t] = (float)(exp((double)l[e->idx[b * K + t]] - mx) / s);
        const vr_row_meta *r = &meta->rows[b];
        int ok = r->ok && !vr_has_nonfinite(l, C);
        e->rows[b] = (vr_output_row){r->name, ok, r->ok ? (ok ? "" : "non-finite logits")
                                                         : r->error,
                                     e->idx + b * K, e->prob + b * K, l, emb + b * c->hidden};
        if (!ok)
            e->rep->failed++;
    }
    vr_status st = vr_output_append(&e->out, e->rows, count);
    if (!st && e->have_dump)
        st = vr_dump_write(&e->dump, "embedding", (size_t)meta->first, count, c->hidden, 0,
                           emb);
    if (!st && e->have_dump)
        st = vr_dump_write(&e->dump, "logits", (size_t)meta->first, count, C, 0, logits);
    e->rep->write += vr_now() - t0;
    return st;
}

static vr_status post_recv(engine *e, int slot)
{
    vr_status st;
    int slice = e->o->send == VR_SEND_SLICE;
    if (e->o->send == VR_SEND_GROUP && e->g->tp_rank != 0)
        return VR_OK; /* gets it from the group's broadcast */
    size_t off = slice ? (size_t)e->g->tp_rank * e->piece : 0;
    size_t len = slice ? e->piece : e->piece * (size_t)e->g->tp;
    if ((st = vr_comm_irecv(e->meta[slot], vr_batch_meta_bytes(e->B), e->prev, TAG_META,
                            &e->rm[slot])))
        return st;
    return vr_comm_irecv(e->x[slot] + off, len * sizeof(float), e->prev, TAG_X, &e->rx[slot]);
}

static vr_status send_next(engine *e, int slot, size_t count)
{
    const vr_config *c = &e->model.cfg;
    vr_status st;
    size_t off = 0, len = count * c->tokens * c->hidden;
    if (e->o->send == VR_SEND_GROUP && e->g->tp_rank != 0)
        return VR_OK; /* TP rank 0 sends for the group */
    if (e->o->send == VR_SEND_SLICE) {
        off = (size_t)e->g->tp_rank * e->piece;
        len = e->piece;
    }
    if ((st = vr_comm_isend(e->meta[slot], vr_batch_meta_bytes(count), e->next, TAG_META,
                            &e->sm[slot], &e->rep->comm)))
        return st;
    return vr_comm_isend(e->x[slot] + off, len * sizeof(float), e->next, TAG_X, &e->sx[slot],
                         &e->rep->comm);
}

/* The writer takes micro-batch m from the replica that scored it. */
static vr_status collect(engine *e, size_t m)
{
    const vr_config *c = &e->model.cfg;
    int src = vr_comm_world_of(e->g, vr_plan_replica_of(e->plan, m), e->g->pp - 1, 0);
    vr_batch_meta *meta = e->wmeta;
    float *res = e->wres;
    vr_request rm = -1, rr = -1;
    vr_status st;
    if ((st = vr_comm_irecv(meta, vr_batch_meta_bytes(e->B), src, TAG_RES_META, &rm)) ||
        (st = vr_comm_irecv(res, e->B * (c->classes + c->hidden) * sizeof(float), src, TAG_RES,
                            &rr)) ||
        (st = vr_comm_wait(&rm, &e->rep->comm.recv_wait)) ||
        (st = vr_comm_wait(&rr, &e->rep->comm.recv_wait)))
        return st;
    return write_rows(e, meta, res);
}

static vr_status step(engine *e, size_t i, size_t n_local)
{
    const vr_grid *g = e->g;
    const vr_config *c = &e->model.cfg;
    int slot = (int)(i % RING);
    size_t m = (size_t)g->replica + i * (size_t)g->dp;
    float *x = e->x[slot];
    vr_batch_meta *meta = e->meta[slot];
    vr_status st;
    if (e->first) {
        /* this slot's previous send must be done before it is overwritten */
        if ((st = vr_comm_wait(&e->sm[slot], &e->rep->comm.send_wait)) ||
            (st = vr_comm_wait(&e->sx[slot], &e->rep->comm.send_wait)) ||
            (st = vr_comm_wait(&e->srm[slot], &e->rep->comm.send_wait)) ||
            (st = read_batch(e, m, meta)))
            return st;
        vr_forward_embed(&e->st, &e->w, e->pixels, (size_t)meta->count, x);
        if (e->have_dump && (st = vr_dump_write(&e->dump, "embed", (size_t)meta->first,
                                                (size_t)meta->count, c->tokens, c->hidden, x)))
            return st;
    } else {
        if ((st = vr_comm_wait(&e->rm[slot], &e->rep->comm.recv_wait)) ||
            (st = vr_comm_wait(&e->rx[slot], &e->rep->comm.recv_wait)))
            return st;
        if (g->tp > 1 && e->o->send == VR_SEND_SLICE &&
            (st = vr_comm_tp_allgather(x, e->piece, &e->rep->comm)))
            return st;
        if (g->tp > 1 && e->o->send == VR_SEND_GROUP) {
            double t0 = vr_now();
            if ((st = vr_comm_tp_bcast(meta, vr_batch_meta_bytes(e->B))) ||
                (st = vr_comm_tp_bcast(x, (size_t)meta->count * c->tokens * c->hidden *
                                              sizeof(float))))
                return st;
            e->rep->comm.allreduce += vr_now() - t0;
        }
    }
    size_t count = (size_t)meta->count;
    for (size_t l = 0; l < vr_shard_layers(&e->shard); l++) {
        if ((st = vr_forward_layer(&e->st, &e->w, l, x, count,
                                   g->tp > 1 ? vr_comm_tp_allreduce : NULL, &e->rep->comm)))
            return st;
        if (e->have_dump) {
            char name[32];
            snprintf(name, sizeof name, "block_%02zu", e->shard.layer_begin + l);
            if ((st = vr_dump_write(&e->dump, name, (size_t)meta->first, count, c->tokens,
                                    c->hidden, x)))
                return st;
        }
    }
    if (!e->last) {
        if ((st = send_next(e, slot, count)))
            return st;
    } else if (g->tp_rank == 0) {
        if (!e->writer && ((st = vr_comm_wait(&e->srm[slot], &e->rep->comm.send_wait)) ||
                           (st = vr_comm_wait(&e->sres[slot], &e->rep->comm.send_wait))))
            return st;
        float *res = e->res[slot];
        vr_forward_head(&e->st, &e->w, x, count, res + e->B * c->classes, res);
        if (e->writer) {
            if ((st = write_rows(e, meta, res)))
                return st;
            /* then the other replicas' micro-batches up to our next one */
            for (size_t m2 = m + 1; m2 < m + (size_t)g->dp && m2 < e->n_mb; m2++)
                if ((st = collect(e, m2)))
                    return st;
        } else if ((st = vr_comm_isend(meta, vr_batch_meta_bytes(count), e->writer_rank,
                                       TAG_RES_META, &e->srm[slot], &e->rep->comm)) ||
                   (st = vr_comm_isend(res, e->B * (c->classes + c->hidden) * sizeof(float),
                                       e->writer_rank, TAG_RES, &e->sres[slot], &e->rep->comm))) {
            return st;
        }
    }
    e->rep->images += (double)count;
    e->rep->micro_batches += 1;
    /* Ring: buffer i+2 is buffer i-1, whose send has had a whole step to go. */
    if (!e->first && i + RING - 1 < n_local) {
        int s2 = (int)((i + RING - 1) % RING);
        /* the last stage sends meta[s2] on to the writer: that too must be done */
        if ((st = vr_comm_wait(&e->sm[s2], &e->rep->comm.send_wait)) ||
            (st = vr_comm_wait(&e->sx[s2], &e->rep->comm.send_wait)) ||
            (st = vr_comm_wait(&e->srm[s2], &e->rep->comm.send_wait)) || (st = post_recv(e, s2)))
            return st;
    }
    return VR_OK;
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
    vr_status st = vr_comm_agree(setup(e));
    if (!st) {
        /* everyone learns the image count from the first reader */
        unsigned long long n = e->n;
        st = vr_comm_bcast(&n, sizeof n, vr_comm_world_of(g, 0, 0, 0));
        e->n = (size_t)n;
    }
    if (!st)
        st = vr_comm_agree(allocate(e));
    if (st) {
        teardown(e);
        return st;
    }
    size_t n_local = e->n_mb > (size_t)g->replica
                         ? ceil_div(e->n_mb - (size_t)g->replica, (size_t)g->dp) : 0;
    double t0 = vr_now();
    for (size_t i = 0; !e->first && i + 1 < RING && i < n_local; i++)
        if ((st = post_recv(e, (int)i)))
            DIE(st);
    for (size_t i = 0; i < n_local; i++)
        if ((st = step(e, i, n_local)))
            DIE(st);
    for (int i = 0; i < RING; i++)
        if ((st = vr_comm_wait(&e->sx[i], &rep->comm.send_wait)) ||
            (st = vr_comm_wait(&e->sm[i], &rep->comm.send_wait)) ||
            (st = vr_comm_wait(&e->sres[i], &rep->comm.send_wait)) ||
            (st = vr_comm_wait(&e->srm[i], &rep->comm.send_wait)))
            DIE(st);
    if (e->have_output) {
        e->have_output = 0;
        if ((st = vr_output_close(&e->out)))
            DIE(st);
    }
    rep->wall = vr_now() - t0;
    rep->compute = e->st.t;
    teardown(e);
    return VR_OK;
}
