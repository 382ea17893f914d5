/* posembed.h - a position table resampled to another patch grid, as the
 * checkpoint's library does it when a model runs at another image size.
 *
 * Every library calls PyTorch's F.interpolate on the (D, gh, gw) grid, with
 * its own arguments (docs/notes/archs.md, tests/reference/resample_ref.py):
 * - bicubic, antialias (timm's resample_abs_pos_embed, OpenCLIP, DINOv2's
 *   hub models with registers): the separable filter with a = -0.5 and a
 *   support widened by the downscale factor, weights normalised;
 * - bicubic, size= (HF ViT, DeiT, CLIP, SigLIP, Dinov2): the 4-tap cubic
 *   convolution with a = -0.75, source x = (i + 0.5) in/out - 0.5, taps
 *   clamped to the border;
 * - bicubic, scale_factor (g + 0.1) / g0 (DINOv2's own interpolate_offset):
 *   the same taps with in/out replaced by g0 / (g + 0.1);
 * - bicubic, align_corners (torchvision): x = i (in - 1)/(out - 1).
 * Weights are computed and applied in double, rounded to float once.
 */
#ifndef VR_POSEMBED_H
#define VR_POSEMBED_H

#include <stddef.h>

#include "config.h"
#include "status.h"

/* out (nh*nw, D) = in (gh*gw, D), rows in row-major grid order, resampled. */
vr_status vr_pos_resample_grid(float *out, size_t nh, size_t nw, const float *in, size_t gh,
                               size_t gw, size_t D, vr_pos_resample how);

/* The (n_out, n_in) weights of one axis (tests and the grid above). */
vr_status vr_pos_weights(double *w, size_t n_in, size_t n_out, vr_pos_resample how);

#endif
