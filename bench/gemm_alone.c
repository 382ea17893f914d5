/* oneDNN's float32 matmul alone, on ViT shapes: what the GEMMs could reach
 * outside the model. docs/PERFORMANCE.md compares these numbers with the
 * per-call times DNNL_VERBOSE=1 prints inside a vitrun run.
 *
 *   cmake --build build --target gemm_alone    (built with oneDNN)
 *   OMP_NUM_THREADS=2 build/gemm_alone [--post none|gelu|sum] [--matrices n] K N M [M ...]
 *
 * Multiplies an M×K activation by a K×N weight matrix packed in oneDNN's
 * own layout (format_tag_any, as runtime/linear.c does). With --matrices n,
 * n different weight matrices take turns, as a model's layers do, so each
 * comes from memory rather than cache. Weights and activations are nonzero:
 * untouched calloc pages all map the one zero page and would fit any cache.
 * Prints, per M, the median and the best of 7 timings of 20 calls. */
#define _POSIX_C_SOURCE 200809L
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(x)                                                              \
    do {                                                                      \
        dnnl_status_t st_ = (x);                                              \
        if (st_ != dnnl_success) {                                            \
            fprintf(stderr, "gemm_alone: %s failed (oneDNN status %d)\n", #x, \
                    (int)st_);                                                \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long parse_dim(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > 65536) {
        fprintf(stderr, "gemm_alone: '%s' is not a dimension in 1..65536\n", s);
        exit(2);
    }
    return v;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "gemm_alone: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

enum { MAX_MATRICES = 64, REPS = 20, ROUNDS = 7 };

int main(int argc, char **argv)
{
    const char *post = "none";
    int nmat = 1, a = 1;
    for (; a < argc && strncmp(argv[a], "--", 2) == 0; a += 2) {
        if (a + 1 >= argc) {
            fprintf(stderr, "gemm_alone: %s needs a value\n", argv[a]);
            return 2;
        }
        if (strcmp(argv[a], "--post") == 0)
            post = argv[a + 1];
        else if (strcmp(argv[a], "--matrices") == 0)
            nmat = (int)parse_dim(argv[a + 1]);
        else {
            fprintf(stderr, "gemm_alone: unknown option %s\n", argv[a]);
            return 2;
        }
    }
    if (argc - a < 3 || nmat > MAX_MATRICES ||
        (strcmp(post, "none") && strcmp(post, "gelu") && strcmp(post, "sum"))) {
        fprintf(stderr, "usage: gemm_alone [--post none|gelu|sum] "
                        "[--matrices 1..%d] K N M [M ...]\n", MAX_MATRICES);
        return 2;
    }
    long K = parse_dim(argv[a]), N = parse_dim(argv[a + 1]);

    dnnl_engine_t eng;
    dnnl_stream_t stream;
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags));

    for (int ai = a + 2; ai < argc; ai++) {
        long M = parse_dim(argv[ai]);
        dnnl_memory_desc_t src_md, wei_md, dst_md;
        dnnl_dims_t sd = {M, K}, wd = {K, N}, dd = {M, N};
        CHECK(dnnl_memory_desc_init_by_tag(&src_md, 2, sd, dnnl_f32, dnnl_ab));
        CHECK(dnnl_memory_desc_init_by_tag(&wei_md, 2, wd, dnnl_f32,
                                           dnnl_format_tag_any));
        CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 2, dd, dnnl_f32, dnnl_ab));
        dnnl_matmul_desc_t desc;
        CHECK(dnnl_matmul_desc_init(&desc, &src_md, &wei_md, NULL, &dst_md));
        dnnl_primitive_attr_t attr;
        dnnl_post_ops_t po;
        CHECK(dnnl_primitive_attr_create(&attr));
        CHECK(dnnl_post_ops_create(&po));
        if (strcmp(post, "gelu") == 0)
            CHECK(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_gelu_erf, 0, 0));
        else if (strcmp(post, "sum") == 0)
            CHECK(dnnl_post_ops_append_sum(po, 1.f));
        CHECK(dnnl_primitive_attr_set_post_ops(attr, po));
        dnnl_primitive_desc_t pd;
        dnnl_primitive_t prim;
        CHECK(dnnl_primitive_desc_create(&pd, &desc, attr, eng, NULL));
        const dnnl_memory_desc_t *packed =
            dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        CHECK(dnnl_primitive_create(&prim, pd));
        size_t wbytes = dnnl_memory_desc_get_size(packed);

        float *src = xmalloc((size_t)M * K * sizeof(float));
        float *dst = xmalloc((size_t)M * N * sizeof(float));
        for (size_t i = 0; i < (size_t)M * K; i++)
            src[i] = (float)(i % 11) * 0.1f - 0.5f;
        for (size_t i = 0; i < (size_t)M * N; i++)
            dst[i] = 0.f;
        float *wei[MAX_MATRICES];
        for (int m = 0; m < nmat; m++) {
            wei[m] = xmalloc(wbytes);
            for (size_t q = 0; q < wbytes / sizeof(float); q++)
                wei[m][q] = (float)((q + m) % 7) * 0.01f - 0.03f;
        }
        dnnl_memory_t msrc, mwei, mdst;
        CHECK(dnnl_memory_create(&msrc, &src_md, eng, src));
        CHECK(dnnl_memory_create(&mwei, packed, eng, wei[0]));
        CHECK(dnnl_memory_create(&mdst, &dst_md, eng, dst));
        dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, msrc},
                                   {DNNL_ARG_WEIGHTS, mwei},
                                   {DNNL_ARG_DST, mdst}};
        int turn = 0;
        for (int i = 0; i < 2 * nmat + 3; i++) { /* warm up every matrix */
            CHECK(dnnl_memory_set_data_handle(mwei, wei[turn++ % nmat]));
            CHECK(dnnl_primitive_execute(prim, stream, 3, args));
        }
        CHECK(dnnl_stream_wait(stream));
        double t[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            double t0 = now();
            for (int i = 0; i < REPS; i++) {
                CHECK(dnnl_memory_set_data_handle(mwei, wei[turn++ % nmat]));
                CHECK(dnnl_primitive_execute(prim, stream, 3, args));
            }
            CHECK(dnnl_stream_wait(stream));
            t[r] = (now() - t0) / REPS;
        }
        qsort(t, ROUNDS, sizeof t[0], cmp_double);
        double flop = 2.0 * M * N * K;
        printf("M=%ld K=%ld N=%ld post=%s matrices=%d: median %.3f ms "
               "(%.0f GFLOP/s), best %.3f ms (%.0f GFLOP/s)\n",
               M, K, N, post, nmat, t[ROUNDS / 2] * 1e3,
               flop / t[ROUNDS / 2] * 1e-9, t[0] * 1e3, flop / t[0] * 1e-9);
        fflush(stdout);

        CHECK(dnnl_memory_destroy(msrc));
        CHECK(dnnl_memory_destroy(mwei));
        CHECK(dnnl_memory_destroy(mdst));
        for (int m = 0; m < nmat; m++)
            free(wei[m]);
        free(src);
        free(dst);
        CHECK(dnnl_primitive_destroy(prim));
        CHECK(dnnl_primitive_desc_destroy(pd));
        CHECK(dnnl_post_ops_destroy(po));
        CHECK(dnnl_primitive_attr_destroy(attr));
    }
    CHECK(dnnl_stream_destroy(stream));
    CHECK(dnnl_engine_destroy(eng));
    return 0;
}
