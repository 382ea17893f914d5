/* reader.c - a ring of row ranges filled by decoding threads. */
#include "reader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "listing.h"

typedef struct {
    size_t first, count;
    size_t claimed, done;  /* rows handed to a worker / finished */
    uint8_t *px;           /* (max_rows, crop_h, crop_w, 3) */
    vr_row_meta *rows;     /* (max_rows) */
    char (*full)[2 * VR_PATH_MAX]; /* (max_rows) paths to open */
    uint8_t *bytes;        /* rows given as bytes (vr_reader_submit_bytes), one after another */
    size_t bytes_cap;
    size_t *boff, *blen;   /* (max_rows) row i's bytes; blen 0: a file, or nothing to decode */
    int from_bytes;
} slot;

struct vr_reader {
    vr_listing list;
    vr_preprocess pre;
    vr_jpeg_limits lim;
    size_t img, max_rows;
    int depth, nthreads;
    slot *slots;           /* (depth) ring */
    int head, pending;     /* oldest outstanding slot, outstanding count */
    pthread_t *threads;
    vr_image_decoder inline_dec; /* threads == 0 */
    int stopping;
    pthread_mutex_t mu;
    pthread_cond_t work, finished;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void decode_row(vr_reader *r, vr_image_decoder *d, slot *s, size_t i)
{
    vr_row_meta *m = &s->rows[i];
    if (s->from_bytes) {
        /* a row the caller already judged (ok = 0) has nothing to decode */
        if (m->ok)
            m->ok = vr_image_decode(d, s->bytes + s->boff[i], s->blen[i], &r->pre, &r->lim,
                                   s->px + i * r->img, m->error, sizeof m->error) == 0;
        if (!m->ok)
            memset(s->px + i * r->img, 0, r->img);
        return;
    }
    m->ok = vr_image_load(d, s->full[i], &r->pre, &r->lim, s->px + i * r->img, m->error,
                          sizeof m->error) == 0;
    if (!m->ok)
        memset(s->px + i * r->img, 0, r->img);
}

static void *worker(void *arg)
{
    vr_reader *r = arg;
    vr_image_decoder d;
    int ok = vr_image_init(&d) == 0;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        slot *s = NULL;
        size_t i = 0;
        for (int k = 0; k < r->pending; k++) {
            slot *c = &r->slots[(r->head + k) % r->depth];
            if (c->claimed < c->count) {
                s = c;
                i = c->claimed++;
                break;
            }
        }
        if (!s) {
            if (r->stopping)
                break;
            pthread_cond_wait(&r->work, &r->mu);
            continue;
        }
        pthread_mutex_unlock(&r->mu);
        if (ok) {
            decode_row(r, &d, s, i);
        } else {
            s->rows[i].ok = 0;
            snprintf(s->rows[i].error, sizeof s->rows[i].error, "TurboJPEG failed to start");
        }
        pthread_mutex_lock(&r->mu);
        s->done++;
        if (s->done == s->count)
            pthread_cond_broadcast(&r->finished);
    }
    pthread_mutex_unlock(&r->mu);
    if (ok)
        vr_image_free(&d);
    return NULL;
}

vr_status vr_reader_open(vr_reader **out, const char *listing, const char *base,
                         const vr_preprocess *p, const vr_jpeg_limits *lim, size_t pixels,
                         size_t max_rows, int threads, int depth)
{
    *out = NULL;
    vr_reader *r = calloc(1, sizeof *r);
    if (!r)
        return vr_fail(VR_ERR_NOMEM, "out of memory for the JPEG reader");
    r->pre = *p;
    r->lim = *lim;
    r->img = pixels * 3;
    r->max_rows = max_rows;
    r->depth = depth < 1 ? 1 : depth;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->work, NULL);
    pthread_cond_init(&r->finished, NULL);
    vr_status st = listing ? vr_listing_open(&r->list, listing, base) : VR_OK;
    if (st) {
        vr_reader_close(r);
        return st;
    }
    if (!(r->slots = calloc((size_t)r->depth, sizeof *r->slots)))
        goto oom;
    for (int k = 0; k < r->depth; k++) {
        slot *s = &r->slots[k];
        if (!(s->px = vr_alloc(max_rows, r->img, "decoded images")) ||
            !(s->rows = calloc(max_rows, sizeof *s->rows)) ||
            !(s->full = calloc(max_rows, sizeof *s->full)) ||
            !(s->boff = calloc(max_rows, sizeof *s->boff)) ||
            !(s->blen = calloc(max_rows, sizeof *s->blen)))
            goto oom;
    }
    if (threads == 0) {
        if (vr_image_init(&r->inline_dec) != 0) {
            vr_reader_close(r);
            return vr_fail(VR_ERR_INTERNAL, "TurboJPEG failed to start");
        }
    } else {
        if (!(r->threads = calloc((size_t)threads, sizeof *r->threads)))
            goto oom;
        for (int t = 0; t < threads; t++) {
            if (pthread_create(&r->threads[t], NULL, worker, r) != 0) {
                vr_reader_close(r);
                return vr_fail(VR_ERR_INTERNAL, "cannot start decoding thread %d of %d", t + 1,
                               threads);
            }
            r->nthreads++;
        }
    }
    *out = r;
    return VR_OK;
