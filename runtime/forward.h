/* forward.h - the ViT forward pass, split where a pipeline splits it.
 *
 * x is the residual stream (B, T, D) for B images. A stage calls
 * vr_forward_embed (first stage), vr_forward_layer for each of its layers,
 * and vr_forward_head (last stage). Tensor parallelism enters only through
 * a vr_reducer: its `sum` adds a (rows, D) partial result over the ranks
 * sharing the layer (B*T rows, or B in the model's last block), its `max`
 * agrees on int8's row ranges and weight scales; NULL means this rank holds
 * every head and column.
 */
#ifndef VR_FORWARD_H
#define VR_FORWARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "status.h"
#include "timer.h"
#include "weights.h"

typedef vr_status (*vr_reduce_fn)(float *buf, size_t n, void *ctx);

/* The TP group's collectives. Between the layers of a stage the residual
 * stream's rows are shared out (vr_row_block over rank, size: each rank
 * keeps its own block up to date; sequence parallelism): a row-parallel
 * GEMM's partial sums are reduce-scattered into the blocks, each rank runs
 * LayerNorm (and int8's quantisation) on its block, and an allgather hands
 * the blocks to the next column-parallel GEMM (as uint8 rows with int8).
 * x is whole again at the end of the stage, before the model's last block
 * when it runs on the class tokens alone, and after every block when the
 * run dumps them. */
typedef struct {
    vr_reduce_fn sum, max; /* in place over the ranks sharing the layer */
    /* rows x D summed, this rank's block left at buf's start */
    vr_status (*scatter)(float *buf, size_t rows, size_t D, void *ctx);
    /* each rank's block of n tables (rows x row_bytes[i] in bufs[i]) to
     * every rank, in place, in one exchange */
    vr_status (*gather)(void *const bufs[], const size_t row_bytes[], int n, size_t rows,
                        void *ctx);
    /* the same for float rows (rows x D), which may travel rounded (--wire bf16) */
    vr_status (*gatherf)(float *buf, size_t rows, size_t D, void *ctx);
    void *ctx; /* passed to each */
    int rank, size;
} vr_reducer;

/* int8's choices per matrix. Matrices are named "patch" and "L.qkv",
 * "L.proj", "L.fc1", "L.fc2" for block L of the model (from 0). keep: those
 * that stay float32, a comma list of names, "L" (the block's four), "*.fc2"
 * (that matrix of every block) or "*" (NULL: none); check: every int8
 * matrix also runs in float32 and counts its error (--int8-calibrate). */
typedef struct {
    const char *keep;
    int check;
} vr_int8_options;

/* One matrix's int8 state, for the report. */
typedef struct {
    char name[12];
    int int8;     /* 0: kept float32 */
    float error;  /* relative error when checked, else -1 */
} vr_int8_entry;

/* Whether `spec` (vr_int8_options.keep) is well formed for a model of
 * `layers` blocks; VR_ERR_USAGE naming the first bad item otherwise. */
vr_status vr_int8_keep_check(const char *spec, size_t layers);
/* Prints which matrices of a `layers`-block model int8 runs in float32
 * under `spec` (one line, for --plan). */
void vr_int8_keep_print(const char *spec, size_t layers, FILE *f);

typedef struct {
    size_t max_batch;
    float *xn;      /* (B*T, D) LayerNorm output feeding attention or MLP */
    float *qkv;     /* (B*T, 3*Hl*hd) this shard's queries, keys, values */
    float *scores;  /* attention scratch: vr_attention_scratch floats */
    float *attn;    /* (B*T, Hl*hd) this shard's head outputs, concatenated */
    float *partial; /* (B*T, D) output of a row-parallel GEMM before the sum (tp > 1 only) */
    float *partial2; /* (B*T, D) fc2's beside proj's, a parallel block's (tp > 1 only) */
    float *mlp;     /* (B*T, Ml) this shard's MLP hidden columns */
    float *gate;    /* (B*T, 2*Ml) SwiGLU's fc1 output: gate, then value columns */
    float *patches; /* (B*patches, P) im2col of the input, first stage only */
    float *cls;     /* (B, D) the class tokens, in the model's last block */
    uint8_t *xq;    /* (B*T, D) xn quantised for a gathered int8 GEMM (tp > 1 only) */
    float *xq_scale; /* (B*T) its rows' scales and zero points */
    int32_t *xq_zp;
    /* the head's, on the last stage */
    float *pooled;  /* (B, pooled) after pooling */
    float *logits2; /* (B, K) DeiT's distillation head */
    float *pool_qkv; /* (B*T, 3D) the attention-pool's query row and every token's keys, values */
    float *pool_kv; /* (B*T, 2D) */
    float *pool_mlp; /* (B, Mp) */
    int all_tokens; /* the last block computes every token (for --dump), not only the class token */
    /* called between a block's steps (after its qkv, attention and fc1, and
     * between attention and MLP): MPI over TCP moves a message only while
     * its sender is inside MPI, so the send to the next stage advances only
     * when polled (NULL: nothing to poll) */
    void (*poll)(void *ctx);
    void *poll_ctx;
    vr_timers t;
} vr_run_state;

