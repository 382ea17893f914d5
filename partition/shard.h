/* shard.h - which part of the model one rank holds and computes.
 *
 * A shard is a contiguous range of half-blocks (a pipeline stage) and,
 * within each of their layers, a contiguous range of attention heads and of
 * MLP columns (a tensor-parallel slice). Half-block 2l is layer l's
 * attention (LayerNorm 1, qkv, attention, proj), 2l + 1 its MLP
 * (LayerNorm 2, fc1, GELU, fc2): both halves read and write the residual
 * stream, so a stage may begin or end between them. The embedding belongs
 * to the stage holding half-block 0, the final norm and classifier to the
 * stage holding the last one.
 */
#ifndef VR_SHARD_H
#define VR_SHARD_H

#include <stddef.h>

#include "../runtime/config.h"

typedef struct {
    size_t part_begin, part_end;   /* [begin, end) half-blocks */
    size_t layer_begin, layer_end; /* [begin, end) layers with at least one half here */
    size_t head_begin, head_end;   /* [begin, end) heads in each layer */
    size_t mlp_begin, mlp_end;     /* [begin, end) MLP columns in each layer */
    int has_embed;                 /* patch embedding, class token, positions */
    int has_head;                  /* final LayerNorm and classifier */
    int bias_owner;                /* adds row-parallel biases (one per TP group) */
} vr_shard;

/* The whole model on one rank. */
vr_shard vr_shard_full(const vr_config *c);
/* Half-blocks [part_begin, part_end) with the layers they touch. */
void vr_shard_set_parts(vr_shard *s, size_t part_begin, size_t part_end);

static inline size_t vr_shard_layers(const vr_shard *s) { return s->layer_end - s->layer_begin; }
static inline size_t vr_shard_heads(const vr_shard *s) { return s->head_end - s->head_begin; }
static inline size_t vr_shard_mlp(const vr_shard *s) { return s->mlp_end - s->mlp_begin; }
/* Whether the shard holds layer l's attention (half-block 2l) or MLP (2l + 1). */
static inline int vr_shard_has_attention(const vr_shard *s, size_t l)
{
    return 2 * l >= s->part_begin && 2 * l < s->part_end;
}
static inline int vr_shard_has_mlp(const vr_shard *s, size_t l)
{
    return 2 * l + 1 >= s->part_begin && 2 * l + 1 < s->part_end;
}

#endif
