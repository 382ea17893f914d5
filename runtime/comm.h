/* comm.h - everything vitrun says to other ranks. The only file that
 * includes <mpi.h> is comm.c; kernels never communicate.
 *
 * Ranks form a grid of dp replicas x pp stages x tp tensor-parallel ranks.
 * Grid positions are handed out node by node (ranks sorted by the node they
 * share memory with, then by world rank), so a tensor-parallel group lands on
 * one node whenever the node's rank count allows it.
 */
#ifndef VR_COMM_H
#define VR_COMM_H

#include <stddef.h>

#include "status.h"

typedef struct {
    int world_rank, world_size;
    int dp, pp, tp;             /* grid sizes */
    int replica, stage, tp_rank; /* this rank's place */
    int nodes;                  /* distinct shared-memory nodes */
    int tp_groups_split;        /* TP groups spanning more than one node */
} vr_grid;

/* Communication counters, per rank, for --report. */
typedef struct {
    double allreduce;      /* seconds in TP collectives: allreduce, allgather, broadcast */
    double send_wait;      /* seconds blocked waiting for sends to complete */
    double recv_wait;      /* seconds blocked waiting for activations to arrive */
    double bytes_sent;
    double bytes_allreduced; /* the sizes of the buffers handed to TP collectives */
} vr_comm_stats;

vr_status vr_comm_init(int *argc, char ***argv);
void vr_comm_finalize(void);
int vr_comm_rank(void);
int vr_comm_size(void);

/* Builds the grid and its communicators; dp = 0 means size / (pp*tp). */
vr_status vr_comm_grid(vr_grid *g, int dp, int pp, int tp);

/* World rank of grid position (replica, stage, tp_rank). */
int vr_comm_world_of(const vr_grid *g, int replica, int stage, int tp_rank);

/* Collective over all ranks: every rank learns the worst status, and the
 * message of the lowest failing rank (prefixed with its rank) becomes every
 * rank's vr_last_error(). Call it at every point where ranks may disagree. */
vr_status vr_comm_agree(vr_status local);

/* Ends the whole job now: for failures after ranks stopped agreeing step by
 * step (inside the pipeline), where waiting for others could hang. */
void vr_comm_abort(int exit_code);

/* Sum-allreduce of buf (n) over this rank's TP group; a vr_reduce_fn with
 * ctx = vr_comm_stats*. */
vr_status vr_comm_tp_allreduce(float *buf, size_t n, void *ctx);

/* vr_comm_tp_allreduce with the partial sums on the wire as bfloat16
 * (--wire bf16): each rank's buf rounded to bfloat16, summed in float32
 * and rounded again at each step of the reduction, then back to float32
 * in buf. Half the bytes; about 3 significant digits. */
vr_status vr_comm_tp_allreduce_bf16(float *buf, size_t n, void *ctx);

/* Max-allreduce of buf (n) over this rank's TP group (the same ctx): int8
 * ranges and weight scales that the TP ranks agree on. */
vr_status vr_comm_tp_allreduce_max(float *buf, size_t n, void *ctx);

/* Reduce-scatter of buf (rows, D) over this rank's TP group: the rows are
 * summed over the ranks, and this rank's block of them (vr_row_block over
 * the group) is left at the start of buf; the rest of buf is scratch. The
 * _bf16 variant puts the partial sums on the wire as bfloat16, as
 * vr_comm_tp_allreduce_bf16. ctx = vr_comm_stats*. */
vr_status vr_comm_tp_reduce_scatter(float *buf, size_t rows, size_t D, void *ctx);
vr_status vr_comm_tp_reduce_scatter_bf16(float *buf, size_t rows, size_t D, void *ctx);

/* Allgather of rows within the TP group, in place: each rank's block
 * (vr_row_block) of buf (rows, row_bytes) goes to every rank. */
vr_status vr_comm_tp_allgather_rows(void *buf, size_t rows, size_t row_bytes, void *ctx);

/* The same for n tables of `rows` rows each (row_bytes[i] bytes a row in
 * bufs[i]) in one exchange: each rank's blocks staged together, the
 * others' unpacked. */
vr_status vr_comm_tp_allgather_tables(void *const bufs[], const size_t row_bytes[], int n,
                                       size_t rows, void *ctx);

/* The same for float rows (rows, D); the _bf16 variant puts them on the
 * wire as bfloat16 and leaves every row, this rank's own included, rounded
 * to bfloat16, so that the ranks hold the same floats. */
vr_status vr_comm_tp_allgather_f32(float *buf, size_t rows, size_t D, void *ctx);
vr_status vr_comm_tp_allgather_bf16(float *buf, size_t rows, size_t D, void *ctx);

