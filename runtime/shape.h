/* shape.h - a model's configuration from a shape on the command line.
 *
 * `vitrun --plan --nodes N --ranks-per-node R --shape SPEC` predicts layouts
 * for a model that has no file here (ViT-22B's weights are 88 GB): SPEC is
 * comma-separated KEY=VALUE items,
 *
 *   hidden=D    token width                      (required, 1..2^20)
 *   layers=L    encoder blocks                   (required, 1..4096)
 *   heads=H     attention heads, dividing D      (required, 1..2^20)
 *   mlp=M       MLP inner width                  (required, 1..2^20)
 *   patch=P     square patch side in pixels      (required, 1..2^20)
 *   image=S     input size S or HxW, multiples of P (224)
 *   classes=K   classifier outputs; 0: no classifier, the pooled feature
 *               is the output                    (1000)
 *   embed=E     a projection head to E outputs instead of a classifier
 *               (CLIP's image towers; needs classes 0 or none given)
 *   act=A       gelu, gelu_tanh, quick_gelu or swiglu (gelu)
 *   block=B     sequential or parallel (ViT-22B: attention and MLP on one
 *               LayerNorm, summed)                 (sequential)
 *   qkv_bias=0|1  q, k and v biases               (1)
 *   qk_norm=0|1   LayerNorm on each head's q and k (0)
 *
 * e.g. hidden=6144,layers=48,heads=48,mlp=24576,patch=14,classes=0,
 * block=parallel,qkv_bias=0,qk_norm=1. Everything else is the classic ViT's
 * (vr_config_classic: class token, positions on every token, final
 * LayerNorm before class-token pooling), 3 channels, LayerNorm epsilon 1e-6,
 * the position table resampled as timm does: the configuration
 * scripts/make_model.py writes into a file of that shape.
 */
#ifndef VR_SHAPE_H
#define VR_SHAPE_H

#include "config.h"

#define VR_SHAPE_MAX_BYTES 1024

/* Fills c from spec and checks it (vr_config_check), deriving every size
 * a model file's would have. VR_ERR_USAGE naming the key and value on a
 * bad spec. */
vr_status vr_config_from_shape(vr_config *c, const char *spec);

#endif
