/* forward.c - embedding, encoder block and head of a ViT, for one shard. */
#include "forward.h"

#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "kernels.h"
#include "pool.h"
#include "rows.h"

vr_status vr_state_build(vr_run_state *s, const vr_weights *w, size_t max_batch)
{
    const vr_config *c = &w->cfg;
    size_t Hd = vr_shard_heads(&w->shard) * c->head_dim;
    size_t Ml = vr_shard_mlp(&w->shard);
    size_t rows;
    memset(s, 0, sizeof *s);
    if (max_batch == 0 || !vr_mul(max_batch, c->tokens, &rows))
        return vr_fail(VR_ERR_USAGE, "batch size %zu is not usable", max_batch);
    s->max_batch = max_batch;
    struct { float **p; size_t a, b; const char *what; } bufs[] = {
        {&s->xn, rows, c->hidden, "normalised activations"},
        {&s->qkv, rows, 3 * Hd, "queries, keys and values"},
        {&s->scores, vr_attention_scratch(w->attention, vr_pool_threads()), 1,
         "attention scratch"},
        {&s->attn, rows, Hd ? Hd : 1, "attention output"},
        {&s->partial, w->fused_residual ? 1 : rows, c->hidden, "partial sums"},
        {&s->mlp, rows, Ml ? Ml : 1, "MLP activations"},
        {&s->patches, max_batch * c->patches, w->shard.has_embed ? c->patch_len : 1, "patches"},
    };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        size_t n;
        if (!vr_mul(bufs[i].a, bufs[i].b, &n) ||
            !(*bufs[i].p = vr_alloc(n, sizeof(float), bufs[i].what))) {
            vr_state_free(s);
            return vr_fail(VR_ERR_NOMEM, "cannot allocate %s for batch %zu (%s)",
                           bufs[i].what, max_batch, vr_last_error());
        }
    }
    return VR_OK;
}

void vr_state_free(vr_run_state *s)
{
    free(s->xn);
    free(s->qkv);
    free(s->scores);
    free(s->attn);
    free(s->partial);
    free(s->mlp);
    free(s->patches);
    vr_linear_release_scratch();
    memset(s, 0, sizeof *s);
}

vr_status vr_forward_embed(vr_run_state *s, const vr_weights *w, const float *pixels,
                           size_t B, float *x)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden, T = c->tokens, Np = c->patches;
    double t0 = vr_now();
    vr_im2col(s->patches, pixels, B, c->channels, c->grid, c->patch_size);
    double t1 = vr_now();
    vr_timers gt = {0};
    vr_status st = VR_OK;
    /* patch rows go straight to tokens 1..T-1 of image b */
    for (size_t b = 0; b < B && !st; b++)
        st = vr_linear_run(w->patch, Np, s->patches + b * Np * c->patch_len, x + b * T * D + D,
                           &gt);
    double t2 = vr_now();
    for (size_t b = 0; b < B; b++) {
        float *xb = x + b * T * D;
        for (size_t j = 0; j < D; j++)
            xb[j] = w->cls[j] + w->pos[j];
        for (size_t t = 1; t < T; t++)
            for (size_t j = 0; j < D; j++)
                xb[t * D + j] = (xb[t * D + j] + w->patch_b[j]) + w->pos[t * D + j];
    }
    s->t.activation += (t1 - t0) + (vr_now() - t2) + gt.activation;
    s->t.gemm += gt.gemm;
    return st;
}

/* Adds the time `stmt` takes to s->t.field. */
#define TIMED(field, stmt)                \
    do {                                  \
        double t_ = vr_now();             \
        stmt;                             \
        s->t.field += vr_now() - t_;      \
    } while (0)

