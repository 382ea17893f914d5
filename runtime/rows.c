/* rows.c - row-wise work over the pool, in row ranges. */
#include "rows.h"

#include "kernels.h"
#include "pool.h"

typedef struct {
    int op, act;
    size_t ld, H; /* OP_HEAD_NORM */
    float *x, *out;
    uint16_t *half;
    const float *y, *w, *b;
    size_t D;
    double eps;
} rows_job;

enum { OP_BIAS, OP_ADD, OP_NORM, OP_BF16, OP_SWIGLU, OP_HEAD_NORM };

static void rows_range(void *ctx, size_t begin, size_t end, int worker)
{
    const rows_job *j = ctx;
    size_t n = end - begin, D = j->D;
    switch (j->op) {
    case OP_BIAS:
        if (j->b)
            vr_add_bias(j->x + begin * D, j->b, n, D);
        vr_activate(j->x + begin * D, n * D, (vr_act_fn)j->act);
        break;
    case OP_SWIGLU:
        vr_swiglu(j->out + begin * D, j->y + begin * 2 * D, n, D);
        break;
    case OP_HEAD_NORM:
        for (size_t h = 0; h < j->H; h++) {
            float *x = j->x + begin * j->ld + h * D;
            vr_layernorm(x, j->ld, x, j->ld, j->w, j->b, n, D, j->eps);
        }
        break;
    case OP_ADD:
        vr_add(j->x + begin * D, j->y + begin * D, n * D);
        break;
    case OP_NORM:
        vr_layernorm(j->out + begin * D, D, j->x + begin * D, D, j->w, j->b, n, D, j->eps);
        break;
    case OP_BF16:
        vr_to_bf16(j->half + begin * D, j->x + begin * D, n * D);
        break;
    }
}

/* Rows of at least this many elements per thread are worth waking it for. */
#define ROW_GRAIN(D) ((D) >= 4096 ? 1 : 4096 / (D))

void vr_rows_bias(float *x, const float *b, size_t n, size_t D, vr_act_fn f)
{
    rows_job j = {.op = OP_BIAS, .act = (int)f, .x = x, .b = b, .D = D};
    vr_pool_run(n, ROW_GRAIN(D), rows_range, &j);
}

void vr_rows_swiglu(float *out, const float *gv, size_t n, size_t M)
{
    rows_job j = {.op = OP_SWIGLU, .out = out, .y = gv, .D = M};
    vr_pool_run(n, ROW_GRAIN(M), rows_range, &j);
}

void vr_rows_head_norm(float *x, size_t ld, size_t n, size_t H, size_t hd, const float *w,
                       const float *b, double eps)
{
    rows_job j = {.op = OP_HEAD_NORM, .x = x, .ld = ld, .H = H, .D = hd, .w = w, .b = b,
                  .eps = eps};
    vr_pool_run(n, ROW_GRAIN(H * hd), rows_range, &j);
}

void vr_rows_add(float *x, const float *y, size_t n, size_t D)
{
    rows_job j = {.op = OP_ADD, .x = x, .y = y, .D = D};
    vr_pool_run(n, ROW_GRAIN(D), rows_range, &j);
}

void vr_rows_layernorm(float *out, const float *x, const float *w, const float *b, size_t n,
                       size_t D, double eps)
{
    rows_job j = {.op = OP_NORM, .out = out, .x = (float *)x, .w = w, .b = b, .D = D,
                  .eps = eps};
    vr_pool_run(n, ROW_GRAIN(D), rows_range, &j);
}

void vr_rows_to_bf16(uint16_t *out, const float *x, size_t n, size_t D)
{
    rows_job j = {.op = OP_BF16, .half = out, .x = (float *)x, .D = D};
    vr_pool_run(n, ROW_GRAIN(D), rows_range, &j);
}
