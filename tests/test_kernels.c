/* test_kernels.c - each fast kernel against a slow, obviously-correct twin.
 * Prints the worst difference per kernel; exits 1 if any exceeds its bound. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/attention.h"
#include "../runtime/gemm.h"
#include "../runtime/kernels.h"
#include "../runtime/linear.h"
#include "../runtime/quant.h"
#include "../runtime/pool.h"

static int failures;

static unsigned long long rng = 88172645463325252ULL;
static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void check(const char *what, double worst, double bound)
{
    int ok = worst <= bound;
    printf("%-34s worst %.3e (bound %.1e) %s\n", what, worst, bound, ok ? "ok" : "FAIL");
    if (!ok)
        failures++;
}

static void test_gemm(void)
{
    const size_t shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {197, 64, 197}, {33, 130, 77}, {64, 96, 768}};
    double worst = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int tb = 0; tb < 2; tb++) {
            size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
            size_t lda = K + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
            float *A = malloc(M * lda * 4), *B = malloc((tb ? N : K) * ldb * 4);
            float *C1 = malloc(M * ldc * 4), *C2 = malloc(M * ldc * 4);
            for (size_t i = 0; i < M * lda; i++) A[i] = frand();
            for (size_t i = 0; i < (tb ? N : K) * ldb; i++) B[i] = frand();
            for (size_t i = 0; i < M * ldc; i++) C1[i] = C2[i] = frand();
            float beta = tb ? 1.0f : 0.0f;
            vr_sgemm(tb, M, N, K, 0.5f, A, lda, B, ldb, beta, C1, ldc);
            vr_sgemm_naive(tb, M, N, K, 0.5f, A, lda, B, ldb, beta, C2, ldc);
            for (size_t i = 0; i < M; i++)
                for (size_t j = 0; j < N; j++) {
                    double d = fabs(C1[i * ldc + j] - C2[i * ldc + j]) / sqrt((double)K);
                    worst = d > worst ? d : worst;
                }
            free(A); free(B); free(C1); free(C2);
        }
    check("sgemm vs naive (per sqrt K)", worst, 1e-6);
}

static void test_layernorm(void)
{
    /* widths around the vector lengths, and ViT-B's */
    const size_t widths[] = {1, 7, 8, 15, 16, 17, 193, 768};
    double worst = 0;
    for (size_t t = 0; t < sizeof widths / sizeof widths[0]; t++) {
    size_t n = 9, D = widths[t];
    float x[9 * 768], w[768], b[768], out[9 * 768];
    for (size_t i = 0; i < n * D; i++) x[i] = 100.0f + 3.0f * frand(); /* large mean */
    for (size_t j = 0; j < D; j++) { w[j] = frand(); b[j] = frand(); }
    vr_layernorm(out, D, x, D, w, b, n, D, 1e-6);
    for (size_t i = 0; i < n; i++) {
        long double mean = 0, var = 0;
        for (size_t j = 0; j < D; j++) mean += x[i * D + j];
        mean /= D;
        for (size_t j = 0; j < D; j++) var += (x[i * D + j] - mean) * (x[i * D + j] - mean);
        var /= D;
        for (size_t j = 0; j < D; j++) {
            long double ref = (x[i * D + j] - mean) / sqrtl(var + 1e-6L) * w[j] + b[j];
            double d = fabs((double)(out[i * D + j] - ref));
            worst = d > worst ? d : worst;
        }
    }
    }
    check("layernorm vs long double, widths 1-768", worst, 2e-6);
}

/* vr_attention_run and vr_attention_first_row (the class token's row alone)
 * on random queries, keys and values against softmax(Q K^T / sqrt(hd)) V in
 * double, straight from the definition. */
