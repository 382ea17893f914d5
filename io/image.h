/* image.h - the one entry point for an image file's bytes: the format is
 * recognised from the bytes (never the name), the file decoded to RGB as
 * Pillow 9.4's Image.open(f).convert('RGB') gives it, then resized and
 * cropped with the model's preset (runtime/resample.h).
 *
 *   JPEG  ff d8 ff               io/jpeg.c (TurboJPEG)
 *   PNG   89 'PNG' 0d 0a 1a 0a   io/png.c (libspng)
 *   WebP  'RIFF' size 'WEBP'     io/webp.c (libwebp; the first frame)
 *
 * A file that cannot be used is not an error of the run: the functions fill
 * a one-line reason (empty, truncated, another format, too many pixels, ...)
 * and the row is recorded as failed.
 */
#ifndef VR_IMAGE_H
#define VR_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "../runtime/config.h"
#include "../runtime/resample.h"
#include "image_common.h"
#include "jpeg.h"
#include "png.h"

typedef enum { VR_IMAGE_UNKNOWN, VR_IMAGE_JPEG, VR_IMAGE_PNG, VR_IMAGE_WEBP } vr_image_format;

/* The format of a file that starts with b[0..n). */
vr_image_format vr_image_sniff(const uint8_t *b, size_t n);

/* Per-thread decoding state; buffers grow to the largest image seen. */
typedef struct {
    vr_jpeg_decoder jpeg;  /* TurboJPEG and the JPEG pixels */
    vr_png_decoder png;    /* libspng's scratch */
    uint8_t *rgb;          /* PNG and WebP pixels (h, w, 3) */
    size_t rgb_cap;
    uint8_t *file;         /* the file's bytes */
    size_t file_cap;
    vr_resampler rs;       /* the resize of every format */
} vr_image_decoder;

/* 0 on success; -1 if TurboJPEG cannot start. */
int vr_image_init(vr_image_decoder *d);
void vr_image_free(vr_image_decoder *d);

/* out (crop_h, crop_w, 3) = the preprocessed pixels of the image in
 * buf[0..len). Returns 0, or -1 with a reason in err (the row's error). */
int vr_image_decode(vr_image_decoder *d, const uint8_t *buf, size_t len, const vr_preprocess *p,
                    const vr_image_limits *lim, uint8_t *out, char *err, size_t errcap);

/* Same for the file at `path`, read whole (at most lim->max_bytes). */
int vr_image_load(vr_image_decoder *d, const char *path, const vr_preprocess *p,
                  const vr_image_limits *lim, uint8_t *out, char *err, size_t errcap);

#endif
