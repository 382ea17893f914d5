/* shard.h - which part of the model one rank holds and computes.
 *
 * A shard is a contiguous range of encoder layers (a pipeline stage) and,
 * within each of those layers, a contiguous range of attention heads and of
 * MLP columns (a tensor-parallel slice). The embedding belongs to the stage
 * holding layer 0, the final norm and classifier to the stage holding the
 * last layer.
 */
#ifndef VR_SHARD_H
#define VR_SHARD_H

#include <stddef.h>

#include "../runtime/config.h"

typedef struct {
    size_t layer_begin, layer_end; /* [begin, end) encoder layers */
    size_t head_begin, head_end;   /* [begin, end) heads in each layer */
    size_t mlp_begin, mlp_end;     /* [begin, end) MLP columns in each layer */
    int has_embed;                 /* patch embedding, class token, positions */
    int has_head;                  /* final LayerNorm and classifier */
    int bias_owner;                /* adds row-parallel biases (one per TP group) */
} vr_shard;

/* The whole model on one rank. */
vr_shard vr_shard_full(const vr_config *c);

static inline size_t vr_shard_layers(const vr_shard *s) { return s->layer_end - s->layer_begin; }
static inline size_t vr_shard_heads(const vr_shard *s) { return s->head_end - s->head_begin; }
static inline size_t vr_shard_mlp(const vr_shard *s) { return s->mlp_end - s->mlp_begin; }

#endif
