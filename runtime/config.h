/* config.h - the model's architecture and its preprocessing preset.
 *
 * Read from /config and /preprocess of the model file (io/model_io.c) and
 * checked by vr_config_check() before any size derived from it is used.
 */
#ifndef VR_CONFIG_H
#define VR_CONFIG_H

#include <stddef.h>

#include "status.h"

/* The variants of the ViT family (docs/MODEL_FORMAT.md): each is a setting
 * read from /config, not a copy of the block code. 0 is the classic ViT's. */
typedef enum { VR_POS_ALL, VR_POS_PATCHES } vr_pos_mode;
typedef enum { VR_ACT_GELU, VR_ACT_GELU_TANH, VR_ACT_QUICK_GELU, VR_ACT_SWIGLU } vr_mlp_act;
typedef enum { VR_NORM_PRE_POOL, VR_NORM_POST_POOL, VR_NORM_NONE } vr_final_norm;
typedef enum { VR_POOL_CLS, VR_POOL_AVG, VR_POOL_MAP, VR_POOL_CLS_AVG } vr_pool_kind;
typedef enum { VR_HEAD_LINEAR, VR_HEAD_NONE, VR_HEAD_PROJECTION, VR_HEAD_DISTILLED } vr_head_kind;
/* How the position table is resampled to another patch grid, as the
 * checkpoint's library does it (runtime/posembed.h). */
typedef enum {
    VR_PR_NONE,            /* the model runs at its own size only */
    VR_PR_BICUBIC_AA,      /* timm, OpenCLIP, DINOv2 hub reg: bicubic, antialiased */
    VR_PR_BICUBIC,         /* HF ViT/DeiT/CLIP/SigLIP/Dinov2: bicubic, size= */
    VR_PR_BICUBIC_OFFSET,  /* DINOv2: bicubic, scale_factor (g + 0.1) / g0 */
    VR_PR_BICUBIC_CORNERS, /* torchvision: bicubic, align_corners */
} vr_pos_resample;

typedef struct {
    size_t image_h, image_w; /* input size in pixels: the model's, or --image-size */
    size_t patch_size;  /* square patch side, pixels */
    size_t channels;    /* input channels (3 for RGB) */
    size_t hidden;      /* D, the token width */
    size_t layers;      /* encoder blocks */
    size_t heads;       /* attention heads */
    size_t head_dim;    /* hidden / heads */
    size_t mlp_dim;     /* M, MLP inner width (after the gate for SwiGLU) */
    size_t classes;     /* K, classifier outputs; 0 when the head is none or a projection */
    double ln_eps;      /* LayerNorm epsilon (HF 1e-12, torchvision/timm 1e-6, CLIP 1e-5) */
    /* tokens: [class] [distillation] [registers...] patches..., in this order */
    int class_token;    /* 1: a learned class token */
    int dist_token;     /* 1: DeiT's distillation token */
    size_t reg_tokens;  /* register tokens (DINOv2 with registers) */
    vr_pos_mode pos;    /* position embeddings over every token, or the patches only */
    size_t pos_grid_h, pos_grid_w; /* the patch grid of the stored table (0: the image's) */
    vr_pos_resample pos_resample;  /* to another grid */
    int norm_pre;       /* LayerNorm after the embedding (CLIP ln_pre, timm norm_pre) */
    /* blocks */
    int qkv_bias;       /* 0: q, k and v have no bias (read as zeros) */
    int qk_norm;        /* LayerNorm over head_dim of each head's q and k */
    int layer_scale;    /* LayerScale gammas on both residual branches */
    int parallel_block; /* ViT-22B's block: x + attn(LN1(x)) + mlp(LN1(x)), one LayerNorm
                         * (/config block = "parallel"; timm ParallelScalingBlock) */
    vr_mlp_act act;     /* the MLP's activation */
    /* after the blocks */
    vr_final_norm final_norm;
    vr_pool_kind pool;
    size_t pool_mlp_dim; /* the attention-pool head's MLP width (pool == MAP) */
    vr_head_kind head;
    size_t embed_dim;   /* projection outputs (head == PROJECTION); derived otherwise */
    int normalize;      /* the embedding is L2-normalised by default (CLIP, SigLIP towers) */
    double logit_scale; /* zero-shot's multiplier (exp of the checkpoint's), 0: none stored */
    double logit_bias;  /* SigLIP's zero-shot bias, when have_logit_bias */
    int have_logit_bias;
    /* derived by vr_config_check() */
    size_t grid_h, grid_w; /* image_h / patch_size, image_w / patch_size */
    size_t patches;     /* grid_h * grid_w */
    size_t prefix;      /* class + distillation + register tokens */
    size_t tokens;      /* T = prefix + patches */
    size_t pos_tokens;  /* rows of the position embeddings: tokens, or patches */
    size_t pos_stored;  /* rows of the stored table, on its own grid */
    size_t patch_len;   /* channels * patch_size^2, one im2col row */
    size_t pooled;      /* width of the pooled feature: D, or 2D for class + mean */
    size_t head_rows;   /* leading rows of each image the head reads: 1 (class token
                           pooling), else tokens; the last block computes only these */
} vr_config;

