/* linear.c - prepared weight matrices on oneDNN's matmul or OpenBLAS. */
#include "linear.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "quant.h"
#include "rows.h"

#include "onednn.h"

/* Scratch shared by every vr_linear (they run one at a time, from the thread
 * that runs the forward pass): the float32 product before a separate
 * residual add, and A rounded to bfloat16. */
static struct {
    float *partial;
    size_t partial_n;
    uint16_t *half;
    size_t half_n;
    uint8_t *qa;      /* int8: A quantised (M, K) */
    size_t qa_n;
    float *sa;        /* its row scales and zero points (M) */
    int32_t *za;
    size_t sa_n, za_n;
    int32_t *acc;     /* the int32 product of one slice of rows */
    size_t acc_n;
    float *range;     /* int8 on a column slice: the rows' (-lo, hi) (M, 2) */
    size_t range_n;
    float *y8, *y32;  /* a checked matrix's two outputs */
    size_t y8_n, y32_n;
    uint8_t *qo;      /* int8 output rows quantised for the next matrix (run_to_q) */
    float *so;
    int32_t *zo;
    size_t qo_n, so_n, zo_n;
} scratch;

static void *grow(void *p, size_t *have, size_t want, size_t elem, const char *what)
{
    if (*have >= want)
        return p;
    void *q = vr_alloc(want, elem, what);
    if (!q)
        return NULL;
    free(p);
    *have = want;
    return q;
}

void vr_linear_release_scratch(void)
{
    free(scratch.partial);
    free(scratch.half);
    free(scratch.qa);
    free(scratch.sa);
    free(scratch.za);
    free(scratch.acc);
    free(scratch.range);
    free(scratch.y8);
    free(scratch.y32);
    free(scratch.qo);
    free(scratch.so);
    free(scratch.zo);
    memset(&scratch, 0, sizeof scratch);
}

#define CACHE 4 /* primitives per matrix: one per batch row count seen lately */

struct vr_linear {
    vr_gemm_backend be;
    vr_precision prec;
    int flags;
    const float *W, *bias;
    size_t N, K;
    size_t packed_bytes;
    const float *absmax; /* int8 on a column slice: the whole rows' max |W| (creation only) */
    vr_linear *twin; /* VR_LIN_CHECK: the float32 version */
    int check_acc;   /* VR_LIN_CHECK: the caller asked for C += */
    double err2, ref2;
    float *wscale;   /* int8: per output channel (N) */
    int32_t *wsum;   /* int8: sum of each channel's int8 weights (N) */
#ifdef VR_HAVE_ONEDNN
    dnnl_memory_desc_t wmd; /* the packed layout */
    dnnl_memory_t wmem, bmem;
    struct {
        size_t M;
        dnnl_primitive_t p;
        dnnl_memory_t src, dst;
        unsigned long used;
    } cache[CACHE];
    unsigned long clock;
#endif
};

const char *vr_linear_backend_name(vr_gemm_backend be)
{
    return be == VR_GEMM_ONEDNN ? "onednn" : be == VR_GEMM_OPENBLAS ? "openblas" : "auto";
}

const char *vr_linear_precision_name(vr_precision p)
{
    return p == VR_BF16 ? "bf16" : p == VR_INT8 ? "int8" : "fp32";
}

