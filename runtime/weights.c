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
    size_t D = c->hidden, hd = c->head_dim, Hd = vr_shard_heads(s) * hd, Ml = vr_shard_mlp(s);
    size_t fc1 = c->act == VR_ACT_SWIGLU ? 2 * Ml : Ml;
    if (s->has_embed) {
        w->patch_w = take(base, off, D * c->patch_len);
        w->patch_b = take(base, off, D);
        w->prefix = c->prefix ? take(base, off, c->prefix * D) : NULL;
        w->pos = take(base, off, c->pos_tokens * D);
        if (c->norm_pre) {
            w->norm_pre_w = take(base, off, D);
            w->norm_pre_b = take(base, off, D);
        }
    }
    for (size_t l = 0; l < vr_shard_layers(s); l++) {
        vr_layer_weights *L = &w->layer[l];
        if (vr_shard_has_attention(s, s->layer_begin + l)) {
            L->ln1_w = take(base, off, D);
            L->ln1_b = take(base, off, D);
            L->qkv_w = take(base, off, 3 * Hd * D);
            L->qkv_b = take(base, off, 3 * Hd);
            if (c->qk_norm) {
                L->q_norm_w = take(base, off, hd);
                L->q_norm_b = take(base, off, hd);
                L->k_norm_w = take(base, off, hd);
                L->k_norm_b = take(base, off, hd);
            }
            L->proj_w = take(base, off, D * Hd);
            L->proj_b = take(base, off, D);
            if (c->layer_scale)
                L->ls1 = take(base, off, D);
        }
        if (vr_shard_has_mlp(s, s->layer_begin + l)) {
            L->ln2_w = take(base, off, D);
            L->ln2_b = take(base, off, D);
            L->fc1_w = take(base, off, fc1 * D);
            L->fc1_b = take(base, off, fc1);
            L->fc2_w = take(base, off, D * Ml);
            L->fc2_b = take(base, off, D);
            if (c->layer_scale)
                L->ls2 = take(base, off, D);
        }
    }
    if (s->has_head) {
        size_t nw = c->final_norm == VR_NORM_POST_POOL ? c->pooled : D;
        if (c->final_norm != VR_NORM_NONE) {
            w->norm_w = take(base, off, nw);
            w->norm_b = take(base, off, nw);
        }
        if (c->pool == VR_POOL_MAP) {
            vr_pool_weights *p = &w->pool;
            size_t Mp = c->pool_mlp_dim;
            p->latent = take(base, off, D);
            p->q_w = take(base, off, D * D);
            p->q_b = take(base, off, D);
            p->kv_w = take(base, off, 2 * D * D);
            p->kv_b = take(base, off, 2 * D);
            p->proj_w = take(base, off, D * D);
            p->proj_b = take(base, off, D);
            p->norm_w = take(base, off, D);
            p->norm_b = take(base, off, D);
            p->fc1_w = take(base, off, Mp * D);
            p->fc1_b = take(base, off, Mp);
            p->fc2_w = take(base, off, D * Mp);
            p->fc2_b = take(base, off, D);
            p->q = take(base, off, D);
        }
        if (c->head == VR_HEAD_PROJECTION) {
            w->head_w = take(base, off, c->embed_dim * c->pooled);
        } else if (c->head != VR_HEAD_NONE) {
            w->head_w = take(base, off, c->classes * c->pooled);
            w->head_b = take(base, off, c->classes);
        }
        if (c->head == VR_HEAD_DISTILLED) {
            w->dist_w = take(base, off, c->classes * D);
            w->dist_b = take(base, off, c->classes);
        }
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
    vr_attention_free(w->pool_attention);
    vr_linear_free(w->pool.kv);
    vr_linear_free(w->pool.proj);
    vr_linear_free(w->pool.fc1);
    vr_linear_free(w->pool.fc2);
    vr_linear_free(w->patch);
    vr_linear_free(w->head);
    vr_linear_free(w->dist);
    free(w->memory);
    free(w->layer);
    memset(w, 0, sizeof *w);
}
