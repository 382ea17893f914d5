/* act16.h - the activations on 16 float32 lanes (AVX-512 and glibc's vector
 * math library), one definition for kernels.c's row loops and quant.c's
 * fused int8 epilogue, so that both give the same floats.
 *
 * libmvec (glibc 2.35 and later for erff) has the x86-64 vector ABI's 16-
 * and 8-lane variants of erff, expf and tanhf, accurate to a few ulp like
 * the scalar ones; they are callable only from code built for AVX-512 or
 * AVX2, hence the target attributes and the callers' CPU checks at run
 * time. VR_HAVE_MVEC says whether they are here. */
#ifndef VR_ACT16_H
#define VR_ACT16_H

#include "kernels.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(VR_NO_MVEC)
#include <immintrin.h>
#include <math.h>
#define VR_HAVE_MVEC 1
/* The declarations carry the ISA too: clang checks the vector ABI on both
 * sides of a call. */
__attribute__((target("avx512f"))) __m512 _ZGVeN16v_erff(__m512);
__attribute__((target("avx512f"))) __m512 _ZGVeN16v_expf(__m512);
__attribute__((target("avx2"))) __m256 _ZGVdN8v_erff(__m256);
__attribute__((target("avx2"))) __m256 _ZGVdN8v_expf(__m256);
__attribute__((target("avx512f"))) __m512 _ZGVeN16v_tanhf(__m512);

/* 0.5 v (1 + erf(v / sqrt 2)) */
__attribute__((target("avx512f"))) static inline __m512 vr_gelu_v16(__m512 v)
{
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f),
                 r2 = _mm512_set1_ps((float)M_SQRT1_2);
    __m512 e = _ZGVeN16v_erff(_mm512_mul_ps(v, r2));
    return _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, e));
}

/* 0.5 v (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3))) */
__attribute__((target("avx512f"))) static inline __m512 vr_gelu_tanh_v16(__m512 v)
{
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f),
                 c0 = _mm512_set1_ps(0.7978845608028654f), c1 = _mm512_set1_ps(0.044715f);
    __m512 in = _mm512_mul_ps(c0, _mm512_fmadd_ps(_mm512_mul_ps(c1, v), _mm512_mul_ps(v, v), v));
    __m512 t = _ZGVeN16v_tanhf(in);
    return _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, t));
}

/* v sigmoid(a v) = v / (1 + exp(-a v)) */
__attribute__((target("avx512f"))) static inline __m512 vr_xsigmoid_v16(__m512 v, float a)
{
    __m512 e = _ZGVeN16v_expf(_mm512_mul_ps(_mm512_set1_ps(-a), v));
    return _mm512_div_ps(v, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

/* f(v) for the activations of kernels.h (quick_gelu: a = 1.702) */
__attribute__((target("avx512f"))) static inline __m512 vr_act_v16(__m512 v, vr_act_fn f)
{
    switch (f) {
    case VR_FN_GELU: return vr_gelu_v16(v);
    case VR_FN_GELU_TANH: return vr_gelu_tanh_v16(v);
    case VR_FN_QUICK_GELU: return vr_xsigmoid_v16(v, 1.702f);
    case VR_FN_NONE: break;
    }
    return v;
}
#endif

#endif