vr_status vr_forward_layer(vr_run_state *s, const vr_weights *w, size_t l, float *x,
                           size_t B, vr_reduce_fn reduce, void *ctx)
{
    const vr_config *c = &w->cfg;
    const vr_layer_weights *L = &w->layer[l];
    size_t D = c->hidden, n = B * c->tokens;
    /* proj and fc2 add into x themselves unless partial sums need a reduce */
    float *out = w->fused_residual ? x : s->partial;
    vr_status st;
    if (!w->fused_residual != !!reduce)
        return vr_fail(VR_ERR_INTERNAL, "layer prepared for %s sums, run with%s a reduce",
                       w->fused_residual ? "local" : "partial", reduce ? "" : "out");

    /* x = x + proj(attention(ln1(x))); proj is row-parallel: partial sums. */
    TIMED(norm, vr_rows_layernorm(s->xn, x, L->ln1_w, L->ln1_b, n, D, c->ln_eps));
    if ((st = vr_linear_run(L->qkv, n, s->xn, s->qkv, &s->t)))
        return st;
    double ta = vr_now();
    st = vr_attention_run(w->attention, s->qkv, s->attn, B, s->scores);
    s->t.attention += vr_now() - ta;
    if (st)
        return st;
    if ((st = vr_linear_run(L->proj, n, s->attn, out, &s->t)))
        return st;
    if (reduce) {
        if ((st = reduce(s->partial, n * D, ctx)) != VR_OK)
            return st;
        TIMED(activation, vr_rows_add(x, s->partial, n, D));
    }

    /* x = x + fc2(gelu(fc1(ln2(x)))); fc1 column-, fc2 row-parallel. */
    TIMED(norm, vr_rows_layernorm(s->xn, x, L->ln2_w, L->ln2_b, n, D, c->ln_eps));
    if ((st = vr_linear_run(L->fc1, n, s->xn, s->mlp, &s->t)) ||
        (st = vr_linear_run(L->fc2, n, s->mlp, out, &s->t)))
        return st;
    if (reduce) {
        if ((st = reduce(s->partial, n * D, ctx)) != VR_OK)
            return st;
        TIMED(activation, vr_rows_add(x, s->partial, n, D));
    }
    return VR_OK;
}

vr_status vr_forward_head(vr_run_state *s, const vr_weights *w, const float *x, size_t B,
                          float *embedding, float *logits)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden;
    /* Only the class token (row 0 of each image) is pooled, so only it is normalised. */
    TIMED(norm, vr_layernorm(embedding, D, x, c->tokens * D, w->norm_w, w->norm_b, B, D,
                             c->ln_eps));
    return vr_linear_run(w->head, B, embedding, logits, &s->t);
}

/* One matrix of the shard onto the back end; its float32 pages go back to the
 * system when the back end keeps its own copy. */
static vr_status prepare(vr_linear **out, vr_weights *w, vr_gemm_backend be, vr_precision prec,
                         float *W, const float *bias, size_t N, size_t K, int flags)
{
    vr_status st = vr_linear_create(out, be, prec, W, bias, N, K, flags);
    if (!st && vr_linear_bytes(*out))
        w->released_bytes += vr_weights_release(W, N * K);
    return st;
}

vr_status vr_forward_prepare(vr_weights *w, vr_gemm_backend be, vr_precision prec, int tp)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden, Hd = vr_shard_heads(&w->shard) * c->head_dim;
    size_t Ml = vr_shard_mlp(&w->shard);
    int owner = w->shard.bias_owner;
    int acc = tp == 1 ? VR_LIN_ACCUMULATE : 0;
    vr_status st = VR_OK;
    w->fused_residual = tp == 1;
    if (vr_shard_layers(&w->shard) &&
        (st = vr_attention_create(&w->attention, be, vr_shard_heads(&w->shard), c->tokens,
                                  c->head_dim)))
        return st;
    if (w->shard.has_embed)
        st = prepare(&w->patch, w, be, prec, w->patch_w, NULL, D, c->patch_len, 0);
    for (size_t l = 0; !st && l < vr_shard_layers(&w->shard); l++) {
        vr_layer_weights *L = &w->layer[l];
        if ((st = prepare(&L->qkv, w, be, prec, L->qkv_w, L->qkv_b, 3 * Hd, D, 0)) ||
            (st = prepare(&L->proj, w, be, prec, L->proj_w, owner ? L->proj_b : NULL, D, Hd,
                          acc)) ||
            (st = prepare(&L->fc1, w, be, prec, L->fc1_w, L->fc1_b, Ml, D, VR_LIN_GELU)))
            break;
        st = prepare(&L->fc2, w, be, prec, L->fc2_w, owner ? L->fc2_b : NULL, D, Ml, acc);
    }
    if (!st && w->shard.has_head)
        st = prepare(&w->head, w, be, prec, w->head_w, w->head_b, c->classes, D, 0);
    return st;
}
