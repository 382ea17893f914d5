/* forward.c - embedding, encoder block and head of a ViT, for one shard. */
#include "forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "kernels.h"

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
        {&s->scores, c->tokens, c->tokens, "attention scores"},
        {&s->attn, rows, Hd ? Hd : 1, "attention output"},
        {&s->partial, rows, c->hidden, "partial sums"},
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
    memset(s, 0, sizeof *s);
}

void vr_forward_embed(vr_run_state *s, const vr_weights *w, const float *pixels,
                      size_t B, float *x)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden, T = c->tokens, Np = c->patches;
    double t0 = vr_now();
    vr_im2col(s->patches, pixels, B, c->channels, c->grid, c->patch_size);
    double t1 = vr_now();
    for (size_t b = 0; b < B; b++) {
        float *xb = x + b * T * D;
        /* patch rows go straight to tokens 1..T-1 of image b */
        vr_sgemm(1, Np, D, c->patch_len, 1.0f, s->patches + b * Np * c->patch_len,
                 c->patch_len, w->patch_w, c->patch_len, 0.0f, xb + D, D);
    }
    double t2 = vr_now();
    for (size_t b = 0; b < B; b++) {
        float *xb = x + b * T * D;
        for (size_t j = 0; j < D; j++)
            xb[j] = w->cls[j] + w->pos[j];
        for (size_t t = 1; t < T; t++)
            for (size_t j = 0; j < D; j++)
                xb[t * D + j] = (xb[t * D + j] + w->patch_b[j]) + w->pos[t * D + j];
    }
    s->t.activation += (t1 - t0) + (vr_now() - t2);
    s->t.gemm += t2 - t1;
}

/* attn (B*T, Hl*hd) = softmax(Q K^T / sqrt(hd)) V for every image and head. */
static void attention(vr_run_state *s, const vr_config *c, size_t Hl, size_t B)
{
    size_t T = c->tokens, hd = c->head_dim, Hd = Hl * hd, ld = 3 * Hd;
    float scale = (float)(1.0 / sqrt((double)hd));
    for (size_t b = 0; b < B; b++)
        for (size_t h = 0; h < Hl; h++) {
            const float *q = s->qkv + b * T * ld + h * hd;
            const float *k = q + Hd;
            const float *v = q + 2 * Hd;
            vr_sgemm(1, T, T, hd, scale, q, ld, k, ld, 0.0f, s->scores, T);
            vr_softmax_rows(s->scores, T, T);
            vr_sgemm(0, T, hd, T, 1.0f, s->scores, T, v, ld, 0.0f,
                     s->attn + b * T * Hd + h * hd, Hd);
        }
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
    size_t Hl = vr_shard_heads(&w->shard), Hd = Hl * c->head_dim, Ml = vr_shard_mlp(&w->shard);
    int bias = w->shard.bias_owner;
    vr_status st;

    /* x = x + proj(attention(ln1(x))); proj is row-parallel: partial sums. */
    TIMED(norm, vr_layernorm(s->xn, D, x, D, L->ln1_w, L->ln1_b, n, D, c->ln_eps));
    TIMED(gemm, vr_sgemm(1, n, 3 * Hd, D, 1.0f, s->xn, D, L->qkv_w, D, 0.0f, s->qkv, 3 * Hd));
    TIMED(activation, vr_add_bias(s->qkv, L->qkv_b, n, 3 * Hd));
    TIMED(attention, attention(s, c, Hl, B));
    TIMED(gemm, vr_sgemm(1, n, D, Hd, 1.0f, s->attn, Hd, L->proj_w, Hd, 0.0f, s->partial, D));
    if (bias)
        TIMED(activation, vr_add_bias(s->partial, L->proj_b, n, D));
    if (reduce && (st = reduce(s->partial, n * D, ctx)) != VR_OK)
        return st;
    TIMED(activation, vr_add(x, s->partial, n * D));

    /* x = x + fc2(gelu(fc1(ln2(x)))); fc1 column-, fc2 row-parallel. */
    TIMED(norm, vr_layernorm(s->xn, D, x, D, L->ln2_w, L->ln2_b, n, D, c->ln_eps));
    TIMED(gemm, vr_sgemm(1, n, Ml, D, 1.0f, s->xn, D, L->fc1_w, D, 0.0f, s->mlp, Ml));
    TIMED(activation, vr_add_bias(s->mlp, L->fc1_b, n, Ml); vr_gelu(s->mlp, n * Ml));
    TIMED(gemm, vr_sgemm(1, n, D, Ml, 1.0f, s->mlp, Ml, L->fc2_w, Ml, 0.0f, s->partial, D));
    if (bias)
        TIMED(activation, vr_add_bias(s->partial, L->fc2_b, n, D));
    if (reduce && (st = reduce(s->partial, n * D, ctx)) != VR_OK)
        return st;
    TIMED(activation, vr_add(x, s->partial, n * D));
    return VR_OK;
}

void vr_forward_head(vr_run_state *s, const vr_weights *w, const float *x, size_t B,
                     float *embedding, float *logits)
{
    const vr_config *c = &w->cfg;
    size_t D = c->hidden;
    /* Only the class token (row 0 of each image) is pooled, so only it is normalised. */
    TIMED(norm, vr_layernorm(embedding, D, x, c->tokens * D, w->norm_w, w->norm_b, B, D,
                             c->ln_eps));
    TIMED(gemm, vr_sgemm(1, B, c->classes, D, 1.0f, embedding, D, w->head_w, D, 0.0f,
                         logits, c->classes));
    TIMED(activation, vr_add_bias(logits, w->head_b, B, c->classes));
}
