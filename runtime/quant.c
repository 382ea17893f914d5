/* quant.c - int8 quantisation and dequantisation (quant.h). */
#include "quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act16.h"
#include "clones.h"
#include "pool.h"

/* One weight row, given its scale: the integers and their sum. */
VR_CLONES
static int32_t quant_weight_row(int8_t *q, const float *w, size_t K, double s)
{
    int32_t sum = 0;
    for (size_t k = 0; k < K; k++) {
        double v = rint((double)w[k] / s);
        v = v < 127.0 ? v : 127.0;
        v = v > -127.0 ? v : -127.0; /* (NaN -> -127) */
        q[k] = (int8_t)(int32_t)v;
        sum += q[k];
    }
    return sum;
}

void vr_quant_absmax(float *absmax, const float *W, size_t N, size_t K)
{
    for (size_t n = 0; n < N; n++) {
        const float *w = W + n * K;
        float m = 0.0f;
        for (size_t k = 0; k < K; k++) {
            float a = fabsf(w[k]);
            m = a > m ? a : m;
        }
        absmax[n] = m;
    }
}

void vr_quant_weights(int8_t *q, float *scale, int32_t *wsum, const float *W, size_t N,
                      size_t K, const float *absmax)
{
    for (size_t n = 0; n < N; n++) {
        float m;
        if (absmax)
            m = absmax[n];
        else
            vr_quant_absmax(&m, W + n * K, 1, K);
        double s = m > 0.0f && isfinite(m) ? (double)m / 127.0 : 1.0;
        wsum[n] = quant_weight_row(q + n * K, W + n * K, K, s);
        scale[n] = (float)s;
    }
}

/* A row's minimum and maximum, each widened to hold 0; 1 when the row holds
 * NaN or infinity (x * 0 is NaN for those alone). Minimum and maximum are
 * exact, so every version finds the same. */
static int range_scalar(const float *a, size_t K, float *lo, float *hi)
{
    float l = 0.0f, h = 0.0f, z = 0.0f;
    for (size_t k = 0; k < K; k++) {
        l = a[k] < l ? a[k] : l;
        h = a[k] > h ? a[k] : h;
        z += a[k] * 0.0f;
    }
    *lo = l;
    *hi = h;
    return !(z == 0.0f);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static int range16(const float *a, size_t K, float *lo,
                                                      float *hi)
{
    __m512 zero = _mm512_setzero_ps(), l = zero, h = zero, z = zero;
    size_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 v = _mm512_loadu_ps(a + k);
        l = _mm512_min_ps(l, v);
        h = _mm512_max_ps(h, v);
        z = _mm512_add_ps(z, _mm512_mul_ps(v, zero));
    }
    if (k < K) { /* the lanes past the end read as 0, inside the range already */
        __m512 v = _mm512_maskz_loadu_ps((__mmask16)((1u << (K - k)) - 1), a + k);
        l = _mm512_min_ps(l, v);
        h = _mm512_max_ps(h, v);
        z = _mm512_add_ps(z, _mm512_mul_ps(v, zero));
    }
    *lo = _mm512_reduce_min_ps(l);
    *hi = _mm512_reduce_max_ps(h);
    return !(_mm512_reduce_add_ps(z) == 0.0f);
}

static int range(const float *a, size_t K, float *lo, float *hi)
{
    return vr_kernel_level() >= 2 ? range16(a, K, lo, hi) : range_scalar(a, K, lo, hi);
}
#else
static int range(const float *a, size_t K, float *lo, float *hi)
{
    return range_scalar(a, K, lo, hi);
}
#endif

/* One row's scale and zero point from its range (-lo, hi), then its bytes.
 * The clamps are written so that they vectorise and keep NaN from the
 * integer conversion; a row holding NaN or infinity (hi = +inf) gets scale
 * NaN, so that its outputs are NaN as float32's would be, not clamped into
 * range. */
