/* attention.h - softmax(Q K^T / sqrt(hd)) V for every image and head.
 *
 * qkv is (B*T, 3*H*hd): per token the queries of the H heads, then their
 * keys, then their values (the layout of a PyTorch in_proj). out is
 * (B*T, H*hd), the heads' outputs side by side. scores holds
 * vr_attention_scratch floats.
 *
 * With AVX-512 (vr_flash_usable) the (image, head, query rows) units spread
 * over the pool, each fused by flash.c: no scores matrix, whatever the GEMM
 * back end. Otherwise, on oneDNN one batched matmul computes an image's H score matrices, oneDNN's
 * softmax normalises them in place and a second batched matmul applies them
 * to the values; on OpenBLAS the (image, head) pairs spread over vitrun's pool,
 * each with one-thread sgemm and vitrun's softmax. float32 throughout.
 */
#ifndef VR_ATTENTION_H
#define VR_ATTENTION_H

#include <stddef.h>

#include "linear.h"
#include "status.h"

typedef struct vr_attention vr_attention;

vr_status vr_attention_create(vr_attention **out, vr_gemm_backend be, size_t H, size_t T,
                              size_t hd);
/* Floats of scratch vr_attention_run needs for `threads` pool threads (1
 * for a NULL record: a shard without layers). */
size_t vr_attention_scratch(const vr_attention *a, int threads);
vr_status vr_attention_run(vr_attention *a, const float *qkv, float *out, size_t B,
                           float *scores);
/* Only query row 0 (the class token) of each image: out is (B, H*hd), the
 * class token's head outputs; keys and values are all T rows of qkv. The
 * model's last block needs no more. Same scratch as vr_attention_run. */
vr_status vr_attention_first_row(const vr_attention *a, const float *qkv, float *out, size_t B,
                                 float *scratch);
void vr_attention_free(vr_attention *a);
/* Which of the three implementations runs, in words. */
const char *vr_attention_kind(const vr_attention *a);

#endif
