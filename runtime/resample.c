/* resample.c - Pillow-exact resize and centre crop of 8-bit images. */
#include "resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clones.h"

/* Pillow: 32 bits of accumulator minus 8 for the pixel and 2 for the sign
 * and headroom. */
#define PRECISION_BITS (32 - 8 - 2)

static double filter_bilinear(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double filter_bicubic(double x)
{
    const double a = -0.5; /* Pillow's (and Catmull-Rom's) bicubic */
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

void vr_resampler_free(vr_resampler *r)
{
    free(r->kx);
    free(r->ky);
    free(r->bx);
    free(r->by);
    free(r->tmp);
    free(r->acc);
    memset(r, 0, sizeof *r);
}

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n <= *cap)
        return 1;
    void *q = realloc(*p, n * elem);
    if (!q)
        return 0;
    *p = q;
    *cap = n;
    return 1;
}

/* Weights of output pixels first .. first+count-1 of out_size over the input,
 * as Pillow's precompute_coeffs and normalize_coeffs_8bpc make them (each
 * pixel's weights depend only on its own position, so a window of them is
 * the same as the whole row's). Stored at index xx - first. Returns the
 * kernel size, 0 on OOM. */
static size_t coeffs(vr_resampler *r, int horiz, size_t in_size, size_t out_size, size_t first,
                     size_t count, vr_interp it)
{
    double (*filter)(double) = it == VR_INTERP_BICUBIC ? filter_bicubic : filter_bilinear;
    double support_base = it == VR_INTERP_BICUBIC ? 2.0 : 1.0;
    double scale = (double)in_size / (double)out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = support_base * filterscale;
    size_t ksize = (size_t)ceil(support) * 2 + 1;
    int32_t **kk = horiz ? &r->kx : &r->ky;
    int **bb = horiz ? &r->bx : &r->by;
    size_t nk;
    if (!vr_mul(count, ksize, &nk) ||
        !grow((void **)kk, horiz ? &r->cap_kx : &r->cap_ky, nk, sizeof(int32_t)) ||
        !grow((void **)bb, horiz ? &r->cap_bx : &r->cap_by, count * 2, sizeof(int)))
        return 0;
    double *pre = malloc(ksize * sizeof(double));
    if (!pre)
        return 0;
    for (size_t i = 0; i < count; i++) {
        size_t xx = first + i;
        double center = ((double)xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0)
            xmin = 0;
        if (xmax > (int)in_size)
            xmax = (int)in_size;
        xmax -= xmin;
        for (int x = 0; x < xmax; x++) {
            double w = filter(((double)(x + xmin) - center + 0.5) * ss);
            pre[x] = w;
            ww += w;
        }
        int32_t *k = *kk + i * ksize;
        for (int x = 0; x < (int)ksize; x++) {
            double w = x < xmax ? (ww != 0.0 ? pre[x] / ww : pre[x]) : 0.0;
            k[x] = (int32_t)(w < 0 ? -0.5 + w * (1 << PRECISION_BITS)
                                   : 0.5 + w * (1 << PRECISION_BITS));
        }
        (*bb)[i * 2] = xmin;
        (*bb)[i * 2 + 1] = xmax;
    }
    free(pre);
    return ksize;
}

static inline uint8_t clip8(int32_t v)
{
    if (v >= (1 << PRECISION_BITS << 8))
        return 255;
    if (v <= 0)
        return 0;
    return (uint8_t)(v >> PRECISION_BITS);
}

/* The passes below sum integers whose every partial sum fits in 32 bits
 * (255 times the positive weights, under 1.2 * 2^22, plus the rounding
 * half), so any order of summation gives Pillow's sums exactly: the loops
 * are ordered for the vector units, not as Pillow writes them. */

/* Horizontal pass of one row, any channel count: o (nx, C). */
static void horizontal(uint8_t *o, const uint8_t *row, size_t nx, size_t C, const int32_t *kx,
                       size_t kxs, const int *bx)
{
    for (size_t j = 0; j < nx; j++) {
        const int32_t *k = kx + j * kxs;
        int xmin = bx[j * 2], xmax = bx[j * 2 + 1];
        for (size_t c = 0; c < C; c++) {
            int32_t ss = 1 << (PRECISION_BITS - 1);
            for (int x = 0; x < xmax; x++)
                ss += (int32_t)row[(size_t)(x + xmin) * C + c] * k[x];
            o[j * C + c] = clip8(ss);
        }
    }
}

/* The same for RGB: the three channels of a tap in one step. */
static void horizontal3(uint8_t *o, const uint8_t *row, size_t nx, const int32_t *kx,
                        size_t kxs, const int *bx)
{
    for (size_t j = 0; j < nx; j++) {
        const int32_t *k = kx + j * kxs;
        const uint8_t *p = row + (size_t)bx[j * 2] * 3;
        int xmax = bx[j * 2 + 1];
        int32_t s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
        for (int x = 0; x < xmax; x++, p += 3) {
            s0 += (int32_t)p[0] * k[x];
            s1 += (int32_t)p[1] * k[x];
            s2 += (int32_t)p[2] * k[x];
        }
        o[j * 3] = clip8(s0);
        o[j * 3 + 1] = clip8(s1);
        o[j * 3 + 2] = clip8(s2);
    }
}

/* Vertical pass of one output row: o (n) from `taps` source rows of n bytes
 * starting at src; acc (n) is scratch. Row by row, so the inner loop runs
 * along memory and vectorises (compiled for AVX-512 and AVX2 too, chosen
 * at run time). */
