/* heads_io.h - reads the files of --zero-shot and --score-heads
 * (docs/MODEL_FORMAT.md, "Zero-shot and score-head files").
 *
 * --zero-shot: an HDF5 file with `embeddings` (K, E) float and `names` (K
 * strings), or a .npy (K, E) float32/float64 matrix with a names file (one
 * class per line). --score-heads: an HDF5 file whose group /heads holds one
 * group per head, NAME, with layer_00, layer_01, ... each holding `weight`
 * (out, in), `bias` (out) and the string attribute `activation` (none, relu,
 * gelu, sigmoid, tanh); the head's attribute `normalize_input` (0/1) says
 * whether the embedding is L2-normalised first. Every size is checked
 * against the model's embedding width E before anything is allocated.
 */
#ifndef VR_HEADS_IO_H
#define VR_HEADS_IO_H

#include <stddef.h>

#include "../runtime/heads.h"
#include "../runtime/status.h"

/* Class embeddings and names; scale/bias as given (bias used when have_bias). */
vr_status vr_zero_shot_load(vr_zero_shot *z, const char *path, const char *names_path, size_t E,
                            double scale, double bias, int have_bias);

vr_status vr_score_heads_load(vr_score_heads *h, const char *path, size_t E);

/* The matrix of a .npy file: (rows, cols) float32, from float32 or float64;
 * `data` is the file's bytes. For the loader and its fuzz target. */
vr_status vr_npy_parse(const unsigned char *data, size_t size, const char *path, float **out,
                       size_t *rows, size_t *cols);

#endif
