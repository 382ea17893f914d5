/* gemm.h - the one door to BLAS.
 *
 * C (M,N) = alpha * A (M,K) * op(B) + beta * C, row-major, where op(B) is B
 * stored (N,K) when trans_b (a weight matrix in its PyTorch layout) or B
 * stored (K,N) otherwise. Only gemm.c includes <cblas.h>; vr_sgemm_naive is
 * the slow reference the fast one is tested against.
 */
#ifndef VR_GEMM_H
#define VR_GEMM_H

#include <stddef.h>

void vr_sgemm(int trans_b, size_t M, size_t N, size_t K, float alpha,
              const float *A, size_t lda, const float *B, size_t ldb,
              float beta, float *C, size_t ldc);

void vr_sgemm_naive(int trans_b, size_t M, size_t N, size_t K, float alpha,
                    const float *A, size_t lda, const float *B, size_t ldb,
                    float beta, float *C, size_t ldc);

/* Threads BLAS may use (0 leaves the library default). */
void vr_gemm_set_threads(int n);
/* Threads BLAS uses now. */
int vr_gemm_threads(void);
/* Name and configuration of the BLAS library actually loaded. */
const char *vr_gemm_library(void);
/* The OPENBLAS_CORETYPE this CPU should run with when the loaded OpenBLAS
 * chose older kernels than the CPU supports (Debian's 0.3.21 does not
 * recognise newer CPUs, e.g. Sapphire Rapids, and falls back to SSE3 kernels at
 * half speed or less); NULL
 * when its choice is right or the user set OPENBLAS_CORETYPE. */
const char *vr_gemm_better_coretype(void);

#endif
