/* shard.c - the trivial shard (everything on one rank) and half-block ranges. */
#include "shard.h"

vr_shard vr_shard_full(const vr_config *c)
{
    vr_shard s = {0, 0, 0, 0, 0, c->heads, 0, c->mlp_dim, 1, 1, 1};
    vr_shard_set_parts(&s, 0, 2 * c->layers);
    return s;
}

void vr_shard_set_parts(vr_shard *s, size_t part_begin, size_t part_end)
{
    s->part_begin = part_begin;
    s->part_end = part_end;
    s->layer_begin = part_begin / 2;
    s->layer_end = (part_end + 1) / 2;
}
