/* output.h - the scores file: HDF5 by default, CSV when the name ends in .csv.
 *
 * One row per input, appended in input order and flushed as it goes. Rows go
 * to OUT.part; only a finished run renames it to OUT, so a file named OUT is
 * always complete (io/journal.h keeps an interrupted run resumable). Columns
 * (README, "Using it"): path, ok, error, topk_index (K), topk_prob (K),
 * topk_label (K, when the model has labels), logits (C, optional), embedding
 * (D, optional); in HDF5 also path_escaped.
 *
 * Names are bytes as found. The HDF5 'path' column is UTF-8 (h5py's asstr(),
 * pandas): a name that is not valid UTF-8 is stored with its invalid bytes as
 * \xNN and its backslashes as \\, and path_escaped = 1 on that row (valid
 * names, the rest, are stored unchanged). The CSV holds the bytes as found.
 */
#ifndef VR_OUTPUT_H
#define VR_OUTPUT_H

#include <stdio.h>

#include "../runtime/status.h"

typedef struct {
    const char *path;       /* image name, bytes as found (maybe not UTF-8) */
    int ok;                 /* 0: the image could not be scored */
    const char *error;      /* "" when ok */
    const int *topk_index;  /* (K) */
    const float *topk_prob; /* (K) */
    const float *logits;    /* (C) or NULL */
    const float *embedding; /* (D) or NULL */
    const float *scores;    /* (S) the score heads' outputs, side by side, or NULL */
} vr_output_row;

/* The score heads' columns: score_NAME, dims[i] values each (S = their sum). */
typedef struct {
    size_t n;
    const char *const *names; /* (n) */
    const size_t *dims;       /* (n) */
} vr_score_cols;

typedef struct {
    char path[4096];        /* being written: final + ".part" */
    char final[4096];       /* the name given */
    int csv;
    FILE *fp;
    long long file;         /* hid_t */
    long long ds[12];       /* hid_t per column (output.c C_N of them) */
    size_t k, classes, dim;
    int logits, embedding; /* embedding: 0, VR_EMB_F32 or VR_EMB_F16 */
    char *const *labels;    /* (classes) or NULL; not owned */
    vr_score_cols sc;       /* not owned */
    size_t n_scores;        /* S */
    long long *ds_scores;   /* (sc.n) hid_t per score column */
    size_t rows;
} vr_output;

/* Is s strict UTF-8 (what h5py's asstr() and Python decode)? */
int vr_utf8_valid(const char *s);

enum { VR_EMB_F32 = 1, VR_EMB_F16 = 2 }; /* how the embedding column is stored */

vr_status vr_output_open(vr_output *o, const char *path, size_t k, size_t classes, size_t dim,
                         int logits, int embedding, char *const *labels,
                         const vr_score_cols *scores);
vr_status vr_output_append(vr_output *o, const vr_output_row *rows, size_t n);
/* Closes, leaving OUT.part (an interrupted run). */
vr_status vr_output_close(vr_output *o);
/* Records the run's fingerprint (io/journal.h) in the HDF5 file's root
 * attribute 'vitrun_run', so that a later --resume on the finished file can
 * tell whether it was this run; a CSV has no place for it. */
vr_status vr_output_describe_run(vr_output *o, const char *run);
/* The 'vitrun_run' of a finished output: 1 and the text, 0 when there is
 * none (CSV, or written before December 2026), -1 when it cannot be read. */
int vr_output_read_run(const char *path, char *run, size_t cap);
/* Closes, syncs and renames OUT.part to OUT (the run is complete). */
vr_status vr_output_commit(vr_output *o);

#endif
