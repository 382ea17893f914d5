/* linear.h - a weight matrix prepared once, applied to many batches.
 *
 * C (M, N) = A (M, K) W^T + bias, optionally followed by an activation, or added to
 * C (the residual stream) instead of overwriting it. W is (N, K), row-major:
 * a PyTorch Linear weight.
 *
 * Two back ends:
 * - oneDNN (when vitrun was built with it): W is copied once into the layout
 *   oneDNN's matmul kernels read fastest, in float32 or bfloat16, and bias,
 *   GELU and the residual add run inside the GEMM on data still in cache.
 *   After vr_linear_create the caller's W is no longer read.
 * - OpenBLAS: sgemm on the caller's W, then the epilogue over vitrun's pool.
 *   float32 only.
 * Accumulation is float32 for fp32 and bf16; bf16 rounds W and A to
 * bfloat16. int8 (oneDNN only) quantises W per output channel and A per row
 * and accumulates in int32 (quant.h has the arithmetic): A is quantised,
 * multiplied in slices of VR_LINEAR_INT8_ROWS rows (whose int32 products stay
 * in cache) and each slice dequantised with bias, activation and residual
 * add before the next. A matrix with K > VR_QUANT_MAX_K stays float32.
 */
#ifndef VR_LINEAR_H
#define VR_LINEAR_H

#include <stddef.h>

#include "kernels.h"
#include "status.h"
#include "timer.h"

typedef enum { VR_GEMM_AUTO, VR_GEMM_OPENBLAS, VR_GEMM_ONEDNN } vr_gemm_backend;
typedef enum { VR_FP32, VR_BF16, VR_INT8 } vr_precision;

/* Epilogue flags: C += A W^T + bias, or C = f(A W^T + bias) with an
 * activation of kernels.h (VR_FN_*) in bits 4 and up. */
enum { VR_LIN_ACCUMULATE = 2, VR_LIN_CHECK = 4 };
#define VR_LIN_ACT(f) ((int)(f) << 4)
#define VR_LIN_ACT_OF(flags) ((vr_act_fn)((flags) >> 4))
#define VR_LIN_GELU VR_LIN_ACT(VR_FN_GELU)

typedef struct vr_linear vr_linear;

/* Whether this build has the oneDNN back end. */
int vr_linear_have_onednn(void);
/* "oneDNN 2.6.3" (the library loaded), or "none". */
const char *vr_linear_onednn_version(void);
/* Whether the CPU runs bfloat16 dot products natively (AVX512_BF16 or AMX). */
int vr_linear_cpu_bf16(void);
/* Whether the CPU has AVX-512 VNNI (int8 dot products into int32). */
int vr_linear_cpu_vnni(void);

#define VR_LINEAR_INT8_ROWS 256
/* What `want` becomes on this build and CPU: AUTO picks oneDNN when built
 * with it; bf16 needs oneDNN and a CPU with bf16 instructions. On success
 * *prec may be lowered to VR_FP32, with a reason in `why` (cap bytes).
 * int8 is refused (VR_ERR_USAGE) without oneDNN or without VNNI. */
vr_status vr_linear_choose(vr_gemm_backend *be, vr_precision *prec, char *why, size_t cap);
const char *vr_linear_backend_name(vr_gemm_backend be);
const char *vr_linear_precision_name(vr_precision p);

/* W (N, K) and bias (N, or NULL) must outlive the result on the OpenBLAS
 * back end; oneDNN copies W and keeps only bias. */
vr_status vr_linear_create(vr_linear **out, vr_gemm_backend be, vr_precision prec,
                           const float *W, const float *bias, size_t N, size_t K, int flags);
/* vr_linear_create for a matrix holding a slice of its rows' columns
 * (tensor parallelism's row-parallel layers): absmax (N) gives the whole
 * rows' max |W|, so that int8 quantises every slice with the whole rows'
 * scales (NULL: as vr_linear_create). Ignored unless prec is VR_INT8. */
vr_status vr_linear_create_slice(vr_linear **out, vr_gemm_backend be, vr_precision prec,
                                 const float *W, const float *bias, size_t N, size_t K, int flags,
                                 const float *absmax);
/* With VR_LIN_CHECK in flags and prec VR_INT8 (calibration): the matrix
 * also keeps a float32 twin; every run computes both, adds up the int8
 * output's squared error and the float32 output's squares, and hands on the
 * float32 output, so that every matrix is judged on float32 inputs. */
/* The relative error sqrt(sum (y8 - y32)^2 / sum y32^2) over every run so
 * far; -1 when the matrix is not checked. */
double vr_linear_check_error(const vr_linear *l);
/* Its precision (VR_INT8 for a checked matrix). */
vr_precision vr_linear_precision(const vr_linear *l);
/* Bytes of weights the back end holds beyond the caller's W. */
size_t vr_linear_bytes(const vr_linear *l);
void vr_linear_free(vr_linear *l);

/* C (M, N) from A (M, K), both contiguous. Time goes to t->gemm and, for a
 * separate epilogue, t->activation. */
vr_status vr_linear_run(vr_linear *l, size_t M, const float *A, float *C, vr_timers *t);

/* Rows quantised for an int8 matrix (quant.h): q (M, K), scale and zp (M). */
typedef struct {
    const uint8_t *q;
    const float *scale;
    const int32_t *zp;
    size_t M, K;
} vr_qrows;

/* Whether l can hand its output to the next int8 matrix quantised
 * (vr_linear_run_to_q) or take its input so (vr_linear_run_from_q): int8
 * on oneDNN, not checked (--int8-calibrate), N <= 16384 for the former. */
int vr_linear_fuses(const vr_linear *l);
/* l applied to rows already quantised (in->K = l's K), its output rows
 * (bias and activation applied; no residual add) quantised into *out,
 * valid until the next int8 run. */
vr_status vr_linear_run_to_q(vr_linear *l, const vr_qrows *in, vr_qrows *out, vr_timers *t);
/* l applied to rows already quantised (in->K = l's K), into C as
 * vr_linear_run does. */
vr_status vr_linear_run_from_q(vr_linear *l, const vr_qrows *in, float *C, vr_timers *t);

/* The function that joins the row ranges of ranks holding slices of A's
 * columns (a max over them: vr_comm_tp_allreduce_max), and its ctx. */
typedef vr_status (*vr_linear_agree_fn)(float *buf, size_t n, void *ctx);

/* vr_linear_run where A (M, K) is a slice of the columns of rows that other
 * ranks hold the rest of: int8 quantises each row with the whole row's
 * range, agreed with `agree` (each rank must call it, in the same order);
 * other precisions ignore it. */
vr_status vr_linear_run_slice(vr_linear *l, size_t M, const float *A, float *C, vr_timers *t,
                              vr_linear_agree_fn agree, void *ctx);

/* Makes what vr_linear_run needs for M rows ahead of time (oneDNN's
 * primitive for M, compiled on first use otherwise), so that the first
 * micro-batch runs as fast as the rest. */
vr_status vr_linear_warm(vr_linear *l, size_t M);

/* Frees scratch buffers shared by every vr_linear. */
void vr_linear_release_scratch(void);

#endif
