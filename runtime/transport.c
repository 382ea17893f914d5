/* transport.c - the ring of buffers and the messages between stages. */
#include "transport.h"

#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "status.h"
#include "timer.h"

enum { TAG_META = 11, TAG_X = 12, TAG_RES_META = 13, TAG_RES = 14 };

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

vr_status vr_transport_open(vr_transport *t, const vr_grid *g, vr_send_mode send,
                            vr_comm_stats *stats, size_t B, size_t row_floats,
                            size_t res_floats, int writer, int bf16)
{
    memset(t, 0, sizeof *t);
    t->bf16 = bf16;
    t->g = g;
    t->send = send;
    t->stats = stats;
    t->B = B;
    t->row_floats = row_floats;
    t->res_floats = res_floats;
    t->piece = ceil_div(B * row_floats, (size_t)g->tp);
    int first = g->stage == 0, last = g->stage == g->pp - 1;
    t->prev = first ? -1 : vr_comm_world_of(g, g->replica, g->stage - 1, g->tp_rank);
    t->next = last ? -1 : vr_comm_world_of(g, g->replica, g->stage + 1, g->tp_rank);
    for (int i = 0; i < VR_RING; i++)
        t->rx[i] = t->rm[i] = t->sx[i] = t->sm[i] = t->sres[i] = t->srm[i] = -1;
    size_t xlen = t->piece * (size_t)g->tp;
    for (int i = 0; i < VR_RING; i++) {
        t->x[i] = vr_alloc(xlen, sizeof(float), "activations");
        t->meta[i] = vr_alloc(vr_batch_meta_bytes(B), 1, "batch metadata");
        if (!t->x[i] || !t->meta[i])
            return VR_ERR_NOMEM;
        memset(t->x[i], 0, xlen * sizeof(float)); /* pages touched now, not in the loop */
        if (bf16 && !(t->wx[i] = vr_alloc(xlen, sizeof(uint16_t), "bfloat16 activations")))
            return VR_ERR_NOMEM;
        if (bf16)
            memset(t->wx[i], 0, xlen * sizeof(uint16_t));
        memset(t->meta[i], 0, vr_batch_meta_bytes(B));
        if (last && g->tp_rank == 0 && !(t->res[i] = vr_alloc(res_floats, sizeof(float), "results")))
            return VR_ERR_NOMEM;
    }
    if (writer && (!(t->wmeta = vr_alloc(vr_batch_meta_bytes(B), 1, "batch metadata")) ||
                   !(t->wres = vr_alloc(res_floats, sizeof(float), "results"))))
        return VR_ERR_NOMEM;
    return VR_OK;
}

void vr_transport_close(vr_transport *t)
{
    for (int i = 0; i < VR_RING; i++) {
        vr_comm_wait(&t->sx[i], NULL);
        vr_comm_wait(&t->sm[i], NULL);
        vr_comm_wait(&t->sres[i], NULL);
        vr_comm_wait(&t->srm[i], NULL);
        free(t->x[i]);
        free(t->wx[i]);
        free(t->meta[i]);
        free(t->res[i]);
    }
    free(t->wmeta);
    free(t->wres);
    memset(t, 0, sizeof *t);
}

vr_status vr_transport_post_recv(vr_transport *t, int slot)
{
    vr_status st;
    int slice = t->send == VR_SEND_SLICE;
    if (t->send == VR_SEND_GROUP && t->g->tp_rank != 0)
        return VR_OK; /* gets it from the group's broadcast */
    size_t off = slice ? (size_t)t->g->tp_rank * t->piece : 0;
    size_t len = slice ? t->piece : t->piece * (size_t)t->g->tp;
    if ((st = vr_comm_irecv(t->meta[slot], vr_batch_meta_bytes(t->B), t->prev, TAG_META,
                            &t->rm[slot])))
        return st;
    if (t->bf16)
        return vr_comm_irecv(t->wx[slot] + off, len * sizeof(uint16_t), t->prev, TAG_X,
                             &t->rx[slot]);
    return vr_comm_irecv(t->x[slot] + off, len * sizeof(float), t->prev, TAG_X, &t->rx[slot]);
}

/* bfloat16 (the high half of a float) back to float32, exactly. */
static void from_bf16(float *out, const uint16_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)in[i] << 16;
        memcpy(&out[i], &u, sizeof u);
    }
}