int vr_linear_cpu_vnni(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

int vr_linear_cpu_bf16(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

#ifdef VR_HAVE_ONEDNN
int vr_linear_have_onednn(void) { return 1; }

const char *vr_linear_onednn_version(void)
{
    static char text[64];
    const dnnl_version_t *v = dnnl_version();
    snprintf(text, sizeof text, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
    return text;
}

static dnnl_engine_t engine;
static dnnl_stream_t stream;

vr_status vr_dnnl_check(dnnl_status_t s, const char *what)
{
    if (s == dnnl_success)
        return VR_OK;
    return vr_fail(s == dnnl_out_of_memory ? VR_ERR_NOMEM : VR_ERR_INTERNAL,
                   "oneDNN: %s failed (status %d)", what, (int)s);
}

vr_status vr_dnnl_engine(dnnl_engine_t *e, dnnl_stream_t *st)
{
    vr_status r = VR_OK;
    if (!engine &&
        !(r = vr_dnnl_check(dnnl_engine_create(&engine, dnnl_cpu, 0), "creating the engine")) &&
        (r = vr_dnnl_check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags),
                           "creating a stream"))) {
        dnnl_engine_destroy(engine);
        engine = NULL;
    }
    *e = engine;
    *st = stream;
    return r;
}

static dnnl_data_type_t dtype(vr_precision p)
{
    return p == VR_BF16 ? dnnl_bf16 : p == VR_INT8 ? dnnl_u8 : dnnl_f32;
}

/* The matmul for M rows: src (M, K) in the precision, weights in `wmd`
 * (format_tag_any when wmd is NULL), dst (M, N) float32, bias and the
 * epilogue as post-ops. */
static dnnl_status_t matmul_pd(dnnl_primitive_desc_t *pd, const vr_linear *l, size_t M,
                               const dnnl_memory_desc_t *wmd)
{
    dnnl_memory_desc_t sd, wd, dd, bd;
    dnnl_dims_t s = {(dnnl_dim_t)M, (dnnl_dim_t)l->K}, w = {(dnnl_dim_t)l->K, (dnnl_dim_t)l->N},
                d = {(dnnl_dim_t)M, (dnnl_dim_t)l->N}, b = {1, (dnnl_dim_t)l->N};
    dnnl_status_t r;
    int i8 = l->prec == VR_INT8; /* u8 x s8 -> s32; the epilogue is vitrun's */
    if ((r = dnnl_memory_desc_init_by_tag(&sd, 2, s, dtype(l->prec), dnnl_ab)) ||
        (r = dnnl_memory_desc_init_by_tag(&dd, 2, d, i8 ? dnnl_s32 : dnnl_f32, dnnl_ab)) ||
        (r = dnnl_memory_desc_init_by_tag(&bd, 2, b, dnnl_f32, dnnl_ab)))
        return r;
    if (wmd)
        wd = *wmd;
    else if ((r = dnnl_memory_desc_init_by_tag(&wd, 2, w, i8 ? dnnl_s8 : dtype(l->prec),
                                               dnnl_format_tag_any)))
        return r;
    dnnl_matmul_desc_t md;
    if ((r = dnnl_matmul_desc_init(&md, &sd, &wd, l->bias && !i8 ? &bd : NULL, &dd)))
        return r;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    if (l->flags && !i8) {
        if ((r = dnnl_primitive_attr_create(&attr)) || (r = dnnl_post_ops_create(&po)))
            goto done;
        if ((l->flags & VR_LIN_ACCUMULATE) && (r = dnnl_post_ops_append_sum(po, 1.0f)))
            goto done;
        /* quick_gelu x sigmoid(1.702 x) is oneDNN's swish with alpha 1.702 */
        vr_act_fn f = VR_LIN_ACT_OF(l->flags);
        dnnl_alg_kind_t alg = f == VR_FN_GELU        ? dnnl_eltwise_gelu_erf
                              : f == VR_FN_GELU_TANH ? dnnl_eltwise_gelu_tanh
                                                     : dnnl_eltwise_swish;
        float alpha = f == VR_FN_QUICK_GELU ? 1.702f : 0.0f;
        if (f != VR_FN_NONE && (r = dnnl_post_ops_append_eltwise(po, 1.0f, alg, alpha, 0.0f)))
            goto done;
        if ((r = dnnl_primitive_attr_set_post_ops(attr, po)))
            goto done;
    }
    r = dnnl_primitive_desc_create(pd, &md, attr, engine, NULL);
done:
    if (po)
        dnnl_post_ops_destroy(po);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return r;
}

/* Without AVX-512 oneDNN multiplies float32 through its plain sgemm, the
 * weights row-major (K, N). A row of N floats that is a multiple of 1 KiB
 * (768, 2304, 3072) puts a column's elements on few cache sets: for a few
 * hundred rows its no-copy kernel ran ViT-B's fc1 2.6x slower (27.4 vs
 * 10.7 ms at 197 rows, 1 core, oneDNN 2.6 on an AMD EPYC). Rows of N + 16
 * floats are neutral to 7% faster on every other shape measured. Packed
 * (blocked) layouts are the kernels' own: left alone. */
static void plain_weights_ld(vr_linear *l)
{
    dnnl_memory_desc_t ab, padded;
    dnnl_dims_t dims = {(dnnl_dim_t)l->K, (dnnl_dim_t)l->N};
    dnnl_dims_t strides = {(dnnl_dim_t)l->N + 16, 1};
    dnnl_primitive_desc_t pd = NULL, pp = NULL;
    const char *impl = NULL, *pimpl = NULL;
    if (l->N * sizeof(float) % 1024 ||
        dnnl_memory_desc_init_by_tag(&ab, 2, dims, dnnl_f32, dnnl_ab) ||
        !dnnl_memory_desc_equal(&ab, &l->wmd) ||
        dnnl_memory_desc_init_by_strides(&padded, 2, dims, dnnl_f32, strides) ||
        matmul_pd(&pd, l, 256, &ab) != dnnl_success ||
        matmul_pd(&pp, l, 256, &padded) != dnnl_success) {
        if (pd)
            dnnl_primitive_desc_destroy(pd);
        return;
    }
    /* only when the same kernels take the padded rows */
    if (!dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) &&
        !dnnl_primitive_desc_query(pp, dnnl_query_impl_info_str, 0, &pimpl) && impl && pimpl &&
        !strcmp(impl, pimpl))
        l->wmd = padded;
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_desc_destroy(pp);
}

