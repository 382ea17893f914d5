/* weights.h - one rank's slice of the model parameters.
 *
 * All tensors live in one allocation (`memory`); the fields point into it.
 * Shapes below use Hl = heads in this shard, Ml = MLP columns in this shard,
 * hd = head_dim, D = hidden, M = mlp_dim, K = classes, T = tokens,
 * P = patch_len = channels*patch*patch, Mp = pool_mlp_dim, E = embed_dim.
 * All row-major float32.
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
    float *qkv_b;  /* (3*Hl*hd): zeros when the model has no qkv bias */
    float *q_norm_w, *q_norm_b, *k_norm_w, *k_norm_b; /* (hd) each, with qk_norm */
    float *proj_w; /* (D, Hl*hd): the columns of this shard's heads */
    float *proj_b; /* (D) */
    float *ls1;    /* (D) LayerScale of the attention branch, with layer_scale */
    float *ln2_w;  /* (D) */
    float *ln2_b;  /* (D) */
    float *fc1_w;  /* (Ml, D), or (2*Ml, D) for SwiGLU: the gate rows, then the value rows */
    float *fc1_b;  /* (Ml) or (2*Ml) */
    float *fc2_w;  /* (D, Ml) */
    float *fc2_b;  /* (D) */
    float *ls2;    /* (D) LayerScale of the MLP branch */
    /* set by vr_forward_prepare: the four matrices, ready for the GEMM back end */
    vr_linear *qkv, *proj, *fc1, *fc2;
    int folded;    /* ls1/ls2 multiplied into proj/fc2 (once) */
    int prepared;  /* the four are ready */
} vr_layer_weights;

/* SigLIP's attention-pool head (timm AttentionPoolLatent): one learned
 * query attends over every token, then a LayerNorm + MLP residual. */
typedef struct {
    float *latent; /* (D) the query token */
    float *q_w;    /* (D, D) */
    float *q_b;    /* (D) */
    float *kv_w;   /* (2*D, D): keys of every head, then values */
    float *kv_b;   /* (2*D) */
    float *proj_w; /* (D, D) */
    float *proj_b; /* (D) */
    float *norm_w; /* (D) */
    float *norm_b; /* (D) */
    float *fc1_w;  /* (Mp, D) */
    float *fc1_b;  /* (Mp) */
    float *fc2_w;  /* (D, Mp) */
    float *fc2_b;  /* (D) */
    float *q;      /* (D) latent W_q^T + b_q: the same for every image, set at prepare */
    vr_linear *kv, *proj, *fc1, *fc2;
} vr_pool_weights;

typedef struct {
    vr_config cfg;
    vr_shard shard;
    /* present when shard.has_embed, else NULL */
    float *patch_w;  /* (D, P): conv weight [D,C,p,p] flattened */
    float *patch_b;  /* (D): zeros when the convolution has no bias (CLIP) */
    float *prefix;   /* (prefix, D): class, distillation and register tokens, in token order */
    float *pos;      /* (pos_tokens, D) */
    float *norm_pre_w, *norm_pre_b; /* (D), with norm_pre */
    vr_layer_weights *layer; /* (layer_end - layer_begin) entries */
    /* present when shard.has_head, else NULL */
    float *norm_w;   /* (D), or (pooled) after pooling; NULL without a final norm */
    float *norm_b;
    vr_pool_weights pool; /* pooling 'map' */
    float *head_w;   /* (K, pooled) classifier, or (E, pooled) projection */
    float *head_b;   /* (K); NULL for a projection */
    float *dist_w;   /* (K, D) DeiT's distillation head */
    float *dist_b;   /* (K) */
    float *memory;   /* the one allocation */
    size_t n_floats;
    /* set by vr_forward_prepare */
    vr_linear *patch, *head, *dist;
    struct vr_attention *attention;      /* when the shard has layers */
    struct vr_attention *pool_attention; /* the attention-pool head's */
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
