/* png.h - a PNG file's bytes to RGB8 pixels, the same as Pillow 9.4's
 * Image.open(f).convert('RGB'), decoded by libspng.
 *
 * Every mode Pillow opens: gray of 1 bit (0 or 255), 2 bits (x85), 4 bits
 * (x17), 8 bits and 16 bits (Pillow's mode "I": values above 255 clip to
 * 255); gray+alpha, RGB and RGBA of 8 and 16 bits (the high byte; alpha
 * dropped, not composited); palettes of 1 to 8 bits (a lookup; indices past
 * the palette read Pillow's gray ramp i,i,i; tRNS ignored); Adam7. Gamma,
 * sRGB and ICC chunks change no pixel, as in Pillow. Which damaged files
 * decode and which are refused follows Pillow too (io/png_chunks.h).
 */
#ifndef VR_PNG_H
#define VR_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "image_common.h"
#include "png_chunks.h"

/* Per-thread scratch; buffers grow to the largest image seen. */
typedef struct {
    vr_png_layout layout;
    uint8_t *stream;      /* the clean PNG handed to libspng */
    size_t stream_cap;
    uint8_t *raw;         /* libspng's output: (box h, row bytes), samples big-endian */
    size_t raw_cap;
    uint8_t *zbuf;        /* Pillow's inflated data, when its early end applies */
    size_t zbuf_cap;
} vr_png_decoder;

void vr_png_free(vr_png_decoder *d);

/* (*h, *w, 3) RGB in *rgb (grown to fit) = the PNG in buf[0..len).
 * Returns 0, or -1 with a one-line reason in err. */
int vr_png_decode(vr_png_decoder *d, const uint8_t *buf, size_t len, const vr_image_limits *lim,
                  uint8_t **rgb, size_t *rgb_cap, size_t *h, size_t *w, char *err,
                  size_t errcap);

#endif