static vr_status dnnl_prepare(vr_linear *l)
{
    vr_status st;
    dnnl_primitive_desc_t pd = NULL, rpd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_memory_t user = NULL;
    dnnl_memory_desc_t umd;
    int8_t *q = NULL;
    /* the layout the kernels want for a full batch of rows; every row count
     * tried here (1 to 1576 on ViT-B shapes) wants the same one */
    dnnl_engine_t eng; /* the shared ones, also in engine and stream above */
    dnnl_stream_t str;
    if ((st = vr_dnnl_engine(&eng, &str)) ||
        (st = vr_dnnl_check(matmul_pd(&pd, l, 256, NULL), "choosing a matmul")))
        goto out;
    l->wmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if (l->prec == VR_FP32)
        plain_weights_ld(l);
    l->packed_bytes = dnnl_memory_desc_get_size(&l->wmd);
    const void *wsrc = l->W;
    if (l->prec == VR_INT8) {
        /* quantised here, then packed like the float32 weights below */
        size_t N = l->N, K = l->K;
        if (!(q = vr_alloc(N * K, 1, "int8 weights")) ||
            !(l->wscale = vr_alloc(N, sizeof *l->wscale, "int8 weight scales")) ||
            !(l->wsum = vr_alloc(N, sizeof *l->wsum, "int8 weight sums"))) {
            st = VR_ERR_NOMEM;
            goto out;
        }
        vr_quant_weights(q, l->wscale, l->wsum, l->W, N, K, l->absmax);
        wsrc = q;
        l->packed_bytes += N * (sizeof *l->wscale + sizeof *l->wsum);
    }
    /* W (N, K) row-major is the (K, N) weights matrix with strides (1, K) */
    dnnl_dims_t dims = {(dnnl_dim_t)l->K, (dnnl_dim_t)l->N}, strides = {1, (dnnl_dim_t)l->K};
    if ((st = vr_dnnl_check(dnnl_memory_desc_init_by_strides(
                                &umd, 2, dims, l->prec == VR_INT8 ? dnnl_s8 : dnnl_f32, strides),
                         "describing weights")) ||
        (st = vr_dnnl_check(dnnl_memory_create(&user, &umd, engine, (void *)wsrc),
                         "wrapping weights")) ||
        (st = vr_dnnl_check(dnnl_memory_create(&l->wmem, &l->wmd, engine, DNNL_MEMORY_ALLOCATE),
                         "allocating packed weights")) ||
        (st = vr_dnnl_check(dnnl_reorder_primitive_desc_create(&rpd, &umd, engine, &l->wmd,
                                                            engine, NULL),
                         "choosing a weight reorder")) ||
        (st = vr_dnnl_check(dnnl_primitive_create(&reorder, rpd), "creating a weight reorder")))
        goto out;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, l->wmem}};
    if ((st = vr_dnnl_check(dnnl_primitive_execute(reorder, stream, 2, args), "packing weights")) ||
        (st = vr_dnnl_check(dnnl_stream_wait(stream), "packing weights")))
        goto out;
    if (l->bias && l->prec != VR_INT8) {
        dnnl_memory_desc_t bd;
        dnnl_dims_t b = {1, (dnnl_dim_t)l->N};
        if ((st = vr_dnnl_check(dnnl_memory_desc_init_by_tag(&bd, 2, b, dnnl_f32, dnnl_ab),
                             "describing a bias")) ||
            (st = vr_dnnl_check(dnnl_memory_create(&l->bmem, &bd, engine, (void *)l->bias),
                             "wrapping a bias")))
            goto out;
    }
    l->W = NULL; /* not read again */