/* The classic ViT (class token, GELU, final LayerNorm, linear head): what a
 * format 1 file describes, and what a zeroed config needs to become one. */
void vr_config_classic(vr_config *c);
/* Words for the settings, as /config spells them. */
const char *vr_act_name(vr_mlp_act a);
const char *vr_pool_name(vr_pool_kind p);
const char *vr_head_name(vr_head_kind h);

typedef enum { VR_RESIZE_EXACT, VR_RESIZE_SHORTER } vr_resize_mode;
typedef enum { VR_INTERP_BILINEAR, VR_INTERP_BICUBIC } vr_interp;

typedef struct {
    vr_resize_mode resize;  /* exact: straight to resize_size x resize_w; shorter: shorter side */
    size_t resize_size;     /* the shorter side, or the exact height */
    size_t resize_w;        /* the exact width */
    size_t crop_h, crop_w;  /* centre crop after resizing; the model's image size */
    char preset[16];        /* the library's preset it came from ("" unknown): what
                               --image-size re-derives it with */
    double crop_pct;        /* timm's crop fraction (0.9, 0.875, 1.0) */
    vr_interp interp;
    double rescale;         /* multiplies uint8 values first (1/255) */
    double mean[3];
    double std[3];
} vr_preprocess;

/* Upper bounds that no real ViT gets near; they keep products of sizes read
 * from a file far from overflow before anything is allocated. */
#define VR_MAX_DIM ((size_t)1 << 20)
#define VR_MAX_LAYERS ((size_t)4096)

/* Checks consistency and fills the derived fields. `where` names the file. */
vr_status vr_config_check(vr_config *c, const char *where);

/* The preprocessing of a source library for a model of h x w pixels: for a
 * square size as each library does it; for other shapes, its rule applied
 * to the longer side so the crop fits:
 * hf, siglip: resize straight to h x w (bilinear, bicubic), mean = std = 0.5;
 * torchvision, dinov2: shorter side to round(size*256/224), bilinear or
 *   bicubic, centre crop, ImageNet mean/std;
 * timm: shorter side to floor(size/crop_pct) (a non-square size: straight to
 *   floor(h/crop_pct) x floor(w/crop_pct), as timm's transforms do), bicubic,
 *   centre crop; p's mean/std kept, and p->crop_pct when in (0, 1] (else 0.9);
 * clip: shorter side to the size, bicubic, centre crop, CLIP's mean/std.
 * The same presets as scripts/vitrun_model.py writes. */
vr_status vr_preprocess_preset(vr_preprocess *p, const char *name, size_t h, size_t w);
/* The model at h x w pixels instead of its own size: the grid, and the
 * preprocessing re-derived from its recorded preset; `where` names the model. */
vr_status vr_config_resize(vr_config *c, vr_preprocess *p, size_t h, size_t w, const char *where);
const char *vr_pos_resample_name(vr_pos_resample r);
/* The resize covers the crop and stays in range. */
vr_status vr_preprocess_check(const vr_preprocess *p, const char *where);

/* Parameter count of the full model (fits: checked by vr_config_check). */
size_t vr_config_param_count(const vr_config *c);

/* Floating-point operations (a multiply-add is two) of one image's forward
 * pass as the model defines it: every token through every block, as other
 * engines run it. */
double vr_config_flops_per_image(const vr_config *c);
/* Of which the attention-pool head (one query) and the classifier or projection. */
double vr_config_head_flops(const vr_config *c);
/* What vitrun runs: the last block computes keys and values for every token
 * but the rest for the class token alone, unless all_tokens (--dump). */
double vr_config_flops_run(const vr_config *c, int all_tokens);

#endif