static void test_attention(void)
{
    const size_t shapes[][4] = {/* B, H, T, hd */
                                {2, 3, 197, 64}, {1, 2, 17, 16}, {3, 1, 50, 80},
                                {1, 4, 5, 32},   {2, 2, 1, 64},  {1, 3, 33, 24}};
    double worst = 0, worst_first = 0;
    char kinds[200] = "";
    vr_pool_start(2);
    for (int be = VR_GEMM_OPENBLAS; be <= VR_GEMM_ONEDNN; be++)
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        if (be == VR_GEMM_ONEDNN && !vr_linear_have_onednn())
            break;
        size_t B = shapes[s][0], H = shapes[s][1], T = shapes[s][2], hd = shapes[s][3];
        size_t Hd = H * hd, ld = 3 * Hd;
        vr_attention *a;
        if (vr_attention_create(&a, (vr_gemm_backend)be, H, T, hd)) {
            check("attention: create", 1, 0);
            continue;
        }
        if (s == 0)
            snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s",
                     kinds[0] ? ", " : "", vr_attention_kind(a));
        float *qkv = malloc(B * T * ld * 4), *out = malloc(B * T * Hd * 4);
        float *first = malloc(B * Hd * 4);
        float *scratch = malloc(vr_attention_scratch(a, vr_pool_threads()) * 4);
        double *p = malloc(T * sizeof *p);
        for (size_t i = 0; i < B * T * ld; i++) qkv[i] = 3.0f * frand();
        vr_attention_run(a, qkv, out, B, scratch);
        vr_attention_first_row(a, qkv, first, B, scratch);
        for (size_t b = 0; b < B; b++)
            for (size_t h = 0; h < H; h++)
                for (size_t i = 0; i < T; i++) {
                    const float *q = qkv + (b * T + i) * ld + h * hd;
                    double m = -INFINITY, sum = 0;
                    for (size_t j = 0; j < T; j++) {
                        const float *k = qkv + (b * T + j) * ld + Hd + h * hd;
                        double d = 0;
                        for (size_t c = 0; c < hd; c++) d += (double)q[c] * k[c];
                        p[j] = d / sqrt((double)hd);
                        m = p[j] > m ? p[j] : m;
                    }
                    for (size_t j = 0; j < T; j++) sum += p[j] = exp(p[j] - m);
                    for (size_t c = 0; c < hd; c++) {
                        double o = 0;
                        for (size_t j = 0; j < T; j++)
                            o += p[j] / sum * qkv[(b * T + j) * ld + 2 * Hd + h * hd + c];
                        double d = fabs(out[(b * T + i) * Hd + h * hd + c] - o);
                        worst = d > worst ? d : worst;
                        if (i == 0) {
                            d = fabs(first[b * Hd + h * hd + c] - o);
                            worst_first = d > worst_first ? d : worst_first;
                        }
                    }
                }
        free(qkv); free(out); free(first); free(scratch); free(p);
        vr_attention_free(a);
    }
    vr_pool_stop();
    printf("(attention: %s)\n", kinds);
    check("attention vs double, 6 shapes", worst, 2e-5);
    check("class-token row of attention vs double, 6 shapes", worst_first, 5e-7);
}

