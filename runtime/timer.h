/* timer.h - wall-clock accumulators for the kinds of work in a forward pass. */
#ifndef VR_TIMER_H
#define VR_TIMER_H

#include <time.h>

typedef struct {
    double gemm;       /* seconds in weight GEMMs (embedding, qkv, proj, mlp, head) */
    double attention;  /* scores, softmax, weighted sum */
    double norm;       /* LayerNorms */
    double activation; /* GELU, bias, residual adds, im2col */
} vr_timers;

static inline double vr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
