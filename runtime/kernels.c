/* kernels.c - LayerNorm, GELU, softmax, im2col, top-k. */
#include "kernels.h"

#include "act16.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = {"scalar", "avx2", "avx512"};

/* What the CPU has, lowered by VITRUN_MAX_ISA (scalar, avx2, avx512) so that
 * every path can be tested on one machine. Read once. */
int vr_kernel_level(void)
{
    static int level = -1;
    if (level >= 0)
        return level;
    int have = 0;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(VR_NO_MVEC)
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx512f") ? 2
           : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1
                                                                            : 0;
#endif
    int cap = vr_kernel_level_parse(getenv("VITRUN_MAX_ISA"));
    level = cap >= 0 && cap < have ? cap : have;
    return level;
}

int vr_kernel_level_parse(const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (!strcmp(name, level_names[i]))
            return i;
    return -1;
}

const char *vr_kernel_level_name(void) { return level_names[vr_kernel_level()]; }

/* One row in double, two passes: the variance of activations with a large
 * mean loses digits in float with the one-pass formula. The vector versions
 * below do columns [0, j) and leave the rest to these three. */
static double sum_from(const float *x, size_t j, size_t D)
{
    double s = 0.0;
    for (; j < D; j++)
        s += x[j];
    return s;
}

static double squares_from(const float *x, size_t j, size_t D, double mean)
{
    double s = 0.0;
    for (; j < D; j++)
        s += (x[j] - mean) * (x[j] - mean);
    return s;
}

static void scale_from(float *o, const float *x, const float *w, const float *b, size_t j,
                       size_t D, double mean, double rstd)
{
    for (; j < D; j++)
        o[j] = (float)((x[j] - mean) * rstd) * w[j] + b[j];
}

static void layernorm_row(float *o, const float *x, const float *w, const float *b, size_t D,
                          double eps)
{
    double mean = sum_from(x, 0, D) / (double)D;
    double rstd = 1.0 / sqrt(squares_from(x, 0, D, mean) / (double)D + eps);
    scale_from(o, x, w, b, 0, D, mean, rstd);
}

void vr_add_bias(float *x, const float *bias, size_t n, size_t D)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++)
            x[i * D + j] += bias[j];
}

void vr_to_bf16(uint16_t *out, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        if ((u & 0x7fffffffu) > 0x7f800000u)
            out[i] = (uint16_t)((u >> 16) | 0x40); /* NaN: keep it a (quiet) NaN */
        else
            out[i] = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
}

#ifdef VR_HAVE_MVEC
/* x (n) = f(x), 16 lanes (act16.h) */
__attribute__((target("avx512f"))) static void act16(float *x, size_t n, vr_act_fn f)
{
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, m, vr_act_v16(_mm512_maskz_loadu_ps(m, x + i), f));
    }
}

/* x (n) = x sigmoid(a x), 16 lanes */
__attribute__((target("avx512f"))) static void xsigmoid16(float *x, size_t n, float a)
{
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, m, vr_xsigmoid_v16(_mm512_maskz_loadu_ps(m, x + i), a));
    }
}

__attribute__((target("avx512f"))) static void exp16(float *x, size_t n, float sub)
{
    const __m512 s = _mm512_set1_ps(sub);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        _mm512_mask_storeu_ps(x + i, m, _ZGVeN16v_expf(_mm512_sub_ps(v, s)));
    }
}

static __attribute__((target("avx2"))) __m256i tail_mask8(size_t left)
{
    int k = left >= 8 ? 8 : (int)left;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("avx2"))) static void gelu8(float *x, size_t n)
{
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f),
                 r2 = _mm256_set1_ps((float)M_SQRT1_2);
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = tail_mask8(n - i);
        __m256 v = _mm256_maskload_ps(x + i, m);
        __m256 e = _ZGVdN8v_erff(_mm256_mul_ps(v, r2));
        _mm256_maskstore_ps(x + i, m, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, e)));
    }
}

__attribute__((target("avx2"))) static void exp8(float *x, size_t n, float sub)
{
    const __m256 s = _mm256_set1_ps(sub);
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = tail_mask8(n - i);
        __m256 v = _mm256_maskload_ps(x + i, m);
        _mm256_maskstore_ps(x + i, m, _ZGVdN8v_expf(_mm256_sub_ps(v, s)));
    }
}

/* layernorm_row with the same passes in double, 8 (AVX-512) or 4 (AVX2)
 * lanes at a time over whole vectors of columns; only the order of the
 * additions differs. */
