/* rows.c - row-wise work over the pool, in row ranges. */
#include "rows.h"

#include "kernels.h"
#include "pool.h"

typedef struct {
    int op, gelu;
    float *x, *out;
    uint16_t *half;
    const float *y, *w, *b;
    size_t D;
    double eps;
} rows_job;

enum { OP_BIAS, OP_ADD, OP_NORM, OP_BF16 };

static void rows_range(void *ctx, size_t begin, size_t end, int worker)
{
    const rows_job *j = ctx;
    size_t n = end - begin, D = j->D;
    switch (j->op) {
    case OP_BIAS:
        if (j->b)
            vr_add_bias(j->x + begin * D, j->b, n, D);
        if (j->gelu)
            vr_gelu(j->x + begin * D, n * D);
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

void vr_rows_bias(float *x, const float *b, size_t n, size_t D, int gelu)
{
    rows_job j = {.op = OP_BIAS, .gelu = gelu, .x = x, .b = b, .D = D};
    vr_pool_run(n, ROW_GRAIN(D), rows_range, &j);
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