out:
    if (reorder)
        dnnl_primitive_destroy(reorder);
    if (rpd)
        dnnl_primitive_desc_destroy(rpd);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (user)
        dnnl_memory_destroy(user);
    free(q);
    return st;
}

static void dnnl_entry_free(vr_linear *l, int i)
{
    if (l->cache[i].p)
        dnnl_primitive_destroy(l->cache[i].p);
    if (l->cache[i].src)
        dnnl_memory_destroy(l->cache[i].src);
    if (l->cache[i].dst)
        dnnl_memory_destroy(l->cache[i].dst);
    memset(&l->cache[i], 0, sizeof l->cache[i]);
}

static void dnnl_free(vr_linear *l)
{
    for (int i = 0; i < CACHE; i++)
        dnnl_entry_free(l, i);
    if (l->wmem)
        dnnl_memory_destroy(l->wmem);
    if (l->bmem)
        dnnl_memory_destroy(l->bmem);
    free(l->wscale);
    free(l->wsum);
}

/* The cached primitive for M rows, made on first use (evicting the least
 * recently used). */
static vr_status dnnl_entry(vr_linear *l, size_t M, int *slot)
{
    int victim = 0;
    for (int i = 0; i < CACHE; i++) {
        if (l->cache[i].p && l->cache[i].M == M) {
            l->cache[i].used = ++l->clock;
            *slot = i;
            return VR_OK;
        }
        if (l->cache[i].used < l->cache[victim].used)
            victim = i;
    }
    dnnl_entry_free(l, victim);
    dnnl_primitive_desc_t pd = NULL;
    vr_status st;
    if (matmul_pd(&pd, l, M, &l->wmd) != dnnl_success)
        return vr_fail(VR_ERR_INTERNAL,
                       "oneDNN has no matmul for %zu x %zu x %zu in the packed weight "
                       "layout; run with --gemm openblas", M, l->N, l->K);
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    st = vr_dnnl_check(dnnl_primitive_create(&l->cache[victim].p, pd), "creating a matmul");
    if (!st)
        st = vr_dnnl_check(dnnl_memory_create(&l->cache[victim].src, smd, engine, DNNL_MEMORY_NONE),
                        "describing matmul input");
    if (!st)
        st = vr_dnnl_check(dnnl_memory_create(&l->cache[victim].dst, dmd, engine, DNNL_MEMORY_NONE),
                        "describing matmul output");
    dnnl_primitive_desc_destroy(pd);
    if (st) {
        dnnl_entry_free(l, victim);
        return st;
    }
    l->cache[victim].M = M;
    l->cache[victim].used = ++l->clock;
    *slot = victim;
    return VR_OK;
}

static vr_status int8_product(vr_linear *l, const vr_qrows *in, float *C, vr_qrows *out,
                              vr_timers *t);

