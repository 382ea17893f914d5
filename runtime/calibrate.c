/* calibrate.c - a node's rates for the performance model (calibrate.h). */
#include "calibrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/image.h"
#include "../io/jpeg.h"
#include "attention.h"
#include "comm.h"
#include "gemm.h"
#include "kernels.h"
#include "linear.h"
#include "pool.h"
#include "preprocess.h"
#include "rows.h"
#include "timer.h"

/* Best seconds of `reps` runs of fn(ctx). */
#define BEST(reps, stmt)                                 \
    ({                                                   \
        double best_ = 1e30;                             \
        for (int r_ = 0; r_ < (reps); r_++) {            \
            double t0_ = vr_now();                       \
            stmt;                                        \
            double t_ = vr_now() - t0_;                  \
            best_ = t_ < best_ ? t_ : best_;             \
        }                                                \
        best_;                                           \
    })

static void fill(float *x, size_t n, float scale)
{
    unsigned s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = ((float)(s >> 9) / 8388608.0f - 0.5f) * scale;
    }
}

/* A ViT-B/16 block's four matrices (N, K): qkv, proj, fc1, fc2, twice over,
 * so that weights stream from memory between them as in a model. */
#define MATS 8
static const size_t shapes[MATS][2] = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072},
                                       {2304, 768}, {768, 768}, {3072, 768}, {768, 3072}};
#define W_FLOATS ((size_t)2 * (2304 * 768 + 768 * 768 + 3072 * 768 + 768 * 3072))

/* FLOP/s per core of prec's GEMMs at M rows (epilogue included, as the
 * forward pass runs them) over a block's matrices in turn, or 0 when this
 * build or CPU has none. W holds W_FLOATS; A and C M x 3072. */
static double gemm_rate(vr_gemm_backend be, vr_precision prec, size_t M, const float *A,
                        const float *W, float *C, int threads)
{
    vr_precision p = prec;
    char why[128];
    if (vr_linear_choose(&be, &p, why, sizeof why) || p != prec)
        return 0;
    vr_linear *l[MATS] = {0};
    vr_timers t = {0};
    double flops = 0;
    size_t off = 0;
    int ok = 1;
    for (int i = 0; i < MATS && ok; i++) {
        size_t N = shapes[i][0], K = shapes[i][1];
        ok = !vr_linear_create(&l[i], be, prec, W + off, NULL, N, K, 0) &&
             !vr_linear_warm(l[i], M) && !vr_linear_run(l[i], M, A, C, &t);
        off += N * K;
        flops += 2.0 * M * N * K;
    }
    double s = 0;
    if (ok)
        s = BEST(3, for (int i = 0; i < MATS; i++) vr_linear_run(l[i], M, A, C, &t));
    for (int i = 0; i < MATS; i++)
        vr_linear_free(l[i]);
    return ok && s > 0 ? flops / s / threads : 0;
}

/* Seconds to decode a 500 x 375 JPEG (ImageNet's typical photo) the way a
 * JPEG folder's rows are: decode, resize the shorter side to 256, crop 224,
 * normalise to float; one thread. 0 when it cannot run. */
static double decode_seconds(void)
{
    uint8_t *jpg = NULL, *px = NULL;
    float *x = NULL;
    size_t len = 0;
    vr_image_decoder d;
    vr_preprocess pp;
    vr_image_limits lim = {(size_t)1 << 26, (size_t)1 << 26, 0};
    char err[256];
    double s = 0;
    if (vr_preprocess_preset(&pp, "torchvision", 224, 224) || vr_image_init(&d))
        return 0;
    if (!vr_jpeg_sample(375, 500, &jpg, &len) && (px = malloc(224 * 224 * 3)) &&
        (x = malloc(224 * 224 * 3 * sizeof *x)) &&
        !vr_image_decode(&d, jpg, len, &pp, &lim, px, err, sizeof err))
        s = BEST(5, vr_image_decode(&d, jpg, len, &pp, &lim, px, err, sizeof err);
                 vr_normalize_u8(x, px, 1, 224, 224, 3, &pp));
    vr_image_free(&d);
    free(jpg);
    free(px);
    free(x);
    return s;
}

/* Resident bytes of this process now. */
static double resident(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (double)res * (double)sysconf(_SC_PAGESIZE);
}

