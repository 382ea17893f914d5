/* forward.c - embedding, encoder block and head of a ViT, for one shard. */
#include "forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "kernels.h"
#include "pool.h"
#include "quant.h"
#include "rows.h"

/* lets the sends in flight advance (vr_run_state.poll) */
#define POLL(s)                     \
    do {                            \
        if ((s)->poll)              \
            (s)->poll((s)->poll_ctx); \
    } while (0)

vr_status vr_state_build(vr_run_state *s, const vr_weights *w, size_t max_batch)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden, Hd = vr_shard_heads(&w->shard) * c->head_dim;
    size_t Ml = vr_shard_mlp(&w->shard), rows;
    int head = w->shard.has_head, map = head && c->pool == VR_POOL_MAP;
    memset(s, 0, sizeof *s);
    if (max_batch == 0 || !vr_mul(max_batch, c->tokens, &rows))
        return vr_fail(VR_ERR_USAGE, "batch size %zu is not usable", max_batch);
    s->max_batch = max_batch;
    size_t scratch = vr_attention_scratch(w->attention, vr_pool_threads());
    if (map && vr_attention_scratch(w->pool_attention, vr_pool_threads()) > scratch)
        scratch = vr_attention_scratch(w->pool_attention, vr_pool_threads());
    struct { float **p; size_t a, b; const char *what; } bufs[] = {
        {&s->xn, rows, c->hidden, "normalised activations"},
        {&s->qkv, rows, 3 * Hd, "queries, keys and values"},
        {&s->scores, scratch, 1, "attention scratch"},
        /* also the attention-pool head's (B, D) */
        {&s->attn, rows, map && D > Hd ? D : Hd ? Hd : 1, "attention output"},
        {&s->partial, w->fused_residual ? 1 : rows, c->hidden, "partial sums"},
        {&s->partial2, w->fused_residual || !c->parallel_block ? 1 : rows, c->hidden,
         "partial sums"},
        {&s->mlp, rows, Ml ? Ml : 1, "MLP activations"},
        {&s->gate, c->act == VR_ACT_SWIGLU ? rows : 1, Ml ? 2 * Ml : 1, "SwiGLU gate"},
        {&s->patches, max_batch * c->patches, w->shard.has_embed ? c->patch_len : 1, "patches"},
        {&s->cls, max_batch, c->hidden, "class tokens"},
        {&s->pooled, head ? max_batch : 1, c->pooled, "pooled features"},
        {&s->logits2, c->head == VR_HEAD_DISTILLED ? max_batch : 1, c->classes ? c->classes : 1,
         "distillation logits"},
        {&s->pool_qkv, map ? rows : 1, 3 * D, "attention-pool keys and values"},
        {&s->pool_kv, map ? rows : 1, 2 * D, "attention-pool keys and values"},
        {&s->pool_mlp, map ? max_batch : 1, map ? c->pool_mlp_dim : 1, "attention-pool MLP"},
    };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        size_t n;
        if (!vr_mul(bufs[i].a, bufs[i].b, &n) ||
            !(*bufs[i].p = vr_alloc(n, sizeof(float), bufs[i].what))) {
            vr_state_free(s);
            return vr_fail(VR_ERR_NOMEM, "cannot allocate %s for batch %zu (%s)",
                           bufs[i].what, max_batch, vr_last_error());
        }
        memset(*bufs[i].p, 0, n * sizeof(float)); /* pages touched now, not in the first GEMMs */
    }
    /* LayerNorm's rows quantised for an int8 qkv or fc1 (rows * D fits: xn did) */
    if (!(s->xq = vr_alloc(rows * D, 1, "int8 rows")) ||
        !(s->xq_scale = vr_alloc(rows, sizeof(float), "row scales")) ||
        !(s->xq_zp = vr_alloc(rows, sizeof(int32_t), "zero points"))) {
        vr_state_free(s);
        return vr_fail(VR_ERR_NOMEM, "cannot allocate int8 rows for batch %zu", max_batch);
    }
    return VR_OK;
}

/* Whether the shard's layer l runs on the class tokens alone after its keys
 * and values: the model's last block, when the head reads only the class
 * token, unless the run dumps every token. */
static int class_only(const vr_run_state *s, const vr_weights *w, size_t l)
{
    return w->shard.layer_begin + l + 1 == w->cfg.layers && w->cfg.head_rows == 1 &&
           !s->all_tokens;
}

vr_status vr_state_warm(vr_run_state *s, const vr_weights *w, const size_t *batches, int n)
{
    const vr_config *c = &w->cfg;
    const vr_shard *sh = &w->shard;
    size_t T = c->tokens;
    vr_status st = VR_OK;
    for (int i = 0; i < n && !st; i++) {
        size_t B = batches[i];
        if (!B)
            continue;
        if (w->patch)
            st = vr_linear_warm(w->patch, c->patches);
        for (size_t l = 0; !st && l < vr_shard_layers(sh); l++) {
            const vr_layer_weights *L = &w->layer[l];
            size_t rows = class_only(s, w, l) ? B : B * T;
            if ((st = vr_linear_warm(L->qkv, B * T)) || (st = vr_linear_warm(L->proj, rows)) ||
                (st = vr_linear_warm(L->fc1, rows)) || (st = vr_linear_warm(L->fc2, rows)))
                break;
        }
        if (!st && w->pool.kv &&
            ((st = vr_linear_warm(w->pool.kv, B * T)) || (st = vr_linear_warm(w->pool.proj, B)) ||
             (st = vr_linear_warm(w->pool.fc1, B)) || (st = vr_linear_warm(w->pool.fc2, B))))
            break;
        if (!st && w->head)
            st = vr_linear_warm(w->head, B);
        if (!st && w->dist)
            st = vr_linear_warm(w->dist, B);
    }
    return st;
}

void vr_state_free(vr_run_state *s)
{
    float *bufs[] = {s->xn, s->qkv, s->scores, s->attn, s->partial, s->partial2, s->mlp, s->gate,
                     s->patches, s->cls, s->pooled, s->logits2, s->pool_qkv, s->pool_kv,
                     s->pool_mlp};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    free(s->xq);
    free(s->xq_scale);
    free(s->xq_zp);
    vr_linear_release_scratch();
    memset(s, 0, sizeof *s);
}

