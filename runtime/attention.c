/* attention.c - multi-head self-attention on oneDNN or OpenBLAS and the pool. */
#include "attention.h"

#include <math.h>
#include <stdlib.h>

#include "flash.h"
#include "gemm.h"
#include "kernels.h"
#include "pool.h"

#include "onednn.h"

struct vr_attention {
    vr_gemm_backend be;
    size_t H, T, hd;
    int fused; /* flash.c's kernel, whatever the back end */
#ifdef VR_HAVE_ONEDNN
    dnnl_engine_t engine; /* shared (onednn.h), not owned */
    dnnl_stream_t stream;
    dnnl_primitive_t qk, softmax, av;
    dnnl_memory_t q, k, s, v, o;
#endif
};

size_t vr_attention_scratch(const vr_attention *a, int threads)
{
    size_t n = (size_t)(threads > 0 ? threads : 1);
    if (!a || !a->H)
        return 1;
    /* both cover vr_attention_first_row's T floats per thread */
    if (a->fused)
        return n * vr_flash_scratch(a->T, a->hd);
    return (a->H > n ? a->H : n) * a->T * a->T; /* oneDNN: an image's heads; pool: one per thread */
}

typedef struct {
    const vr_attention *a;
    const float *qkv;
    float *out, *scratch;
    size_t chunks; /* query-row ranges per head */
} fused_job;

/* Units [begin, end), numbered (b * H + h) * chunks + c: query rows of
 * chunk c of head h of image b. A worker's units are consecutive, so it
 * packs a head's keys and values once for all the chunks it has of it. */
static void fused_range(void *ctx, size_t begin, size_t end, int worker)
{
    const fused_job *j = ctx;
    size_t T = j->a->T, hd = j->a->hd, H = j->a->H, Hd = H * hd, ld = 3 * Hd;
    float *scratch = j->scratch + (size_t)worker * vr_flash_scratch(T, hd);
    float scale = (float)(1.0 / sqrt((double)hd));
    size_t packed = (size_t)-1;
    for (size_t u = begin; u < end; u++) {
        size_t bh = u / j->chunks, c = u % j->chunks, b = bh / H, h = bh % H;
        const float *q = j->qkv + b * T * ld + h * hd;
        if (bh != packed) {
            vr_flash_pack(scratch, q + Hd, q + 2 * Hd, ld, T, hd);
            packed = bh;
        }
        vr_flash_rows(scratch, q, ld, j->out + b * T * Hd + h * hd, Hd, T, hd, scale,
                      T * c / j->chunks, T * (c + 1) / j->chunks);
    }
}

static void fused(const vr_attention *a, const float *qkv, float *out, size_t B, float *scratch)
{
    /* enough units for every thread to get several; chunks of >= 12 rows */
    size_t units = 4 * (size_t)vr_pool_threads(), chunks = 1;
    while (B * a->H * chunks < units && a->T / (chunks + 1) >= 12)
        chunks++;
    fused_job j = {a, qkv, out, scratch, chunks};
    vr_pool_run(B * a->H * chunks, 1, fused_range, &j);
}

typedef struct {
    const vr_attention *a;
    const float *qkv;
    float *out, *scores;
} heads_job;

/* Heads [begin, end) of the batch, numbered b * H + h; one scores buffer per
 * thread. */
static void heads(void *ctx, size_t begin, size_t end, int worker)
{
    const heads_job *j = ctx;
    size_t T = j->a->T, hd = j->a->hd, H = j->a->H, Hd = H * hd, ld = 3 * Hd;
    float scale = (float)(1.0 / sqrt((double)hd));
    float *scores = j->scores + (size_t)worker * T * T;
    for (size_t i = begin; i < end; i++) {
        size_t b = i / H, h = i % H;
        const float *q = j->qkv + b * T * ld + h * hd;
        const float *k = q + Hd;
        const float *v = q + 2 * Hd;
        vr_sgemm(1, T, T, hd, scale, q, ld, k, ld, 0.0f, scores, T);
        vr_softmax_rows(scores, T, T);
        vr_sgemm(0, T, hd, T, 1.0f, scores, T, v, ld, 0.0f, j->out + b * T * Hd + h * hd, Hd);
    }
}

