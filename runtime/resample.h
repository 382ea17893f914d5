/* resample.h - the image geometry of the preprocessing presets: resize and
 * centre crop of 8-bit RGB, computed the way Pillow computes them so that a
 * model sees the same pixels it saw in PyTorch.
 *
 * Pillow's resampling is separable and done in fixed point: filter weights
 * are normalised in double, rounded to 22-bit integers, the horizontal pass
 * runs first and rounds to uint8, then the vertical pass. When shrinking, the
 * filter support widens by the scale factor (antialiasing). Reproducing each
 * of those steps makes the output equal to Pillow's to the bit.
 */
#ifndef VR_RESAMPLE_H
#define VR_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "status.h"

/* Scratch for one image's resize: coefficient tables and the intermediate
 * rows. Grown on demand, reused across images; one per thread. */
typedef struct {
    int32_t *kx, *ky;  /* fixed-point weights, (window w, kx_size) and (window h, ky_size) */
    int *bx, *by;      /* (window, 2): first source pixel and count */
    uint8_t *tmp;      /* horizontal pass output (rows, window w, C) */
    int32_t *acc;      /* one output row's sums in the vertical pass (window w * C) */
    size_t cap_kx, cap_ky, cap_bx, cap_by, cap_tmp, cap_acc;
} vr_resampler;

void vr_resampler_free(vr_resampler *r);

/* out (ny, nx, C) = rows oy0..oy0+ny-1, columns ox0..ox0+nx-1 of in (ih, iw,
 * C) resized to (oh, ow) with Pillow's filter `interp`: the same bytes as
 * the whole resize, with memory and work for the window (and the source rows
 * it reads) only. */
vr_status vr_resize_window_u8(vr_resampler *r, uint8_t *out, size_t oh, size_t ow, size_t oy0,
                              size_t ny, size_t ox0, size_t nx, const uint8_t *in, size_t ih,
                              size_t iw, size_t C, vr_interp interp);

/* Size after the preset's resize: exact -> (size, size); shorter -> the
 * shorter side becomes `size`, the longer one int(size * long / short), as
 * torchvision's Resize(int) computes it. */
void vr_resize_target(const vr_preprocess *p, size_t h, size_t w, size_t *oh, size_t *ow);

/* Top-left corner of a centre crop of `crop` from `size`, with Python's
 * round-half-to-even as torchvision's CenterCrop uses; crop <= size. */
size_t vr_crop_offset(size_t size, size_t crop);

/* The whole geometric preset: resize, then centre crop to crop_h x crop_w;
 * only the crop is computed, whatever the aspect ratio. */
vr_status vr_preprocess_rgb(vr_resampler *r, uint8_t *out /* (crop_h, crop_w, 3) */,
                            const uint8_t *rgb /* (h, w, 3) */, size_t h, size_t w,
                            const vr_preprocess *p);

#endif
