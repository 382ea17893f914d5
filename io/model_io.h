/* model_io.h - reads a vitrun model (docs/MODEL_FORMAT.md).
 *
 * vr_model_open reads and checks the configuration, preprocessing preset and
 * labels from the index file. vr_model_load then reads only the tensors, and
 * only the rows and columns, that one shard needs, opening only the shard
 * files that hold them.
 */
#ifndef VR_MODEL_IO_H
#define VR_MODEL_IO_H

#include <stddef.h>

#include "../runtime/config.h"
#include "../runtime/status.h"
#include "../runtime/weights.h"

#define VR_FORMAT_VERSION 2 /* 1 (the classic ViT only) still loads */
#define VR_MAX_SHARD_FILES 64

typedef struct {
    char path[4096];      /* the index file as the user named it */
    char dir[4096];       /* its folder, where relative shard names resolve */
    long long file;       /* hid_t of the index file */
    char model_id[64];    /* shared by the index and its shards */
    vr_config cfg;
    vr_preprocess pre;
    char **labels;        /* (classes) or NULL when the model has none */
    struct { char *name; long long file; } shards[VR_MAX_SHARD_FILES]; /* name: the link's */
    size_t n_shards_open; /* shard files this process has opened */
    size_t bytes_read;    /* tensor bytes read by vr_model_load */
} vr_model_file;

vr_status vr_model_open(vr_model_file *m, const char *path);
/* 1 when `path` is a vitrun model file (an index or a shard: HDF5 with a
 * root model_id or format_version), which an output must never replace. */
int vr_model_is_model_file(const char *path);
/* after_layer (may be NULL) runs after each of the shard's layers is read
 * (i from 0, st = VR_OK), before the next: a caller that prepares each
 * layer there (vr_forward_prepare_layer) never holds the whole shard in
 * float32. When reading fails before the last layer's call, it runs once
 * more, for the layer that would have come next, with the failure in st,
 * so that ranks agreeing there learn of it together; its result is the
 * load's. */
typedef vr_status (*vr_layer_fn)(void *ctx, size_t i, vr_status st);
vr_status vr_model_load(vr_model_file *m, vr_weights *w, const vr_shard *shard,
                        vr_layer_fn after_layer, void *ctx);
/* The model at h x w pixels (--image-size; h = 0: its own size): the config's
 * grid and the preprocessing for it, re-derived from the preset the file
 * records or from `preset` (--preprocess) when not NULL. vr_model_load then
 * resamples the position table. */
vr_status vr_model_set_size(vr_model_file *m, size_t h, size_t w, const char *preset);
void vr_model_close(vr_model_file *m);

#endif