/* The pairs spread over the pool, each with one-thread BLAS (a head's GEMMs
 * are too small to share). */
static void pooled(const vr_attention *a, const float *qkv, float *out, size_t B, float *scores)
{
    heads_job j = {a, qkv, out, scores};
    int blas = vr_gemm_threads();
    int spread = vr_pool_threads() > 1 && B * a->H >= 2;
    if (spread)
        vr_gemm_set_threads(1);
    vr_pool_run(B * a->H, 1, heads, &j);
    if (spread)
        vr_gemm_set_threads(blas);
}

#ifdef VR_HAVE_ONEDNN
/* An image's tensors as (1, H, rows, cols) views with strides into qkv,
 * scores and out; the data handles are set per call. */
static vr_status build(vr_attention *a)
{
    dnnl_dim_t H = (dnnl_dim_t)a->H, T = (dnnl_dim_t)a->T, hd = (dnnl_dim_t)a->hd;
    dnnl_dim_t Hd = H * hd, ld = 3 * Hd;
    dnnl_memory_desc_t qd, kd, sd, vd, od;
    dnnl_dims_t qdim = {1, H, T, hd}, qs = {T * ld, hd, ld, 1};
    dnnl_dims_t kdim = {1, H, hd, T}, ks = {T * ld, hd, 1, ld}; /* K^T */
    dnnl_dims_t sdim = {1, H, T, T}, ss = {H * T * T, T * T, T, 1};
    dnnl_dims_t odim = {1, H, T, hd}, os = {T * Hd, hd, Hd, 1};
    dnnl_matmul_desc_t m1, m2;
    dnnl_softmax_v2_desc_t sm;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t p1 = NULL, p2 = NULL, p3 = NULL;
    float scale = (float)(1.0 / sqrt((double)a->hd));
    vr_status st;
    if ((st = vr_dnnl_engine(&a->engine, &a->stream)) ||
        (st = vr_dnnl_check(dnnl_memory_desc_init_by_strides(&qd, 4, qdim, dnnl_f32, qs),
                            "views")) ||
        (st = vr_dnnl_check(dnnl_memory_desc_init_by_strides(&kd, 4, kdim, dnnl_f32, ks),
                            "views")) ||
        (st = vr_dnnl_check(dnnl_memory_desc_init_by_strides(&sd, 4, sdim, dnnl_f32, ss),
                            "views")) ||
        (st = vr_dnnl_check(dnnl_memory_desc_init_by_strides(&vd, 4, qdim, dnnl_f32, qs),
                            "views")) ||
        (st = vr_dnnl_check(dnnl_memory_desc_init_by_strides(&od, 4, odim, dnnl_f32, os),
                            "views")) ||
        (st = vr_dnnl_check(dnnl_matmul_desc_init(&m1, &qd, &kd, NULL, &sd), "describing Q K^T")) ||
        (st = vr_dnnl_check(dnnl_matmul_desc_init(&m2, &sd, &vd, NULL, &od), "describing P V")) ||
        (st = vr_dnnl_check(dnnl_softmax_v2_forward_desc_init(&sm, dnnl_forward_inference,
                                                              dnnl_softmax_accurate, &sd, &sd,
                                                              3),
                            "describing the softmax")) ||
        (st = vr_dnnl_check(dnnl_primitive_attr_create(&attr), "scaling")) ||
        (st = vr_dnnl_check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale),
                            "scaling")) ||
        (st = vr_dnnl_check(dnnl_primitive_desc_create(&p1, &m1, attr, a->engine, NULL),
                            "Q K^T")) ||
        (st = vr_dnnl_check(dnnl_primitive_desc_create(&p2, &m2, NULL, a->engine, NULL), "P V")) ||
        (st = vr_dnnl_check(dnnl_primitive_desc_create(&p3, &sm, NULL, a->engine, NULL),
                            "softmax")) ||
        (st = vr_dnnl_check(dnnl_primitive_create(&a->qk, p1), "creating Q K^T")) ||
        (st = vr_dnnl_check(dnnl_primitive_create(&a->av, p2), "creating P V")) ||
        (st = vr_dnnl_check(dnnl_primitive_create(&a->softmax, p3), "creating the softmax")) ||
        (st = vr_dnnl_check(dnnl_memory_create(&a->q, &qd, a->engine, DNNL_MEMORY_NONE),
                            "views")) ||
        (st = vr_dnnl_check(dnnl_memory_create(&a->k, &kd, a->engine, DNNL_MEMORY_NONE),
                            "views")) ||
        (st = vr_dnnl_check(dnnl_memory_create(&a->s, &sd, a->engine, DNNL_MEMORY_NONE),
                            "views")) ||
        (st = vr_dnnl_check(dnnl_memory_create(&a->v, &vd, a->engine, DNNL_MEMORY_NONE),
                            "views")) ||
        (st = vr_dnnl_check(dnnl_memory_create(&a->o, &od, a->engine, DNNL_MEMORY_NONE),
                            "views"))) {
        /* reported by check; the caller frees what was made */
    }
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (p1)
        dnnl_primitive_desc_destroy(p1);
    if (p2)
        dnnl_primitive_desc_destroy(p2);
    if (p3)
        dnnl_primitive_desc_destroy(p3);
    return st;
}

