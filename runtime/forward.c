/* forward.c - embedding, encoder block and head of a ViT, for one shard. */
#include "forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "kernels.h"
#include "pool.h"

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
        {&s->scores, (size_t)vr_pool_threads() * c->tokens, c->tokens, "attention scores"},
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

typedef struct {
    vr_run_state *s;
    const vr_config *c;
    size_t Hl;
} attention_job;

/* Heads [begin, end) of the batch, numbered b * Hl + h; one scores buffer
 * per thread. */
static void attention_heads(void *ctx, size_t begin, size_t end, int worker)
{
    const attention_job *j = ctx;
    vr_run_state *s = j->s;
    size_t T = j->c->tokens, hd = j->c->head_dim, Hl = j->Hl, Hd = Hl * hd, ld = 3 * Hd;
    float scale = (float)(1.0 / sqrt((double)hd));
    float *scores = s->scores + (size_t)worker * T * T;
    for (size_t i = begin; i < end; i++) {
        size_t b = i / Hl, h = i % Hl;
        const float *q = s->qkv + b * T * ld + h * hd;
        const float *k = q + Hd;
        const float *v = q + 2 * Hd;
        vr_sgemm(1, T, T, hd, scale, q, ld, k, ld, 0.0f, scores, T);
        vr_softmax_rows(scores, T, T);
        vr_sgemm(0, T, hd, T, 1.0f, scores, T, v, ld, 0.0f, s->attn + b * T * Hd + h * hd, Hd);
    }
}

/* attn (B*T, Hl*hd) = softmax(Q K^T / sqrt(hd)) V for every image and head:
 * the (image, head) pairs spread over the pool, each with one-thread BLAS
 * (a head's GEMMs are too small to share). */
static void attention(vr_run_state *s, const vr_config *c, size_t Hl, size_t B)
{
    attention_job j = {s, c, Hl};
    int blas = vr_gemm_threads();
    int pooled = vr_pool_threads() > 1 && B * Hl >= 2;
    if (pooled)
        vr_gemm_set_threads(1);
    vr_pool_run(B * Hl, 1, attention_heads, &j);
    if (pooled)
        vr_gemm_set_threads(blas);
}

/* Element-wise and row-wise work over the pool, in row ranges. */
typedef struct {
    int op;
    float *x, *out;
    const float *y, *w, *b;
    size_t D, ld_x, ld_out;
    double eps;
} rows_job;

enum { OP_BIAS_GELU, OP_BIAS, OP_ADD, OP_NORM };

static void rows_range(void *ctx, size_t begin, size_t end, int worker)
{
    const rows_job *j = ctx;
    size_t n = end - begin, D = j->D;
    switch (j->op) {
    case OP_BIAS_GELU:
        vr_add_bias(j->x + begin * D, j->b, n, D);
        vr_gelu(j->x + begin * D, n * D);
        break;
    case OP_BIAS:
        vr_add_bias(j->x + begin * D, j->b, n, D);
        break;
    case OP_ADD:
        vr_add(j->x + begin * D, j->y + begin * D, n * D);
        break;
    case OP_NORM:
        vr_layernorm(j->out + begin * j->ld_out, j->ld_out, j->x + begin * j->ld_x, j->ld_x,
                     j->w, j->b, n, D, j->eps);
        break;
    }
}

/* Rows of at least this many elements per thread are worth waking it for. */
#define ROW_GRAIN(D) ((D) >= 4096 ? 1 : 4096 / (D))

static void bias_gelu(float *x, const float *b, size_t n, size_t D)
{
    rows_job j = {.op = OP_BIAS_GELU, .x = x, .b = b, .D = D};
    vr_pool_run(n, ROW_GRAIN(D), rows_range, &j);
}

static void add_bias(float *x, const float *b, size_t n, size_t D)
{
    rows_job j = {.op = OP_BIAS, .x = x, .b = b, .D = D};
    vr_pool_run(n, ROW_GRAIN(D), rows_range, &j);
}

static void add_rows(float *x, const float *y, size_t n, size_t D)
{
    rows_job j = {.op = OP_ADD, .x = x, .y = y, .D = D};
    vr_pool_run(n, ROW_GRAIN(D), rows_range, &j);
}

static void layernorm(float *out, const float *x, const float *w, const float *b, size_t n,
                      size_t D, double eps)
{
    rows_job j = {.op = OP_NORM, .out = out, .x = (float *)x, .w = w, .b = b, .D = D,
                  .ld_x = D, .ld_out = D, .eps = eps};
    vr_pool_run(n, ROW_GRAIN(D), rows_range, &j);
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
    TIMED(norm, layernorm(s->xn, x, L->ln1_w, L->ln1_b, n, D, c->ln_eps));
    TIMED(gemm, vr_sgemm(1, n, 3 * Hd, D, 1.0f, s->xn, D, L->qkv_w, D, 0.0f, s->qkv, 3 * Hd));
    TIMED(activation, add_bias(s->qkv, L->qkv_b, n, 3 * Hd));
    TIMED(attention, attention(s, c, Hl, B));
    TIMED(gemm, vr_sgemm(1, n, D, Hd, 1.0f, s->attn, Hd, L->proj_w, Hd, 0.0f, s->partial, D));
    if (bias)
        TIMED(activation, add_bias(s->partial, L->proj_b, n, D));
    if (reduce && (st = reduce(s->partial, n * D, ctx)) != VR_OK)
        return st;
    TIMED(activation, add_rows(x, s->partial, n, D));

    /* x = x + fc2(gelu(fc1(ln2(x)))); fc1 column-, fc2 row-parallel. */
    TIMED(norm, layernorm(s->xn, x, L->ln2_w, L->ln2_b, n, D, c->ln_eps));
    TIMED(gemm, vr_sgemm(1, n, Ml, D, 1.0f, s->xn, D, L->fc1_w, D, 0.0f, s->mlp, Ml));
    TIMED(activation, bias_gelu(s->mlp, L->fc1_b, n, Ml));
    TIMED(gemm, vr_sgemm(1, n, D, Ml, 1.0f, s->mlp, Ml, L->fc2_w, Ml, 0.0f, s->partial, D));
    if (bias)
        TIMED(activation, add_bias(s->partial, L->fc2_b, n, D));
    if (reduce && (st = reduce(s->partial, n * D, ctx)) != VR_OK)
        return st;
    TIMED(activation, add_rows(x, s->partial, n, D));
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
