/* transport.h - how a micro-batch moves through a replica's pipeline: a ring
 * of buffers per rank, the non-blocking sends to the next stage and the
 * receives from the previous one, and the rows a last stage hands to a
 * writer. The per-step compute (runtime/engine.c) only names the slot it
 * works on; which requests must finish before a buffer is reused, and how
 * the TP ranks of a stage share what arrives (--send slice|group|full), is
 * decided here.
 *
 * Slot i % VR_RING holds micro-batch i of this rank: the next micro-batch
 * arrives while this one is computed and the previous one leaves.
 */
#ifndef VR_TRANSPORT_H
#define VR_TRANSPORT_H

#include <stddef.h>

#include "batch.h"
#include "cli.h"
#include "comm.h"

#define VR_RING 3

typedef struct {
    const vr_grid *g;
    vr_send_mode send;
    vr_comm_stats *stats;
    size_t B;                  /* rows per micro-batch at most */
    size_t row_floats;         /* T*D: one row of the residual stream */
    size_t res_floats;         /* B*(C+E): the results of one micro-batch */
    size_t piece;              /* floats per TP rank in slice mode */
    int prev, next;            /* world ranks of the neighbouring stages (-1: none) */
    float *x[VR_RING];         /* (B*T*D, padded to tp*piece) residual streams */
    int bf16;                  /* --wire bf16: x travels as bfloat16 */
    uint16_t *wx[VR_RING];     /* (as x) its bfloat16 copy on the wire, with bf16 */
    vr_batch_meta *meta[VR_RING]; /* (B rows) */
    float *res[VR_RING];       /* (B*(C+E)): logits then embeddings; last stage, TP rank 0 */
    vr_request rx[VR_RING], rm[VR_RING], sx[VR_RING], sm[VR_RING], sres[VR_RING],
        srm[VR_RING];
    vr_batch_meta *wmeta;      /* a writer's buffer for another replica's rows (B rows) */
    float *wres;               /* and results */
} vr_transport;

/* Buffers for micro-batches of up to B rows of T*D floats; results (B*(C+E))
 * on a last stage's TP rank 0, a writer's collection buffers when `writer`.
 * bf16 (--wire bf16): the residual stream goes between stages (and between
 * the TP ranks of slice mode) rounded to bfloat16, half the bytes; group
 * mode's broadcast inside the TP group stays float32. */
vr_status vr_transport_open(vr_transport *t, const vr_grid *g, vr_send_mode send,
                            vr_comm_stats *stats, size_t B, size_t row_floats,
                            size_t res_floats, int writer, int bf16);
/* Waits for the sends still in flight, then frees. */
void vr_transport_close(vr_transport *t);

/* A later stage: posts the receive of the micro-batch that will use `slot`. */
vr_status vr_transport_post_recv(vr_transport *t, int slot);
/* A later stage: waits for the micro-batch in `slot`, then gives every TP
 * rank of the stage all of it (allgather of the slices, or the broadcast
 * from TP rank 0). */
vr_status vr_transport_receive(vr_transport *t, int slot);
/* The sends that read `slot` are done: it may be refilled. */
vr_status vr_transport_reuse(vr_transport *t, int slot);
/* Not the last stage: meta and x of `slot` (count rows) to the next stage. */
vr_status vr_transport_send(vr_transport *t, int slot, size_t count);
/* A last stage's TP rank 0: meta and results of `slot` to the writer. */
vr_status vr_transport_deliver(vr_transport *t, int slot, size_t count, int writer_rank);
/* A writer: the next micro-batch that world rank `src` delivers, into
 * t->wmeta and t->wres. */
vr_status vr_transport_collect(vr_transport *t, int src);
/* Gives the sends and receives in flight a push (MPI moves a large
 * message only while its sender and its receiver call into MPI); cheap,
 * called between layers and between a block's steps. */
void vr_transport_progress(vr_transport *t);
/* The same, for callbacks that take a void pointer (vr_run_state.poll, a
 * ledger's idle). */
void vr_transport_poll(void *t);
/* Receives posted for micro-batches that will never come (a stop, or the
 * end of a replica's work). */
void vr_transport_cancel(vr_transport *t);
/* Waits for every send in flight. */
vr_status vr_transport_drain(vr_transport *t);

#endif