VR_CLONES
static void quant_row_in(uint8_t *q, float *scale, int32_t *zp, const float *a, size_t K,
                         float neg_lo, float hi)
{
    float lo = -neg_lo;
    if (!isfinite(lo) || !isfinite(hi)) {
        memset(q, 0, K);
        *scale = NAN;
        *zp = 0;
        return;
    }
    float s = (hi - lo) / 255.0f;
    if (!(s > 0.0f) || !isfinite(s))
        s = 1.0f;
    float inv = 1.0f / s;
    float z = rintf(-lo * inv);
    z = z > 255.0f ? 255.0f : z;
    for (size_t k = 0; k < K; k++) {
        float v = rintf(a[k] * inv) + z;
        v = v > 0.0f ? v : 0.0f;
        v = v < 255.0f ? v : 255.0f;
        q[k] = (uint8_t)(int32_t)v;
    }
    *scale = s;
    *zp = (int32_t)z;
}

/* A row's range as vr_quant_ranges writes it. */
static void row_range(float *r, const float *a, size_t K)
{
    float lo, hi;
    int bad = range(a, K, &lo, &hi);
    r[0] = -lo;
    r[1] = bad ? INFINITY : hi;
}

static void quant_row(uint8_t *q, float *scale, int32_t *zp, const float *a, size_t K)
{
    float r[2];
    row_range(r, a, K);
    quant_row_in(q, scale, zp, a, K, r[0], r[1]);
}

/* One row of the dequantisation into y (N), before the activation. */
VR_CLONES
static void dequant_row(float *y, const int32_t *acc, size_t N, float sa, int32_t za,
                        const float *sw, const int32_t *wsum, const float *bias)
{
    for (size_t n = 0; n < N; n++)
        y[n] = (float)(acc[n] - za * wsum[n]) * (sa * sw[n]);
    if (bias)
        for (size_t n = 0; n < N; n++)
            y[n] += bias[n];
}

enum { EPI_STORE, EPI_ADD, EPI_RANGE };

#ifdef VR_HAVE_MVEC
/* 16 columns of the epilogue (epilogue16), lanes outside m read as 0. */
__attribute__((target("avx512f"), always_inline)) static inline void
epilogue_v16(float *out, const int32_t *acc, __mmask16 m, __m512 s, __m512i z, const float *sw,
             const int32_t *wsum, const float *bias, vr_act_fn f, int mode, __m512 *l,
             __m512 *h, __m512 *bad)
{
    __m512i a = _mm512_maskz_loadu_epi32(m, acc);
    a = _mm512_sub_epi32(a, _mm512_mullo_epi32(z, _mm512_maskz_loadu_epi32(m, wsum)));
    __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(a), _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, sw)));
    if (bias)
        y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m, bias));
    y = vr_act_v16(y, f); /* lanes outside m stay 0 (f(0) = 0) */
    if (mode == EPI_ADD)
        y = _mm512_add_ps(_mm512_maskz_loadu_ps(m, out), y);
    if (mode == EPI_RANGE) {
        *l = _mm512_min_ps(*l, y);
        *h = _mm512_max_ps(*h, y);
        *bad = _mm512_add_ps(*bad, _mm512_mul_ps(y, _mm512_setzero_ps()));
    }
    _mm512_mask_storeu_ps(out, m, y);
}

/* dequant_row, the activation and then (mode) the store, the residual add
 * or the store and range16 of the result, in one pass over the row on 16
 * lanes: the same operations in the same order, so the same floats. For
 * EPI_RANGE returns whether the row holds NaN or infinity, with its
 * minimum and maximum (each widened to hold 0) in *lo and *hi. Whole
 * vectors unmasked, then the tail. */
__attribute__((target("avx512f"), always_inline)) static inline int
epilogue_body(float *out, const int32_t *acc, size_t N, float sa, int32_t za, const float *sw,
              const int32_t *wsum, const float *bias, vr_act_fn f, int mode, float *lo,
              float *hi)
{
    const __m512 s = _mm512_set1_ps(sa);
    const __m512i z = _mm512_set1_epi32(za);
    __m512 l = _mm512_setzero_ps(), h = l, bad = l;
    size_t n = 0;
    for (; n + 16 <= N; n += 16)
        epilogue_v16(out + n, acc + n, (__mmask16)0xffff, s, z, sw + n, wsum + n,
                     bias ? bias + n : NULL, f, mode, &l, &h, &bad);
    if (n < N)
        epilogue_v16(out + n, acc + n, (__mmask16)((1u << (N - n)) - 1), s, z, sw + n, wsum + n,
                     bias ? bias + n : NULL, f, mode, &l, &h, &bad);
    if (mode != EPI_RANGE)
        return 0;
    *lo = _mm512_reduce_min_ps(l);
    *hi = _mm512_reduce_max_ps(h);
    return !(_mm512_reduce_add_ps(bad) == 0.0f);
}

