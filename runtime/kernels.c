/* kernels.c - LayerNorm, GELU, softmax, im2col, top-k. */
#include "kernels.h"

#include <math.h>

void vr_layernorm(float *out, size_t ld_out, const float *x, size_t ld_x,
                  const float *w, const float *b, size_t n, size_t D, double eps)
{
    for (size_t i = 0; i < n; i++) {
        const float *xi = x + i * ld_x;
        float *oi = out + i * ld_out;
        /* Two passes in double: the variance of activations with a large
         * mean loses digits in float with the one-pass formula. */
        double mean = 0.0, var = 0.0;
        for (size_t j = 0; j < D; j++)
            mean += xi[j];
        mean /= (double)D;
        for (size_t j = 0; j < D; j++) {
            double d = xi[j] - mean;
            var += d * d;
        }
        var /= (double)D;
        double rstd = 1.0 / sqrt(var + eps);
        for (size_t j = 0; j < D; j++)
            oi[j] = (float)((xi[j] - mean) * rstd) * w[j] + b[j];
    }
}

void vr_add_bias(float *x, const float *bias, size_t n, size_t D)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++)
            x[i * D + j] += bias[j];
}

void vr_gelu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

void vr_add(float *x, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] += y[i];
}

void vr_softmax_rows(float *x, size_t n, size_t D)
{
    for (size_t i = 0; i < n; i++) {
        float *r = x + i * D;
        float m = r[0];
        for (size_t j = 1; j < D; j++)
            m = r[j] > m ? r[j] : m;
        double s = 0.0;
        for (size_t j = 0; j < D; j++) {
            r[j] = expf(r[j] - m);
            s += r[j];
        }
        float inv = (float)(1.0 / s);
        for (size_t j = 0; j < D; j++)
            r[j] *= inv;
    }
}

void vr_im2col(float *out, const float *img, size_t B, size_t C, size_t g, size_t p)
{
    size_t S = g * p, row_len = C * p * p;
    for (size_t b = 0; b < B; b++)
        for (size_t gy = 0; gy < g; gy++)
            for (size_t gx = 0; gx < g; gx++) {
                float *o = out + ((b * g + gy) * g + gx) * row_len;
                for (size_t c = 0; c < C; c++)
                    for (size_t y = 0; y < p; y++) {
                        const float *src = img + ((b * C + c) * S + gy * p + y) * S + gx * p;
                        for (size_t xx = 0; xx < p; xx++)
                            *o++ = src[xx];
                    }
            }
}

void vr_topk(int *idx, const float *x, size_t n, size_t k)
{
    /* k is small (a handful of classes): insertion into a sorted list. */
    size_t have = 0;
    for (size_t i = 0; i < n; i++) {
        size_t pos = have;
        while (pos > 0 && x[i] > x[idx[pos - 1]])
            pos--;
        if (pos >= k)
            continue;
        size_t last = have < k ? have : k - 1;
        for (size_t j = last; j > pos; j--)
            idx[j] = idx[j - 1];
        idx[pos] = (int)i;
        if (have < k)
            have++;
    }
}
