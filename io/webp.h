/* webp.h - a WebP file's bytes to RGB8 pixels, the same as Pillow 9.4's
 * Image.open(f).convert('RGB').
 *
 * Pillow (src/_webp.c, WebPImagePlugin.py) decodes every WebP, still or
 * animated, lossy or lossless, through libwebp's WebPAnimDecoder in RGBA
 * (not premultiplied) and shows its first frame after open(); convert('RGB')
 * then drops alpha, so the RGB stored under transparent pixels is what a
 * model sees. vitrun makes the same calls to the same libwebp.
 */
#ifndef VR_WEBP_H
#define VR_WEBP_H

#include <stddef.h>
#include <stdint.h>

#include "image_common.h"

/* (*h, *w, 3) RGB in *rgb (grown to fit) = the first frame of the WebP in
 * buf[0..len). Returns 0, or -1 with a one-line reason in err. */
int vr_webp_decode(const uint8_t *buf, size_t len, const vr_image_limits *lim, uint8_t **rgb,
                   size_t *rgb_cap, size_t *h, size_t *w, char *err, size_t errcap);

#endif