/* epilogue_body with the mode (and no activation) known when compiled. */
__attribute__((target("avx512f"))) static int epilogue16(float *out, const int32_t *acc,
                                                         size_t N, float sa, int32_t za,
                                                         const float *sw, const int32_t *wsum,
                                                         const float *bias, vr_act_fn f,
                                                         int mode, float *lo, float *hi)
{
#define EPI(md) (f == VR_FN_NONE                                                            \
                     ? epilogue_body(out, acc, N, sa, za, sw, wsum, bias, VR_FN_NONE, md, lo, \
                                     hi)                                                      \
                     : epilogue_body(out, acc, N, sa, za, sw, wsum, bias, f, md, lo, hi))
    switch (mode) {
    case EPI_STORE: return EPI(EPI_STORE);
    case EPI_ADD: return EPI(EPI_ADD);
    default: return EPI(EPI_RANGE);
    }
#undef EPI
}
#endif

/* One row of the epilogue (see epilogue16) into out (N); tmp (N) holds
 * the row apart before a residual add. */
static int epilogue_row(float *out, float *tmp, const int32_t *acc, size_t N, float sa,
                        int32_t za, const float *sw, const int32_t *wsum, const float *bias,
                        vr_act_fn f, int mode, float *lo, float *hi)
{
#ifdef VR_HAVE_MVEC
    if (vr_kernel_level() >= 2)
        return epilogue16(out, acc, N, sa, za, sw, wsum, bias, f, mode, lo, hi);
#endif
    float *y = mode == EPI_ADD ? tmp : out;
    dequant_row(y, acc, N, sa, za, sw, wsum, bias);
    vr_activate(y, N, f);
    if (mode == EPI_ADD)
        vr_add(out, tmp, N);
    return mode == EPI_RANGE ? range(out, N, lo, hi) : 0;
}

typedef struct {
    int op; /* 0 quantise, 1 dequantise, 2 ranges, 3 quantise with ranges, 4 dequantise and
             * quantise, 5 LayerNorm and quantise */
    float *range;
    uint8_t *q;
    float *scale, *C;
    int32_t *zp;
    const float *A;
    const int32_t *acc, *za, *wsum;
    const float *sa, *sw, *bias;
    size_t N, K;
    vr_act_fn f;
    int accumulate;
    const float *lw, *lb; /* LayerNorm's weight and bias, eps */
    double eps;
} quant_job;

#define ROW_MAX VR_QUANT_ROW_MAX /* a row on the stack */

static void quant_range(void *ctx, size_t begin, size_t end, int worker)
{
    (void)worker;
    const quant_job *j = ctx;
    for (size_t m = begin; m < end; m++) {
        if (j->op == 0) {
            quant_row(j->q + m * j->K, j->scale + m, j->zp + m, j->A + m * j->K, j->K);
            continue;
        }
        if (j->op == 2) {
            row_range(j->range + 2 * m, j->A + m * j->K, j->K);
            continue;
        }
        if (j->op == 3) {
            quant_row_in(j->q + m * j->K, j->scale + m, j->zp + m, j->A + m * j->K, j->K,
                         j->range[2 * m], j->range[2 * m + 1]);
            continue;
        }
        if (j->op == 5) {
            float tmp[ROW_MAX];
            vr_layernorm(tmp, j->K, j->A + m * j->K, j->K, j->lw, j->lb, 1, j->K, j->eps);
            quant_row(j->q + m * j->K, j->scale + m, j->zp + m, tmp, j->K);
            continue;
        }
        if (j->op == 4) {
            float tmp[ROW_MAX], lo, hi;
            int bad = epilogue_row(tmp, NULL, j->acc + m * j->N, j->N, j->sa[m], j->za[m],
                                   j->sw, j->wsum, j->bias, j->f, EPI_RANGE, &lo, &hi);
            quant_row_in(j->q + m * j->N, j->scale + m, j->zp + m, tmp, j->N, -lo,
                         bad ? INFINITY : hi);
            continue;
        }
        float *c = j->C + m * j->N;
        const int32_t *acc = j->acc + m * j->N;
        for (size_t n0 = 0; n0 < j->N; n0 += ROW_MAX) {
            size_t nn = j->N - n0 < ROW_MAX ? j->N - n0 : ROW_MAX;
            float tmp[ROW_MAX];
            epilogue_row(c + n0, tmp, acc + n0, nn, j->sa[m], j->za[m], j->sw + n0,
                         j->wsum + n0, j->bias ? j->bias + n0 : NULL, j->f,
                         j->accumulate ? EPI_ADD : EPI_STORE, NULL, NULL);
        }
    }
}