static void test_softmax_gelu(void)
{
    size_t n = 5, D = 197;
    float x[5 * 197], y[5 * 197];
    for (size_t i = 0; i < n * D; i++) y[i] = x[i] = 30.0f * frand();
    vr_softmax_rows(y, n, D);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < D; j++) s += exp((double)x[i * D + j]);
        for (size_t j = 0; j < D; j++) {
            double d = fabs(y[i * D + j] - exp((double)x[i * D + j]) / s);
            worst = d > worst ? d : worst;
        }
    }
    check("softmax vs double", worst, 1e-6);
    for (size_t i = 0; i < n * D; i++) y[i] = x[i] = 6.0f * frand();
    vr_gelu(y, n * D);
    worst = 0;
    for (size_t i = 0; i < n * D; i++) {
        double r = 0.5 * x[i] * (1.0 + erf(x[i] / sqrt(2.0)));
        double d = fabs(y[i] - r);
        worst = d > worst ? d : worst;
    }
    check("gelu vs double erf", worst, 2e-6);
    /* every length from 1 to 40: the vector code's masked tails */
    double wg = 0, ws = 0;
    for (size_t len = 1; len <= 40; len++) {
        float a[40], g[40], e[40];
        for (size_t i = 0; i < len; i++) e[i] = g[i] = a[i] = 8.0f * frand();
        vr_gelu(g, len);
        vr_softmax_rows(e, 1, len);
        double sum = 0;
        for (size_t i = 0; i < len; i++) sum += exp((double)a[i]);
        for (size_t i = 0; i < len; i++) {
            double r = 0.5 * a[i] * (1.0 + erf(a[i] / sqrt(2.0)));
            wg = fmax(wg, fabs(g[i] - r));
            ws = fmax(ws, fabs(e[i] - exp((double)a[i]) / sum));
        }
    }
    check("gelu, lengths 1-40", wg, 2e-6);
    check("softmax, lengths 1-40", ws, 1e-6);
    /* tanh GELU, quick_gelu and SwiGLU against their definitions in double,
     * every length 1-40 (masked tails) and large |x| (no inf/NaN) */
    double wt = 0, wq = 0, wsw = 0;
    for (size_t len = 1; len <= 40; len++) {
        float a[40], t[40], q[40], gv[80], o[40];
        for (size_t i = 0; i < len; i++) t[i] = q[i] = a[i] = 8.0f * frand();
        a[0] = t[0] = q[0] = len % 2 ? 90.0f : -90.0f;
        for (size_t i = 0; i < 2 * len; i++) gv[i] = 8.0f * frand();
        vr_gelu_tanh(t, len);
        vr_quick_gelu(q, len);
        vr_swiglu(o, gv, 1, len);
        for (size_t i = 0; i < len; i++) {
            double v = a[i];
            double rt = 0.5 * v * (1.0 + tanh(sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
            double rq = v / (1.0 + exp(-1.702 * v));
            double g = gv[i], rs = g / (1.0 + exp(-g)) * gv[len + i];
            wt = fmax(wt, fabs(t[i] - rt) / fmax(1.0, fabs(rt)));
            wq = fmax(wq, fabs(q[i] - rq) / fmax(1.0, fabs(rq)));
            wsw = fmax(wsw, fabs(o[i] - rs) / fmax(1.0, fabs(rs)));
        }
    }
    check("gelu_tanh vs double, lengths 1-40, |x| up to 90", wt, 2e-6);
    check("quick_gelu vs double, lengths 1-40, |x| up to 90", wq, 2e-6);
    check("swiglu vs double, lengths 1-40", wsw, 2e-6);
#ifdef __FLT16_MANT_DIG__
    /* float -> half against the compiler's _Float16 conversion (nearest even),
     * over the edges: ties, subnormals, the largest half, overflow, NaN */
    {
        float v[4096];
        size_t m = 0;
        const float edge[] = {0.0f, -0.0f, 1.0f, 65504.0f, 65519.99f, 65520.0f, 1e6f,
                              6.1035156e-05f, 6.0975552e-05f, 5.9604645e-08f, 2.9802322e-08f,
                              2.9802326e-08f, 1e-9f, 1.00048828125f, 1.00146484375f,
                              INFINITY, -INFINITY};
        for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
            v[m++] = edge[i];
        for (; m < 4096; m++)
            v[m] = ldexpf(frand(), (int)(m % 60) - 30);
        uint16_t h[4096];
        vr_to_f16(h, v, m);
        size_t bad = 0;
        for (size_t i = 0; i < m; i++) {
            _Float16 ref = (_Float16)v[i];
            uint16_t rb;
            memcpy(&rb, &ref, 2);
            float back = vr_f16_to_float(h[i]);
            bad += h[i] != rb || (isfinite(back) && back != (float)ref);
        }
        float nan = NAN;
        vr_to_f16(h, &nan, 1);
        bad += !isnan(vr_f16_to_float(h[0]));
        check("float16 rounding vs _Float16, 4096 values and edges (mismatches)", (double)bad, 0);
    }
#endif
}

/* The pool hands every index to exactly one thread, for any n. */
static int hits[1000];
static void mark(void *ctx, size_t b, size_t e, int worker)
{
    for (size_t i = b; i < e; i++)
        __atomic_add_fetch(&hits[i], 1, __ATOMIC_RELAXED);
}

static void test_pool(void)
{
    double bad = 0;
    int threads = vr_pool_start(3);
    for (size_t n = 0; n <= 1000; n += 37) {
        for (size_t i = 0; i < 1000; i++) hits[i] = 0;
        vr_pool_run(n, 1, mark, NULL);
        for (size_t i = 0; i < 1000; i++)
            if (hits[i] != (i < n)) bad++;
    }
    vr_pool_stop();
    printf("(pool of %d threads)\n", threads);
    check("pool: each index once", bad, 0);
}

static void test_im2col_topk(void)
{
    size_t B = 2, C = 3, gh = 3, gw = 2, p = 4, Hi = gh * p, Wi = gw * p; /* not square */
    float img[2 * 3 * 12 * 8], out[2 * 6 * 48];
    for (size_t i = 0; i < B * C * Hi * Wi; i++) img[i] = (float)i;
    vr_im2col(out, img, B, C, gh, gw, p);
    double worst = 0;
    for (size_t b = 0; b < B; b++)
        for (size_t gy = 0; gy < gh; gy++)
            for (size_t gx = 0; gx < gw; gx++)
                for (size_t c = 0; c < C; c++)
                    for (size_t y = 0; y < p; y++)
                        for (size_t xx = 0; xx < p; xx++) {
                            float want = img[((b * C + c) * Hi + gy * p + y) * Wi + gx * p + xx];
                            float got = out[(b * gh * gw + gy * gw + gx) * C * p * p +
                                            (c * p + y) * p + xx];
                            worst = fmax(worst, fabs(want - got));
                        }
    check("im2col vs direct indexing", worst, 0);
    float v[50];
    int idx[7];
    double bad = 0;
    for (int trial = 0; trial < 200; trial++) {
        for (int i = 0; i < 50; i++) v[i] = (float)(int)(10 * frand()); /* many ties */
        vr_topk(idx, v, 50, 7);
        int used[50] = {0};
        for (int t = 0; t < 7; t++) {
            int best = -1;
            for (int i = 0; i < 50; i++)
                if (!used[i] && (best < 0 || v[i] > v[best])) best = i;
            used[best] = 1;
            if (idx[t] != best) bad = 1;
        }
    }
    check("top-k vs selection (ties: low index)", bad, 0);
}

/* Tensor parallelism's row-parallel int8: two ranks each hold half of the
 * columns of A and W; with the whole rows' ranges (agreed) and weight
 * scales (absmax), their partial results add up to the one-rank product
 * (the same integers; only the two float conversions differ). */
static const float *other_ranges;
static vr_status agree_max(float *buf, size_t n, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        buf[i] = buf[i] > other_ranges[i] ? buf[i] : other_ranges[i];
    return VR_OK;
}

static void test_int8_slices(void)
{
    size_t M = 300, N = 64, K = 200, K1 = 120, K2 = K - K1;
    float *W = malloc(N * K * 4), *A = malloc(M * K * 4), *full = malloc(M * N * 4);
    float *W1 = malloc(N * K1 * 4), *W2 = malloc(N * K2 * 4), *A1 = malloc(M * K1 * 4);
    float *A2 = malloc(M * K2 * 4), *C1 = malloc(M * N * 4), *C2 = malloc(M * N * 4);
    float *am = malloc(N * 4), *r1 = malloc(2 * M * 4), *r2 = malloc(2 * M * 4);
    for (size_t i = 0; i < N * K; i++) W[i] = frand() * (i % 11 == 0 ? 2.0f : 0.3f);
    for (size_t i = 0; i < M * K; i++) A[i] = frand() * (float)(1 + (i / K) % 3);
    for (size_t m = 0; m < M; m++) { /* rows whose extremes sit in one half only */
        memcpy(A1 + m * K1, A + m * K, K1 * 4);
        memcpy(A2 + m * K2, A + m * K + K1, K2 * 4);
    }
    for (size_t n = 0; n < N; n++) {
        memcpy(W1 + n * K1, W + n * K, K1 * 4);
        memcpy(W2 + n * K2, W + n * K + K1, K2 * 4);
    }
    vr_quant_absmax(am, W, N, K);
    vr_quant_ranges(r1, A1, M, K1);
    vr_quant_ranges(r2, A2, M, K2);
    vr_linear *l = NULL, *l1 = NULL, *l2 = NULL;
    vr_timers t = {0};
    double worst = 1.0, scale = 0;
    if (!vr_linear_create(&l, VR_GEMM_ONEDNN, VR_INT8, W, NULL, N, K, 0) &&
        !vr_linear_create_slice(&l1, VR_GEMM_ONEDNN, VR_INT8, W1, NULL, N, K1, 0, am) &&
        !vr_linear_create_slice(&l2, VR_GEMM_ONEDNN, VR_INT8, W2, NULL, N, K2, 0, am) &&
        !vr_linear_run(l, M, A, full, &t) &&
        (other_ranges = r2, !vr_linear_run_slice(l1, M, A1, C1, &t, agree_max, NULL)) &&
        (other_ranges = r1, !vr_linear_run_slice(l2, M, A2, C2, &t, agree_max, NULL))) {
        worst = 0;
        for (size_t i = 0; i < M * N; i++)
            scale = fmax(scale, fabs(full[i]));
        for (size_t i = 0; i < M * N; i++)
            worst = fmax(worst, fabs((double)C1[i] + C2[i] - full[i]) / scale);
    }
    vr_linear_free(l);
    vr_linear_free(l1);
    vr_linear_free(l2);
    check("int8 two column slices vs whole", worst, 1e-6);
    free(W); free(A); free(full); free(W1); free(W2); free(A1); free(A2); free(C1); free(C2);
    free(am); free(r1); free(r2);
}

/* fc1 -> fc2 in int8 with fc1's rows handed on quantised (run_to_q,
 * run_from_q) against the same through float32 rows: bit for bit. */
static void test_int8_fused(void)
{
    size_t M = 600, D = 96, Ml = 200;
    float *W1 = malloc(Ml * D * 4), *b1 = malloc(Ml * 4), *W2 = malloc(D * Ml * 4);
    float *b2 = malloc(D * 4), *A = malloc(M * D * 4), *h = malloc(M * Ml * 4);
    float *C1 = malloc(M * D * 4), *C2 = malloc(M * D * 4);
    for (size_t i = 0; i < Ml * D; i++) W1[i] = frand() * 0.2f, W2[i] = frand() * 0.1f;
    for (size_t i = 0; i < Ml; i++) b1[i] = frand();
    for (size_t i = 0; i < D; i++) b2[i] = frand();
    for (size_t i = 0; i < M * D; i++) A[i] = frand() * 2.0f, C1[i] = C2[i] = frand();
    vr_linear *f1 = NULL, *f2 = NULL;
    vr_timers t = {0};
    vr_qrows q;
    double bad = 1;
    uint8_t *qa = malloc(M * D);
    float *sa = malloc(M * 4);
    int32_t *za = malloc(M * 4);
    vr_quant_rows(qa, sa, za, A, M, D);
    if (!vr_linear_create(&f1, VR_GEMM_ONEDNN, VR_INT8, W1, b1, Ml, D, VR_LIN_GELU) &&
        !vr_linear_create(&f2, VR_GEMM_ONEDNN, VR_INT8, W2, b2, D, Ml, VR_LIN_ACCUMULATE) &&
        vr_linear_fuses(f1) && vr_linear_fuses(f2) &&
        !vr_linear_run(f1, M, A, h, &t) && !vr_linear_run(f2, M, h, C1, &t) &&
        !vr_linear_run_to_q(f1, &(vr_qrows){qa, sa, za, M, D}, &q, &t) &&
        !vr_linear_run_from_q(f2, &q, C2, &t)) {
        bad = 0;
        for (size_t i = 0; i < M * D; i++)
            bad += memcmp(&C1[i], &C2[i], 4) != 0;
    }
    vr_linear_free(f1);
    vr_linear_free(f2);
    check("int8 fc1 -> fc2 fused vs float rows", bad, 0);
    free(W1); free(b1); free(W2); free(b2); free(A); free(h); free(C1); free(C2);
    free(qa); free(sa); free(za);
}

/* LayerNorm straight into uint8 rows against LayerNorm, then the rows
 * quantised: the same bytes, scales and zero points. */
static void test_layernorm_quant(void)
{
    size_t M = 37, D = 768;
    float *x = malloc(M * D * 4), *w = malloc(D * 4), *b = malloc(D * 4), *y = malloc(M * D * 4);
    uint8_t *q1 = malloc(M * D), *q2 = malloc(M * D);
    float s1[37], s2[37];
    int32_t z1[37], z2[37];
    for (size_t i = 0; i < M * D; i++) x[i] = frand() * 3.0f + (i % D == 5 ? 40.0f : 0.0f);
    for (size_t i = 0; i < D; i++) w[i] = 1.0f + frand() * 0.5f, b[i] = frand() * 0.1f;
    vr_layernorm(y, D, x, D, w, b, M, D, 1e-6);
    vr_quant_rows(q1, s1, z1, y, M, D);
    vr_quant_layernorm_rows(q2, s2, z2, x, w, b, M, D, 1e-6);
    double bad = memcmp(q1, q2, M * D) != 0;
    for (size_t m = 0; m < M; m++)
        bad += memcmp(&s1[m], &s2[m], 4) != 0 || z1[m] != z2[m];
    check("LayerNorm into uint8 rows vs apart", bad, 0);
    free(x); free(w); free(b); free(y); free(q1); free(q2);
}

/* int8 linear (oneDNN's u8 x s8 product in slices of rows, vitrun's
 * quantisation and epilogue) against its naive twin (plain loops, exact int32
 * sums): the same floats, bit for bit, every flag; then the weights'
 * integers and sums, and a row holding NaN. */
static void test_int8_linear(void)
{
    if (!vr_linear_have_onednn() || !vr_linear_cpu_vnni()) {
        printf("%-34s skipped (%s)\n", "int8 linear vs naive twin",
               vr_linear_have_onednn() ? "no AVX-512 VNNI" : "built without oneDNN");
        return;
    }
    const size_t shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {197, 64, 197}, {300, 130, 77},
                                {513, 96, 768}, {40, 3072, 768}, {2, 768, 3072}};
    const int flags[] = {0, VR_LIN_GELU, VR_LIN_ACCUMULATE, VR_LIN_ACT(VR_FN_QUICK_GELU)};
    double bad = 0, badq = 0;
    vr_timers t = {0};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *W = malloc(N * K * 4), *b = malloc(N * 4), *A = malloc(M * K * 4);
        float *C1 = malloc(M * N * 4), *C2 = malloc(M * N * 4), *sw = malloc(N * 4);
        int8_t *q = malloc(N * K);
        int32_t *ws = malloc(N * 4);
        for (size_t i = 0; i < N * K; i++) W[i] = frand() * (i % 7 == 0 ? 3.0f : 0.5f);
        for (size_t i = 0; i < N; i++) b[i] = frand();
        /* rows of different ranges, one of only positive values, one of zeros */
        for (size_t i = 0; i < M * K; i++) A[i] = frand() * (float)(1 + (i / K) % 5);
        if (M > 2) {
            for (size_t k = 0; k < K; k++) A[K + k] = fabsf(A[K + k]) + 0.25f;
            memset(A + 2 * K, 0, K * 4);
        }
        vr_quant_weights(q, sw, ws, W, N, K, NULL);
        for (size_t n = 0; n < N; n++) {
            int32_t sum = 0;
            double m = 0;
            for (size_t k = 0; k < K; k++) {
                sum += q[n * K + k];
                m = fmax(m, fabs(W[n * K + k]));
                /* within half a step of the float weight */
                if (fabs(q[n * K + k] * (double)sw[n] - W[n * K + k]) > 0.5001 * sw[n])
                    badq++;
            }
            if (sum != ws[n] || fabs(sw[n] - m / 127) > 1e-6 * m)
                badq++;
        }
        for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
            vr_linear *l = NULL;
            vr_status st = vr_linear_create(&l, VR_GEMM_ONEDNN, VR_INT8, W, f == 1 ? NULL : b,
                                            N, K, flags[f]);
            if (st) {
                bad++;
                continue;
            }
            for (size_t i = 0; i < M * N; i++) C1[i] = C2[i] = frand();
            if (vr_linear_run(l, M, A, C1, &t))
                bad++;
            vr_quant_linear_naive(C2, A, q, sw, ws, f == 1 ? NULL : b, M, N, K,
                                  VR_LIN_ACT_OF(flags[f]), (flags[f] & VR_LIN_ACCUMULATE) != 0);
            for (size_t i = 0; i < M * N; i++)
                if (memcmp(&C1[i], &C2[i], 4))
                    bad++;
            vr_linear_free(l);
        }
        free(W); free(b); free(A); free(C1); free(C2); free(sw); free(q); free(ws);
    }
    /* a row with NaN gives NaN, the rows beside it are untouched */
    {
        size_t M = 3, N = 4, K = 8;
        float W[32], A[24], C[12];
        for (int i = 0; i < 32; i++) W[i] = frand();
        for (int i = 0; i < 24; i++) A[i] = frand();
        A[K + 3] = NAN;
        vr_linear *l = NULL;
        if (vr_linear_create(&l, VR_GEMM_ONEDNN, VR_INT8, W, NULL, N, K, 0) ||
            vr_linear_run(l, M, A, C, &t))
            bad++;
        for (size_t n = 0; n < N; n++)
            if (!isnan(C[N + n]) || isnan(C[n]) || isnan(C[2 * N + n]))
                bad++;
        vr_linear_free(l);
    }
    check("int8 weights: integers, scales, sums", badq, 0);
    check("int8 linear vs naive twin (bitwise)", bad, 0);
    test_int8_slices();
    test_int8_fused();
}

int main(void)
{
    printf("kernels: %s\n", vr_kernel_level_name());
    test_gemm();
    test_attention();
    test_layernorm();
    test_layernorm_quant();
    test_softmax_gelu();
    test_im2col_topk();
    test_pool();
    test_int8_linear();
    vr_linear_release_scratch();
    printf("%s: %d kernel check(s) failed\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
