/* fuzz_model.c - libFuzzer target: an untrusted model file through the
 * loader (io/model_io.c, io/h5util.c): vr_model_open, a one-rank plan, then
 * vr_model_load of the whole model, as `vitrun --model` does.
 *
 * Input: the HDF5 file itself, written to this process's temporary folder
 * (one file, replaced every run). Shard files it links to resolve in that
 * folder, where there are none: the loader must say so.
 *
 * The loader may read some strings in a forked child (io/h5util.c); the
 * target works either way (fuzz_util.c keeps such children from reporting
 * as the fuzzer). Models whose weights would exceed 64 MB are opened but
 * not loaded: the allocation is what the file asks for, not a bug, and
 * libFuzzer's memory limit would report it. */
#include <hdf5.h> /* only to check that every HDF5 id was closed */
#include <stdio.h>
#include <string.h>

#include "../../io/model_io.h"
#include "../../partition/plan.h"
#include "fuzz_util.h"

#define MAX_WEIGHT_BYTES ((size_t)64 << 20)

static char g_path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vf_setup("model");
    vf_path(g_path, sizeof g_path, "model.h5");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vf_write(g_path, data, size);
    (void)vr_model_is_model_file(g_path);
    vr_model_file m;
    if (vr_model_open(&m, g_path) == VR_OK) {
        vr_plan plan;
        if (vr_plan_build(&plan, &m.cfg, 1, 1, 1, NULL) == VR_OK) {
            vr_shard s = vr_plan_shard(&plan, 0, 0);
            if (vr_shard_weight_bytes(&m.cfg, &s) <= MAX_WEIGHT_BYTES) {
                vr_weights w;
                memset(&w, 0, sizeof w);
                if (vr_model_load(&m, &w, &s, NULL, NULL) == VR_OK)
                    vr_weights_free(&w);
            }
            vr_plan_free(&plan);
        }
        vr_model_close(&m);
    }
    /* a leaked id keeps the file open: the next run would read the old one */
    ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open_ids != 0)
        vf_fail("%zd HDF5 ids left open after closing the model", open_ids);
    return 0;
}