/* After vr_forward_prepare: the buffers depend on how the layers were prepared. */
vr_status vr_state_build(vr_run_state *s, const vr_weights *w, size_t max_batch);
void vr_state_free(vr_run_state *s);
/* Before the first micro-batch: every GEMM's kernel for batches of each of
 * the sizes (0 entries are skipped), so that the first micro-batch is not
 * slower than the rest (a pipeline waits for it). */
vr_status vr_state_warm(vr_run_state *s, const vr_weights *w, const size_t *batches, int n);

/* Readies the shard's weight matrices for the GEMM back end and precision
 * (see linear.h); tp is the number of ranks sharing each layer (1: proj and
 * fc2 add straight into the residual stream, else they leave partial sums
 * for `reduce`). Once, after the weights are loaded. With int8 and tp > 1,
 * the ranks agree on proj's and fc2's weight scales through reduce->max:
 * every rank of the TP group calls it, and any failure before it is agreed
 * first, so a rank that fails does not leave the others waiting. */
vr_status vr_forward_prepare(vr_weights *w, vr_gemm_backend be, vr_precision prec, int tp,
                             const vr_reducer *reduce, const vr_int8_options *q);

/* Layer l of the shard prepared as vr_forward_prepare would, right after
 * it is read (vr_model_load's after_layer: `loaded` is its status), so that
 * its float32 pages go back before the next layer's are read;
 * vr_forward_prepare then skips it. With int8 and tp > 1 the TP group
 * first agrees that every rank read the layer, then on its proj and fc2
 * scales (reduce->max): every rank of the group calls it for the same
 * layers, a failing one included (vr_model_load's contract), and a rank
 * whose peer failed returns VR_ERR_PEER. */
vr_status vr_forward_prepare_layer(vr_weights *w, size_t l, vr_gemm_backend be,
                                   vr_precision prec, int tp, const vr_reducer *reduce,
                                   const vr_int8_options *q, vr_status loaded);

/* The shard's encoder matrices with int8 (and the patch embedding's), up to
 * cap of them into out; returns how many there are. */
size_t vr_forward_int8_list(const vr_weights *w, vr_int8_entry *out, size_t cap);

/* x (B, T, D) = [prefix tokens; patches(pixels) W^T + b] + positions (over
 * every token, or the patches only), then norm_pre if the model has one, for
 * pixels (B, C, H, W). */
vr_status vr_forward_embed(vr_run_state *s, const vr_weights *w, const float *pixels,
                           size_t B, float *x);

/* One pre-LN encoder block on x (B, T, D) in place, or the half of it the
 * shard holds (a stage may begin at a layer's MLP or end after its
 * attention); l indexes the shard's layers. The model's last block updates only the class tokens (row 0 of
 * each image), all the head reads, unless s->all_tokens: its other rows keep
 * the block's input. */
vr_status vr_forward_layer(vr_run_state *s, const vr_weights *w, size_t l, float *x,
                           size_t B, const vr_reducer *reduce);

/* From the last block's x (B, T, D): the final norm, the pooling (class
 * token, mean of the patches, both, or the attention-pool head) and the
 * head. embedding (B, E) is the pooled feature, or its projection (CLIP);
 * logits (B, K) the classifier's (the mean of DeiT's two), unless the model
 * has none. */
vr_status vr_forward_head(vr_run_state *s, const vr_weights *w, const float *x, size_t B,
                          float *embedding, float *logits);

#endif