__attribute__((target("avx512f"))) static void layernorm_row16(float *o, const float *x,
                                                               const float *w, const float *b,
                                                               size_t D, double eps)
{
    size_t V = D / 8 * 8, j;
    __m512d s = _mm512_setzero_pd();
    for (j = 0; j < V; j += 8)
        s = _mm512_add_pd(s, _mm512_cvtps_pd(_mm256_loadu_ps(x + j)));
    double mean = (_mm512_reduce_add_pd(s) + sum_from(x, V, D)) / (double)D;
    const __m512d m = _mm512_set1_pd(mean);
    s = _mm512_setzero_pd();
    for (j = 0; j < V; j += 8) {
        __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + j)), m);
        s = _mm512_fmadd_pd(d, d, s);
    }
    double var = _mm512_reduce_add_pd(s) + squares_from(x, V, D, mean);
    double rstd = 1.0 / sqrt(var / (double)D + eps);
    const __m512d r = _mm512_set1_pd(rstd);
    for (j = 0; j < V; j += 8) {
        __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + j)), m);
        __m256 y = _mm512_cvtpd_ps(_mm512_mul_pd(d, r));
        _mm256_storeu_ps(o + j, _mm256_add_ps(_mm256_mul_ps(y, _mm256_loadu_ps(w + j)),
                                              _mm256_loadu_ps(b + j)));
    }
    scale_from(o, x, w, b, V, D, mean, rstd);
}

__attribute__((target("avx2"))) static double hsum4(__m256d v)
{
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

__attribute__((target("avx2,fma"))) static void layernorm_row8(float *o, const float *x,
                                                               const float *w, const float *b,
                                                               size_t D, double eps)
{
    size_t V = D / 4 * 4, j;
    __m256d s = _mm256_setzero_pd();
    for (j = 0; j < V; j += 4)
        s = _mm256_add_pd(s, _mm256_cvtps_pd(_mm_loadu_ps(x + j)));
    double mean = (hsum4(s) + sum_from(x, V, D)) / (double)D;
    const __m256d m = _mm256_set1_pd(mean);
    s = _mm256_setzero_pd();
    for (j = 0; j < V; j += 4) {
        __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + j)), m);
        s = _mm256_fmadd_pd(d, d, s);
    }
    double var = hsum4(s) + squares_from(x, V, D, mean);
    double rstd = 1.0 / sqrt(var / (double)D + eps);
    const __m256d r = _mm256_set1_pd(rstd);
    for (j = 0; j < V; j += 4) {
        __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + j)), m);
        __m128 y = _mm256_cvtpd_ps(_mm256_mul_pd(d, r));
        _mm_storeu_ps(o + j, _mm_add_ps(_mm_mul_ps(y, _mm_loadu_ps(w + j)), _mm_loadu_ps(b + j)));
    }
    scale_from(o, x, w, b, V, D, mean, rstd);
}

/* 2: AVX-512, 1: AVX2, 0: scalar. */
static int vector_width(void) { return vr_kernel_level(); }
#endif

void vr_gelu(float *x, size_t n)
{
#ifdef VR_HAVE_MVEC
    switch (vector_width()) {
    case 2: act16(x, n, VR_FN_GELU); return;
    case 1: gelu8(x, n); return;
    default: break;
    }
#endif
    for (size_t i = 0; i < n; i++)
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

void vr_gelu_tanh(float *x, size_t n)
{
#ifdef VR_HAVE_MVEC
    if (vector_width() == 2) {
        act16(x, n, VR_FN_GELU_TANH);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
}

/* x (n) = x sigmoid(a x) */
static void xsigmoid(float *x, size_t n, float a)
{
#ifdef VR_HAVE_MVEC
    if (vector_width() == 2) {
        xsigmoid16(x, n, a);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] / (1.0f + expf(-a * x[i]));
}

void vr_quick_gelu(float *x, size_t n) { xsigmoid(x, n, 1.702f); }

void vr_activate(float *x, size_t n, vr_act_fn f)
{
    switch (f) {
    case VR_FN_GELU: vr_gelu(x, n); break;
    case VR_FN_GELU_TANH: vr_gelu_tanh(x, n); break;
    case VR_FN_QUICK_GELU: vr_quick_gelu(x, n); break;
    case VR_FN_NONE: break;
    }
}

void vr_swiglu(float *out, const float *gv, size_t n, size_t M)
{
    for (size_t i = 0; i < n; i++) {
        float *o = out + i * M;
        memcpy(o, gv + i * 2 * M, M * sizeof *o);
        xsigmoid(o, M, 1.0f);
        const float *v = gv + i * 2 * M + M;
        for (size_t j = 0; j < M; j++)
            o[j] *= v[j];
    }
}

void vr_layernorm(float *out, size_t ld_out, const float *x, size_t ld_x,
                  const float *w, const float *b, size_t n, size_t D, double eps)
{
    void (*row)(float *, const float *, const float *, const float *, size_t, double) =
        layernorm_row;
#ifdef VR_HAVE_MVEC
    row = vector_width() == 2 ? layernorm_row16 : vector_width() == 1 ? layernorm_row8 : row;
#endif
    for (size_t i = 0; i < n; i++)
        row(out + i * ld_out, x + i * ld_x, w, b, D, eps);
}

/* x (n) = exp(x - sub) */
static void exp_sub(float *x, size_t n, float sub)
{
#ifdef VR_HAVE_MVEC
    switch (vector_width()) {
    case 2: exp16(x, n, sub); return;
    case 1: exp8(x, n, sub); return;
    default: break;
    }
#endif
    for (size_t i = 0; i < n; i++)
        x[i] = expf(x[i] - sub);
}

void vr_add(float *x, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] += y[i];
}

void vr_bf16_add(float *x, const uint16_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)h[i] << 16;
        float f;
        memcpy(&f, &u, sizeof f);
        x[i] += f;
    }
}