/* One int8 product: A quantised per row, then slices of rows multiplied
 * into int32 and dequantised while they are in cache. Quantising and
 * dequantising count as `activation` time, the integer product as `gemm`. */
static vr_status dnnl_run_int8(vr_linear *l, size_t M, const float *A, float *C, vr_timers *t,
                               vr_linear_agree_fn agree, void *ctx)
{
    size_t K = l->K;
    double t0 = vr_now();
    if (!(scratch.qa = grow(scratch.qa, &scratch.qa_n, M * K, 1, "int8 activations")) ||
        !(scratch.sa = grow(scratch.sa, &scratch.sa_n, M, sizeof(float), "int8 row scales")) ||
        !(scratch.za = grow(scratch.za, &scratch.za_n, M, sizeof(int32_t), "int8 zero points")))
        return VR_ERR_NOMEM;
    if (agree) { /* the whole rows' ranges (quant.h), then this slice */
        vr_status st;
        if (!(scratch.range = grow(scratch.range, &scratch.range_n, 2 * M, sizeof(float),
                                   "int8 row ranges")))
            return VR_ERR_NOMEM;
        vr_quant_ranges(scratch.range, A, M, K);
        double t1 = vr_now();
        if ((st = agree(scratch.range, 2 * M, ctx)))
            return st;
        t0 += vr_now() - t1; /* (the wait is the caller's to count) */
        vr_quant_rows_in(scratch.qa, scratch.sa, scratch.za, A, M, K, scratch.range);
    } else {
        vr_quant_rows(scratch.qa, scratch.sa, scratch.za, A, M, K);
    }
    t->activation += vr_now() - t0;
    vr_qrows in = {scratch.qa, scratch.sa, scratch.za, M, K};
    return int8_product(l, &in, C, NULL, t);
}

/* The product of rows already quantised, in slices of rows: each slice's
 * int32 sums dequantised into C, or (out) quantised again into out's rows. */
static vr_status int8_product(vr_linear *l, const vr_qrows *in, float *C, vr_qrows *out,
                              vr_timers *t)
{
    size_t M = in->M, K = l->K, N = l->N, R = M < VR_LINEAR_INT8_ROWS ? M : VR_LINEAR_INT8_ROWS;
    if (!(scratch.acc = grow(scratch.acc, &scratch.acc_n, R * N, sizeof(int32_t),
                             "int32 products")))
        return VR_ERR_NOMEM;
    for (size_t m0 = 0; m0 < M; m0 += R) {
        size_t rows = M - m0 < R ? M - m0 : R;
        int i = 0;
        vr_status st;
        double t1 = vr_now();
        if ((st = dnnl_entry(l, rows, &i)))
            return st;
        dnnl_memory_set_data_handle(l->cache[i].src, (void *)(in->q + m0 * K));
        dnnl_memory_set_data_handle(l->cache[i].dst, scratch.acc);
        dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, l->cache[i].src},
                                   {DNNL_ARG_WEIGHTS, l->wmem},
                                   {DNNL_ARG_DST, l->cache[i].dst}};
        if ((st = vr_dnnl_check(dnnl_primitive_execute(l->cache[i].p, stream, 3, args),
                                "running an int8 matmul")) ||
            (st = vr_dnnl_check(dnnl_stream_wait(stream), "running an int8 matmul")))
            return st;
        double t2 = vr_now();
        if (out)
            vr_dequant_quant_rows((uint8_t *)out->q + m0 * N, (float *)out->scale + m0,
                                  (int32_t *)out->zp + m0, scratch.acc, rows, N, in->scale + m0,
                                  in->zp + m0, l->wscale, l->wsum, l->bias,
                                  VR_LIN_ACT_OF(l->flags));
        else
            vr_dequant_rows(C + m0 * N, scratch.acc, rows, N, in->scale + m0, in->zp + m0,
                            l->wscale, l->wsum, l->bias, VR_LIN_ACT_OF(l->flags),
                            (l->flags & VR_LIN_ACCUMULATE) != 0);
        t->gemm += t2 - t1;
        t->activation += vr_now() - t2;
    }
    return VR_OK;
}

