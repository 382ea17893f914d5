/* image.c - format dispatch for image files, and what the decoders share. */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "webp.h"

#define READS "vitrun reads JPEG, PNG and WebP"

int vr_image_reason(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

int vr_image_grow(uint8_t **p, size_t *cap, size_t n)
{
    if (n <= *cap)
        return 1;
    uint8_t *q = realloc(*p, n);
    if (!q)
        return 0;
    *p = q;
    *cap = n;
    return 1;
}

size_t vr_image_read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *cap,
                          char *err, size_t errcap)
{
    /* O_NONBLOCK: a FIFO named *.jpg would wait for a writer here */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        vr_image_reason(err, errcap, "cannot open: %s", strerror(errno));
        return 0;
    }
    struct stat sb;
    const char *why = NULL;
    size_t size = 0;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        why = "not a regular file";
    else if ((size = (size_t)sb.st_size) == 0)
        why = "empty file";
    if (why) {
        close(fd);
        vr_image_reason(err, errcap, "%s", why);
        return 0;
    }
    if (size > max_bytes || !vr_image_grow(buf, cap, size)) {
        close(fd);
        if (size > max_bytes)
            vr_image_reason(err, errcap, "file is %zu bytes, over the %zu-byte limit for one "
                            "image", size, max_bytes);
        else
            vr_image_reason(err, errcap, "out of memory reading %zu bytes", size);
        return 0;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, *buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = errno;
            close(fd);
            vr_image_reason(err, errcap, "read failed after %zu of %zu bytes: %s", got, size,
                            r < 0 ? strerror(e) : "file shrank");
            return 0;
        }
        got += (size_t)r;
    }
    close(fd);
    return size;
}

vr_image_format vr_image_sniff(const uint8_t *b, size_t n)
{
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return VR_IMAGE_JPEG;
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
        return VR_IMAGE_PNG;
    if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
        return VR_IMAGE_WEBP;
    return VR_IMAGE_UNKNOWN;
}

/* The reason for a file of no format vitrun reads: what it is, if known. */
static int unknown(const uint8_t *b, size_t n, char *err, size_t cap)
{
    static const struct { const char *magic; size_t len; const char *what; } kinds[] = {
        {"GIF87a", 6, "a GIF image"}, {"GIF89a", 6, "a GIF image"}, {"BM", 2, "a BMP image"},
        {"II*\0", 4, "a TIFF image"}, {"MM\0*", 4, "a TIFF image"},
        {"\0\0\0\x0cjP  ", 8, "a JPEG 2000 image"}, {"\xff\xd8", 2, "a JPEG start whose third byte is not ff"}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (n >= kinds[i].len && !memcmp(b, kinds[i].magic, kinds[i].len))
            return vr_image_reason(err, cap, "not an image vitrun reads: it is %s (" READS ")",
                                   kinds[i].what);
    if (n >= 12 && !memcmp(b + 4, "ftyp", 4))
        return vr_image_reason(err, cap, "not an image vitrun reads: it is an ISO media file "
                               "(HEIC, AVIF or video; " READS ")");
    return vr_image_reason(err, cap, "not an image vitrun reads (starts with %02x %02x %02x %02x; "
                           READS ")", n > 0 ? b[0] : 0, n > 1 ? b[1] : 0, n > 2 ? b[2] : 0,
                           n > 3 ? b[3] : 0);
}

int vr_image_init(vr_image_decoder *d)
{
    memset(d, 0, sizeof *d);
    return vr_jpeg_init(&d->jpeg);
}

void vr_image_free(vr_image_decoder *d)
{
    vr_jpeg_free(&d->jpeg);
    vr_png_free(&d->png);
    free(d->rgb);
    free(d->file);
    vr_resampler_free(&d->rs);
    memset(d, 0, sizeof *d);
}

int vr_image_decode(vr_image_decoder *d, const uint8_t *buf, size_t len, const vr_preprocess *p,
                    const vr_image_limits *lim, uint8_t *out, char *err, size_t errcap)
{
    if (len == 0)
        return vr_image_reason(err, errcap, "empty file");
    size_t h, w;
    const uint8_t *rgb = d->rgb;
    int r;
    switch (vr_image_sniff(buf, len)) {
    case VR_IMAGE_JPEG:
        r = vr_jpeg_decode_rgb(&d->jpeg, buf, len, p, lim, &h, &w, err, errcap);
        rgb = d->jpeg.pix;
        break;
    case VR_IMAGE_PNG:
        r = vr_png_decode(&d->png, buf, len, lim, &d->rgb, &d->rgb_cap, &h, &w, err, errcap);
        rgb = d->rgb;
        break;
    case VR_IMAGE_WEBP:
        r = vr_webp_decode(buf, len, lim, &d->rgb, &d->rgb_cap, &h, &w, err, errcap);
        rgb = d->rgb;
        break;
    default:
        return unknown(buf, len, err, errcap);
    }
    if (r)
        return -1;
    char rerr[160];
    vr_clear_error();
    if (vr_preprocess_rgb(&d->rs, out, rgb, h, w, p) != VR_OK) {
        snprintf(rerr, sizeof rerr, "%s", vr_last_error());
        return vr_image_reason(err, errcap, "%s", rerr);
    }
    return 0;
}

int vr_image_load(vr_image_decoder *d, const char *path, const vr_preprocess *p,
                  const vr_image_limits *lim, uint8_t *out, char *err, size_t errcap)
{
    size_t size = vr_image_read_file(path, lim->max_bytes, &d->file, &d->file_cap, err, errcap);
    return size ? vr_image_decode(d, d->file, size, p, lim, out, err, errcap) : -1;
}