vr_status vr_calibrate(vr_profile *p, char *host, size_t host_cap, vr_gemm_backend be,
                       int *measured_links)
{
    int threads = vr_gemm_threads(), me = vr_comm_rank();
    memset(p, 0, sizeof *p);
    long cores = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES);
    p->cores = cores > 0 ? (int)cores : 1;
    p->mem_bytes = (double)pages * (double)sysconf(_SC_PAGESIZE);
    if (gethostname(host, host_cap))
        snprintf(host, host_cap, "unknown");
    host[host_cap - 1] = '\0';
    vr_status st = VR_OK;
    if (me == 0) { /* (one rank measures the node; the others sleep in the barrier below) */
        /* ViT-B/16 shapes: 8 images of 197 tokens, D 768, MLP 3072; 64 rows for the
         * small-M slope */
        size_t Mb = 1576, Ms = 64, N = 3072, K = 768, T = 197, H = 12, hd = 64;
        float *A = vr_alloc(Mb * N, sizeof *A, "calibration inputs");
        float *W = vr_alloc(W_FLOATS, sizeof *W, "calibration weights");
        float *C = vr_alloc(Mb * N, sizeof *C, "calibration outputs");
        float *g = vr_alloc(Mb * K, sizeof *g, "calibration rows");
        if (!A || !W || !C || !g) {
            st = VR_ERR_NOMEM;
            goto done;
        }
        fill(A, Mb * N, 2.0f);
        fill(W, W_FLOATS, 0.1f);
        fill(g, Mb * K, 1.0f);
        static const vr_precision precs[3] = {VR_FP32, VR_BF16, VR_INT8};
        for (int i = 0; i < 3; i++)
            p->gemm[i] = gemm_rate(be, precs[i], Mb, A, W, C, threads);
        if (!(p->gemm[0] > 0)) {
            st = vr_fail(VR_ERR_INTERNAL, "--calibrate: the float32 GEMMs did not run (%s)",
                         vr_last_error());
            goto done;
        }
        /* rate(M) = R M / (M + m_half), from the large and small M */
        double rs = gemm_rate(be, VR_FP32, Ms, A, W, C, threads), q = p->gemm[0] / rs;
        if (rs > 0 && q > 1 && q * Ms < Mb) {
            p->m_half = (double)Mb * Ms * (1 - q) / (q * Ms - (double)Mb);
            p->gemm[0] *= (Mb + p->m_half) / Mb; /* R, the large-M limit */
            for (int i = 1; i < 3; i++)
                p->gemm[i] *= (Mb + p->m_half) / Mb;
        }
        /* attention: 8 images x 12 heads of 197 x 64 */
        vr_attention *att = NULL;
        size_t B = 8;
        float *scr = NULL;
        if (!(st = vr_attention_create(&att, be, H, T, hd)) &&
            (scr = vr_alloc(vr_attention_scratch(att, vr_pool_threads()), sizeof *scr,
                            "attention scratch"))) {
            if (!(st = vr_attention_run(att, A, C, B, scr))) {
                double s = BEST(5, vr_attention_run(att, A, C, B, scr));
                p->attn = 4.0 * B * H * T * T * hd / s / threads;
            }
        } else if (!st) {
            st = VR_ERR_NOMEM;
        }
        free(scr);
        vr_attention_free(att);
        if (st)
            goto done;
        /* a row pass: LayerNorm over (Mb, K); GELU over (Mb, N) */
        float *w1 = W, *b1 = W + K;
        double s = BEST(5, vr_rows_layernorm(C, g, w1, b1, Mb, K, 1e-6));
        p->elem_s = s * threads / ((double)Mb * K);
        s = BEST(5, vr_gelu(A, Mb * N / 4));
        p->act_s = s / ((double)Mb * N / 4); /* (vr_gelu runs on one thread) */
        if (!(p->decode_s = decode_seconds())) {
            st = vr_fail(VR_ERR_INTERNAL, "--calibrate: the sample JPEG did not decode");
            goto done;
        }
    done:
        free(A);
        free(W);
        free(C);
        free(g);
    }
    /* what a rank holds besides weights and activations: MPI, the
     * libraries, oneDNN's kernels (the buffers above are returned) */
    double base = resident();
    /* every rank: the links (the others slept while rank 0 measured) */
    double shm[2], net[2];
    vr_comm_quiet_barrier();
    vr_status lp = vr_comm_link_probe(shm, net);
    if ((st = vr_comm_agree(st ? st : lp)))
        return st;
    double r[9] = {p->gemm[0], p->gemm[1], p->gemm[2], p->m_half, p->attn, p->elem_s,
                   p->act_s, p->decode_s, base};
    if ((st = vr_comm_bcast(r, sizeof r, 0)))
        return st;
    p->gemm[0] = r[0], p->gemm[1] = r[1], p->gemm[2] = r[2], p->m_half = r[3];
    p->attn = r[4], p->elem_s = r[5], p->act_s = r[6], p->decode_s = r[7];
    p->rank_bytes = r[8];
    *measured_links = (shm[1] > 0) + 2 * (net[1] > 0);
    /* links no rank could measure: shared memory from a copy, the network as
     * 10 Gbit/s Ethernet (say so: the user should calibrate on two nodes) */
    p->shm.alpha = shm[1] > 0 ? shm[0] : 1e-6;
    p->shm.beta = shm[1] > 0 ? shm[1] : 1e10;
    p->net.alpha = net[1] > 0 ? net[0] : 3e-5;
    p->net.beta = net[1] > 0 ? net[1] : 1.25e9;
    return VR_OK;
}