void vr_to_f16(uint16_t *out, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t f;
        memcpy(&f, &x[i], 4);
        uint32_t sign = (f >> 16) & 0x8000u, e = (f >> 23) & 0xffu, m = f & 0x7fffffu;
        uint16_t h;
        if (e == 0xff) { /* inf, NaN (quiet) */
            h = (uint16_t)(sign | 0x7c00u | (m ? 0x200u | (m >> 13) : 0));
        } else if (e > 142) { /* >= 2^16: beyond the largest half */
            h = (uint16_t)(sign | 0x7c00u);
        } else if (e < 102) { /* below half the smallest subnormal: zero */
            h = (uint16_t)sign;
        } else {
            /* the value as a fixed-point number of 2^-24 units (subnormal
             * halves) or with 10 mantissa bits, then rounded to nearest even */
            int shift = e < 113 ? 126 - (int)e : 13; /* bits dropped */
            uint32_t mant = e < 113 ? m | 0x800000u : m;
            uint32_t base = e < 113 ? 0 : (e - 112) << 10;
            uint32_t q = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
            uint32_t v = base + q;
            if (rem > half || (rem == half && (q & 1)))
                v++; /* a carry into the exponent is the right rounding, up to infinity */
            h = (uint16_t)(sign | v);
        }
        out[i] = h;
    }
}

float vr_f16_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 0x400u), (int)e - 25);
    uint32_t bits;
    memcpy(&bits, &v, 4);
    bits |= sign;
    memcpy(&v, &bits, 4);
    return v;
}

void vr_l2_normalize_rows(float *x, size_t n, size_t D)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t j = 0; j < D; j++)
            s += (double)x[i * D + j] * x[i * D + j];
        if (s > 0.0) {
            double inv = 1.0 / sqrt(s);
            for (size_t j = 0; j < D; j++)
                x[i * D + j] = (float)(x[i * D + j] * inv);
        }
    }
}

void vr_softmax_rows(float *x, size_t n, size_t D)
{
    for (size_t i = 0; i < n; i++) {
        float *r = x + i * D;
        float m = r[0];
        for (size_t j = 1; j < D; j++)
            m = r[j] > m ? r[j] : m;
        exp_sub(r, D, m);
        double s = 0.0;
        for (size_t j = 0; j < D; j++)
            s += r[j];
        float inv = (float)(1.0 / s);
        for (size_t j = 0; j < D; j++)
            r[j] *= inv;
    }
}

void vr_im2col(float *out, const float *img, size_t B, size_t C, size_t gh, size_t gw,
               size_t p)
{
    size_t Hi = gh * p, Wi = gw * p, row_len = C * p * p;
    for (size_t b = 0; b < B; b++)
        for (size_t gy = 0; gy < gh; gy++)
            for (size_t gx = 0; gx < gw; gx++) {
                float *o = out + ((b * gh + gy) * gw + gx) * row_len;
                for (size_t c = 0; c < C; c++)
                    for (size_t y = 0; y < p; y++) {
                        const float *src = img + ((b * C + c) * Hi + gy * p + y) * Wi + gx * p;
                        for (size_t xx = 0; xx < p; xx++)
                            *o++ = src[xx];
                    }
            }
}

void vr_topk(int *idx, const float *x, size_t n, size_t k)
{
    /* k is small (a handful of classes): insertion into a sorted list. */
    size_t have = 0;
    for (size_t i = 0; i < n; i++) {
        size_t pos = have;
        while (pos > 0 && x[i] > x[idx[pos - 1]])
            pos--;
        if (pos >= k)
            continue;
        size_t last = have < k ? have : k - 1;
        for (size_t j = last; j > pos; j--)
            idx[j] = idx[j - 1];
        idx[pos] = (int)i;
        if (have < k)
            have++;
    }
}
