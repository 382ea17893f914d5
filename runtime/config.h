/* config.h - the model's architecture and its preprocessing preset.
 *
 * Read from /config and /preprocess of the model file (io/model_io.c) and
 * checked by vr_config_check() before any size derived from it is used.
 */
#ifndef VR_CONFIG_H
#define VR_CONFIG_H

#include <stddef.h>

#include "status.h"

typedef struct {
    size_t image_size;  /* square input side, pixels */
    size_t patch_size;  /* square patch side, pixels */
    size_t channels;    /* input channels (3 for RGB) */
    size_t hidden;      /* D, the token width */
    size_t layers;      /* encoder blocks */
    size_t heads;       /* attention heads */
    size_t head_dim;    /* hidden / heads */
    size_t mlp_dim;     /* M, MLP inner width */
    size_t classes;     /* C, classifier outputs */
    double ln_eps;      /* LayerNorm epsilon (HF 1e-12, torchvision/timm 1e-6) */
    /* derived by vr_config_check() */
    size_t grid;        /* image_size / patch_size */
    size_t patches;     /* grid * grid */
    size_t tokens;      /* T = 1 + patches (class token first) */
    size_t patch_len;   /* channels * patch_size^2, one im2col row */
} vr_config;

typedef enum { VR_RESIZE_EXACT, VR_RESIZE_SHORTER } vr_resize_mode;
typedef enum { VR_INTERP_BILINEAR, VR_INTERP_BICUBIC } vr_interp;

typedef struct {
    vr_resize_mode resize;  /* exact: straight to resize_size^2; shorter: shorter side */
    size_t resize_size;
    size_t crop_size;       /* centre crop after resizing; == image_size */
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

/* The preprocessing of a source library for a model of `image_size`:
 * hf (resize straight to the size, bilinear, mean = std = 0.5), torchvision
 * (shorter side to size*256/224, bilinear, centre crop, ImageNet mean/std),
 * timm (shorter side to size/0.9, bicubic, centre crop; p's mean/std kept).
 * The same presets as scripts/vitrun_model.py writes. */
vr_status vr_preprocess_preset(vr_preprocess *p, const char *name, size_t image_size);

/* Parameter count of the full model (fits: checked by vr_config_check). */
size_t vr_config_param_count(const vr_config *c);

/* Floating-point operations (a multiply-add is two) of one image's forward
 * pass as the model defines it: every token through every block, as other
 * engines run it. */
double vr_config_flops_per_image(const vr_config *c);
/* What vitrun runs: the last block computes keys and values for every token
 * but the rest for the class token alone, unless all_tokens (--dump). */
double vr_config_flops_run(const vr_config *c, int all_tokens);

#endif