oom:
    vr_reader_close(r);
    return vr_fail(VR_ERR_NOMEM, "out of memory for %d batches of %zu decoded images", depth,
                   max_rows);
}

int vr_reader_pending(const vr_reader *r) { return r->pending; }

vr_status vr_reader_submit(vr_reader *r, size_t first, size_t count)
{
    if (r->pending == r->depth || count > r->max_rows)
        return vr_fail(VR_ERR_INTERNAL, "reader: range submitted beyond its capacity");
    slot *s = &r->slots[(r->head + r->pending) % r->depth];
    /* paths are read here, on the calling thread: the listing is a stream */
    for (size_t i = 0; i < count; i++) {
        vr_row_meta *m = &s->rows[i];
        memset(m, 0, sizeof *m);
        vr_status st = vr_listing_get(&r->list, first + i, m->name, s->full[i]);
        if (st)
            return st;
    }
    pthread_mutex_lock(&r->mu);
    s->from_bytes = 0;
    s->first = first;
    s->count = count;
    s->claimed = s->done = 0;
    r->pending++;
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->mu);
    return VR_OK;
}

vr_status vr_reader_submit_bytes(vr_reader *r, const vr_row_meta *rows, const uint8_t *const *bytes,
                                 const size_t *lens, size_t count)
{
    if (r->pending == r->depth || count > r->max_rows)
        return vr_fail(VR_ERR_INTERNAL, "reader: range submitted beyond its capacity");
    slot *s = &r->slots[(r->head + r->pending) % r->depth];
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += rows[i].ok ? lens[i] : 0;
    if (total > s->bytes_cap) {
        uint8_t *b = realloc(s->bytes, total);
        if (!b)
            return vr_fail(VR_ERR_NOMEM, "out of memory for %zu bytes of images", total);
        s->bytes = b;
        s->bytes_cap = total;
    }
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        s->rows[i] = rows[i];
        s->boff[i] = at;
        s->blen[i] = rows[i].ok ? lens[i] : 0;
        if (s->blen[i])
            memcpy(s->bytes + at, bytes[i], lens[i]);
        at += s->blen[i];
    }
    pthread_mutex_lock(&r->mu);
    s->from_bytes = 1;
    s->first = 0;
    s->count = count;
    s->claimed = s->done = 0;
    r->pending++;
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->mu);
    return VR_OK;
}

vr_status vr_reader_take(vr_reader *r, uint8_t *px, vr_row_meta *rows, double *waited)
{
    if (!r->pending)
        return vr_fail(VR_ERR_INTERNAL, "reader: take without a submitted range");
    slot *s = &r->slots[r->head];
    if (!r->nthreads) {
        for (size_t i = 0; i < s->count; i++)
            decode_row(r, &r->inline_dec, s, i);
        s->claimed = s->done = s->count;
    } else {
        double t0 = now();
        pthread_mutex_lock(&r->mu);
        while (s->done < s->count)
            pthread_cond_wait(&r->finished, &r->mu);
        pthread_mutex_unlock(&r->mu);
        if (waited)
            *waited += now() - t0;
    }
    memcpy(px, s->px, s->count * r->img);
    memcpy(rows, s->rows, s->count * sizeof *rows);
    pthread_mutex_lock(&r->mu);
    r->head = (r->head + 1) % r->depth;
    r->pending--;
    pthread_mutex_unlock(&r->mu);
    return VR_OK;
}

void vr_reader_close(vr_reader *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    /* abandon queued rows: mark them claimed so workers stop picking them */
    for (int k = 0; r->slots && k < r->pending; k++) {
        slot *s = &r->slots[(r->head + k) % r->depth];
        s->claimed = s->count;
    }
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->mu);
    for (int t = 0; t < r->nthreads; t++)
        pthread_join(r->threads[t], NULL);
    free(r->threads);
    if (!r->nthreads)
        vr_image_free(&r->inline_dec);
    for (int k = 0; r->slots && k < r->depth; k++) {
        free(r->slots[k].px);
        free(r->slots[k].rows);
        free(r->slots[k].full);
        free(r->slots[k].bytes);
        free(r->slots[k].boff);
        free(r->slots[k].blen);
    }
    free(r->slots);
    vr_listing_close(&r->list);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->work);
    pthread_cond_destroy(&r->finished);
    free(r);
}
