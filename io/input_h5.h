/* input_h5.h - images from an HDF5 file, read a batch at a time.
 *
 * The file holds a dataset `images`, either uint8 (N, H, W, C) pixels at the
 * model's resolution, or float32 (N, C, H, W) already normalised. Optional
 * `paths` (N strings) names the rows in the output; otherwise the row index does.
 */
#ifndef VR_INPUT_H5_H
#define VR_INPUT_H5_H

#include <stddef.h>
#include <stdint.h>

#include "../runtime/config.h"
#include "../runtime/status.h"

typedef struct {
    char path[4096];
    long long file, dset; /* hid_t */
    int is_uint8;         /* 1: (N,H,W,C) uint8, 0: (N,C,H,W) float32 */
    size_t n;             /* images */
    size_t h, w, c;
    int has_paths;
} vr_input_h5;

/* Opens and checks the shape against the model config. */
vr_status vr_input_h5_open(vr_input_h5 *in, const char *path, const vr_config *cfg);

/* Reads images [first, first+count): into u8 (count, H, W, C) when is_uint8,
 * else into f32 (count, C, H, W). */
vr_status vr_input_h5_read(vr_input_h5 *in, size_t first, size_t count, uint8_t *u8, float *f32);

/* Names of images [first, first+count): their `paths` entries, or their
 * indices, each NUL-terminated at out + i*stride (cut to stride - 1 bytes).
 * Variable-length `paths` are read in a child process (io/h5util.h). */
vr_status vr_input_h5_names(vr_input_h5 *in, size_t first, size_t count, char *out,
                            size_t stride);
/* One name; its index when it cannot be read. */
void vr_input_h5_name(vr_input_h5 *in, size_t i, char *out, size_t cap);

void vr_input_h5_close(vr_input_h5 *in);

#endif
