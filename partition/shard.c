/* shard.c - the trivial shard: everything on one rank. */
#include "shard.h"

vr_shard vr_shard_full(const vr_config *c)
{
    vr_shard s = {0, c->layers, 0, c->heads, 0, c->mlp_dim, 1, 1, 1};
    return s;
}
