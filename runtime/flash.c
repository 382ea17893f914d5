/* flash.c - fused attention for one head: scores, softmax and the weighted
 * sum of values for six query rows at a time, in registers and L1. */
#include "flash.h"

#include <math.h>

#include "kernels.h"

#define ROWS 6 /* query rows per block: 6 x 4 accumulators + 5 = 29 of 32 zmm */

size_t vr_flash_pad(size_t T) { return (T + 15) / 16 * 16; }

size_t vr_flash_scratch(size_t T, size_t hd)
{
    size_t Tp = vr_flash_pad(T);
    return hd * Tp + T * hd + ROWS * Tp;
}

int vr_flash_usable(size_t hd)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(VR_NO_MVEC)
    return vr_kernel_level() >= 2 && hd > 0 && hd % 16 == 0;
#else
    (void)hd;
    return 0;
#endif
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(VR_NO_MVEC)
#include <immintrin.h>

/* exp(x) for x <= 0 (scores minus their maximum): x = n ln2 + r with
 * |r| <= ln2 / 2, exp(r) by its Taylor polynomial of degree 7 (truncation
 * below 6e-9, a tenth of a float's unit in the last place), times 2^n. */
__attribute__((target("avx512f"))) static inline __m512 exp_neg(__m512 x)
{
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f)); /* below: 0 after scaling */
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    /* r = x - n ln2, ln2 in two parts so that n * hi is exact */
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* C[r][0 .. 16 NV) = mul[r] * sum_k A[r][k] B[k][0 .. 16 NV) for ROWS rows;
 * A's rows are pointers (tail rows repeat the last one), C[r] NULL is not
 * stored. NV is a constant at every call, so the accumulators stay in
 * registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
block(int NV, size_t K, const float *const A[ROWS], const float *B, size_t ldb,
      float *const C[ROWS], const float mul[ROWS])
{
    __m512 acc[ROWS][4];
#pragma GCC unroll 6
    for (int r = 0; r < ROWS; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[r][v] = _mm512_setzero_ps();
    for (size_t k = 0; k < K; k++) {
        __m512 b[4];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            b[v] = _mm512_loadu_ps(B + k * ldb + 16 * v);
#pragma GCC unroll 6
        for (int r = 0; r < ROWS; r++) {
            __m512 a = _mm512_set1_ps(A[r][k]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < ROWS; r++)
        if (C[r])
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                _mm512_storeu_ps(C[r] + 16 * v, _mm512_mul_ps(acc[r][v], _mm512_set1_ps(mul[r])));
}

/* The columns [0, 16 nv) in blocks of 4 vectors, then single vectors. */
__attribute__((target("avx512f"))) static void
panel(size_t nv, size_t K, const float *const A[ROWS], const float *B, size_t ldb,
      float *const C[ROWS], const float mul[ROWS])
{
    size_t v = 0;
    float *Cv[ROWS];
    for (; v < nv; v += v + 4 <= nv ? 4 : 1) {
        for (int r = 0; r < ROWS; r++)
            Cv[r] = C[r] ? C[r] + 16 * v : NULL;
        if (v + 4 <= nv)
            block(4, K, A, B + 16 * v, ldb, Cv, mul);
        else
            block(1, K, A, B + 16 * v, ldb, Cv, mul);
    }
}

/* s (T, padded to a vector) = exp(s - max s); returns 1 / sum. */
__attribute__((target("avx512f"))) static float softmax_row(float *s, size_t T)
{
    __m512 m = _mm512_set1_ps(-INFINITY), sum = _mm512_setzero_ps();
    for (size_t j = 0; j < T; j += 16) {
        __mmask16 k = T - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (T - j)) - 1);
        m = _mm512_max_ps(m, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, s + j));
    }
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(m));
    for (size_t j = 0; j < T; j += 16) {
        __mmask16 k = T - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (T - j)) - 1);
        __m512 e = _mm512_maskz_mov_ps(k, exp_neg(_mm512_sub_ps(_mm512_loadu_ps(s + j), mx)));
        _mm512_storeu_ps(s + j, e);
        sum = _mm512_add_ps(sum, e);
    }
    return 1.0f / _mm512_reduce_add_ps(sum);
}

