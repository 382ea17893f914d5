/* fuzz_input_h5.c - libFuzzer target: an untrusted HDF5 image file through
 * the --input reader (io/input_h5.c): open and check it against a model of
 * 8x8 RGB images, read its first and last images, and name rows by their
 * `paths` entries: the first few and the last few a batch at a time
 * (vr_input_h5_names), the first and last one by one (the last into a
 * 5-byte buffer).
 *
 * Input: the HDF5 file itself, written to this process's temporary folder. */
#include <hdf5.h> /* only to check that every HDF5 id was closed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../io/input_h5.h"
#include "fuzz_util.h"

#define SIDE 8
#define CHANNELS 3

static char g_path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vf_setup("input_h5");
    vf_path(g_path, sizeof g_path, "images.h5");
    return 0;
}

static void name_row(vr_input_h5 *in, size_t i, size_t cap)
{
    char *buf = malloc(cap); /* exactly cap bytes: ASan sees any overrun */
    if (!buf)
        vf_fail("out of memory");
    vr_input_h5_name(in, i, buf, cap);
    if (strnlen(buf, cap) == cap)
        vf_fail("row %zu's name is not terminated within %zu bytes", i, cap);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vf_write(g_path, data, size);
    vr_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.image_h = cfg.image_w = SIDE;
    cfg.channels = CHANNELS;
    vr_input_h5 in;
    if (vr_input_h5_open(&in, g_path, &cfg) == VR_OK) {
        if (in.n) {
            size_t img = SIDE * SIDE * CHANNELS;
            uint8_t *u8 = malloc(2 * img);
            float *f32 = malloc(2 * img * sizeof(float));
            if (!u8 || !f32)
                vf_fail("out of memory");
            (void)vr_input_h5_read(&in, 0, 1, u8, f32);
            (void)vr_input_h5_read(&in, in.n - 1, 1, u8, f32);
            if (in.n >= 2)
                (void)vr_input_h5_read(&in, in.n - 2, 2, u8, f32);
            free(u8);
            free(f32);
            name_row(&in, 0, 4096);
            name_row(&in, in.n - 1, 5); /* cut short */
            size_t count = in.n < 3 ? in.n : 3, stride = 16;
            char *names = malloc(count * stride);
            if (!names)
                vf_fail("out of memory");
            for (int k = 0; k < 2; k++)
                if (vr_input_h5_names(&in, k ? in.n - count : 0, count, names, stride) == VR_OK)
                    for (size_t i = 0; i < count; i++)
                        if (strnlen(names + i * stride, stride) == stride)
                            vf_fail("a batch name is not terminated within its stride");
            free(names);
        }
        name_row(&in, in.n, 64); /* past the end: its index */
        vr_input_h5_close(&in);
    }
    ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open_ids != 0)
        vf_fail("%zd HDF5 ids left open after closing the input", open_ids);
    return 0;
}