vr_status vr_transport_receive(vr_transport *t, int slot)
{
    vr_status st;
    if ((st = vr_comm_wait(&t->rm[slot], &t->stats->recv_wait)) ||
        (st = vr_comm_wait(&t->rx[slot], &t->stats->recv_wait)))
        return st;
    int slice = t->g->tp > 1 && t->send == VR_SEND_SLICE;
    if (t->bf16 && (t->send != VR_SEND_GROUP || t->g->tp_rank == 0)) {
        /* the slices in bfloat16 too, then the whole stream to float32 */
        size_t all = t->piece * (size_t)t->g->tp;
        if (slice && (st = vr_comm_tp_allgather_bytes(t->wx[slot], t->piece * sizeof(uint16_t),
                                                      t->stats)))
            return st;
        from_bf16(t->x[slot], t->wx[slot], all);
    } else if (slice && (st = vr_comm_tp_allgather(t->x[slot], t->piece, t->stats))) {
        return st;
    }
    if (t->g->tp > 1 && t->send == VR_SEND_GROUP) {
        double t0 = vr_now();
        vr_batch_meta *meta = t->meta[slot];
        if ((st = vr_comm_tp_bcast(meta, vr_batch_meta_bytes(t->B))) ||
            (st = vr_comm_tp_bcast(t->x[slot],
                                   (size_t)meta->count * t->row_floats * sizeof(float))))
            return st;
        t->stats->allreduce += vr_now() - t0;
    }
    return VR_OK;
}

vr_status vr_transport_reuse(vr_transport *t, int slot)
{
    vr_status st;
    if ((st = vr_comm_wait(&t->sm[slot], &t->stats->send_wait)) ||
        (st = vr_comm_wait(&t->sx[slot], &t->stats->send_wait)) ||
        (st = vr_comm_wait(&t->srm[slot], &t->stats->send_wait)) ||
        (st = vr_comm_wait(&t->sres[slot], &t->stats->send_wait)))
        return st;
    return VR_OK;
}

vr_status vr_transport_send(vr_transport *t, int slot, size_t count)
{
    vr_status st;
    size_t off = 0, len = count * t->row_floats;
    if (t->send == VR_SEND_GROUP && t->g->tp_rank != 0)
        return VR_OK; /* TP rank 0 sends for the group */
    if (t->send == VR_SEND_SLICE) {
        off = (size_t)t->g->tp_rank * t->piece;
        len = t->piece;
    }
    if ((st = vr_comm_isend(t->meta[slot], vr_batch_meta_bytes(count), t->next, TAG_META,
                            &t->sm[slot], t->stats)))
        return st;
    if (t->bf16) {
        vr_to_bf16(t->wx[slot] + off, t->x[slot] + off, len);
        return vr_comm_isend(t->wx[slot] + off, len * sizeof(uint16_t), t->next, TAG_X,
                             &t->sx[slot], t->stats);
    }
    return vr_comm_isend(t->x[slot] + off, len * sizeof(float), t->next, TAG_X, &t->sx[slot],
                         t->stats);
}

vr_status vr_transport_deliver(vr_transport *t, int slot, size_t count, int writer_rank)
{
    vr_status st;
    if ((st = vr_comm_isend(t->meta[slot], vr_batch_meta_bytes(count), writer_rank,
                            TAG_RES_META, &t->srm[slot], t->stats)))
        return st;
    return vr_comm_isend(t->res[slot], t->res_floats * sizeof(float), writer_rank, TAG_RES,
                         &t->sres[slot], t->stats);
}

vr_status vr_transport_collect(vr_transport *t, int src)
{
    vr_request rm = -1, rr = -1;
    vr_status st;
    if ((st = vr_comm_irecv(t->wmeta, vr_batch_meta_bytes(t->B), src, TAG_RES_META, &rm)) ||
        (st = vr_comm_irecv(t->wres, t->res_floats * sizeof(float), src, TAG_RES, &rr)) ||
        (st = vr_comm_wait(&rm, &t->stats->recv_wait)) ||
        (st = vr_comm_wait(&rr, &t->stats->recv_wait)))
        return st;
    return VR_OK;
}

void vr_transport_progress(vr_transport *t)
{
    /* the receives too: a large message's data flows only after its
     * receiver, inside MPI, has answered the sender (a last stage that
     * never tested them waited for each micro-batch's whole transfer) */
    for (int i = 0; i < VR_RING; i++) {
        vr_comm_test(&t->rm[i]);
        vr_comm_test(&t->rx[i]);
        vr_comm_test(&t->sx[i]);
        vr_comm_test(&t->sm[i]);
        vr_comm_test(&t->sres[i]);
        vr_comm_test(&t->srm[i]);
    }
}

void vr_transport_poll(void *t) { vr_transport_progress(t); }

void vr_transport_cancel(vr_transport *t)
{
    for (int i = 0; i < VR_RING; i++) {
        vr_comm_cancel(&t->rx[i]);
        vr_comm_cancel(&t->rm[i]);
    }
}

vr_status vr_transport_drain(vr_transport *t)
{
    vr_status st;
    for (int i = 0; i < VR_RING; i++)
        if ((st = vr_transport_reuse(t, i)))
            return st;
    return VR_OK;
}
