/* plan.h - who computes what: layers to pipeline stages, heads and MLP
 * columns to tensor-parallel ranks, replicas to images.
 *
 * Pure arithmetic on the model config: no MPI, no files, so it is tested in
 * one process by looping over simulated ranks, and `vitrun --plan` prints it
 * without loading a weight.
 */
#ifndef VR_PLAN_H
#define VR_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include "../runtime/config.h"
#include "../runtime/status.h"
#include "shard.h"

typedef struct {
    vr_config cfg;
    int dp, pp, tp;        /* replicas, stages per replica, ranks per stage */
    size_t *part_split;    /* (pp + 1): stage s holds half-blocks [split[s], split[s+1]) */
    size_t *head_split;    /* (tp + 1): TP rank t holds heads [split[t], split[t+1]) */
    size_t *mlp_split;     /* (tp + 1): TP rank t holds MLP columns [split[t], split[t+1]) */
} vr_plan;

/* Builds the plan. `layers` (pp entries, or NULL) overrides the split: the
 * half-blocks of each stage (vr_plan_parse_layers). Otherwise the planner
 * balances the stages' FLOPs, cutting between a layer's attention and its
 * MLP where that balances them better. */
vr_status vr_plan_build(vr_plan *p, const vr_config *c, int dp, int pp, int tp,
                        const size_t *layers);
void vr_plan_free(vr_plan *p);

/* The shard of the rank at (stage, tp_rank); the same in every replica. */
vr_shard vr_plan_shard(const vr_plan *p, int stage, int tp_rank);

/* Bytes of float32 weights the shard holds. */
size_t vr_shard_weight_bytes(const vr_config *c, const vr_shard *s);

/* Estimated multiply-add FLOPs per image for the shard. */
double vr_shard_flops(const vr_config *c, const vr_shard *s);

/* Images [first, first+count) of micro-batch m of `batch` images out of n. */
void vr_plan_microbatch(size_t m, size_t batch, size_t n, size_t *first, size_t *count);

/* The replica that scores micro-batch m: round-robin, m mod dp. */
static inline int vr_plan_replica_of(const vr_plan *p, size_t m) { return (int)(m % (size_t)p->dp); }

/* Prints every rank's assignment and the predicted per-stage load. */
void vr_plan_print(const vr_plan *p, FILE *fp);

/* Parses "4,4,3,1" or "6.5,5.5" (layers per stage, x.5 meaning the stage
 * ends or begins between a layer's attention and its MLP) into out: pp
 * counts of half-blocks. */
vr_status vr_plan_parse_layers(const char *s, size_t *out, int pp);

#endif
