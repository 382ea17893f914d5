/* pool.c - a fixed set of worker threads for data-parallel loops: OpenMP's
 * team when vitrun is built with OpenMP (for oneDNN), else its own pthreads. */
#include "pool.h"

#include <pthread.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define VR_POOL_MAX 64

static void range(size_t n, int parts, int i, size_t *b, size_t *e)
{
    *b = n * (size_t)i / (size_t)parts;
    *e = n * (size_t)(i + 1) / (size_t)parts;
}

#ifdef _OPENMP
/* oneDNN runs on OpenMP's team: vitrun's loops run on the same threads, so
 * nothing is handed over between two sets of threads between the steps of
 * a layer. Waiting threads spin GOMP_SPINCOUNT times, then sleep. */
static int pool_threads = 1;

int vr_pool_start(int threads)
{
    pool_threads = threads < 1 ? 1 : threads > VR_POOL_MAX ? VR_POOL_MAX : threads;
    return pool_threads;
}

void vr_pool_stop(void) { pool_threads = 1; }

int vr_pool_threads(void) { return pool_threads; }

void vr_pool_run(size_t n, size_t grain, vr_task_fn fn, void *ctx)
{
    if (pool_threads <= 1 || n < 2 * (grain ? grain : 1)) {
        if (n)
            fn(ctx, 0, n, 0);
        return;
    }
#pragma omp parallel num_threads(pool_threads)
    {
        size_t b, e;
        int me = omp_get_thread_num();
        range(n, omp_get_num_threads(), me, &b, &e);
        if (b < e)
            fn(ctx, b, e, me);
    }
}

#else
static struct {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    pthread_t tid[VR_POOL_MAX];
    int threads;        /* including the caller */
    unsigned long gen;  /* bumped for every job */
    int pending;        /* workers still on the current job */
    int quit;
    vr_task_fn fn;
    void *ctx;
    size_t n;
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};
static void *worker(void *arg)
{
    int me = (int)(size_t)arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&P.mu);
    for (;;) {
        while (P.gen == seen && !P.quit)
            pthread_cond_wait(&P.go, &P.mu);
        if (P.quit)
            break;
        seen = P.gen;
        vr_task_fn fn = P.fn;
        void *ctx = P.ctx;
        size_t b, e;
        range(P.n, P.threads, me, &b, &e);
        pthread_mutex_unlock(&P.mu);
        if (b < e)
            fn(ctx, b, e, me);
        pthread_mutex_lock(&P.mu);
        if (--P.pending == 0)
            pthread_cond_signal(&P.done);
    }
    pthread_mutex_unlock(&P.mu);
    return NULL;
}

int vr_pool_start(int threads)
{
    vr_pool_stop();
    if (threads > VR_POOL_MAX)
        threads = VR_POOL_MAX;
    P.threads = 1;
    P.quit = 0;
    P.gen = 0; /* no worker alive: new ones start having seen job 0 */
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&P.tid[i], NULL, worker, (void *)(size_t)i) != 0)
            break;
        P.threads = i + 1;
    }
    return P.threads;
}

void vr_pool_stop(void)
{
    if (P.threads <= 1)
        return;
    pthread_mutex_lock(&P.mu);
    P.quit = 1;
    pthread_cond_broadcast(&P.go);
    pthread_mutex_unlock(&P.mu);
    for (int i = 1; i < P.threads; i++)
        pthread_join(P.tid[i], NULL);
    P.threads = 1;
}

int vr_pool_threads(void) { return P.threads > 1 ? P.threads : 1; }

void vr_pool_run(size_t n, size_t grain, vr_task_fn fn, void *ctx)
{
    if (P.threads <= 1 || n < 2 * (grain ? grain : 1)) {
        if (n)
            fn(ctx, 0, n, 0);
        return;
    }
    pthread_mutex_lock(&P.mu);
    P.fn = fn;
    P.ctx = ctx;
    P.n = n;
    P.pending = P.threads - 1;
    P.gen++;
    pthread_cond_broadcast(&P.go);
    pthread_mutex_unlock(&P.mu);
    size_t b, e;
    range(n, P.threads, 0, &b, &e);
    if (b < e)
        fn(ctx, b, e, 0);
    pthread_mutex_lock(&P.mu);
    while (P.pending > 0)
        pthread_cond_wait(&P.done, &P.mu);
    pthread_mutex_unlock(&P.mu);
}
#endif
