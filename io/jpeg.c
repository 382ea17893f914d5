/* jpeg.c - JPEG files to preprocessed RGB with TurboJPEG, the way Pillow
 * decodes them (same libjpeg-turbo, accurate IDCT, fancy upsampling). */
#include "jpeg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* DCT scaling is used only when the scaled image is still this many times
 * the resize target on both sides, so the antialiasing resize that follows
 * still averages several source pixels per output pixel. */
#define DCT_MARGIN 4

int vr_jpeg_init(vr_jpeg_decoder *d)
{
    memset(d, 0, sizeof *d);
    d->tj = tjInitDecompress();
    return d->tj ? 0 : -1;
}

int vr_jpeg_sample(size_t h, size_t w, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!h || !w || h > 8192 || w > 8192)
        return -1;
    uint8_t *px = malloc(h * w * 3);
    tjhandle tj = tjInitCompress();
    unsigned char *jpg = NULL;
    unsigned long n = 0;
    int rc = -1;
    if (px && tj) {
        unsigned s = 2024;
        for (size_t y = 0; y < h; y++)
            for (size_t x = 0; x < w; x++)
                for (size_t c = 0; c < 3; c++) {
                    s = s * 1103515245u + 12345u;
                    int v = (int)((x * (c + 1) + y * (3 - c)) % 256) + (int)((s >> 16) % 33) - 16;
                    px[(y * w + x) * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
        if (!tjCompress2(tj, px, (int)w, 0, (int)h, TJPF_RGB, &jpg, &n, TJSAMP_420, 90, 0) &&
            (*out = malloc(n))) {
            memcpy(*out, jpg, n);
            *len = n;
            rc = 0;
        }
    }
    if (jpg)
        tjFree(jpg);
    if (tj)
        tjDestroy(tj);
    free(px);
    return rc;
}

void vr_jpeg_free(vr_jpeg_decoder *d)
{
    if (d->tj)
        tjDestroy(d->tj);
    free(d->file);
    free(d->pix);
    vr_resampler_free(&d->rs);
    memset(d, 0, sizeof *d);
}

int vr_jpeg_load(vr_jpeg_decoder *d, const char *path, const vr_preprocess *p,
                 const vr_jpeg_limits *lim, uint8_t *out, char *err, size_t errcap)
{
    size_t size = vr_image_read_file(path, lim->max_bytes, &d->file, &d->file_cap, err, errcap);
    return size ? vr_jpeg_decode(d, d->file, size, p, lim, out, err, errcap) : -1;
}

/* A TurboJPEG handle that failed mid-header can hand stale dimensions to
 * the next image (seen with libjpeg-turbo 2.1.5): start over with a new one. */
static int fresh_handle(vr_jpeg_decoder *d)
{
    tjDestroy(d->tj);
    d->tj = tjInitDecompress();
    return -1;
}

/* Whether the JPEG carries an Adobe APP14 marker: Pillow then reads CMYK
 * as inverted ("CMYK;I"), which is how Adobe and libjpeg write it. */
static int has_adobe_marker(const uint8_t *b, size_t n)
{
    size_t i = 2;
    while (i + 4 <= n && b[i] == 0xFF) {
        uint8_t m = b[i + 1];
        if (m == 0xDA || m == 0xD9) /* start of scan / end: no more headers */
            break;
        size_t len = ((size_t)b[i + 2] << 8) | b[i + 3];
        if (m == 0xEE && len >= 7 && i + 9 <= n && !memcmp(b + i + 4, "Adobe", 5))
            return 1;
        i += 2 + len;
    }
    return 0;
}

/* Whether TurboJPEG's message is one of libjpeg's warnings (JWRN_* in
 * jerror.h), after which decoding goes on to the last row. TurboJPEG 2.1
 * reports TJERR_WARNING for an error that followed a warning too, and then
 * the rows after the error were never written (they held the previous
 * image's pixels); the message is the error's, so the text tells them apart. */
static int is_warning(const char *msg)
{
    static const char *const warnings[] = {
        "Corrupt JPEG data:", "Premature end of JPEG file", "Warning: unknown JFIF",
        "Inconsistent progression sequence", "Unknown Adobe color transform",
        "Invalid SOS parameters for sequential JPEG", "Application transferred too many"};
    for (size_t i = 0; i < sizeof warnings / sizeof warnings[0]; i++)
        if (!strncmp(msg, warnings[i], strlen(warnings[i])))
            return 1;
    return 0;
}

/* Pillow's cmyk2rgb on inverted-or-not CMYK. */
static void cmyk_to_rgb(uint8_t *rgb, const uint8_t *cmyk, size_t n, int inverted)
{
    for (size_t i = 0; i < n; i++) {
        int v[4];
        for (int c = 0; c < 4; c++)
            v[c] = inverted ? 255 - cmyk[i * 4 + c] : cmyk[i * 4 + c];
        int nk = 255 - v[3];
        for (int c = 0; c < 3; c++) {
            int t = v[c] * nk + 128;
            int r = nk - (((t >> 8) + t) >> 8);
            rgb[i * 3 + c] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
        }
    }
}

int vr_jpeg_decode(vr_jpeg_decoder *d, const uint8_t *buf, size_t len, const vr_preprocess *p,
                   const vr_jpeg_limits *lim, uint8_t *out, char *err, size_t errcap)
{
    size_t h, w;
    if (vr_jpeg_decode_rgb(d, buf, len, p, lim, &h, &w, err, errcap))
        return -1;
    char rerr[160];
    vr_clear_error();
    if (vr_preprocess_rgb(&d->rs, out, d->pix, h, w, p) != VR_OK) {
        snprintf(rerr, sizeof rerr, "%s", vr_last_error());
        return vr_image_reason(err, errcap, "%s", rerr);
    }
    return 0;
}

int vr_jpeg_decode_rgb(vr_jpeg_decoder *d, const uint8_t *buf, size_t len, const vr_preprocess *p,
                       const vr_jpeg_limits *lim, size_t *h_out, size_t *w_out, char *err,
                       size_t errcap)
{
    /* A new TurboJPEG handle for every image (0.2 us): libjpeg keeps the
     * last image's quantisation tables in its handle, so a file without its
     * own decoded with another's (Pillow refuses it) and the row's pixels
     * depended on the image decoded before it on that thread. */
    if (d->tj)
        tjDestroy(d->tj);
    if (!(d->tj = tjInitDecompress()))
        return vr_image_reason(err, errcap, "TurboJPEG failed to start");
    if (len < 2 || buf[0] != 0xFF || buf[1] != 0xD8)
        return vr_image_reason(err, errcap, "not a JPEG file (starts with %02x %02x, expected "
                               "ff d8)", len > 0 ? buf[0] : 0, len > 1 ? buf[1] : 0);
    /* TurboJPEG 2.1.5 returns success without setting these when the data
     * ends before the frame header (tables only): start them at "none" */
    int w = 0, h = 0, subsamp = -1, cs = -1;
    if (tjDecompressHeader3(d->tj, buf, (unsigned long)len, &w, &h, &subsamp, &cs) != 0) {
        vr_image_reason(err, errcap, "corrupt JPEG header: %s", tjGetErrorStr2(d->tj));
        return fresh_handle(d);
    }
    if (w <= 0 || h <= 0 || cs < 0) {
        if (w == 0 && h == 0)
            vr_image_reason(err, errcap, "truncated JPEG: its %zu bytes end before the frame "
                            "header (no image size)", len);
        else
            vr_image_reason(err, errcap, "JPEG header gives a %dx%d image", w, h);
        return fresh_handle(d);
    }
    if ((size_t)w * (size_t)h > lim->max_pixels)
        return vr_image_reason(err, errcap, "image is %dx%d = %zu pixels, over the limit of "
                               "%zu (--max-pixels)", w, h, (size_t)w * (size_t)h,
                               lim->max_pixels);
    /* Scale in the DCT domain when the picture is far larger than needed. */
    tjscalingfactor sf = {1, 1};
    if (lim->dct_scale) {
        size_t th, tw;
        vr_resize_target(p, (size_t)h, (size_t)w, &th, &tw);
        int nsf;
        tjscalingfactor *all = tjGetScalingFactors(&nsf);
        for (int i = 0; all && i < nsf; i++) {
            tjscalingfactor f = all[i];
            if (f.num >= f.denom)
                continue;
            size_t sw = (size_t)TJSCALED(w, f), sh = (size_t)TJSCALED(h, f);
            if (sw >= DCT_MARGIN * tw && sh >= DCT_MARGIN * th &&
                (double)f.num / f.denom < (double)sf.num / sf.denom)
                sf = f;
        }
    }
    d->last_scale_num = sf.num;
    d->last_scale_den = sf.denom;
    int sw = TJSCALED(w, sf), sh = TJSCALED(h, sf);
    int cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
    int pf = cmyk ? TJPF_CMYK : TJPF_RGB, bpp = cmyk ? 4 : 3;
    size_t npix = (size_t)sw * (size_t)sh;
    /* CMYK is decoded to 4 channels, then converted in place into the first
     * 3*npix bytes. */
    if (!vr_image_grow(&d->pix, &d->pix_cap, npix * (size_t)bpp))
        return vr_image_reason(err, errcap, "out of memory decoding a %dx%d image", w, h);
    if (tjDecompress2(d->tj, buf, (unsigned long)len, d->pix, sw, 0, sh, pf,
                      TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS) != 0) {
        const char *msg = tjGetErrorStr2(d->tj);
        /* Pillow fails on truncated data and accepts the other warnings
         * (e.g. extraneous bytes before a marker). */
        if (tjGetErrorCode(d->tj) != TJERR_WARNING || !is_warning(msg) ||
            strstr(msg, "Premature end")) {
            vr_image_reason(err, errcap, "%s JPEG data: %s",
                            strstr(msg, "Premature end") ? "truncated" : "corrupt", msg);
            return fresh_handle(d);
        }
    }
    if (cmyk)
        cmyk_to_rgb(d->pix, d->pix, npix, has_adobe_marker(buf, len));
    *h_out = (size_t)sh;
    *w_out = (size_t)sw;
    return 0;
}
