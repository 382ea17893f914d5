/* pool.h - the threads that run vitrun's own loops (attention, LayerNorm,
 * element-wise work) beside the GEMMs'.
 *
 * vr_pool_run splits [0, n) into one contiguous range per thread, the same
 * split for the same n and thread count, and returns when every range is
 * done. Every element is computed by the same code whichever thread takes
 * it, so results do not depend on the thread count.
 *
 * Built with OpenMP (with oneDNN), the pool is OpenMP's team, the threads
 * oneDNN runs on: a layer's steps pass from GEMM to LayerNorm to attention
 * without waking another set of threads. Idle team threads spin
 * GOMP_SPINCOUNT times (1000, set by vitrun) and then sleep. Without
 * OpenMP the pool has its own threads, which sleep on a condition variable
 * when idle and never spin against OpenBLAS's threads or other ranks. */
#ifndef VR_POOL_H
#define VR_POOL_H

#include <stddef.h>

/* fn handles [begin, end); `worker` is 0 .. vr_pool_threads() - 1, for
 * per-thread scratch buffers. */
typedef void (*vr_task_fn)(void *ctx, size_t begin, size_t end, int worker);

/* Sets the pool to `threads` threads, the caller being thread 0 (0 or 1: the
 * caller alone); without OpenMP it starts threads - 1 workers. Returns the
 * number of threads in use (fewer when a thread could not be created). */
int vr_pool_start(int threads);
void vr_pool_stop(void);
int vr_pool_threads(void);
/* Runs fn over [0, n); in the calling thread alone when n < 2 * grain. */
void vr_pool_run(size_t n, size_t grain, vr_task_fn fn, void *ctx);

#endif
