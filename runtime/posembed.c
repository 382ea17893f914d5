/* posembed.c - position tables resampled as F.interpolate does it. */
#include "posembed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Keys' cubic convolution kernel with parameter a (PyTorch: -0.75 for the
 * plain bicubic, -0.5, Pillow's, for the antialiased one). */
static double cubic(double x, double a)
{
    x = fabs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

vr_status vr_pos_weights(double *w, size_t n_in, size_t n_out, vr_pos_resample how)
{
    if (!n_in || !n_out)
        return vr_fail(VR_ERR_INTERNAL, "resampling a grid of %zu to %zu", n_in, n_out);
    memset(w, 0, n_out * n_in * sizeof *w);
    if (how == VR_PR_BICUBIC_AA) {
        double s = (double)n_in / (double)n_out, sup = 2.0 * (s > 1.0 ? s : 1.0);
        double inv = 1.0 / (s > 1.0 ? s : 1.0);
        for (size_t i = 0; i < n_out; i++) {
            double center = s * ((double)i + 0.5), total = 0.0;
            long lo = (long)(center - sup + 0.5), hi = (long)(center + sup + 0.5);
            lo = lo < 0 ? 0 : lo;
            hi = hi > (long)n_in ? (long)n_in : hi;
            for (long j = lo; j < hi; j++)
                total += w[i * n_in + (size_t)j] = cubic(((double)j - center + 0.5) * inv, -0.5);
            for (long j = lo; j < hi && total != 0.0; j++)
                w[i * n_in + (size_t)j] /= total;
        }
        return VR_OK;
    }
    double s;
    switch (how) {
    case VR_PR_BICUBIC: s = (double)n_in / (double)n_out; break;
    case VR_PR_BICUBIC_OFFSET: s = (double)n_in / ((double)n_out + 0.1); break;
    case VR_PR_BICUBIC_CORNERS:
        s = n_out > 1 ? (double)(n_in - 1) / (double)(n_out - 1) : 0.0;
        break;
    default:
        return vr_fail(VR_ERR_INTERNAL, "no resampling rule %d", (int)how);
    }
    for (size_t i = 0; i < n_out; i++) {
        double x = how == VR_PR_BICUBIC_CORNERS ? s * (double)i : s * ((double)i + 0.5) - 0.5;
        double x0 = floor(x), t = x - x0;
        for (int k = 0; k < 4; k++) { /* taps x0-1 .. x0+2, clamped to the border */
            double j = x0 - 1.0 + k;
            size_t c = j < 0 ? 0 : j > (double)(n_in - 1) ? n_in - 1 : (size_t)j;
            w[i * n_in + c] += cubic(t - (k - 1), -0.75);
        }
    }
    return VR_OK;
}

vr_status vr_pos_resample_grid(float *out, size_t nh, size_t nw, const float *in, size_t gh,
                               size_t gw, size_t D, vr_pos_resample how)
{
    double *wh = malloc(nh * gh * sizeof *wh), *ww = malloc(nw * gw * sizeof *ww);
    double *tmp = calloc(gh * nw * D, sizeof *tmp), *acc = malloc(D * sizeof *acc);
    vr_status st = VR_OK;
    if (!wh || !ww || !tmp || !acc)
        st = vr_fail(VR_ERR_NOMEM, "out of memory resampling the position table");
    if (!st && !(st = vr_pos_weights(wh, gh, nh, how)) && !(st = vr_pos_weights(ww, gw, nw, how))) {
        /* along the width, then the height, as PyTorch's separable passes */
        for (size_t y = 0; y < gh; y++)
            for (size_t x2 = 0; x2 < nw; x2++) {
                double *t = tmp + (y * nw + x2) * D;
                for (size_t x = 0; x < gw; x++) {
                    double c = ww[x2 * gw + x];
                    const float *r = in + (y * gw + x) * D;
                    for (size_t d = 0; c != 0.0 && d < D; d++)
                        t[d] += c * r[d];
                }
            }
        for (size_t y2 = 0; y2 < nh; y2++)
            for (size_t x2 = 0; x2 < nw; x2++) {
                memset(acc, 0, D * sizeof *acc);
                for (size_t y = 0; y < gh; y++) {
                    double c = wh[y2 * gh + y];
                    const double *t = tmp + (y * nw + x2) * D;
                    for (size_t d = 0; c != 0.0 && d < D; d++)
                        acc[d] += c * t[d];
                }
                for (size_t d = 0; d < D; d++)
                    out[(y2 * nw + x2) * D + d] = (float)acc[d];
            }
    }
    free(wh);
    free(ww);
    free(tmp);
    free(acc);
    return st;
}