vr_status vr_forward_embed(vr_run_state *s, const vr_weights *w, const float *pixels,
                           size_t B, float *x)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden, T = c->tokens, Np = c->patches, P = c->prefix;
    double t0 = vr_now();
    vr_im2col(s->patches, pixels, B, c->channels, c->grid_h, c->grid_w, c->patch_size);
    double t1 = vr_now();
    vr_timers gt = {0};
    vr_status st = VR_OK;
    /* patch rows go straight to tokens P..T-1 of image b */
    for (size_t b = 0; b < B && !st; b++)
        st = vr_linear_run(w->patch, Np, s->patches + b * Np * c->patch_len,
                           x + (b * T + P) * D, &gt);
    double t2 = vr_now();
    /* the prefix tokens (class, distillation, registers) in front of the
     * patches; position embeddings over all tokens, or over the patches only
     * (timm's no_embed_class: the prefix tokens get none) */
    const float *pos_patches = w->pos + (c->pos == VR_POS_ALL ? P * D : 0);
    for (size_t b = 0; b < B; b++) {
        float *xb = x + b * T * D;
        for (size_t t = 0; t < P; t++)
            for (size_t j = 0; j < D; j++)
                xb[t * D + j] = w->prefix[t * D + j] + (c->pos == VR_POS_ALL ? w->pos[t * D + j]
                                                                             : 0.0f);
        for (size_t t = 0; t < Np; t++)
            for (size_t j = 0; j < D; j++)
                xb[(P + t) * D + j] = (xb[(P + t) * D + j] + w->patch_b[j]) +
                                      pos_patches[t * D + j];
    }
    s->t.activation += (t1 - t0) + (vr_now() - t2) + gt.activation;
    s->t.gemm += gt.gemm;
    if (c->norm_pre) { /* CLIP's ln_pre */
        double t3 = vr_now();
        vr_rows_layernorm(x, x, w->norm_pre_w, w->norm_pre_b, B * T, D, c->ln_eps);
        s->t.norm += vr_now() - t3;
    }
    return st;
}

/* Adds the time `stmt` takes to s->t.field. */
#define TIMED(field, stmt)                \
    do {                                  \
        double t_ = vr_now();             \
        stmt;                             \
        s->t.field += vr_now() - t_;      \
    } while (0)

/* y (rows, D) += A (rows, K) W^T + b: straight into y, or as partial sums
 * that `reduce` adds up over the ranks sharing the layer first (all of y's
 * rows: the class tokens of the model's last block). */
static vr_status add_linear(vr_run_state *s, const vr_weights *w, vr_linear *lin, size_t rows,
                            const float *A, float *y, const vr_reducer *reduce)
{
    size_t D = w->cfg.hidden;
    vr_status st;
    if (!reduce)
        return vr_linear_run(lin, rows, A, y, &s->t);
    /* A holds this rank's heads or MLP columns: int8 agrees on whole rows */
    if ((st = vr_linear_run_slice(lin, rows, A, s->partial, &s->t, reduce->max, reduce->ctx)) ||
        (st = reduce->sum(s->partial, rows * D, reduce->ctx)))
        return st;
    TIMED(activation, vr_rows_add(y, s->partial, rows, D));
    return VR_OK;
}

/* add_linear for a block of x's rows: the partial sums of every row
 * reduce-scattered, this rank's block (lo, hi) added into x. */
static vr_status scatter_linear(vr_run_state *s, const vr_weights *w, vr_linear *lin,
                                size_t rows, const float *A, float *x, size_t lo, size_t hi,
                                const vr_reducer *reduce)
{
    size_t D = w->cfg.hidden;
    vr_status st;
    if ((st = vr_linear_run_slice(lin, rows, A, s->partial, &s->t, reduce->max, reduce->ctx)) ||
        (st = reduce->scatter(s->partial, rows, D, reduce->ctx)))
        return st;
    TIMED(activation, vr_rows_add(x + lo * D, s->partial, hi - lo, D));
    return VR_OK;
}

/* Whether lin takes its input as uint8 rows straight from a LayerNorm. */
static int takes_q(const vr_weights *w, const vr_linear *lin)
{
    return vr_linear_fuses(lin) && w->cfg.hidden <= VR_QUANT_ROW_MAX;
}

/* Rows (lo, hi) of LayerNorm(x) quantised into s->xq (quant.h). */
static void normed_q(vr_run_state *s, const vr_weights *w, const float *x, const float *ln_w,
                     const float *ln_b, size_t lo, size_t hi)
{
    size_t D = w->cfg.hidden;
    TIMED(norm, vr_quant_layernorm_rows(s->xq + lo * D, s->xq_scale + lo, s->xq_zp + lo,
                                        x + lo * D, ln_w, ln_b, hi - lo, D, w->cfg.ln_eps));
}

/* out (rows, N) = lin(LayerNorm(x)): as uint8 rows from the LayerNorm
 * when lin takes them (int8), else through float32 rows in s->xn. */
static vr_status normed_linear(vr_run_state *s, const vr_weights *w, vr_linear *lin,
                               const float *x, const float *ln_w, const float *ln_b, size_t rows,
                               float *out)
{
    if (!takes_q(w, lin)) {
        TIMED(norm, vr_rows_layernorm(s->xn, x, ln_w, ln_b, rows, w->cfg.hidden, w->cfg.ln_eps));
        return vr_linear_run(lin, rows, s->xn, out, &s->t);
    }
    normed_q(s, w, x, ln_w, ln_b, 0, rows);
    vr_qrows q = {s->xq, s->xq_scale, s->xq_zp, rows, w->cfg.hidden};
    return vr_linear_run_from_q(lin, &q, out, &s->t);
}

/* normed_linear when this rank holds rows (lo, hi) of x: its block
 * normalised (and quantised), then every block gathered, as uint8 rows
 * when lin takes them (int8), else as float32. */