/* Allgather within the TP group: each rank contributes its `n` floats at
 * buf + tp_rank*n (in place). */
vr_status vr_comm_tp_allgather(float *buf, size_t n, vr_comm_stats *stats);

/* The same for bytes: each rank's `bytes` at buf + tp_rank*bytes. */
vr_status vr_comm_tp_allgather_bytes(void *buf, size_t bytes, vr_comm_stats *stats);

/* Broadcast within the TP group from tp_rank 0. */
vr_status vr_comm_tp_bcast(void *buf, size_t bytes);

/* Collective: how many nodes (shared-memory domains) the job spans, and
 * the most ranks any of them has. */
void vr_comm_node_shape(int *nodes, int *ranks_per_node);

/* A barrier over all ranks that waits asleep (polling every 2 ms), so that
 * waiting ranks leave the cores to a rank that is measuring. */
void vr_comm_quiet_barrier(void);

/* Collective over all ranks: rank 0 times ping-pongs (8 bytes and 4 MiB)
 * with the lowest rank on its own node and the lowest on another node,
 * and 1 MiB exchanges (both sending at once, as a TP ring step does),
 * giving each link's alpha (seconds per message), beta (bytes per second
 * one way) and duplex beta (bytes per second each way while both send) to
 * every rank; a link with no such rank gets 0, 0, 0. */
vr_status vr_comm_link_probe(double shm[3], double net[3]);

/* Collective: the lowest rank on rank 0's node other than 0, or -1. */
int vr_comm_node_peer(void);

/* Rank 0 and `peer` swap `bytes` (send from `out`, receive into `in`):
 * one step of a two-rank ring. */
vr_status vr_comm_swap(const void *out, void *in, size_t bytes, int peer);

/* Non-blocking point-to-point on the world communicator. Requests are small
 * integers into a pool owned by comm.c. */
typedef int vr_request;
vr_status vr_comm_isend(const void *buf, size_t bytes, int dest, int tag, vr_request *req,
                        vr_comm_stats *stats);
vr_status vr_comm_irecv(void *buf, size_t bytes, int src, int tag, vr_request *req);
/* Collective over all ranks: decides how vr_comm_wait waits on this rank.
 * When the ranks of its node times `threads` outnumber the CPUs they may
 * run on (the union of their affinity masks), a pipeline wait naps
 * (polls, then sleeps 20 us doubling to 0.5 ms) instead of spinning in
 * MPI: a spinning rank under mpi_yield_when_idle keeps its fair share of a
 * core, and a stage waiting for its input would hold a core its
 * neighbours could compute on (pp 2 x tp 2 on 2 cores at 3 micro-batches:
 * 0.75 of the speed in 1 run of 3). VITRUN_WAIT=spin or nap forces it
 * (vitrun checks the value). Returns 1 when this rank naps. */
int vr_comm_wait_setup(int threads);
/* What vr_comm_wait_setup decided on this rank (1: naps). */
int vr_comm_naps(void);
/* Waits for req (no-op for -1); the time blocked is added to *waited. */
vr_status vr_comm_wait(vr_request *req, double *waited);
/* 1 if req completed (or is -1). */
int vr_comm_test(vr_request *req);
/* Cancels a receive that will never be matched (a run stopped early). */
vr_status vr_comm_cancel(vr_request *req);

/* Stop votes, for stopping every rank at the same step after a signal.
 * Every rank calls vr_comm_vote() once per step, the same number of times;
 * from step `lag` on, *decided is the MAX over all ranks of the votes cast
 * `lag` steps earlier, so all ranks see the same decision at the same step
 * while no rank waits for one more than `lag` steps behind it. */
void vr_comm_vote_init(int lag);
vr_status vr_comm_vote(int mine, int *decided);
/* Completes the votes still in flight (all ranks, before leaving). */
vr_status vr_comm_vote_finish(void);

/* Broadcast over all ranks from world rank root. */
vr_status vr_comm_bcast(void *buf, size_t bytes, int root);

/* Rank 0 receives `bytes` from every rank into out (size * bytes). */
vr_status vr_comm_gather(const void *mine, size_t bytes, void *out);

/* Small notes outside the pipeline's traffic (a replica's writer telling
 * world rank 0 its progress): sent eagerly, received when polled. */
vr_status vr_comm_note_send(const void *buf, size_t bytes, int dest);
/* 1 with a note in buf (bytes) when one has arrived from any rank, else 0. */
int vr_comm_note_poll(void *buf, size_t bytes);

/* Largest tag the MPI implementation allows (micro-batch tags wrap below it). */
int vr_comm_tag_ub(void);

#endif