/* A checked matrix: int8 and float32 outputs apart, the error counted,
 * the float32 output handed on. */
static vr_status run_checked(vr_linear *l, size_t M, const float *A, float *C, vr_timers *t,
                             vr_linear_agree_fn agree, void *ctx)
{
    size_t n = M * l->N; /* bounded like C, which the caller allocated */
    vr_status st;
    if (!(scratch.y8 = grow(scratch.y8, &scratch.y8_n, n, sizeof(float), "int8 check")) ||
        !(scratch.y32 = grow(scratch.y32, &scratch.y32_n, n, sizeof(float), "int8 check")))
        return VR_ERR_NOMEM;
    if ((st = dnnl_run_int8(l, M, A, scratch.y8, t, agree, ctx)) ||
        (st = vr_linear_run(l->twin, M, A, scratch.y32, t)))
        return st;
    for (size_t i = 0; i < n; i++) {
        double d = (double)scratch.y8[i] - scratch.y32[i];
        l->err2 += d * d;
        l->ref2 += (double)scratch.y32[i] * scratch.y32[i];
    }
    if (l->check_acc)
        vr_rows_add(C, scratch.y32, M, l->N);
    else
        memcpy(C, scratch.y32, n * sizeof *C);
    return VR_OK;
}

static vr_status dnnl_run(vr_linear *l, size_t M, const float *A, float *C)
{
    int i = 0;
    vr_status st;
    const void *src = A;
    if (l->prec == VR_BF16) {
        size_t n = M * l->K; /* M*K <= the caller's buffer, already allocated */
        if (!(scratch.half = grow(scratch.half, &scratch.half_n, n, sizeof(uint16_t),
                                  "bfloat16 activations")))
            return VR_ERR_NOMEM;
        vr_rows_to_bf16(scratch.half, A, M, l->K);
        src = scratch.half;
    }
    if ((st = dnnl_entry(l, M, &i)))
        return st;
    dnnl_memory_set_data_handle(l->cache[i].src, (void *)src);
    dnnl_memory_set_data_handle(l->cache[i].dst, C);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, l->cache[i].src},
                               {DNNL_ARG_WEIGHTS, l->wmem},
                               {DNNL_ARG_DST, l->cache[i].dst},
                               {DNNL_ARG_BIAS, l->bmem}};
    if ((st = vr_dnnl_check(dnnl_primitive_execute(l->cache[i].p, stream, l->bias ? 4 : 3, args),
                         "running a matmul")))
        return st;
    return vr_dnnl_check(dnnl_stream_wait(stream), "running a matmul");
}
#else
int vr_linear_have_onednn(void) { return 0; }
const char *vr_linear_onednn_version(void) { return "none"; }
#endif

vr_status vr_linear_choose(vr_gemm_backend *be, vr_precision *prec, char *why, size_t cap)
{
    if (cap)
        why[0] = '\0';
    if (*be == VR_GEMM_ONEDNN && !vr_linear_have_onednn())
        return vr_fail(VR_ERR_USAGE, "--gemm onednn: this vitrun was built without oneDNN "
                                     "(install libdnnl-dev and rebuild)");
    if (*be == VR_GEMM_AUTO)
        *be = vr_linear_have_onednn() ? VR_GEMM_ONEDNN : VR_GEMM_OPENBLAS;
    if (*prec == VR_INT8) {
        if (*be != VR_GEMM_ONEDNN)
            return vr_fail(VR_ERR_USAGE, "--precision int8 needs the oneDNN back end (%s); run "
                           "with --precision fp32",
                           vr_linear_have_onednn() ? "not --gemm openblas"
                                                   : "this vitrun was built without oneDNN");
        if (!vr_linear_cpu_vnni())
            return vr_fail(VR_ERR_USAGE, "--precision int8: this CPU has no AVX-512 VNNI "
                           "instructions, without which int8 is no faster than fp32; run "
                           "with --precision fp32");
    }
    if (*prec == VR_BF16) {
        const char *reason = NULL;
        if (*be != VR_GEMM_ONEDNN)
            reason = vr_linear_have_onednn() ? "--gemm openblas has no bfloat16 GEMM"
                                             : "this vitrun was built without oneDNN";
        else if (!vr_linear_cpu_bf16())
            reason = "this CPU has no AVX512_BF16 instructions";
        if (reason) {
            snprintf(why, cap, "bf16 unavailable (%s): running fp32", reason);
            *prec = VR_FP32;
        }
    }
    return VR_OK;
}

