/* kernels.h - the element-wise and row-wise pieces of a ViT forward pass.
 * Pure functions: output first, no allocation, no communication. */
#ifndef VR_KERNELS_H
#define VR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* The instruction set vitrun's own kernels use: 2 AVX-512, 1 AVX2 + FMA,
 * 0 plain C. The CPU's best, or lower if the environment variable
 * VITRUN_MAX_ISA says scalar or avx2. vr_kernel_level_name gives the word. */
int vr_kernel_level(void);
const char *vr_kernel_level_name(void);
/* The level a VITRUN_MAX_ISA word names, -1 for anything else. */
int vr_kernel_level_parse(const char *name);

/* out (n, D) = LayerNorm(x (n, D)) * w + b; rows may be strided by ld_x/ld_out. */
void vr_layernorm(float *out, size_t ld_out, const float *x, size_t ld_x,
                  const float *w, const float *b, size_t n, size_t D, double eps);

/* x (n, D) += bias (D) */
void vr_add_bias(float *x, const float *bias, size_t n, size_t D);

/* x (n) = gelu(x), exact: 0.5 x (1 + erf(x / sqrt 2)) */
void vr_gelu(float *x, size_t n);
/* x (n) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): GELU's tanh form (SigLIP) */
void vr_gelu_tanh(float *x, size_t n);
/* x (n) = x sigmoid(1.702 x): OpenAI CLIP's quick_gelu */
void vr_quick_gelu(float *x, size_t n);

/* The element-wise activations a GEMM epilogue applies. */
typedef enum { VR_FN_NONE, VR_FN_GELU, VR_FN_GELU_TANH, VR_FN_QUICK_GELU } vr_act_fn;
/* x (n) = f(x) */
void vr_activate(float *x, size_t n, vr_act_fn f);

/* out (n, M) = silu(gv[:, :M]) * gv[:, M:] for gv (n, 2M): SwiGLU's gate,
 * silu(g) = g sigmoid(g), on the first half of each row. */
void vr_swiglu(float *out, const float *gv, size_t n, size_t M);

/* x (n) += y (n) */
void vr_add(float *x, const float *y, size_t n);

/* out (n) = x rounded to bfloat16 (the high 16 bits of a float), to nearest,
 * ties to even; NaN stays a quiet NaN. */
void vr_to_bf16(uint16_t *out, const float *x, size_t n);
/* x (n) += h (n) read as bfloat16 */
void vr_bf16_add(float *x, const uint16_t *h, size_t n);

/* out (n) = x as IEEE half precision bits, to nearest, ties to even
 * (overflow to infinity, subnormals kept, NaN stays a quiet NaN). */
void vr_to_f16(uint16_t *out, const float *x, size_t n);
/* The float a half holds (exactly). */
float vr_f16_to_float(uint16_t h);

/* x (n, D): each row scaled to unit L2 norm (a zero row stays zero). */
void vr_l2_normalize_rows(float *x, size_t n, size_t D);

/* Each row of x (n, D) becomes its softmax, computed stably. */
void vr_softmax_rows(float *x, size_t n, size_t D);

/* out (B*gh*gw, C*p*p) = the patches of img (B, C, gh*p, gw*p), each row
 * ordered (channel, row, column) like a flattened conv weight [D, C, p, p]. */
void vr_im2col(float *out, const float *img, size_t B, size_t C, size_t gh, size_t gw,
               size_t p);

/* The k largest entries of x (n): indices into idx (k), in descending order,
 * lower index first among equals. */
void vr_topk(int *idx, const float *x, size_t n, size_t k);

#endif
