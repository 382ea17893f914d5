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

/* The buffers of a block's GEMMs, as the forward pass has them: x (M, 768)
 * the residual stream, q (M, 2304) queries, keys and values, o (M, 768) the
 * attention output, h (M, 3072) the MLP's hidden columns. */
typedef struct {
    float *x, *q, *o, *h, *bias;
} block_bufs;

/* FLOP/s per core of prec's GEMMs at M rows over a block's matrices in turn,
 * as the forward pass runs them: with biases, proj and fc2 adding into the
 * residual stream, each reading the buffer the one before wrote (GELU is
 * timed apart: act_s). 0 when this build or CPU has none. W holds W_FLOATS. */
static double gemm_rate(vr_gemm_backend be, vr_precision prec, size_t M, const block_bufs *b,
                        const float *W, int threads)
{
    vr_precision p = prec;
    char why[128];
    if (vr_linear_choose(&be, &p, why, sizeof why) || p != prec)
        return 0;
    static const int flags[4] = {0, VR_LIN_ACCUMULATE, 0, VR_LIN_ACCUMULATE};
    const float *in[4] = {b->x, b->o, b->x, b->h};
    float *out[4] = {b->q, b->x, b->h, b->x};
    vr_linear *l[MATS] = {0};
    vr_timers t = {0};
    double flops = 0;
    size_t off = 0;
    int ok = 1;
    for (int i = 0; i < MATS && ok; i++) {
        size_t N = shapes[i][0], K = shapes[i][1];
        ok = !vr_linear_create(&l[i], be, prec, W + off, b->bias, N, K, flags[i % 4]) &&
             !vr_linear_warm(l[i], M) && !vr_linear_run(l[i], M, in[i % 4], out[i % 4], &t);
        off += N * K;
        flops += 2.0 * M * N * K;
    }
    double s = 0;
    if (ok)
        s = BEST(3, for (int i = 0; i < MATS; i++)
                        vr_linear_run(l[i], M, in[i % 4], out[i % 4], &t));
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

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return v[n / 2];
}

/* tp_sync_s: rank 0 and a rank on its node, or else on another (each
 * passing the other as `peer`, `link` between them) each run K rounds of a GEMM
 * segment (ViT-B/16's proj at 788 rows, tp 2's share of batch 8), first
 * alone, then each round followed by a swap of half its output (one ring
 * step of tp 2's reduce-scatter). The extra seconds per round, less the
 * swap's transfer on the measured link, are what an exchange waits for the
 * other rank beyond its bytes. Both ranks call it; 0 when it cannot run. */
static double sync_seconds(vr_gemm_backend be, int peer, const vr_link *link)
{
    enum { K = 8, REPS = 7, BLOCKS = 3 };
    size_t M = 788, D = 768, half = M / 2 * D * sizeof(float);
    float *W = vr_alloc(D * D, sizeof *W, "calibration weights");
    float *A = vr_alloc(M * D, sizeof *A, "calibration rows");
    float *C = vr_alloc(M * D, sizeof *C, "calibration rows");
    float *R = vr_alloc(M * D, sizeof *R, "calibration rows");
    vr_linear *l = NULL;
    vr_timers t = {0};
    double extra = 0;
    int ok = W && A && C && R, both = 0;
    if (ok) {
        fill(W, D * D, 0.05f);
        fill(A, M * D, 1.0f);
        ok = !vr_linear_create(&l, be, VR_FP32, W, NULL, D, D, 0) && !vr_linear_warm(l, M) &&
             !vr_linear_run(l, M, A, C, &t);
    }
    /* the two agree before either waits in a swap the other never makes */
    if (vr_comm_swap(&ok, &both, sizeof ok, peer) || !(ok = ok && both))
        ok = 0;
    /* BLOCKS of REPS alternations of K rounds alone and K paired; per
     * block the median of the paired-minus-alone differences (a typical
     * wait, not the luckiest), and the median of the blocks: a block during
     * which another process held a core (waits of a scheduler's time
     * slice: 8.9 ms once here, against 0.3-1.1 ms) does not speak for the
     * node */
    double diff[REPS], block[BLOCKS];
    for (int b = 0; b < BLOCKS && ok; b++) {
        for (int r = 0; r < REPS && ok; r++) {
            vr_comm_swap(C, R, 8, peer); /* both start each phase together */
            double t0 = vr_now();
            for (int k = 0; k < K; k++)
                ok &= !vr_linear_run(l, M, A, C, &t);
            double alone = vr_now() - t0;
            vr_comm_swap(C, R, 8, peer);
            t0 = vr_now();
            for (int k = 0; k < K; k++) /* every round on both, whatever happens */
                ok &= !vr_linear_run(l, M, A, C, &t) & !vr_comm_swap(C, R, half, peer);
            diff[r] = vr_now() - t0 - alone;
        }
        block[b] = median(diff, REPS);
    }
    if (ok)
        extra = median(block, BLOCKS) / K -
                (link->alpha + (double)half / (link->duplex > 0 ? link->duplex : link->beta));
    vr_linear_free(l);
    free(W);
    free(A);
    free(C);
    free(R);
    return ok && extra > 0 ? extra : 0;
}