void vr_quant_rows(uint8_t *q, float *scale, int32_t *zp, const float *A, size_t M, size_t K)
{
    quant_job j = {.op = 0, .q = q, .scale = scale, .zp = zp, .A = A, .K = K};
    vr_pool_run(M, K >= 4096 ? 1 : 4096 / K, quant_range, &j);
}

void vr_quant_layernorm_rows(uint8_t *q, float *scale, int32_t *zp, const float *x,
                             const float *w, const float *b, size_t M, size_t D, double eps)
{
    quant_job j = {.op = 5, .q = q, .scale = scale, .zp = zp, .A = x, .K = D, .lw = w, .lb = b,
                   .eps = eps};
    vr_pool_run(M, D >= 4096 ? 1 : 4096 / D, quant_range, &j);
}

void vr_quant_ranges(float *range, const float *A, size_t M, size_t K)
{
    quant_job j = {.op = 2, .range = range, .A = A, .K = K};
    vr_pool_run(M, K >= 4096 ? 1 : 4096 / K, quant_range, &j);
}

void vr_quant_rows_in(uint8_t *q, float *scale, int32_t *zp, const float *A, size_t M, size_t K,
                      const float *range)
{
    quant_job j = {.op = 3, .q = q, .scale = scale, .zp = zp, .A = A, .K = K,
                   .range = (float *)range};
    vr_pool_run(M, K >= 4096 ? 1 : 4096 / K, quant_range, &j);
}

void vr_dequant_rows(float *C, const int32_t *acc, size_t M, size_t N, const float *sa,
                     const int32_t *za, const float *sw, const int32_t *wsum, const float *bias,
                     vr_act_fn f, int accumulate)
{
    quant_job j = {.op = 1, .C = C, .acc = acc, .N = N, .sa = sa, .za = za, .sw = sw,
                   .wsum = wsum, .bias = bias, .f = f, .accumulate = accumulate};
    vr_pool_run(M, N >= 4096 ? 1 : 4096 / N, quant_range, &j);
}

void vr_dequant_quant_rows(uint8_t *q, float *scale, int32_t *zp, const int32_t *acc, size_t M,
                           size_t N, const float *sa, const int32_t *za, const float *sw,
                           const int32_t *wsum, const float *bias, vr_act_fn f)
{
    quant_job j = {.op = 4, .q = q, .scale = scale, .zp = zp, .acc = acc, .N = N, .sa = sa,
                   .za = za, .sw = sw, .wsum = wsum, .bias = bias, .f = f};
    vr_pool_run(M, N >= 4096 ? 1 : 4096 / N, quant_range, &j);
}

void vr_quant_linear_naive(float *C, const float *A, const int8_t *qw, const float *sw,
                           const int32_t *wsum, const float *bias, size_t M, size_t N, size_t K,
                           vr_act_fn f, int accumulate)
{
    uint8_t *qa = malloc(K);
    int32_t *acc = malloc(N * sizeof *acc);
    float *y = malloc(N * sizeof *y);
    if (!qa || !acc || !y)
        abort(); /* (tests only) */
    for (size_t m = 0; m < M; m++) {
        float sa;
        int32_t za;
        quant_row(qa, &sa, &za, A + m * K, K);
        for (size_t n = 0; n < N; n++) {
            int32_t s = 0;
            for (size_t k = 0; k < K; k++)
                s += (int32_t)qa[k] * (int32_t)qw[n * K + k];
            acc[n] = s;
        }
        float *c = C + m * N;
        dequant_row(y, acc, N, sa, za, sw, wsum, bias);
        vr_activate(y, N, f);
        for (size_t n = 0; n < N; n++)
            c[n] = accumulate ? c[n] + y[n] : y[n];
    }
    free(qa);
    free(acc);
    free(y);
}
