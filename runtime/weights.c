/* weights.c - lays one rank's parameters out in a single allocation. */
#include "weights.h"

#include "attention.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Walks the layout twice: once with base == NULL to count, once to assign.
 * Each tensor is rounded up to 16 floats so every one starts 64-byte aligned. */
static float *take(float *base, size_t *off, size_t n)
{
    float *p = base ? base + *off : NULL;
    *off += (n + 15) & ~(size_t)15;
    return p;
}

static void lay_out(vr_weights *w, float *base, size_t *off)
{
    const vr_config *c = &w->cfg;
    const vr_shard *s = &w->shard;
    size_t D = c->hidden, Hd = vr_shard_heads(s) * c->head_dim, Ml = vr_shard_mlp(s);
    if (s->has_embed) {
        w->patch_w = take(base, off, D * c->patch_len);
        w->patch_b = take(base, off, D);
        w->cls = take(base, off, D);
        w->pos = take(base, off, c->tokens * D);
    }
    for (size_t l = 0; l < vr_shard_layers(s); l++) {
        vr_layer_weights *L = &w->layer[l];
        if (vr_shard_has_attention(s, s->layer_begin + l)) {
            L->ln1_w = take(base, off, D);
            L->ln1_b = take(base, off, D);
            L->qkv_w = take(base, off, 3 * Hd * D);
            L->qkv_b = take(base, off, 3 * Hd);
            L->proj_w = take(base, off, D * Hd);
            L->proj_b = take(base, off, D);
        }
        if (vr_shard_has_mlp(s, s->layer_begin + l)) {
            L->ln2_w = take(base, off, D);
            L->ln2_b = take(base, off, D);
            L->fc1_w = take(base, off, Ml * D);
            L->fc1_b = take(base, off, Ml);
            L->fc2_w = take(base, off, D * Ml);
            L->fc2_b = take(base, off, D);
        }
    }
    if (s->has_head) {
        w->norm_w = take(base, off, D);
        w->norm_b = take(base, off, D);
        w->head_w = take(base, off, c->classes * D);
        w->head_b = take(base, off, c->classes);
    }
}

vr_status vr_weights_build(vr_weights *w, const vr_config *cfg, const vr_shard *shard)
{
    memset(w, 0, sizeof *w);
    w->cfg = *cfg;
    w->shard = *shard;
    size_t nl = vr_shard_layers(shard);
    w->layer = calloc(nl ? nl : 1, sizeof *w->layer);
    if (!w->layer)
        return vr_fail(VR_ERR_NOMEM, "cannot allocate the layer table");
    size_t n = 0;
    lay_out(w, NULL, &n); /* sizes are bounded by vr_config_check */
    w->memory = vr_alloc(n, sizeof(float), "model weights");
    if (!w->memory) {
        free(w->layer);
        w->layer = NULL;
        return VR_ERR_NOMEM;
    }
    w->n_floats = n;
    size_t off = 0;
    lay_out(w, w->memory, &off);
    return VR_OK;
}

size_t vr_weights_release(float *p, size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    if (!p || page <= 0)
        return 0;
    uintptr_t a = (uintptr_t)p, e = (uintptr_t)(p + n), ps = (uintptr_t)page;
    uintptr_t b = (a + ps - 1) & ~(ps - 1), f = e & ~(ps - 1);
    if (f <= b || madvise((void *)b, f - b, MADV_DONTNEED) != 0)
        return 0;
    return f - b;
}

void vr_weights_free(vr_weights *w)
{
    for (size_t l = 0; w->layer && l < vr_shard_layers(&w->shard); l++) {
        vr_layer_weights *L = &w->layer[l];
        vr_linear_free(L->qkv);
        vr_linear_free(L->proj);
        vr_linear_free(L->fc1);
        vr_linear_free(L->fc2);
    }
    vr_attention_free(w->attention);
    vr_linear_free(w->patch);
    vr_linear_free(w->head);
    free(w->memory);
    free(w->layer);
    memset(w, 0, sizeof *w);
}
