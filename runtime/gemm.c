/* gemm.c - sgemm through OpenBLAS's CBLAS interface, and its naive twin. */
#include "gemm.h"

#include <cblas.h>

/* OpenBLAS extensions (declared in its cblas.h, repeated for other BLASes). */
extern void openblas_set_num_threads(int);
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void vr_sgemm(int trans_b, size_t M, size_t N, size_t K, float alpha,
              const float *A, size_t lda, const float *B, size_t ldb,
              float beta, float *C, size_t ldc)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                (blasint)M, (blasint)N, (blasint)K, alpha, A, (blasint)lda, B,
                (blasint)ldb, beta, C, (blasint)ldc);
}

void vr_sgemm_naive(int trans_b, size_t M, size_t N, size_t K, float alpha,
                    const float *A, size_t lda, const float *B, size_t ldb,
                    float beta, float *C, size_t ldc)
{
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double acc = 0.0;
            for (size_t k = 0; k < K; k++)
                acc += (double)A[i * lda + k] * (trans_b ? B[j * ldb + k] : B[k * ldb + j]);
            float prev = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
            C[i * ldc + j] = (float)(alpha * acc) + prev;
        }
}

#ifdef VR_HAVE_ONEDNN
/* oneDNN runs on OpenMP threads (Debian's libdnnl is built with libgomp) */
extern void omp_set_num_threads(int);
#endif

void vr_gemm_set_threads(int n)
{
    if (n > 0) {
        openblas_set_num_threads(n);
#ifdef VR_HAVE_ONEDNN
        omp_set_num_threads(n);
#endif
    }
}

int vr_gemm_threads(void) { return openblas_get_num_threads(); }

const char *vr_gemm_library(void) { return openblas_get_config(); }

static int named(const char *core, const char *const *names)
{
    for (; *names; names++)
        if (!strcasecmp(core, *names))
            return 1;
    return 0;
}

const char *vr_gemm_better_coretype(void)
{
    if (getenv("OPENBLAS_CORETYPE"))
        return NULL; /* the user's choice */
    const char *core = openblas_get_corename();
    if (!core)
        return NULL;
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    static const char *const avx2[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake",
                                       "SapphireRapids", NULL};
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        !named(core, avx512))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !named(core, avx2))
        return "Haswell";
    return NULL;
}
