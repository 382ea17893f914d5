/* image_common.h - what the image decoders (jpeg.c, png.c, webp.c) share:
 * the limits each checks before it allocates (a decompression bomb declares
 * billions of pixels in a few bytes), the one-line reason a refused file
 * gets, and buffers that grow to the largest image a thread has seen. One
 * header so that the decoders and io/image.h need not include each other. */
#ifndef VR_IMAGE_COMMON_H
#define VR_IMAGE_COMMON_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t max_pixels;   /* refuse width*height above this, read from the header */
    size_t max_bytes;    /* refuse files larger than this */
    int dct_scale;       /* JPEG: decode at a reduced size when the image is >= 4x the target */
} vr_image_limits;

/* The name of the JPEG-only days; runtime/feed.c still spells it so. */
typedef vr_image_limits vr_jpeg_limits;

/* Writes the reason into err (cap bytes) and returns -1. */
int vr_image_reason(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* *p holds at least n bytes (kept when it already does); 0 when out of memory. */
int vr_image_grow(uint8_t **p, size_t *cap, size_t n);

/* The whole file at `path` (a regular file of at most max_bytes) into *buf.
 * Returns its size, or 0 with a reason in err. */
size_t vr_image_read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *cap,
                          char *err, size_t errcap);

#endif