static vr_status onednn(vr_attention *a, const float *qkv, float *out, size_t B, float *scores)
{
    size_t T = a->T, Hd = a->H * a->hd, ld = 3 * Hd;
    dnnl_exec_arg_t qk[3] = {{DNNL_ARG_SRC, a->q}, {DNNL_ARG_WEIGHTS, a->k},
                             {DNNL_ARG_DST, a->s}};
    dnnl_exec_arg_t sm[2] = {{DNNL_ARG_SRC, a->s}, {DNNL_ARG_DST, a->s}};
    dnnl_exec_arg_t av[3] = {{DNNL_ARG_SRC, a->s}, {DNNL_ARG_WEIGHTS, a->v},
                             {DNNL_ARG_DST, a->o}};
    dnnl_memory_set_data_handle(a->s, scores);
    /* image by image: its scores (H*T*T floats) stay in cache between the steps */
    for (size_t b = 0; b < B; b++) {
        const float *q = qkv + b * T * ld;
        dnnl_memory_set_data_handle(a->q, (void *)q);
        dnnl_memory_set_data_handle(a->k, (void *)(q + Hd));
        dnnl_memory_set_data_handle(a->v, (void *)(q + 2 * Hd));
        dnnl_memory_set_data_handle(a->o, out + b * T * Hd);
        dnnl_status_t r;
        if ((r = dnnl_primitive_execute(a->qk, a->stream, 3, qk)) ||
            (r = dnnl_primitive_execute(a->softmax, a->stream, 2, sm)) ||
            (r = dnnl_primitive_execute(a->av, a->stream, 3, av)))
            return vr_dnnl_check(r, "running");
    }
    return vr_dnnl_check(dnnl_stream_wait(a->stream), "running");
}
#endif

vr_status vr_attention_create(vr_attention **out, vr_gemm_backend be, size_t H, size_t T,
                              size_t hd)
{
    vr_attention *a = calloc(1, sizeof *a);
    *out = NULL;
    if (!a)
        return vr_fail(VR_ERR_NOMEM, "cannot allocate the attention record");
    a->be = be;
    a->H = H;
    a->T = T;
    a->hd = hd;
    a->fused = vr_flash_usable(hd);
#ifdef VR_HAVE_ONEDNN
    vr_status st;
    if (be == VR_GEMM_ONEDNN && H > 0 && !a->fused && (st = build(a))) {
        vr_attention_free(a);
        return st;
    }
#endif
    *out = a;
    return VR_OK;
}