static vr_status gathered_linear(vr_run_state *s, const vr_weights *w, vr_linear *lin,
                                 const float *x, const float *ln_w, const float *ln_b,
                                 size_t rows, size_t lo, size_t hi, float *out,
                                 const vr_reducer *reduce)
{
    size_t D = w->cfg.hidden;
    vr_status st;
    if (!takes_q(w, lin)) {
        TIMED(norm, vr_rows_layernorm(s->xn + lo * D, x + lo * D, ln_w, ln_b, hi - lo, D,
                                      w->cfg.ln_eps));
        if ((st = reduce->gatherf(s->xn, rows, D, reduce->ctx)))
            return st;
        return vr_linear_run(lin, rows, s->xn, out, &s->t);
    }
    normed_q(s, w, x, ln_w, ln_b, lo, hi);
    void *const tables[3] = {s->xq, s->xq_scale, s->xq_zp};
    const size_t widths[3] = {D, sizeof(float), sizeof(int32_t)};
    if ((st = reduce->gather(tables, widths, 3, rows, reduce->ctx)))
        return st;
    vr_qrows q = {s->xq, s->xq_scale, s->xq_zp, rows, D};
    return vr_linear_run_from_q(lin, &q, out, &s->t);
}

/* The class tokens (row 0 of each image) between x (B, T, D) and s->cls (B, D). */
static void class_tokens(const vr_run_state *s, const vr_weights *w, float *x, size_t B,
                         int to_x)
{
    size_t D = w->cfg.hidden, T = w->cfg.tokens;
    for (size_t b = 0; b < B; b++)
        if (to_x)
            memcpy(x + b * T * D, s->cls + b * D, D * sizeof *x);
        else
            memcpy(s->cls + b * D, x + b * T * D, D * sizeof *x);
}

/* x = x + ls1 * proj(attention(ln1(x))); proj is row-parallel. With `cls`
 * (the model's last block, whose only reader is the head's class token)
 * every token's keys and values are computed, then the class token's row
 * alone. */
static vr_status attention_block(vr_run_state *s, const vr_weights *w,
                                 const vr_layer_weights *L, float *x, size_t B, int cls,
                                 const vr_reducer *reduce)
{
    const vr_config *c = &w->cfg;
    size_t n = B * c->tokens, Hl = vr_shard_heads(&w->shard);
    size_t hd = c->head_dim, Hd = Hl * hd, lo = 0, hi = n;
    int split = reduce && !cls; /* this rank keeps rows (lo, hi) of x (forward.h) */
    vr_status st;
    if (split) {
        vr_row_block(n, reduce->size, reduce->rank, &lo, &hi);
        if ((st = gathered_linear(s, w, L->qkv, x, L->ln1_w, L->ln1_b, n, lo, hi, s->qkv,
                                  reduce)))
            return st;
    } else if ((st = normed_linear(s, w, L->qkv, x, L->ln1_w, L->ln1_b, n, s->qkv))) {
        return st;
    }
    POLL(s);
    if (c->qk_norm) { /* each head's q and k normalised over head_dim */
        TIMED(norm, vr_rows_head_norm(s->qkv, 3 * Hd, n, Hl, hd, L->q_norm_w, L->q_norm_b,
                                      c->ln_eps));
        TIMED(norm, vr_rows_head_norm(s->qkv + Hd, 3 * Hd, n, Hl, hd, L->k_norm_w, L->k_norm_b,
                                      c->ln_eps));
    }
    /* the output projection adds into x (or leaves partial sums for
     * `reduce`); LayerScale's ls1 is folded into its rows (vr_forward_prepare) */
    if (!cls) {
        TIMED(attention, st = vr_attention_run(w->attention, s->qkv, s->attn, B, s->scores));
        if (st)
            return st;
        POLL(s);
        return split ? scatter_linear(s, w, L->proj, n, s->attn, x, lo, hi, reduce)
                     : add_linear(s, w, L->proj, n, s->attn, x, reduce);
    }
    TIMED(attention, st = vr_attention_first_row(w->attention, s->qkv, s->attn, B, s->scores));
    if (st)
        return st;
    class_tokens(s, w, x, B, 0);
    if ((st = add_linear(s, w, L->proj, B, s->attn, s->cls, reduce)))
        return st;
    class_tokens(s, w, x, B, 1);
    return VR_OK;
}

/* x = x + ls2 * fc2(act(fc1(ln2(x)))); fc1 column-, fc2 row-parallel. With
 * `cls`, on the class tokens alone. */
static vr_status mlp_block(vr_run_state *s, const vr_weights *w, const vr_layer_weights *L,
                           float *x, size_t B, int cls, const vr_reducer *reduce)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden, rows = cls ? B : B * c->tokens, Ml = vr_shard_mlp(&w->shard);
    float *y = cls ? s->cls : x;
    vr_status st;
    if (reduce && !cls) { /* this rank keeps rows (lo, hi) of x (forward.h) */
        size_t lo, hi;
        vr_row_block(rows, reduce->size, reduce->rank, &lo, &hi);
        if ((st = gathered_linear(s, w, L->fc1, x, L->ln2_w, L->ln2_b, rows, lo, hi,
                                  c->act == VR_ACT_SWIGLU ? s->gate : s->mlp, reduce)))
            return st;
        if (c->act == VR_ACT_SWIGLU)
            TIMED(activation, vr_rows_swiglu(s->mlp, s->gate, rows, Ml));
        return scatter_linear(s, w, L->fc2, rows, s->mlp, x, lo, hi, reduce);
    }
    if (cls)
        class_tokens(s, w, x, B, 0);
    if (!reduce && c->act != VR_ACT_SWIGLU && takes_q(w, L->fc1) && vr_linear_fuses(L->fc2) &&
        Ml <= VR_QUANT_ROW_MAX) {
        /* int8 throughout: LayerNorm's rows go to fc1, and fc1's to fc2,
         * quantised, never as float32 (the same integers as the path
         * below: quant.h) */
        vr_qrows in = {s->xq, s->xq_scale, s->xq_zp, rows, D}, h;
        normed_q(s, w, y, L->ln2_w, L->ln2_b, 0, rows);
        if ((st = vr_linear_run_to_q(L->fc1, &in, &h, &s->t)) ||
            (st = vr_linear_run_from_q(L->fc2, &h, y, &s->t)))
            return st;
        if (cls)
            class_tokens(s, w, x, B, 1);
        return VR_OK;
    }
    if ((st = normed_linear(s, w, L->fc1, y, L->ln2_w, L->ln2_b, rows,
                            c->act == VR_ACT_SWIGLU ? s->gate : s->mlp)))
        return st; /* GELU runs in fc1's epilogue (vr_forward_prepare) */
    POLL(s);
    if (c->act == VR_ACT_SWIGLU) /* [gate | value] = fc1(xn); silu(gate) * value */
        TIMED(activation, vr_rows_swiglu(s->mlp, s->gate, rows, Ml));
    /* fc2 adds into y (ls2 folded into its rows), or leaves partial sums */
    if ((st = add_linear(s, w, L->fc2, rows, s->mlp, y, reduce)))
        return st;
    if (cls)
        class_tokens(s, w, x, B, 1);
    return VR_OK;
}