VR_CLONES
static void vertical(uint8_t *o, int32_t *acc, const uint8_t *src, size_t n, const int32_t *k,
                     int taps)
{
    for (size_t x = 0; x < n; x++)
        acc[x] = 1 << (PRECISION_BITS - 1);
    for (int y = 0; y < taps; y++) {
        const uint8_t *s = src + (size_t)y * n;
        int32_t w = k[y];
        for (size_t x = 0; x < n; x++)
            acc[x] += (int32_t)s[x] * w;
    }
    for (size_t x = 0; x < n; x++)
        o[x] = clip8(acc[x]);
}

vr_status vr_resize_window_u8(vr_resampler *r, uint8_t *out, size_t oh, size_t ow, size_t oy0,
                              size_t ny, size_t ox0, size_t nx, const uint8_t *in, size_t ih,
                              size_t iw, size_t C, vr_interp interp)
{
    if (!oh || !ow || !ih || !iw || ih > INT32_MAX / 4 || iw > INT32_MAX / 4)
        return vr_fail(VR_ERR_INPUT, "cannot resize a %zux%zu image to %zux%zu", iw, ih, ow, oh);
    if (!ny || !nx || oy0 > oh || ny > oh - oy0 || ox0 > ow || nx > ow - ox0)
        return vr_fail(VR_ERR_INPUT, "window %zux%zu at (%zu, %zu) outside a %zux%zu resize", nx,
                       ny, ox0, oy0, ow, oh);
    int need_h = ow != iw, need_v = oh != ih;
    size_t kxs = 0, kys = 0;
    if ((need_h && !(kxs = coeffs(r, 1, iw, ow, ox0, nx, interp))) ||
        (need_v && !(kys = coeffs(r, 0, ih, oh, oy0, ny, interp))))
        return vr_fail(VR_ERR_NOMEM, "out of memory for resize coefficients (%zux%zu to %zux%zu)",
                       iw, ih, ow, oh);
    /* Source rows the window needs: only those get a horizontal pass. */
    size_t y0 = oy0, y1 = oy0 + ny;
    if (need_v) {
        y0 = (size_t)r->by[0];
        y1 = (size_t)r->by[(ny - 1) * 2] + (size_t)r->by[(ny - 1) * 2 + 1];
    }
    /* tmp: rows y0..y1-1 of the image after the horizontal pass, window
     * columns only, nx wide; row y at tmp + (y - y0) * nx * C */
    uint8_t *dst = need_v ? NULL : out;
    if (need_v) {
        size_t n;
        if (!vr_mul(y1 - y0, nx * C, &n) || !grow((void **)&r->tmp, &r->cap_tmp, n, 1))
            return vr_fail(VR_ERR_NOMEM, "out of memory resizing a %zux%zu image", iw, ih);
        dst = r->tmp;
    }
    for (size_t y = y0; y < y1; y++) {
        const uint8_t *row = in + y * iw * C;
        uint8_t *o = dst + (y - y0) * nx * C;
        if (!need_h)  /* same width: the window's columns as they are */
            memcpy(o, row + ox0 * C, nx * C);
        else if (C == 3)
            horizontal3(o, row, nx, r->kx, kxs, r->bx);
        else
            horizontal(o, row, nx, C, r->kx, kxs, r->bx);
    }
    if (!need_v)
        return VR_OK;
    size_t n = nx * C;
    if (!grow((void **)&r->acc, &r->cap_acc, n, sizeof *r->acc))
        return vr_fail(VR_ERR_NOMEM, "out of memory resizing a %zux%zu image", iw, ih);
    for (size_t yy = 0; yy < ny; yy++)
        vertical(out + yy * n, r->acc, r->tmp + (size_t)(r->by[yy * 2] - (int)y0) * n, n,
                 r->ky + yy * kys, r->by[yy * 2 + 1]);
    return VR_OK;
}

void vr_resize_target(const vr_preprocess *p, size_t h, size_t w, size_t *oh, size_t *ow)
{
    if (p->resize == VR_RESIZE_EXACT) {
        *oh = p->resize_size;
        *ow = p->resize_w;
        return;
    }
    size_t s = w <= h ? w : h, l = w <= h ? h : w;
    size_t nl = (size_t)((double)(p->resize_size * l) / (double)s);
    *ow = w <= h ? p->resize_size : nl;
    *oh = w <= h ? nl : p->resize_size;
}

size_t vr_crop_offset(size_t size, size_t crop)
{
    size_t d = size - crop;
    /* round(d / 2.0), halves to even */
    size_t q = d / 2;
    if (d % 2 && q % 2)
        q++;
    return q;
}

vr_status vr_preprocess_rgb(vr_resampler *r, uint8_t *out, const uint8_t *rgb, size_t h,
                            size_t w, const vr_preprocess *p)
{
    size_t oh, ow, ch = p->crop_h, cw = p->crop_w;
    vr_resize_target(p, h, w, &oh, &ow);
    if (oh < ch || ow < cw)
        return vr_fail(VR_ERR_INPUT, "the preset resizes %zux%zu to %zux%zu, smaller than the "
                       "%zux%zu crop", w, h, ow, oh, cw, ch);
    /* Only the crop is computed: a 20000x1 image resized to 5120000x256
     * costs the crop's memory, not 3.9 GB. */
    return vr_resize_window_u8(r, out, oh, ow, vr_crop_offset(oh, ch), ch,
                               vr_crop_offset(ow, cw), cw, rgb, h, w, 3, p->interp);
}
