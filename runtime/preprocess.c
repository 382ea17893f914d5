/* preprocess.c - normalisation and synthetic inputs. */
#include "preprocess.h"

#include <math.h>

void vr_normalize_u8(float *out, const uint8_t *px, size_t B, size_t H, size_t W, size_t C,
                     const vr_preprocess *p)
{
    /* ToTensor divides by 255 in float32; a rescale of exactly 1/255 does the
     * same division so the result matches it to the bit. */
    int div255 = fabs(p->rescale - 1.0 / 255.0) < 1e-12;
    float rescale = (float)p->rescale;
    for (size_t c = 0; c < C; c++) {
        float mean = (float)p->mean[c < 3 ? c : 2], std = (float)p->std[c < 3 ? c : 2];
        for (size_t b = 0; b < B; b++) {
            float *o = out + (b * C + c) * H * W;
            const uint8_t *s = px + b * H * W * C + c;
            for (size_t i = 0; i < H * W; i++) {
                float v = div255 ? (float)s[i * C] / 255.0f : (float)s[i * C] * rescale;
                o[i] = (v - mean) / std;
            }
        }
    }
}

void vr_synthetic(float *out, size_t first, size_t B, size_t C, size_t H, size_t W)
{
    size_t per = C * H * W;
    for (size_t b = 0; b < B; b++) {
        /* splitmix64 seeded by the image index */
        uint64_t z = 0x9E3779B97F4A7C15ULL * (uint64_t)(first + b + 1);
        for (size_t i = 0; i < per; i++) {
            z += 0x9E3779B97F4A7C15ULL;
            uint64_t r = z;
            r = (r ^ (r >> 30)) * 0xBF58476D1CE4E5B9ULL;
            r = (r ^ (r >> 27)) * 0x94D049BB133111EBULL;
            r ^= r >> 31;
            out[b * per + i] = (float)((double)(r >> 40) / (double)(1ULL << 24) * 2.0 - 1.0);
        }
    }
}

int vr_has_nonfinite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 1;
    return 0;
}
