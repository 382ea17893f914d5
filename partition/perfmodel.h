/* perfmodel.h - what a layout will do before it runs.
 *
 * Per micro-batch of B images, each rank's time is the sum of
 *   its GEMMs:      2 M N K / (rate[precision] * threads * M / (M + m_half))
 *                   for qkv, proj, fc1, fc2 (its TP slice; M = B*T rows, B
 *                   in the model's last block when the head reads only the
 *                   class token), the patch embedding and the head;
 *   its attention:  4 B heads T^2 head_dim / (attn_rate * threads);
 *   its row passes: elements * elem_s / threads (LayerNorms on its block of
 *                   rows, residual adds apart from a GEMM) plus
 *                   elements * act_s / threads for GELU (the GEMM rates are
 *                   measured through vr_linear, its epilogue included);
 *   decoding:       B * decode_s / threads on the first stage (JPEG input);
 *   TP transfers:   per layer two reduce-scatters of the (M, D) partial sums
 *                   and two allgathers of the next GEMM's input rows (uint8
 *                   with int8), each (tp - 1) steps of alpha + bytes / duplex
 *                   on the TP group's link (runtime/forward.h: each step
 *                   sends and receives at once), and each
 *                   exchange tp_sync_s of waiting for the group's slowest.
 * A parallel block (ViT-22B) has one LayerNorm, and under TP one allgather
 * and one reduce-scatter instead of two each.
 * A stage's period is max(compute + TP transfers, its send of the residual
 * stream to the next stage: alpha + bytes / beta), sends overlapping the next
 * micro-batch's compute; the pipeline's period is the slowest stage's, and
 * dp replicas multiply the images per second. A node's ranks share its
 * cores: the compute core-seconds of all its ranks per micro-batch and the
 * seconds of their TP exchanges, over its cores, is a floor on their period
 * (more ranks x threads than cores; a rank in a TP exchange copies or
 * polls, and mpi_yield_when_idle's sched_yield hands the core over only
 * until the poller is owed its fair share again; a stage's wait for its
 * input is not counted: vr_comm_wait naps there), and the compute rates fall
 * from their one-core values to full_load's as the job keeps more of the
 * node's cores busy (linearly in the busy cores; a one-core node is always
 * full). A run of n micro-batches per replica takes (n + pp - 1) periods
 * (fill and drain) plus the first micro-batch's sends between stages,
 * which later ones overlap (with shared cores setting the period, see
 * vr_perf_run_seconds). Links are shared memory inside a node and the
 * network between nodes (ranks are placed in order: replica, stage, TP
 * rank, filling one node after another).
 *
 * Pure arithmetic on the config, the plan and a vr_profile, like plan.h:
 * tested against hand-computed cases in one process.
 */
#ifndef VR_PERFMODEL_H
#define VR_PERFMODEL_H

#include <stddef.h>
#include <stdio.h>

#include "plan.h"

typedef struct {
    double alpha;  /* seconds per message */
    double beta;   /* bytes per second, one way */
    double duplex; /* bytes per second each way while both ends send (a TP ring
                      step's exchange); 0: beta */
} vr_link;

/* One node's rates (per core unless said), measured by a calibration. */
typedef struct {
    int cores;            /* per node */
    double mem_bytes;     /* per node */
    double gemm[3];       /* GEMM multiply-adds x 2 per second at large M: fp32, bf16, int8 */
    double m_half;        /* rows at which a GEMM runs at half that rate */
    double attn;          /* attention FLOP/s */
    double elem_s;        /* seconds per element of a row-wise pass */
    double act_s;         /* seconds per element of GELU, on top */
    double decode_s;      /* seconds per image decoded and resized */
    double rank_bytes;    /* a rank's memory beyond weights and activations */
    vr_link shm, net;     /* inside a node, between nodes */
    double tp_sync_s;     /* a TP exchange's wait beyond its transfer: ranks arriving from
                             their GEMMs apart (measured on 2 ranks of a node, or of two) */
    double full_load;     /* a core's compute rate while every rank of the calibration
                             computes, over its rate alone (clocks, shared caches and
                             memory); 0: not measured, taken as 1 */
} vr_profile;

enum { VR_PERF_FP32, VR_PERF_BF16, VR_PERF_INT8 };

typedef struct {
    int batch;          /* images per micro-batch */
    int threads;        /* per rank */
    int ranks_per_node;
    int precision;      /* VR_PERF_* */
    int decode;         /* the first stage decodes JPEGs */
    int wire_bf16;      /* activations and TP partial sums as bfloat16 */
} vr_perf_setup;

