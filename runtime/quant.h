/* quant.h - int8 weight GEMMs: the quantisation on each side of the
 * integer product and the dequantisation after it.
 *
 * Weights, once at load: symmetric per output channel,
 *     s_w[n] = max_k |W[n,k]| / 127   (1 for a row of zeros)
 *     q_w[n,k] = rint(W[n,k] / s_w[n])   in [-127, 127]
 * computed in double (so a float64 reference gets the same integers), and
 * wsum[n] = sum_k q_w[n,k].
 *
 * Activations, every micro-batch: asymmetric uint8 per row (per token),
 * the range widened to hold 0,
 *     lo = min(0, min_k a[k]), hi = max(0, max_k a[k])
 *     s_a = (hi - lo) / 255 in float (1 when that is 0 or not finite)
 *     zp  = clamp(rint(-lo * (1 / s_a)), 0, 255)
 *     q_a[k] = clamp(rint(a[k] * (1 / s_a)) + zp, 0, 255)
 * with rint rounding half to even, in float32.
 *
 * Product: acc[m,n] = sum_k q_a[m,k] q_w[n,k] in int32 (oneDNN's u8 x s8
 * matmul, exact), then
 *     y[m,n] = (float)(acc[m,n] - zp[m] wsum[n]) * (s_a[m] * s_w[n]) + bias[n]
 * in float32, then the activation, then added to C or stored. Every
 * partial sum fits in int32 while K <= VR_QUANT_MAX_K.
 */
#ifndef VR_QUANT_H
#define VR_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

#define VR_QUANT_MAX_K 65536 /* 255 * 127 * K < 2^31 */
#define VR_QUANT_ROW_MAX 16384 /* the widest row quantised from a float32 row kept in L1 */

/* absmax (N) = max_k |W[n,k]|. */
void vr_quant_absmax(float *absmax, const float *W, size_t N, size_t K);

/* q (N, K), scale (N), wsum (N) from W (N, K); absmax: the rows' max |W|
 * (NULL: W's own; tensor parallelism passes the whole rows' when W holds a
 * slice of their columns, so that every slice has the same scale). */
void vr_quant_weights(int8_t *q, float *scale, int32_t *wsum, const float *W, size_t N,
                      size_t K, const float *absmax);

/* q (M, K), scale (M), zp (M) from A (M, K), rows over the pool. */
void vr_quant_rows(uint8_t *q, float *scale, int32_t *zp, const float *A, size_t M, size_t K);

/* vr_quant_rows of LayerNorm(x) (vr_layernorm with w, b, eps; x (M, D),
 * D <= 16384), each row normalised in L1 and quantised, never stored as
 * float32: the same bytes as the two apart. D <= VR_QUANT_ROW_MAX. */
void vr_quant_layernorm_rows(uint8_t *q, float *scale, int32_t *zp, const float *x,
                             const float *w, const float *b, size_t M, size_t D, double eps);

/* The two halves of vr_quant_rows, for ranks that each hold a slice of the
 * rows' columns and must quantise them as the whole rows would be:
 * vr_quant_ranges writes range (M, 2) = (-lo, hi) of each row (a max over
 * the slices gives the whole rows'; +inf for a row holding NaN or
 * infinity), vr_quant_rows_in quantises with them. */
void vr_quant_ranges(float *range, const float *A, size_t M, size_t K);
void vr_quant_rows_in(uint8_t *q, float *scale, int32_t *zp, const float *A, size_t M, size_t K,
                      const float *range);

/* C (M, N) = or += f(y) for y above, from acc (M, N); bias may be NULL.
 * Rows over the pool. */
void vr_dequant_rows(float *C, const int32_t *acc, size_t M, size_t N, const float *sa,
                     const int32_t *za, const float *sw, const int32_t *wsum, const float *bias,
                     vr_act_fn f, int accumulate);

/* vr_dequant_rows (no residual add) whose rows, instead of being stored,
 * are quantised as vr_quant_rows would quantise them into q (M, N), scale
 * (M), zp (M): the next matrix's input, without its float32 copy. */
void vr_dequant_quant_rows(uint8_t *q, float *scale, int32_t *zp, const int32_t *acc, size_t M,
                           size_t N, const float *sa, const int32_t *za, const float *sw,
                           const int32_t *wsum, const float *bias, vr_act_fn f);

/* The naive twin of an int8 linear for the tests: A quantised as above,
 * acc summed in plain loops, then the same dequantisation. */
void vr_quant_linear_naive(float *C, const float *A, const int8_t *qw, const float *sw,
                           const int32_t *wsum, const float *bias, size_t M, size_t N, size_t K,
                           vr_act_fn f, int accumulate);

#endif
