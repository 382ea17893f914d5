/* fuzz_labels.c - libFuzzer target: an untrusted --labels file (io/truth.c):
 * the whole-file check of vr_truth_open, against a JPEG listing, against
 * row names given by a callback (an HDF5 input, vr_truth_open_named), or
 * against nothing, then a label per row with vr_truth_next, as the writer
 * asks for them.
 *
 * Input: 3 bytes, then the labels file, then optionally SEPARATOR and the
 * rows' listing (their names, one per line, as a manifest holds them).
 *   [0] classes - 1, [1] inputs (%64), [2] bit 0: check against the
 *   listing; else bit 1: against the names "0", "1", ... (HDF5 rows
 *   without 'paths') */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../io/listing.h"
#include "../../io/truth.h"
#include "fuzz_util.h"

#define SEPARATOR "\n----\n"

static char g_labels[4096], g_listing[4096];

static void index_name(void *ctx, size_t i, char *out, size_t cap)
{
    snprintf(out, cap, "%zu", i);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vf_setup("labels");
    vf_path(g_labels, sizeof g_labels, "labels.txt");
    vf_path(g_listing, sizeof g_listing, "inputs.txt");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t classes = (size_t)data[0] + 1, n = data[1] % 64;
    int with_listing = data[2] & 1, with_names = !with_listing && (data[2] & 2);
    const uint8_t *rest = data + 3;
    size_t len = size - 3, sep = strlen(SEPARATOR), cut = len;
    for (size_t i = 0; i + sep <= len; i++)
        if (!memcmp(rest + i, SEPARATOR, sep)) {
            cut = i;
            break;
        }
    vf_write(g_labels, rest, cut);
    if (with_listing)
        vf_write(g_listing, cut < len ? rest + cut + sep : rest, cut < len ? len - cut - sep : 0);

    vr_truth t;
    vr_status st = with_names
                       ? vr_truth_open_named(&t, g_labels, classes, n, NULL, index_name, NULL)
                       : vr_truth_open(&t, g_labels, classes, n, with_listing ? g_listing : NULL);
    if (st == VR_OK) {
        vr_listing ls;
        char *name = malloc(VR_PATH_MAX), *full = malloc(2 * VR_PATH_MAX);
        if (!name || !full)
            vf_fail("out of memory");
        if (with_listing && vr_listing_open(&ls, g_listing, "") != VR_OK)
            vf_fail("the listing opened for the check does not open again");
        for (size_t i = 0; i < n; i++) {
            if (with_listing) {
                if (vr_listing_get(&ls, i, name, full) != VR_OK)
                    vf_fail("row %zu: the checked listing has no row here", i);
            } else {
                snprintf(name, VR_PATH_MAX, "%zu", i); /* HDF5 rows are named by index */
            }
            int label = -1;
            if (vr_truth_next(&t, name, &label) != VR_OK) {
                /* unless checked against names, the names were not checked */
                if (with_listing || with_names)
                    vf_fail("row %zu: a checked file fails: %s", i, vr_last_error());
                break;
            }
            if (label < 0 || (size_t)label >= classes)
                vf_fail("row %zu: label %d of %zu classes", i, label, classes);
        }
        if (with_listing)
            vr_listing_close(&ls);
        free(name);
        free(full);
        vr_truth_close(&t);
    } else {
        vr_truth_close(&t);
    }
    return 0;
}
