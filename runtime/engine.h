/* engine.h - one rank's part of a scoring run: its stage of its replica's
 * pipeline, fed by the previous stage (or the input) and feeding the next
 * stage (or the writer). With one rank it is the whole model in one loop. */
#ifndef VR_ENGINE_H
#define VR_ENGINE_H

#include "../partition/plan.h"
#include "cli.h"
#include "comm.h"
#include "forward.h"
#include "status.h"
#include "timer.h"

/* The timeline of the report records this many first steps of each rank. */
#define VR_TIMELINE_STEPS 256
/* int8: the report lists this many of a rank's matrices (64 blocks' four and the
 * patch embedding). */
#define VR_REPORT_MATRICES 257

/* What one rank did, for the report (fixed size: gathered to rank 0). */
typedef struct {
    int world_rank, replica, stage, tp_rank;
    vr_timers compute;     /* GEMM, attention, norms, activations */
    vr_comm_stats comm;    /* waits and bytes */
    double read;           /* seconds reading and normalising input (first stage) */
    double decode_wait;    /* of which waiting for the JPEG decoding threads */
    double write;          /* seconds writing output (writer only) */
    double wall;           /* seconds in the scoring loop */
    double images;         /* images this rank processed */
    double micro_batches;
    double weight_bytes;   /* tensor bytes read from the model */
    size_t failed;         /* rows in the output with ok = 0 (writer only) */
    size_t done;           /* rows in the output (writer only) */
    size_t resumed;        /* of which taken over from an interrupted run */
    size_t batch;          /* micro-batch size used: --batch, or N when smaller */
    /* Step i's times in seconds since the loop began (the collective just
     * before it, so ranks' clocks line up to its latency): start, input in
     * hand (read, or received from the previous stage), compute done, end
     * (sends posted, rows written). First VR_TIMELINE_STEPS steps only. */
    float timeline[VR_TIMELINE_STEPS][4];
    int timeline_steps;
    int int8_n;            /* int8 runs: the rank's matrices (may exceed the list) */
    vr_int8_entry int8[VR_REPORT_MATRICES];
} vr_rank_report;

/* Runs this rank's part. Collective: every rank calls it with the same
 * options, grid and plan; failures before the loop are agreed on by all
 * ranks, failures inside it end the job through vr_comm_abort. */
vr_status vr_engine_run(const vr_options *o, const vr_grid *g, const vr_plan *plan,
                        vr_rank_report *rep);

#endif
