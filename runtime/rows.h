/* rows.h - the row-wise kernels of kernels.h spread over vitrun's pool.
 *
 * Each splits its n rows into contiguous ranges, one per pool thread (see
 * pool.h), so results do not depend on the thread count. */
#ifndef VR_ROWS_H
#define VR_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

/* Rows [*lo, *hi) of n, the i-th of `parts` contiguous blocks (sizes differ
 * by at most one): how the ranks of a TP group share the residual stream's
 * rows (forward.c) and how the collectives lay them out (comm.c). */
static inline void vr_row_block(size_t n, int parts, int i, size_t *lo, size_t *hi)
{
    *lo = n * (size_t)i / (size_t)parts;
    *hi = n * (size_t)(i + 1) / (size_t)parts;
}

/* x (n, D) += b (D) (unless b is NULL), then the activation f. */
void vr_rows_bias(float *x, const float *b, size_t n, size_t D, vr_act_fn f);
/* out (n, M) = silu(gv[:, :M]) * gv[:, M:] for gv (n, 2M) */
void vr_rows_swiglu(float *out, const float *gv, size_t n, size_t M);
/* Each head's slice of x (n rows of ld floats; slices of hd at h*hd, h < H)
 * becomes its LayerNorm with w, b (hd), in place: qk_norm's q or k. */
void vr_rows_head_norm(float *x, size_t ld, size_t n, size_t H, size_t hd, const float *w,
                       const float *b, double eps);
/* x (n, D) += y (n, D) */
void vr_rows_add(float *x, const float *y, size_t n, size_t D);
/* out (n, D) = LayerNorm(x (n, D)) * w + b */
void vr_rows_layernorm(float *out, const float *x, const float *w, const float *b, size_t n,
                       size_t D, double eps);
/* out (n, D) = x rounded to bfloat16, nearest even (NaN stays NaN). */
void vr_rows_to_bf16(uint16_t *out, const float *x, size_t n, size_t D);

#endif