/* ln1(x) of rows (lo, hi), in the forms qkv and fc1 take (float32 rows in
 * s->xn, uint8 rows in s->xq), then every row's gathered when split. */
static vr_status parallel_input(vr_run_state *s, const vr_weights *w, const vr_layer_weights *L,
                                const float *x, size_t n, size_t lo, size_t hi, int split,
                                const vr_reducer *reduce)
{
    size_t D = w->cfg.hidden;
    int q_qkv = takes_q(w, L->qkv), q_fc1 = takes_q(w, L->fc1);
    vr_status st;
    if (!q_qkv || !q_fc1) {
        TIMED(norm, vr_rows_layernorm(s->xn + lo * D, x + lo * D, L->ln1_w, L->ln1_b, hi - lo, D,
                                      w->cfg.ln_eps));
        if (split && (st = reduce->gatherf(s->xn, n, D, reduce->ctx)))
            return st;
    }
    if (q_qkv || q_fc1) {
        normed_q(s, w, x, L->ln1_w, L->ln1_b, lo, hi);
        void *const tables[3] = {s->xq, s->xq_scale, s->xq_zp};
        const size_t widths[3] = {D, sizeof(float), sizeof(int32_t)};
        if (split && (st = reduce->gather(tables, widths, 3, n, reduce->ctx)))
            return st;
    }
    return VR_OK;
}

/* out (rows, N) = lin(y), y the rows parallel_input left (s->xn or s->xq). */
static vr_status from_input(vr_run_state *s, const vr_weights *w, vr_linear *lin, size_t rows,
                            float *out)
{
    if (!takes_q(w, lin))
        return vr_linear_run(lin, rows, s->xn, out, &s->t);
    vr_qrows q = {s->xq, s->xq_scale, s->xq_zp, rows, w->cfg.hidden};
    return vr_linear_run_from_q(lin, &q, out, &s->t);
}

/* Row b*T of each image's y to row b: the class tokens' rows for the MLP. */
static void input_class_rows(vr_run_state *s, const vr_weights *w, size_t B)
{
    size_t D = w->cfg.hidden, T = w->cfg.tokens;
    for (size_t b = 1; b < B; b++) {
        memcpy(s->xn + b * D, s->xn + b * T * D, D * sizeof *s->xn);
        memcpy(s->xq + b * D, s->xq + b * T * D, D);
        s->xq_scale[b] = s->xq_scale[b * T];
        s->xq_zp[b] = s->xq_zp[b * T];
    }
}

/* ViT-22B's block (timm ParallelScalingBlock): y = ln1(x),
 * x = x + ls1 * proj(attention(y)) + ls2 * fc2(act(fc1(y))). Both branches
 * read one LayerNorm; with `reduce` their partial sums are added before
 * one reduce-scatter (or, with `cls`, one sum) instead of two. */
static vr_status parallel_block(vr_run_state *s, const vr_weights *w, const vr_layer_weights *L,
                                float *x, size_t B, int cls, const vr_reducer *reduce)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden, n = B * c->tokens, rows = cls ? B : n, Ml = vr_shard_mlp(&w->shard);
    size_t Hl = vr_shard_heads(&w->shard), hd = c->head_dim, Hd = Hl * hd, lo = 0, hi = n;
    int split = reduce && !cls; /* this rank keeps rows (lo, hi) of x (forward.h) */
    int glu = c->act == VR_ACT_SWIGLU;
    float *y = cls ? s->cls : x;
    vr_status st;
    if (split)
        vr_row_block(n, reduce->size, reduce->rank, &lo, &hi);
    /* attention on every token's queries (the class token's alone with cls) */
    if ((st = parallel_input(s, w, L, x, n, lo, hi, split, reduce)) ||
        (st = from_input(s, w, L->qkv, n, s->qkv)))
        return st;
    POLL(s);
    if (c->qk_norm) {
        TIMED(norm, vr_rows_head_norm(s->qkv, 3 * Hd, n, Hl, hd, L->q_norm_w, L->q_norm_b,
                                      c->ln_eps));
        TIMED(norm, vr_rows_head_norm(s->qkv + Hd, 3 * Hd, n, Hl, hd, L->k_norm_w, L->k_norm_b,
                                      c->ln_eps));
    }
    if (cls) {
        TIMED(attention, st = vr_attention_first_row(w->attention, s->qkv, s->attn, B, s->scores));
        input_class_rows(s, w, B);
        class_tokens(s, w, x, B, 0);
    } else {
        TIMED(attention, st = vr_attention_run(w->attention, s->qkv, s->attn, B, s->scores));
    }
    if (st)
        return st;
    POLL(s);
    /* the MLP on the same y; GELU in fc1's epilogue (vr_forward_prepare) */
    if ((st = from_input(s, w, L->fc1, rows, glu ? s->gate : s->mlp)))
        return st;
    POLL(s);
    if (glu)
        TIMED(activation, vr_rows_swiglu(s->mlp, s->gate, rows, Ml));
    if (!reduce) { /* proj and fc2 add into y (ls1, ls2 folded into their rows) */
        if ((st = vr_linear_run(L->proj, rows, s->attn, y, &s->t)) ||
            (st = vr_linear_run(L->fc2, rows, s->mlp, y, &s->t)))
            return st;
    } else { /* both partial sums, added, then one exchange */
        if ((st = vr_linear_run_slice(L->proj, rows, s->attn, s->partial, &s->t, reduce->max,
                                      reduce->ctx)) ||
            (st = vr_linear_run_slice(L->fc2, rows, s->mlp, s->partial2, &s->t, reduce->max,
                                      reduce->ctx)))
            return st;
        TIMED(activation, vr_rows_add(s->partial, s->partial2, rows, D));
        if ((st = split ? reduce->scatter(s->partial, rows, D, reduce->ctx)
                        : reduce->sum(s->partial, rows * D, reduce->ctx)))
            return st;
        TIMED(activation, vr_rows_add(y + lo * D, s->partial, split ? hi - lo : rows, D));
    }
    if (cls)
        class_tokens(s, w, x, B, 1);
    return VR_OK;
}