const char *vr_attention_kind(const vr_attention *a)
{
    return a->fused                  ? "fused (AVX-512)"
           : a->be == VR_GEMM_ONEDNN ? "oneDNN matmuls and softmax"
                                     : "pool threads with one-thread sgemm";
}

vr_status vr_attention_run(vr_attention *a, const float *qkv, float *out, size_t B,
                           float *scores)
{
    if (a->H == 0)
        return VR_OK;
    if (a->fused) {
        fused(a, qkv, out, B, scores);
        return VR_OK;
    }
#ifdef VR_HAVE_ONEDNN
    if (a->be == VR_GEMM_ONEDNN)
        return onednn(a, qkv, out, B, scores);
#endif
    pooled(a, qkv, out, B, scores);
    return VR_OK;
}

typedef struct {
    const vr_attention *a;
    const float *qkv;
    float *out, *scratch;
} first_job;

static double dot(const float *a, const float *b, size_t n)
{
    double d = 0.0;
    for (size_t i = 0; i < n; i++)
        d += (double)a[i] * b[i];
    return d;
}

/* Units [begin, end) are (image, head) pairs: one query row against all T
 * keys in double (a row is a few T*hd multiply-adds: no kernel needed). The
 * scores are computed twice, for their maximum and then for the weights, so
 * that only the weights are rounded to float. */
static void first_range(void *ctx, size_t begin, size_t end, int worker)
{
    const first_job *j = ctx;
    size_t T = j->a->T, hd = j->a->hd, H = j->a->H, Hd = H * hd, ld = 3 * Hd;
    float *e = j->scratch + (size_t)worker * T;
    double scale = 1.0 / sqrt((double)hd);
    for (size_t u = begin; u < end; u++) {
        size_t b = u / H, h = u % H;
        const float *q = j->qkv + b * T * ld + h * hd, *k = q + Hd, *v = q + 2 * Hd;
        double max = -INFINITY, sum = 0.0;
        for (size_t t = 0; t < T; t++) {
            double d = dot(q, k + t * ld, hd) * scale;
            max = d > max ? d : max;
        }
        for (size_t t = 0; t < T; t++) {
            double p = exp(dot(q, k + t * ld, hd) * scale - max);
            sum += p;
            e[t] = (float)p;
        }
        float *o = j->out + b * Hd + h * hd;
        for (size_t i0 = 0; i0 < hd; i0 += 16) {
            size_t w = hd - i0 < 16 ? hd - i0 : 16;
            double acc[16] = {0};
            for (size_t t = 0; t < T; t++)
                for (size_t i = 0; i < w; i++)
                    acc[i] += (double)e[t] * v[t * ld + i0 + i];
            for (size_t i = 0; i < w; i++)
                o[i0 + i] = (float)(acc[i] / sum);
        }
    }
}

vr_status vr_attention_first_row(const vr_attention *a, const float *qkv, float *out, size_t B,
                                 float *scratch)
{
    if (a->H == 0)
        return VR_OK;
    first_job j = {a, qkv, out, scratch};
    vr_pool_run(B * a->H, 4, first_range, &j);
    return VR_OK;
}

void vr_attention_free(vr_attention *a)
{
    if (!a)
        return;
#ifdef VR_HAVE_ONEDNN
    dnnl_primitive_t *p[] = {&a->qk, &a->softmax, &a->av};
    for (size_t i = 0; i < 3; i++)
        if (*p[i])
            dnnl_primitive_destroy(*p[i]);
    dnnl_memory_t *m[] = {&a->q, &a->k, &a->s, &a->v, &a->o};
    for (size_t i = 0; i < 5; i++)
        if (*m[i])
            dnnl_memory_destroy(*m[i]);
#endif
    free(a);
}
