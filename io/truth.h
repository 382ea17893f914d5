/* truth.h - ground-truth labels for --labels, read in step with the output
 * rows so that memory stays flat whatever the dataset size.
 *
 * File: one line per input, in the input's order (for a directory: sorted
 * by path, as the output rows are): a class index, one space or tab, the
 * path as the output names it. Each row's path is checked against its line,
 * so a list in another order is an error, not a wrong accuracy; the whole
 * file is checked when it is opened, so such an error comes before scoring.
 */
#ifndef VR_TRUTH_H
#define VR_TRUTH_H

#include <stddef.h>
#include <stdio.h>

#include "../runtime/status.h"

typedef struct {
    FILE *fp;
    char path[4096];
    char *line;
    size_t cap, lineno, classes;
} vr_truth;

/* Opens the file and checks all of it before any scoring: a well-formed
 * line with a label below `classes` for each of the n inputs, no more, and
 * when `listing` (the rows' names, one per non-blank line) is given, the
 * same names in the same order. */
vr_status vr_truth_open(vr_truth *t, const char *path, size_t classes, size_t n,
                        const char *listing);
/* The same, for inputs whose rows are named without a listing file (an HDF5
 * input's 'paths'): names(ctx, i, out, cap) gives row i's name. */
typedef void (*vr_truth_names_fn)(void *ctx, size_t i, char *out, size_t cap);
vr_status vr_truth_open_named(vr_truth *t, const char *path, size_t classes, size_t n,
                              const char *listing, vr_truth_names_fn names, void *ctx);
/* The label of the next row, whose output path is `name`. */
vr_status vr_truth_next(vr_truth *t, const char *name, int *label);
void vr_truth_close(vr_truth *t);

#endif
