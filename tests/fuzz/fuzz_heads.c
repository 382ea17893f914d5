/* fuzz_heads.c - libFuzzer target: untrusted --zero-shot and --score-heads
 * files (io/heads_io.c): a .npy matrix (vr_npy_parse, and through the
 * loader with a names file), an HDF5 class file, an HDF5 score-head file,
 * for a model whose embedding has 8 values; what loads is run on 3 rows.
 *
 * Input: 1 byte, then the file.
 *   [0] % 3: 0 a .npy (names: the lines after a NUL, if any), 1 an HDF5
 *   class file, 2 an HDF5 head file. */
#include <hdf5.h> /* only to check that every HDF5 id was closed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../io/heads_io.h"
#include "fuzz_util.h"

#define E 8

static char g_npy[4096], g_h5[4096], g_names[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vf_setup("heads");
    vf_path(g_npy, sizeof g_npy, "classes.npy");
    vf_path(g_h5, sizeof g_h5, "file.h5");
    vf_path(g_names, sizeof g_names, "names.txt");
    return 0;
}

static const float rows[3 * E] = {1, 0, 0, 0, 0, 0, 0, 0, 0.5f, -1, 2, 0, 0, 0, 3, 1,
                                  -2, 0.25f, 0, 1, 1, 1, 1, 0};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % 3;
    const uint8_t *file = data + 1;
    size_t n = size - 1;
    if (kind == 0) {
        /* the matrix, then the loader with the names after a NUL */
        const uint8_t *nul = memchr(file, 0, n);
        size_t mlen = n;
        float *m = NULL;
        size_t r = 0, c = 0;
        if (vr_npy_parse(file, mlen, "fuzz.npy", &m, &r, &c) == VR_OK) {
            if (!m || !r || !c)
                vf_fail("a parsed .npy without data (%zu x %zu)", r, c);
            volatile float sink = m[r * c - 1]; /* ASan: the whole matrix is there */
            (void)sink;
        }
        free(m);
        vf_write(g_npy, file, mlen);
        vf_write(g_names, nul ? nul + 1 : file, nul ? n - (size_t)(nul + 1 - file) : 0);
        vr_zero_shot z;
        if (vr_zero_shot_load(&z, g_npy, g_names, E, 100.0, 0.0, 0) == VR_OK) {
            float *lg = malloc(3 * z.K * sizeof *lg);
            if (lg)
                vr_zero_shot_run(&z, rows, 3, lg);
            free(lg);
            vr_zero_shot_free(&z);
        }
    } else {
        vf_write(g_h5, file, n);
        if (kind == 1) {
            vr_zero_shot z;
            if (vr_zero_shot_load(&z, g_h5, NULL, E, 10.0, -10.0, 1) == VR_OK) {
                float *lg = malloc(3 * z.K * sizeof *lg);
                if (lg)
                    vr_zero_shot_run(&z, rows, 3, lg);
                for (size_t k = 0; k < z.K; k++)
                    if (!z.names[k])
                        vf_fail("class %zu has no name", k);
                free(lg);
                vr_zero_shot_free(&z);
            }
        } else {
            vr_score_heads h;
            if (vr_score_heads_load(&h, g_h5, E) == VR_OK) {
                float *out = malloc(3 * h.total * sizeof *out);
                double *scratch = malloc(2 * h.widest * sizeof *scratch);
                if (out && scratch)
                    vr_score_heads_run(&h, rows, 3, out, scratch);
                free(out);
                free(scratch);
                vr_score_heads_free(&h);
            }
        }
        ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
        if (open_ids != 0)
            vf_fail("%zd HDF5 ids left open", open_ids);
    }
    return 0;
}