vr_status vr_forward_layer(vr_run_state *s, const vr_weights *w, size_t l, float *x,
                           size_t B, const vr_reducer *reduce)
{
    const vr_layer_weights *L = &w->layer[l];
    int cls = class_only(s, w, l);
    vr_status st;
    if (!w->fused_residual != !!reduce)
        return vr_fail(VR_ERR_INTERNAL, "layer prepared for %s sums, run with%s a reduce",
                       w->fused_residual ? "local" : "partial", reduce ? "" : "out");
    size_t g = w->shard.layer_begin + l;
    if (w->cfg.parallel_block) { /* whole blocks on a stage (partition/plan.c) */
        if ((st = parallel_block(s, w, L, x, B, cls, reduce)))
            return st;
    } else { /* a stage may hold only the attention or only the MLP of its first and last layers */
        if (vr_shard_has_attention(&w->shard, g) &&
            (st = attention_block(s, w, L, x, B, cls, reduce)))
            return st;
        POLL(s);
        if (vr_shard_has_mlp(&w->shard, g) && (st = mlp_block(s, w, L, x, B, cls, reduce)))
            return st;
    }
    /* x whole again where the next reader needs every row (forward.h) */
    if (reduce && !cls &&
        (l + 1 == vr_shard_layers(&w->shard) || class_only(s, w, l + 1) || s->all_tokens))
        return reduce->gatherf(x, B * w->cfg.tokens, w->cfg.hidden, reduce->ctx);
    return VR_OK;
}

/* SigLIP's attention-pool head on hn (B, T, D): one learned query attends
 * over the patch tokens (timm leaves the prefix tokens out); o =
 * proj(attention); pooled = o + mlp(norm(o)). */
static vr_status attention_pool(vr_run_state *s, const vr_weights *w, const float *hn,
                                size_t B, float *pooled)
{
    const vr_config *c = &w->cfg;
    const vr_pool_weights *p = &w->pool;
    size_t D = c->hidden, T = c->tokens, P = c->prefix, Np = T - P;
    vr_status st;
    /* keys and values of the patch tokens, laid out as a qkv block whose
     * only query row (row 0 of each image) is the latent's, for
     * vr_attention_first_row */
    if ((st = vr_linear_run(p->kv, B * T, hn, s->pool_kv, &s->t)))
        return st;
    double t0 = vr_now();
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < Np; t++)
            memcpy(s->pool_qkv + (b * Np + t) * 3 * D + D, s->pool_kv + (b * T + P + t) * 2 * D,
                   2 * D * sizeof(float));
    for (size_t b = 0; b < B; b++)
        memcpy(s->pool_qkv + b * Np * 3 * D, p->q, D * sizeof(float));
    s->t.activation += vr_now() - t0;
    TIMED(attention,
          st = vr_attention_first_row(w->pool_attention, s->pool_qkv, s->attn, B, s->scores));
    if (st || (st = vr_linear_run(p->proj, B, s->attn, pooled, &s->t)))
        return st;
    TIMED(norm, vr_rows_layernorm(s->xn, pooled, p->norm_w, p->norm_b, B, D, c->ln_eps));
    if ((st = vr_linear_run(p->fc1, B, s->xn, s->pool_mlp, &s->t))) /* act in its epilogue */
        return st;
    return vr_linear_run(p->fc2, B, s->pool_mlp, pooled, &s->t); /* adds into pooled */
}