/* Every rank at once: rank 0's float32 block rate at M rows while all the
 * job's ranks run the same GEMMs (all the node's cores busy when ranks x
 * threads fill it), into *rate on rank 0. Every rank calls it. */
static vr_status loaded_rate(vr_gemm_backend be, size_t M, int threads, double *rate)
{
    size_t K = 768, N = 3072;
    float *W = vr_alloc(W_FLOATS, sizeof *W, "calibration weights");
    block_bufs b = {vr_alloc(M * K, sizeof(float), "calibration rows"),
                    vr_alloc(M * 3 * K, sizeof(float), "calibration rows"),
                    vr_alloc(M * K, sizeof(float), "calibration rows"),
                    vr_alloc(M * N, sizeof(float), "calibration rows"),
                    vr_alloc(N, sizeof(float), "calibration biases")};
    vr_status st = W && b.x && b.q && b.o && b.h && b.bias ? VR_OK : VR_ERR_NOMEM;
    if (!st) {
        fill(W, W_FLOATS, 0.1f);
        fill(b.x, M * K, 1.0f);
        fill(b.o, M * K, 1.0f);
        fill(b.h, M * N, 1.0f);
        fill(b.bias, N, 0.1f);
    }
    if (!(st = vr_comm_agree(st))) {
        vr_comm_quiet_barrier();
        *rate = gemm_rate(be, VR_FP32, M, &b, W, threads);
    }
    free(W);
    free(b.x);
    free(b.q);
    free(b.o);
    free(b.h);
    free(b.bias);
    return st;
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
    double alone = 0, loaded = 0; /* rank 0's float32 block rate at VR_PERF_CALIBRATED_ROWS */
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
        size_t Mb = VR_PERF_CALIBRATED_ROWS, Ms = 64, N = 3072, K = 768, T = 197, H = 12, hd = 64;
        float *A = vr_alloc(Mb * N, sizeof *A, "calibration inputs");
        float *W = vr_alloc(W_FLOATS, sizeof *W, "calibration weights");
        float *C = vr_alloc(Mb * N, sizeof *C, "calibration outputs");
        float *g = vr_alloc(Mb * K, sizeof *g, "calibration rows");
        block_bufs bb = {vr_alloc(Mb * K, sizeof(float), "calibration rows"),
                         vr_alloc(Mb * 3 * K, sizeof(float), "calibration rows"),
                         vr_alloc(Mb * K, sizeof(float), "calibration rows"),
                         vr_alloc(Mb * N, sizeof(float), "calibration rows"),
                         vr_alloc(N, sizeof(float), "calibration biases")};
        if (!A || !W || !C || !g || !bb.x || !bb.q || !bb.o || !bb.h || !bb.bias) {
            st = VR_ERR_NOMEM;
            goto done;
        }
        fill(A, Mb * N, 2.0f);
        fill(W, W_FLOATS, 0.1f);
        fill(g, Mb * K, 1.0f);
        fill(bb.x, Mb * K, 1.0f);
        fill(bb.o, Mb * K, 1.0f);
        fill(bb.h, Mb * N, 1.0f);
        fill(bb.bias, N, 0.1f);
        static const vr_precision precs[3] = {VR_FP32, VR_BF16, VR_INT8};
        for (int i = 0; i < 3; i++)
            p->gemm[i] = gemm_rate(be, precs[i], Mb, &bb, W, threads);
        alone = p->gemm[0];
        if (!(p->gemm[0] > 0)) {
            st = vr_fail(VR_ERR_INTERNAL, "--calibrate: the float32 GEMMs did not run (%s)",
                         vr_last_error());
            goto done;
        }
        /* rate(M) = R M / (M + m_half), from the large and small M */
        double rs = gemm_rate(be, VR_FP32, Ms, &bb, W, threads), q = p->gemm[0] / rs;
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
        free(bb.x);
        free(bb.q);
        free(bb.o);
        free(bb.h);
        free(bb.bias);
    }
    /* what a rank holds besides weights and activations: MPI, the
     * libraries, oneDNN's kernels (the buffers above are returned) */
    double base = resident();
    /* the same GEMMs with every rank computing: how much a core slows when
     * its neighbours work too (the others slept while rank 0 measured; one
     * rank alone has no neighbours: full_load stays 1) */
    vr_comm_quiet_barrier();
    if ((st = vr_comm_agree(st)) ||
        (vr_comm_size() > 1 && (st = loaded_rate(be, VR_PERF_CALIBRATED_ROWS, threads, &loaded))))
        return st;
    /* every rank: the links */
    double shm[3], net[3];
    vr_comm_quiet_barrier();
    vr_status lp = vr_comm_link_probe(shm, net);
    if ((st = vr_comm_agree(st ? st : lp)))
        return st;
    double full = alone > 0 && loaded > 0 ? loaded / alone : 1;
    double r[10] = {p->gemm[0], p->gemm[1], p->gemm[2], p->m_half, p->attn, p->elem_s,
                    p->act_s, p->decode_s, base, full < 1 ? (full > 0.2 ? full : 0.2) : 1};
    if ((st = vr_comm_bcast(r, sizeof r, 0)))
        return st;
    p->gemm[0] = r[0], p->gemm[1] = r[1], p->gemm[2] = r[2], p->m_half = r[3];
    p->attn = r[4], p->elem_s = r[5], p->act_s = r[6], p->decode_s = r[7];
    p->rank_bytes = r[8];
    p->full_load = r[9];
    *measured_links = (shm[1] > 0) + 2 * (net[1] > 0);
    /* links no rank could measure: shared memory from a copy, the network as
     * 10 Gbit/s Ethernet (say so: the user should calibrate on two nodes) */
    p->shm.alpha = shm[1] > 0 ? shm[0] : 1e-6;
    p->shm.beta = shm[1] > 0 ? shm[1] : 1e10;
    p->net.alpha = net[1] > 0 ? net[0] : 3e-5;
    p->net.beta = net[1] > 0 ? net[1] : 1.25e9;
    p->shm.duplex = shm[1] > 0 ? shm[2] : 0; /* 0: as beta */
    p->net.duplex = net[1] > 0 ? net[2] : 0;
    /* what a TP exchange waits beyond its bytes: two ranks of a node, or
     * with one rank a node, rank 0 and rank 1 over the network */
    int peer = vr_comm_node_peer();
    const vr_link *link = &p->shm;
    if (peer < 0 && vr_comm_size() > 1)
        peer = 1, link = &p->net;
    double sync = 0;
    if (peer > 0 && (me == 0 || me == peer))
        sync = sync_seconds(be, me == 0 ? peer : 0, link);
    vr_comm_quiet_barrier();
    if ((st = vr_comm_bcast(&sync, sizeof sync, 0)))
        return st;
    p->tp_sync_s = sync;
    *measured_links |= peer > 0 && sync > 0 ? 4 : 0;
    return VR_OK;
}