typedef enum { VR_BOUND_COMPUTE, VR_BOUND_STAGE, VR_BOUND_NETWORK, VR_BOUND_MEMORY } vr_bound;

#define VR_PERF_MAX_PP 256

typedef struct {
    double images_per_s;          /* steady state, all replicas */
    double period_s;              /* the pipeline's period (slowest stage) */
    double alone_period_s;        /* the same, were its ranks alone on their cores */
    double compute_s[VR_PERF_MAX_PP]; /* per stage: the slowest TP rank's compute */
    double tp_s[VR_PERF_MAX_PP];      /* per stage: TP transfers */
    double send_s[VR_PERF_MAX_PP];    /* per stage: sending to the next stage */
    double busy[VR_PERF_MAX_PP];      /* per stage: (compute + TP) / period */
    double memory_per_rank;       /* bytes, the largest rank's */
    double tp_bytes, pp_bytes;    /* per micro-batch: one TP rank's, one stage's send */
    int tp_link_net, pp_link_net; /* whether those cross nodes (any of them) */
    vr_bound bound;
} vr_perf;

const char *vr_bound_name(vr_bound b);

/* The prediction for plan p (its dp, pp, tp and split) with setup s on
 * nodes of profile `prof` with `mem_per_rank` bytes each (0: the node's
 * memory over its ranks). VR_ERR_USAGE for a setup it cannot describe. */
vr_status vr_perf_predict(const vr_plan *p, const vr_perf_setup *s, const vr_profile *prof,
                          double mem_per_rank, vr_perf *out);

/* Seconds for a run of n images per replica (fill and drain included: n/B
 * + pp - 1 periods and the first micro-batch's sends between stages). When
 * the node's shared cores set the period, the stages idle in the fill and
 * drain leave their cores to the others (vr_comm_wait naps there), so the
 * run takes the longer of n/B shared periods and n/B + pp - 1 periods
 * alone. */
double vr_perf_run_seconds(const vr_perf *r, int pp, size_t n, int batch);

/* One candidate layout and what the model says of it. */
typedef struct {
    int dp, pp, tp, batch, threads;
    size_t rows; /* a micro-batch's: batch x tokens */
    double images_per_s, memory_per_rank;
    vr_bound bound;
    int fits; /* memory_per_rank within the limit */
    /* the stage that sets the pipeline's period (the slowest replica's), per
     * micro-batch: what the bound is read from */
    double period_s, compute_s, tp_s, send_s;
    double alone_period_s; /* the period were its ranks alone on their cores */
    double imbalance; /* the period over the mean of the stages' periods (1: balanced) */
    double tp_bytes, pp_bytes; /* per micro-batch, as vr_perf's */
    double fill_send_s; /* the sends between stages the first micro-batch waits for */
    int tp_link_net, pp_link_net;
} vr_perf_choice;

/* The rows per GEMM at which --calibrate times the rates (8 images of
 * ViT-B/16's 197 tokens); m_half extrapolates from there. */
#define VR_PERF_CALIBRATED_ROWS 1576

/* Every layout of nodes x ranks_per_node ranks (dp pp tp = ranks, tp up to
 * the heads, pp up to the layers; threads: s->threads, or when 0 the
 * profile's cores / ranks per node)
 * at batches 1 to 64 (powers of two), predicted with s's precision, decode
 * and wire; *out (malloc'd, *n entries) sorted: those that fit first, by
 * images/s, except that the first is, of those within 1% of the fastest
 * (the model cannot tell them apart), the one with the fewest ranks per
 * replica (pp x tp), then rows per micro-batch nearest
 * VR_PERF_CALIBRATED_ROWS, then the least memory. */
vr_status vr_perf_search(const vr_config *c, int nodes, int ranks_per_node,
                         const vr_perf_setup *s, const vr_profile *prof, double mem_per_rank,
                         vr_perf_choice **out, size_t *n);

/* The best `top` of them as a table, or all as a JSON list (with the
 * period and its stage's compute, TP and send seconds, the imbalance, and
 * the bytes per micro-batch one TP rank exchanges and one stage sends, each
 * with its link: "shm" or "net", fill_send_s, alone_period_s and rows). */
void vr_perf_print(const vr_perf_choice *ch, size_t n, size_t top, int json, FILE *f);

#endif