vr_status vr_forward_head(vr_run_state *s, const vr_weights *w, const float *x, size_t B,
                          float *embedding, float *logits)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden, T = c->tokens, R = c->head_rows, P = c->prefix;
    vr_status st;
    /* the final norm before pooling, on the R leading rows of each image the
     * pooling reads (only the class token for class-token pooling) */
    const float *hn = x;
    size_t ld = T * D; /* between images in hn */
    if (c->final_norm == VR_NORM_PRE_POOL) {
        if (R == 1)
            TIMED(norm, vr_layernorm(s->xn, D, x, T * D, w->norm_w, w->norm_b, B, D, c->ln_eps));
        else
            TIMED(norm, vr_rows_layernorm(s->xn, x, w->norm_w, w->norm_b, B * T, D, c->ln_eps));
        hn = s->xn;
        ld = R * D;
    }
    /* pooling: pooled (B, pooled) */
    double t0 = vr_now();
    float *pooled = s->pooled;
    size_t Pw = c->pooled;
    for (size_t b = 0; b < B && c->pool != VR_POOL_MAP; b++) {
        const float *tok = hn + b * ld;
        float *out = pooled + b * Pw;
        if (c->pool == VR_POOL_CLS || c->pool == VR_POOL_CLS_AVG) /* the class token */
            memcpy(out, tok, D * sizeof(float));
        if (c->pool == VR_POOL_AVG || c->pool == VR_POOL_CLS_AVG) { /* mean of the patches */
            float *mean = out + (c->pool == VR_POOL_CLS_AVG ? D : 0);
            for (size_t j = 0; j < D; j++) {
                double sum = 0.0;
                for (size_t t = P; t < T; t++)
                    sum += tok[t * D + j];
                mean[j] = (float)(sum / (double)(T - P));
            }
        }
    }
    s->t.activation += vr_now() - t0;
    if (c->pool == VR_POOL_MAP && (st = attention_pool(s, w, hn, B, pooled)))
        return st;
    if (c->final_norm == VR_NORM_POST_POOL) /* timm's fc_norm */
        TIMED(norm, vr_rows_layernorm(pooled, pooled, w->norm_w, w->norm_b, B, Pw, c->ln_eps));
    /* the head */
    switch (c->head) {
    case VR_HEAD_LINEAR: /* logits = classifier(pooled); the embedding is pooled */
        memcpy(embedding, pooled, B * Pw * sizeof(float));
        return vr_linear_run(w->head, B, pooled, logits, &s->t);
    case VR_HEAD_DISTILLED: /* DeiT: the mean of the class and distillation heads */
        memcpy(embedding, pooled, B * Pw * sizeof(float));
        if ((st = vr_linear_run(w->head, B, pooled, logits, &s->t)))
            return st;
        for (size_t b = 0; b < B; b++) /* the distillation token: row 1 of each image */
            memcpy(s->cls + b * D, hn + b * ld + D, D * sizeof(float));
        if ((st = vr_linear_run(w->dist, B, s->cls, s->logits2, &s->t)))
            return st;
        for (size_t i = 0; i < B * c->classes; i++)
            logits[i] = (logits[i] + s->logits2[i]) * 0.5f;
        return VR_OK;
    case VR_HEAD_PROJECTION: /* CLIP: embedding = pooled W^T, no bias */
        return vr_linear_run(w->head, B, pooled, embedding, &s->t);
    case VR_HEAD_NONE:
        memcpy(embedding, pooled, B * Pw * sizeof(float));
        return VR_OK;
    }
    return VR_OK;
}

/* One matrix of the shard onto the back end; its float32 pages go back to the
 * system when the back end keeps its own copy. absmax: see
 * vr_linear_create_slice. */
static vr_status prepare(vr_linear **out, vr_weights *w, vr_gemm_backend be, vr_precision prec,
                         float *W, const float *bias, size_t N, size_t K, int flags,
                         const float *absmax)
{
    vr_status st = vr_linear_create_slice(out, be, prec, W, bias, N, K, flags, absmax);
    if (!st && vr_linear_bytes(*out))
        w->released_bytes += vr_weights_release(W, N * K);
    return st;
}

static const char *const kinds[] = {"qkv", "proj", "fc1", "fc2"};

/* Item [p, p + n) of a keep list as (layer, kind): layer -1 for every block
 * ("*"), -2 for the patch embedding; kind -1 for all four. 0 if malformed. */
static int keep_item(const char *p, size_t n, long *layer, int *kind)
{
    char item[64];
    if (n == 0 || n >= sizeof item)
        return 0;
    memcpy(item, p, n);
    item[n] = '\0';
    *kind = -1;
    if (!strcmp(item, "patch")) {
        *layer = -2;
        return 1;
    }
    char *dot = strchr(item, '.');
    if (dot) {
        *dot = '\0';
        for (*kind = 0; *kind < 4 && strcmp(dot + 1, kinds[*kind]); (*kind)++)
            ;
        if (*kind == 4)
            return 0;
    }
    if (!strcmp(item, "*")) {
        *layer = -1;
        return 1;
    }
    char *end;
    *layer = strtol(item, &end, 10);
    return end != item && !*end && *layer >= 0;
}

