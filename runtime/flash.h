/* flash.h - fused attention for one head on AVX-512: for six query rows at
 * a time the scores against every key, their softmax and the weighted sum
 * of the values, without a T x T scores matrix in memory.
 *
 * vr_flash_pack copies a head's keys (transposed, padded to a multiple of 16)
 * and values into a thread's scratch; vr_flash_rows then computes output
 * rows [q0, q1) of that head from its queries. q, k and v are rows of length
 * hd at stride ld (columns of a qkv matrix); out rows are at stride ldo.
 * float32 throughout; the softmax's sum is applied to the output row instead
 * of the probabilities. Usable when vr_flash_usable(hd): AVX-512 in
 * vr_kernel_level() and hd a multiple of 16.
 */
#ifndef VR_FLASH_H
#define VR_FLASH_H

#include <stddef.h>

int vr_flash_usable(size_t hd);
/* T rounded up to 16 */
size_t vr_flash_pad(size_t T);
/* floats of scratch per thread */
size_t vr_flash_scratch(size_t T, size_t hd);
void vr_flash_pack(float *scratch, const float *k, const float *v, size_t ld, size_t T,
                   size_t hd);
void vr_flash_rows(float *scratch, const float *q, size_t ld, float *out, size_t ldo,
                   size_t T, size_t hd, float scale, size_t q0, size_t q1);

#endif
