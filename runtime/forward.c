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
        {&s->cls, max_batch, c->hidden, "class tokens"},
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
    return VR_OK;
}

/* Whether the shard's layer l runs on the class tokens alone after its keys
 * and values: the model's last block, whose only reader is the head, unless
 * the run dumps every token. */
static int class_only(const vr_run_state *s, const vr_weights *w, size_t l)
{
    return w->shard.layer_begin + l + 1 == w->cfg.layers && !s->all_tokens;
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
        if (!st && w->head)
            st = vr_linear_warm(w->head, B);
    }
    return st;
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
    free(s->cls);
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

/* y (rows, D) += A (rows, K) W^T + b: straight into y, or as partial sums
 * that `reduce` adds up over the ranks sharing the layer first. */
static vr_status add_linear(vr_run_state *s, const vr_weights *w, vr_linear *lin, size_t rows,
                            const float *A, float *y, vr_reduce_fn reduce, void *ctx)
{
    size_t D = w->cfg.hidden;
    vr_status st;
    if (!reduce)
        return vr_linear_run(lin, rows, A, y, &s->t);
    if ((st = vr_linear_run(lin, rows, A, s->partial, &s->t)) ||
        (st = reduce(s->partial, rows * D, ctx)))
        return st;
    TIMED(activation, vr_rows_add(y, s->partial, rows, D));
    return VR_OK;
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

/* x = x + proj(attention(ln1(x))); proj is row-parallel. With `cls` (the
 * model's last block, whose only reader is the head's class token) every
 * token's keys and values are computed, then the class token's row alone. */
static vr_status attention_block(vr_run_state *s, const vr_weights *w,
                                 const vr_layer_weights *L, float *x, size_t B, int cls,
                                 vr_reduce_fn reduce, void *ctx)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden, n = B * c->tokens;
    vr_status st;
    TIMED(norm, vr_rows_layernorm(s->xn, x, L->ln1_w, L->ln1_b, n, D, c->ln_eps));
    if ((st = vr_linear_run(L->qkv, n, s->xn, s->qkv, &s->t)))
        return st;
    if (!cls) {
        TIMED(attention, st = vr_attention_run(w->attention, s->qkv, s->attn, B, s->scores));
        return st ? st : add_linear(s, w, L->proj, n, s->attn, x, reduce, ctx);
    }
    TIMED(attention, st = vr_attention_first_row(w->attention, s->qkv, s->attn, B, s->scores));
    if (st)
        return st;
    class_tokens(s, w, x, B, 0);
    if ((st = add_linear(s, w, L->proj, B, s->attn, s->cls, reduce, ctx)))
        return st;
    class_tokens(s, w, x, B, 1);
    return VR_OK;
}

/* x = x + fc2(gelu(fc1(ln2(x)))); fc1 column-, fc2 row-parallel. With
 * `cls`, on the class tokens alone. */
static vr_status mlp_block(vr_run_state *s, const vr_weights *w, const vr_layer_weights *L,
                           float *x, size_t B, int cls, vr_reduce_fn reduce, void *ctx)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden, rows = cls ? B : B * c->tokens;
    float *y = cls ? s->cls : x;
    vr_status st;
    if (cls)
        class_tokens(s, w, x, B, 0);
    TIMED(norm, vr_rows_layernorm(s->xn, y, L->ln2_w, L->ln2_b, rows, D, c->ln_eps));
    if ((st = vr_linear_run(L->fc1, rows, s->xn, s->mlp, &s->t)) ||
        (st = add_linear(s, w, L->fc2, rows, s->mlp, y, reduce, ctx)))
        return st;
    if (cls)
        class_tokens(s, w, x, B, 1);
    return VR_OK;
}

vr_status vr_forward_layer(vr_run_state *s, const vr_weights *w, size_t l, float *x,
                           size_t B, vr_reduce_fn reduce, void *ctx)
{
    const vr_layer_weights *L = &w->layer[l];
    int cls = class_only(s, w, l);
    vr_status st;
    if (!w->fused_residual != !!reduce)
        return vr_fail(VR_ERR_INTERNAL, "layer prepared for %s sums, run with%s a reduce",
                       w->fused_residual ? "local" : "partial", reduce ? "" : "out");
    /* a stage may hold only the attention or only the MLP of its first and last layers */
    if (vr_shard_has_attention(&w->shard, w->shard.layer_begin + l) &&
        (st = attention_block(s, w, L, x, B, cls, reduce, ctx)))
        return st;
    if (vr_shard_has_mlp(&w->shard, w->shard.layer_begin + l) &&
        (st = mlp_block(s, w, L, x, B, cls, reduce, ctx)))
        return st;
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
        size_t layer = w->shard.layer_begin + l;
        if (vr_shard_has_attention(&w->shard, layer) &&
            ((st = prepare(&L->qkv, w, be, prec, L->qkv_w, L->qkv_b, 3 * Hd, D, 0)) ||
             (st = prepare(&L->proj, w, be, prec, L->proj_w, owner ? L->proj_b : NULL, D, Hd,
                           acc))))
            break;
        if (vr_shard_has_mlp(&w->shard, layer) &&
            ((st = prepare(&L->fc1, w, be, prec, L->fc1_w, L->fc1_b, Ml, D, VR_LIN_GELU)) ||
             (st = prepare(&L->fc2, w, be, prec, L->fc2_w, owner ? L->fc2_b : NULL, D, Ml,
                           acc))))
            break;
    }
    if (!st && w->shard.has_head)
        st = prepare(&w->head, w, be, prec, w->head_w, w->head_b, c->classes, D, 0);
    return st;
}