vr_status vr_linear_create(vr_linear **out, vr_gemm_backend be, vr_precision prec,
                           const float *W, const float *bias, size_t N, size_t K, int flags)
{
    return vr_linear_create_slice(out, be, prec, W, bias, N, K, flags, NULL);
}

vr_status vr_linear_create_slice(vr_linear **out, vr_gemm_backend be, vr_precision prec,
                                 const float *W, const float *bias, size_t N, size_t K, int flags,
                                 const float *absmax)
{
    *out = NULL;
    if (be == VR_GEMM_AUTO || (be == VR_GEMM_OPENBLAS && prec != VR_FP32) ||
        (be == VR_GEMM_ONEDNN && !vr_linear_have_onednn()))
        return vr_fail(VR_ERR_INTERNAL, "linear: %s %s is not a usable combination",
                       vr_linear_backend_name(be), vr_linear_precision_name(prec));
    if (prec == VR_INT8 && K > VR_QUANT_MAX_K)
        prec = VR_FP32; /* int32 sums could overflow */
    int check = (flags & VR_LIN_CHECK) && prec == VR_INT8;
    int acc = flags & VR_LIN_ACCUMULATE;
    flags &= ~VR_LIN_CHECK;
    if (check) /* both outputs apart, the sum (if any) after */
        flags &= ~VR_LIN_ACCUMULATE;
    vr_linear *l = calloc(1, sizeof *l);
    if (!l)
        return vr_fail(VR_ERR_NOMEM, "cannot allocate a weight matrix record");
    l->be = be;
    l->prec = prec;
    l->flags = flags;
    l->W = W;
    l->bias = bias;
    l->N = N;
    l->K = K;
    l->absmax = absmax;
#ifdef VR_HAVE_ONEDNN
    if (be == VR_GEMM_ONEDNN) {
        vr_status st = dnnl_prepare(l);
        l->absmax = NULL;
        if (!st && check) {
            l->check_acc = acc;
            st = vr_linear_create(&l->twin, be, VR_FP32, W, bias, N, K, flags);
        }
        if (st) {
            vr_linear_free(l);
            return st;
        }
    }
#endif
    (void)check;
    (void)acc;
    *out = l;
    return VR_OK;
}

size_t vr_linear_bytes(const vr_linear *l)
{
    return l ? l->packed_bytes + vr_linear_bytes(l->twin) : 0;
}

double vr_linear_check_error(const vr_linear *l)
{
    if (!l || !l->twin)
        return -1.0;
    return l->ref2 > 0 ? sqrt(l->err2 / l->ref2) : (l->err2 > 0 ? INFINITY : 0.0);
}

vr_precision vr_linear_precision(const vr_linear *l) { return l->prec; }

void vr_linear_free(vr_linear *l)
{
    if (!l)
        return;
#ifdef VR_HAVE_ONEDNN
    if (l->be == VR_GEMM_ONEDNN)
        dnnl_free(l);
#endif
    vr_linear_free(l->twin);
    free(l);
}

vr_status vr_linear_warm(vr_linear *l, size_t M)
{
#ifdef VR_HAVE_ONEDNN
    int slot;
    vr_status st;
    if (l && l->twin && (st = vr_linear_warm(l->twin, M)))
        return st;
    if (l && M && l->be == VR_GEMM_ONEDNN && l->prec == VR_INT8) {
        /* the slices' row count and the last slice's */
        size_t R = VR_LINEAR_INT8_ROWS;
        if ((st = dnnl_entry(l, M < R ? M : R, &slot)))
            return st;
        return M > R && M % R ? dnnl_entry(l, M % R, &slot) : VR_OK;
    }
    if (l && M && l->be == VR_GEMM_ONEDNN)
        return dnnl_entry(l, M, &slot);
#endif
    (void)l;
    (void)M;
    return VR_OK;
}

