/* jpeg.h - one JPEG file to the model's input pixels: read, check, decode
 * with TurboJPEG, convert to RGB as Pillow's convert('RGB') does, resize and
 * crop with the model's preset (runtime/resample.h). Files of any format go
 * through io/image.h, which calls vr_jpeg_decode_rgb for JPEGs.
 *
 * A file that cannot be used is not an error of the run: the function fills
 * a one-line reason (empty, truncated, not a JPEG, too many pixels, ...) and
 * the row is recorded as failed.
 */
#ifndef VR_JPEG_H
#define VR_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include "../runtime/config.h"
#include "../runtime/resample.h"
#include "image_common.h"

/* Per-thread decoding state; buffers grow to the largest image seen. */
typedef struct {
    void *tj;            /* tjhandle */
    uint8_t *file;       /* the compressed bytes */
    size_t file_cap;
    uint8_t *pix;        /* decoded pixels (h, w, 3 or 4) */
    size_t pix_cap;
    vr_resampler rs;
    int last_scale_num, last_scale_den; /* the DCT scaling of the last image */
} vr_jpeg_decoder;

/* 0 on success; -1 if TurboJPEG cannot start. */
int vr_jpeg_init(vr_jpeg_decoder *d);
void vr_jpeg_free(vr_jpeg_decoder *d);

/* out (crop, crop, 3) = the preprocessed pixels of the JPEG at `path`.
 * Returns 0, or -1 with a reason in err (the row's error column). */
int vr_jpeg_load(vr_jpeg_decoder *d, const char *path, const vr_preprocess *p,
                 const vr_jpeg_limits *lim, uint8_t *out, char *err, size_t errcap);

/* Same from bytes already in memory. */
int vr_jpeg_decode(vr_jpeg_decoder *d, const uint8_t *buf, size_t len, const vr_preprocess *p,
                   const vr_jpeg_limits *lim, uint8_t *out, char *err, size_t errcap);

/* *out (malloc'd, *len bytes) = a JPEG of h x w pixels (a smooth gradient
 * with noise, 4:2:0, quality 90): the photo-sized sample --calibrate
 * decodes. 0, or -1 when TurboJPEG or memory fails. */
int vr_jpeg_sample(size_t h, size_t w, uint8_t **out, size_t *len);

/* The decoding alone: d->pix (*h, *w, 3) RGB. p only chooses a DCT scale
 * (with lim->dct_scale), so *h, *w may be a fraction of the file's size. */
int vr_jpeg_decode_rgb(vr_jpeg_decoder *d, const uint8_t *buf, size_t len, const vr_preprocess *p,
                       const vr_jpeg_limits *lim, size_t *h, size_t *w, char *err,
                       size_t errcap);

#endif
