/* preprocess.h - turns pixels into the normalised tensor the model expects. */
#ifndef VR_PREPROCESS_H
#define VR_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* out (B, C, H, W) = (px (B, H, W, C) * rescale - mean[c]) / std[c], in float32
 * in the order torchvision's ToTensor + Normalize use. */
void vr_normalize_u8(float *out, const uint8_t *px, size_t B, size_t H, size_t W, size_t C,
                     const vr_preprocess *p);

/* Fills out (B, C, H, W) with reproducible values in [-1, 1) for image
 * indices first..first+B-1 (benchmarks; independent of the batch size). */
void vr_synthetic(float *out, size_t first, size_t B, size_t C, size_t H, size_t W);

/* 0 when every value of x (n) is finite. */
int vr_has_nonfinite(const float *x, size_t n);

#endif