vr_status vr_linear_run(vr_linear *l, size_t M, const float *A, float *C, vr_timers *t)
{
    return vr_linear_run_slice(l, M, A, C, t, NULL, NULL);
}

vr_status vr_linear_run_slice(vr_linear *l, size_t M, const float *A, float *C, vr_timers *t,
                              vr_linear_agree_fn agree, void *ctx)
{
    double t0 = vr_now();
#ifdef VR_HAVE_ONEDNN
    if (l->twin)
        return run_checked(l, M, A, C, t, agree, ctx);
    if (l->be == VR_GEMM_ONEDNN && l->prec == VR_INT8)
        return dnnl_run_int8(l, M, A, C, t, agree, ctx);
    if (l->be == VR_GEMM_ONEDNN) {
        vr_status st = dnnl_run(l, M, A, C);
        t->gemm += vr_now() - t0;
        return st;
    }
#else
    (void)agree;
    (void)ctx;
#endif
    float *out = C;
    if (l->flags & VR_LIN_ACCUMULATE) {
        size_t n = M * l->N; /* bounded like C, which the caller allocated */
        if (!(scratch.partial = grow(scratch.partial, &scratch.partial_n, n, sizeof(float),
                                     "partial sums")))
            return VR_ERR_NOMEM;
        out = scratch.partial;
    }
    vr_sgemm(1, M, l->N, l->K, 1.0f, A, l->K, l->W, l->K, 0.0f, out, l->N);
    double t1 = vr_now();
    if (l->bias || VR_LIN_ACT_OF(l->flags) != VR_FN_NONE)
        vr_rows_bias(out, l->bias, M, l->N, VR_LIN_ACT_OF(l->flags));
    if (l->flags & VR_LIN_ACCUMULATE)
        vr_rows_add(C, out, M, l->N);
    t->gemm += t1 - t0;
    t->activation += vr_now() - t1;
    return VR_OK;
}

int vr_linear_fuses(const vr_linear *l)
{
    return l && l->be == VR_GEMM_ONEDNN && l->prec == VR_INT8 && !l->twin;
}

vr_status vr_linear_run_to_q(vr_linear *l, const vr_qrows *in, vr_qrows *out, vr_timers *t)
{
#ifdef VR_HAVE_ONEDNN
    size_t N = l->N, M = in->M;
    if (!vr_linear_fuses(l) || N > 16384 || (l->flags & VR_LIN_ACCUMULATE) || in->K != l->K)
        return vr_fail(VR_ERR_INTERNAL, "linear: run_to_q on a matrix that cannot");
    if (!(scratch.qo = grow(scratch.qo, &scratch.qo_n, M * N, 1, "int8 activations")) ||
        !(scratch.so = grow(scratch.so, &scratch.so_n, M, sizeof(float), "int8 row scales")) ||
        !(scratch.zo = grow(scratch.zo, &scratch.zo_n, M, sizeof(int32_t), "int8 zero points")))
        return VR_ERR_NOMEM;
    *out = (vr_qrows){scratch.qo, scratch.so, scratch.zo, M, N};
    return int8_product(l, in, NULL, out, t);
#else
    (void)l; (void)in; (void)out; (void)t;
    return vr_fail(VR_ERR_INTERNAL, "linear: int8 needs oneDNN");
#endif
}

vr_status vr_linear_run_from_q(vr_linear *l, const vr_qrows *in, float *C, vr_timers *t)
{
#ifdef VR_HAVE_ONEDNN
    if (!vr_linear_fuses(l) || in->K != l->K)
        return vr_fail(VR_ERR_INTERNAL, "linear: run_from_q on a matrix that cannot");
    return int8_product(l, in, C, NULL, t);
#else
    (void)l; (void)in; (void)C; (void)t;
    return vr_fail(VR_ERR_INTERNAL, "linear: int8 needs oneDNN");
#endif
}