/* Whether matrix (layer, kind) (layer -2: patch) is in the keep list. */
static int kept(const char *spec, long layer, int kind)
{
    for (const char *p = spec; p && *p;) {
        size_t n = strcspn(p, ",");
        long l;
        int k;
        if (keep_item(p, n, &l, &k) &&
            (layer == -2 ? l == -2 : (l == -1 || l == layer) && (k == -1 || k == kind)))
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

vr_status vr_int8_keep_check(const char *spec, size_t layers)
{
    for (const char *p = spec; p && *p;) {
        size_t n = strcspn(p, ",");
        long l;
        int k;
        if (!keep_item(p, n, &l, &k) || l >= (long)layers)
            return vr_fail(VR_ERR_USAGE, "--int8-keep: '%.*s' names no matrix of this model "
                           "(patch; a block 0-%zu; BLOCK.qkv, .proj, .fc1 or .fc2; *.fc2; *)",
                           (int)n, p, layers ? layers - 1 : 0);
        p += n + (p[n] == ',');
    }
    return VR_OK;
}

void vr_int8_keep_print(const char *spec, size_t layers, FILE *f)
{
    int n = 0;
    fprintf(f, "int8: the patch embedding and the blocks' qkv, proj, fc1 and fc2 in int8 "
            "(the heads float32)");
    if (kept(spec, -2, -1))
        fprintf(f, "%s%s", n++ ? ", " : "; kept float32: ", "patch");
    for (size_t l = 0; l < layers; l++)
        for (int k = 0; k < 4; k++)
            if (kept(spec, (long)l, k))
                fprintf(f, "%s%zu.%s", n++ ? ", " : "; kept float32: ", l, kinds[k]);
    fprintf(f, "\n");
}

/* The precision and flags matrix (layer, kind) gets under q. */
static vr_precision int8_for(const vr_int8_options *q, vr_precision prec, long layer, int kind,
                             int *flags)
{
    if (prec != VR_INT8 || !q)
        return prec;
    if (kept(q->keep, layer, kind))
        return VR_FP32;
    if (q->check)
        *flags |= VR_LIN_CHECK;
    return prec;
}

size_t vr_forward_int8_list(const vr_weights *w, vr_int8_entry *out, size_t cap)
{
    size_t n = 0;
    const vr_linear *m[4];
    if (w->patch) {
        if (n < cap)
            out[n] = (vr_int8_entry){"patch", vr_linear_precision(w->patch) == VR_INT8,
                                     (float)vr_linear_check_error(w->patch)};
        n++;
    }
    for (size_t l = 0; l < vr_shard_layers(&w->shard); l++) {
        const vr_layer_weights *L = &w->layer[l];
        m[0] = L->qkv, m[1] = L->proj, m[2] = L->fc1, m[3] = L->fc2;
        for (int k = 0; k < 4; k++) {
            if (!m[k])
                continue;
            if (n < cap) {
                vr_int8_entry *e = &out[n];
                snprintf(e->name, sizeof e->name, "%zu.%s", w->shard.layer_begin + l, kinds[k]);
                e->int8 = vr_linear_precision(m[k]) == VR_INT8;
                e->error = (float)vr_linear_check_error(m[k]);
            }
            n++;
        }
    }
    return n;
}

/* LayerScale folded into the matrix of its branch: gamma * (A W^T + b) =
 * A (diag(gamma) W)^T + gamma * b, so the residual add stays in the GEMM. */
static void fold_scale(float *W, float *b, const float *gamma, size_t N, size_t K)
{
    for (size_t i = 0; i < N; i++) {
        for (size_t k = 0; k < K; k++)
            W[i * K + k] *= gamma[i];
        b[i] *= gamma[i];
    }
}

/* The attention-pool head's query: the latent through W_q, once. */
static void pool_query(vr_pool_weights *p, size_t D)
{
    for (size_t i = 0; i < D; i++) {
        double q = p->q_b[i];
        for (size_t k = 0; k < D; k++)
            q += (double)p->q_w[i * D + k] * p->latent[k];
        p->q[i] = (float)q;
    }
}

/* LayerScale folded into layer l's proj and fc2, once. */
static void fold_layer(vr_weights *w, size_t l)
{
    vr_layer_weights *L = &w->layer[l];
    size_t layer = w->shard.layer_begin + l, D = w->cfg.hidden;
    if (L->folded)
        return;
    if (vr_shard_has_attention(&w->shard, layer) && L->ls1)
        fold_scale(L->proj_w, L->proj_b, L->ls1, D, vr_shard_heads(&w->shard) * w->cfg.head_dim);
    if (vr_shard_has_mlp(&w->shard, layer) && L->ls2)
        fold_scale(L->fc2_w, L->fc2_b, L->ls2, D, vr_shard_mlp(&w->shard));
    L->folded = 1;
}

/* Layer l's four matrices onto the back end (the half the shard holds);
 * am: proj's and fc2's agreed row maxima (2 * D), or NULL. */
static vr_status prepare_layer(vr_weights *w, size_t l, vr_gemm_backend be, vr_precision prec,
                               int tp, const vr_int8_options *q, const float *am)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden, Hd = vr_shard_heads(&w->shard) * c->head_dim;
    size_t Ml = vr_shard_mlp(&w->shard), layer = w->shard.layer_begin + l;
    int owner = w->shard.bias_owner, glu = c->act == VR_ACT_SWIGLU;
    int acc = tp == 1 ? VR_LIN_ACCUMULATE : 0;
    static const vr_act_fn fn[] = {VR_FN_GELU, VR_FN_GELU_TANH, VR_FN_QUICK_GELU, VR_FN_NONE};
    int act = VR_LIN_ACT(fn[c->act]); /* SwiGLU's gate runs after fc1, apart */
    vr_layer_weights *L = &w->layer[l];
    int g[4] = {0, acc, act, acc}; /* each matrix's flags: qkv, proj, fc1, fc2 */
    vr_precision p[4];
    vr_status st;
    fold_layer(w, l);
    for (int k = 0; k < 4; k++)
        p[k] = int8_for(q, prec, (long)layer, k, &g[k]);
    if (vr_shard_has_attention(&w->shard, layer) &&
        ((st = prepare(&L->qkv, w, be, p[0], L->qkv_w, L->qkv_b, 3 * Hd, D, g[0], NULL)) ||
         (st = prepare(&L->proj, w, be, p[1], L->proj_w, owner ? L->proj_b : NULL, D, Hd, g[1],
                       am))))
        return st;
    if (vr_shard_has_mlp(&w->shard, layer) &&
        ((st = prepare(&L->fc1, w, be, p[2], L->fc1_w, L->fc1_b, glu ? 2 * Ml : Ml, D, g[2],
                       NULL)) ||
         (st = prepare(&L->fc2, w, be, p[3], L->fc2_w, owner ? L->fc2_b : NULL, D, Ml, g[3],
                       am ? am + D : NULL))))
        return st;
    L->prepared = 1;
    return VR_OK;
}

/* Layer l's rows of the proj and fc2 max |W| table (agreed_absmax) from
 * this rank's columns. */
static void layer_absmax(const vr_weights *w, size_t l, float *a)
{
    const vr_layer_weights *Lw = &w->layer[l];
    size_t D = w->cfg.hidden, layer = w->shard.layer_begin + l;
    size_t Hd = vr_shard_heads(&w->shard) * w->cfg.head_dim, Ml = vr_shard_mlp(&w->shard);
    if (vr_shard_has_attention(&w->shard, layer))
        vr_quant_absmax(a, Lw->proj_w, D, Hd);
    else
        memset(a, 0, D * sizeof *a);
    if (vr_shard_has_mlp(&w->shard, layer))
        vr_quant_absmax(a + D, Lw->fc2_w, D, Ml);
    else
        memset(a + D, 0, D * sizeof *a);
}

vr_status vr_forward_prepare_layer(vr_weights *w, size_t l, vr_gemm_backend be,
                                   vr_precision prec, int tp, const vr_reducer *reduce,
                                   const vr_int8_options *q, vr_status loaded)
{
    vr_status st = loaded;
    float *am = NULL;
    if (!st && prec == VR_INT8 && q)
        st = vr_int8_keep_check(q->keep, w->cfg.layers);
    if (prec == VR_INT8 && tp > 1) {
        /* the group's whole rows' max |W| of proj and fc2 (agreed_absmax),
         * after agreeing that every rank has read the layer */
        size_t D = w->cfg.hidden;
        if (!st && !(am = vr_alloc(2 * D, sizeof *am, "int8 weight scales")))
            st = VR_ERR_NOMEM;
        float failed = st ? 1.0f : 0.0f;
        vr_status r = reduce && reduce->max ? reduce->max(&failed, 1, reduce->ctx)
                                            : vr_fail(VR_ERR_INTERNAL, "int8 tp needs a max");
        if (r || failed) {
            free(am);
            return st ? st : r ? r : vr_fail(VR_ERR_PEER, "another rank failed loading");
        }
        fold_layer(w, l); /* (int8's scales are those of the folded rows) */
        layer_absmax(w, l, am);
        if ((st = reduce->max(am, 2 * D, reduce->ctx))) {
            free(am);
            return st;
        }
    }
    if (!st)
        st = prepare_layer(w, l, be, prec, tp, q, am);
    free(am);
    return st;
}

/* int8 with tensor parallelism: proj's and fc2's rows are split by columns
 * over the TP ranks; their whole rows' max |W| (D per matrix, two per
 * layer) agreed over the group, into *table (NULL when not needed). The
 * allocation's outcome is agreed before the table is, so every rank calls
 * reduce->max the same number of times. */
static vr_status agreed_absmax(vr_weights *w, vr_precision prec, int tp,
                               const vr_reducer *reduce, float **table)
{
    size_t D = w->cfg.hidden, L = vr_shard_layers(&w->shard);
    *table = NULL;
    if (prec != VR_INT8 || tp == 1 || !L)
        return VR_OK;
    if (!reduce || !reduce->max)
        return vr_fail(VR_ERR_INTERNAL, "int8 with tp %d needs a max reduce", tp);
    int prepared = 1; /* (layer by layer while loading: vr_forward_prepare_layer) */
    for (size_t l = 0; l < L; l++)
        prepared &= w->layer[l].prepared;
    if (prepared)
        return VR_OK;
    float *t = vr_alloc(2 * L * D, sizeof *t, "int8 weight scales");
    float failed = t ? 0.0f : 1.0f;
    vr_status st = reduce->max(&failed, 1, reduce->ctx);
    if (st || failed) {
        free(t);
        return st ? st : vr_fail(VR_ERR_NOMEM, "a tensor-parallel rank could not allocate "
                                               "its int8 weight scales");
    }
    for (size_t l = 0; l < L; l++)
        layer_absmax(w, l, t + 2 * l * D);
    if ((st = reduce->max(t, 2 * L * D, reduce->ctx))) {
        free(t);
        return st;
    }
    *table = t;
    return VR_OK;
}

vr_status vr_forward_prepare(vr_weights *w, vr_gemm_backend be, vr_precision prec, int tp,
                             const vr_reducer *reduce, const vr_int8_options *q)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden;
    static const vr_act_fn fn[] = {VR_FN_GELU, VR_FN_GELU_TANH, VR_FN_QUICK_GELU, VR_FN_NONE};
    int act = VR_LIN_ACT(fn[c->act]); /* the MAP head's MLP */
    vr_status st = VR_OK;
    float *absmax = NULL;
    w->fused_residual = tp == 1;
    if (prec == VR_INT8 && q && (st = vr_int8_keep_check(q->keep, c->layers)))
        return st;
    /* LayerScale first: int8's scales are those of the folded rows */
    for (size_t l = 0; l < vr_shard_layers(&w->shard); l++)
        fold_layer(w, l);
    if ((st = agreed_absmax(w, prec, tp, reduce, &absmax)))
        return st;
    if (vr_shard_layers(&w->shard) &&
        (st = vr_attention_create(&w->attention, be, vr_shard_heads(&w->shard), c->tokens,
                                  c->head_dim))) {
        free(absmax);
        return st;
    }
    if (w->shard.has_embed) {
        int fp = 0;
        vr_precision p = int8_for(q, prec, -2, -1, &fp);
        st = prepare(&w->patch, w, be, p, w->patch_w, NULL, D, c->patch_len, fp, NULL);
    }
    for (size_t l = 0; !st && l < vr_shard_layers(&w->shard); l++)
        if (!w->layer[l].prepared)
            st = prepare_layer(w, l, be, prec, tp, q, absmax ? absmax + 2 * l * D : NULL);
    free(absmax);
    if (st || !w->shard.has_head)
        return st;
    /* The heads stay float32 under int8: a few rows each, so nothing to gain
     * and the logits' last digits to lose. */
    if (prec == VR_INT8)
        prec = VR_FP32;
    if (c->pool == VR_POOL_MAP) {
        vr_pool_weights *p = &w->pool;
        pool_query(p, D);
        if ((st = vr_attention_create(&w->pool_attention, be, c->heads,
                                      c->tokens - c->prefix, c->head_dim)) ||
            (st = prepare(&p->kv, w, be, prec, p->kv_w, p->kv_b, 2 * D, D, 0, NULL)) ||
            (st = prepare(&p->proj, w, be, prec, p->proj_w, p->proj_b, D, D, 0, NULL)) ||
            (st = prepare(&p->fc1, w, be, prec, p->fc1_w, p->fc1_b, c->pool_mlp_dim, D, act,
                          NULL)) ||
            (st = prepare(&p->fc2, w, be, prec, p->fc2_w, p->fc2_b, D, c->pool_mlp_dim,
                          VR_LIN_ACCUMULATE, NULL)))
            return st;
    }
    if (c->head == VR_HEAD_PROJECTION)
        st = prepare(&w->head, w, be, prec, w->head_w, NULL, c->embed_dim, c->pooled, 0, NULL);
    else if (c->head != VR_HEAD_NONE)
        st = prepare(&w->head, w, be, prec, w->head_w, w->head_b, c->classes, c->pooled, 0, NULL);
    if (!st && c->head == VR_HEAD_DISTILLED)
        st = prepare(&w->dist, w, be, prec, w->dist_w, w->dist_b, c->classes, D, 0, NULL);
    return st;
}
