/* weights.h - one rank's slice of the model parameters.
 *
 * All tensors live in one allocation (`memory`); the fields point into it.
 * Shapes below use Hl = heads in this shard, Ml = MLP columns in this shard,
 * hd = head_dim, D = hidden, M = mlp_dim, C = classes, T = tokens,
 * P = patch_len = channels*patch*patch. All row-major float32.
 */
#ifndef VR_WEIGHTS_H
#define VR_WEIGHTS_H

#include <stddef.h>

#include "../partition/shard.h"
#include "config.h"
#include "linear.h"
#include "status.h"

typedef struct {
    float *ln1_w;  /* (D) */
    float *ln1_b;  /* (D) */
    float *qkv_w;  /* (3*Hl*hd, D): rows q[heads], k[heads], v[heads] */
    float *qkv_b;  /* (3*Hl*hd) */
    float *proj_w; /* (D, Hl*hd): the columns of this shard's heads */
    float *proj_b; /* (D) */
    float *ln2_w;  /* (D) */
    float *ln2_b;  /* (D) */
    float *fc1_w;  /* (Ml, D) */
    float *fc1_b;  /* (Ml) */
    float *fc2_w;  /* (D, Ml) */
    float *fc2_b;  /* (D) */
    /* set by vr_forward_prepare: the four matrices, ready for the GEMM back end */
    vr_linear *qkv, *proj, *fc1, *fc2;
} vr_layer_weights;

typedef struct {
    vr_config cfg;
    vr_shard shard;
    /* present when shard.has_embed, else NULL */
    float *patch_w; /* (D, P): conv weight [D,C,p,p] flattened */
    float *patch_b; /* (D) */
    float *cls;     /* (D) */
    float *pos;     /* (T, D) */
    vr_layer_weights *layer; /* (layer_end - layer_begin) entries */
    /* present when shard.has_head, else NULL */
    float *norm_w;  /* (D) */
    float *norm_b;  /* (D) */
    float *head_w;  /* (C, D) */
    float *head_b;  /* (C) */
    float *memory;  /* the one allocation */
    size_t n_floats;
    /* set by vr_forward_prepare */
    vr_linear *patch, *head;
    struct vr_attention *attention; /* when the shard has layers */
    int fused_residual;     /* proj and fc2 add into the residual stream themselves */
    size_t released_bytes;  /* float32 weight pages handed back after packing */
} vr_weights;

/* Allocates and lays out storage for `shard` of `cfg` (contents undefined). */
vr_status vr_weights_build(vr_weights *w, const vr_config *cfg, const vr_shard *shard);
void vr_weights_free(vr_weights *w);

/* Hands the whole pages inside p[0, n) back to the system once a packed copy
 * replaced them (they read as zero afterwards); returns the bytes released. */
size_t vr_weights_release(float *p, size_t n);

#endif