/* Transposes the 16 x 16 tile in r: four stages, each pairing rows i and
 * i + h and swapping the (i, upper half) and (i + h, lower half) blocks of
 * every 2h columns. */
/* Transposes the 16 x 16 tile in r: four stages, h = 8, 4, 2, 1, each pairing
 * rows i and i + h and swapping, in every 2h columns, row i's upper h with
 * row i + h's lower h. PERM[s] holds the two rows' permutex2var indices. */
static const int PERM[4][2][16] = {
    {{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23},
     {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31}},
    {{0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27},
     {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31}},
    {{0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29},
     {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31}},
    {{0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30},
     {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31}}};

__attribute__((target("avx512f"))) static void transpose16(__m512 r[16])
{
    for (int s = 0, h = 8; s < 4; s++, h /= 2) {
        const __m512i il = _mm512_loadu_si512(PERM[s][0]), ih = _mm512_loadu_si512(PERM[s][1]);
        for (int i = 0; i < 16; i++)
            if (!(i & h)) {
                __m512 a = r[i], b = r[i + h];
                r[i] = _mm512_permutex2var_ps(a, il, b);
                r[i + h] = _mm512_permutex2var_ps(a, ih, b);
            }
    }
}

__attribute__((target("avx512f"))) void vr_flash_pack(float *scratch, const float *k,
                                                      const float *v, size_t ld, size_t T,
                                                      size_t hd)
{
    size_t Tp = vr_flash_pad(T);
    float *Kt = scratch, *Vp = scratch + hd * Tp;
    /* K^T (hd, Tp) in 16 x 16 tiles; keys past T are zero */
    for (size_t j = 0; j < Tp; j += 16)
        for (size_t d = 0; d < hd; d += 16) {
            __m512 r[16];
            for (size_t i = 0; i < 16; i++)
                r[i] = j + i < T ? _mm512_loadu_ps(k + (j + i) * ld + d) : _mm512_setzero_ps();
            transpose16(r);
            for (size_t i = 0; i < 16; i++)
                _mm512_storeu_ps(Kt + (d + i) * Tp + j, r[i]);
        }
    for (size_t j = 0; j < T; j++)
        for (size_t d = 0; d < hd; d += 16)
            _mm512_storeu_ps(Vp + j * hd + d, _mm512_loadu_ps(v + j * ld + d));
}

__attribute__((target("avx512f"))) void vr_flash_rows(float *scratch, const float *q,
                                                      size_t ld, float *out, size_t ldo,
                                                      size_t T, size_t hd, float scale,
                                                      size_t q0, size_t q1)
{
    size_t Tp = vr_flash_pad(T);
    const float *Kt = scratch, *Vp = scratch + hd * Tp;
    float *S = scratch + hd * Tp + T * hd;
    for (size_t i = q0; i < q1; i += ROWS) {
        size_t n = q1 - i < ROWS ? q1 - i : ROWS;
        const float *A[ROWS], *P[ROWS];
        float *Sr[ROWS], *O[ROWS], scl[ROWS], inv[ROWS];
        for (int r = 0; r < ROWS; r++) {
            size_t row = (size_t)r < n ? (size_t)r : n - 1;
            A[r] = q + (i + row) * ld;
            P[r] = S + row * Tp;
            Sr[r] = (size_t)r < n ? S + r * Tp : NULL;
            O[r] = (size_t)r < n ? out + (i + r) * ldo : NULL;
            scl[r] = scale;
        }
        panel(Tp / 16, hd, A, Kt, Tp, Sr, scl);
        for (size_t r = 0; r < ROWS; r++)
            inv[r] = r < n ? softmax_row(S + r * Tp, T) : 0.0f;
        panel(hd / 16, T, P, Vp, hd, O, inv);
    }
}
#else
void vr_flash_pack(float *scratch, const float *k, const float *v, size_t ld, size_t T,
                   size_t hd)
{
}
void vr_flash_rows(float *scratch, const float *q, size_t ld, float *out, size_t ldo,
                   size_t T, size_t hd, float scale, size_t q0, size_t q1)
{
}
#endif
