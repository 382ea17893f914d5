/* comm.c - MPI: the rank grid, agreement on failure, TP collectives,
 * non-blocking activation transfers. The only file that includes <mpi.h>. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "comm.h"

#include <limits.h>
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels.h"
#include "rows.h"
#include "timer.h"

#define POOL 256

static MPI_Comm g_tp = MPI_COMM_NULL;
static int *g_order;        /* (size): grid position -> world rank */
static MPI_Request g_pool[POOL];
static int g_pool_used[POOL];
static int g_nap; /* vr_comm_wait naps (vr_comm_wait_setup) */

static vr_status mpi_fail(int err, const char *what)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(err, s, &len);
    return vr_fail(VR_ERR_COMM, "%s failed: %s", what, s);
}

vr_status vr_comm_init(int *argc, char ***argv)
{
    int provided;
    int e = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (e != MPI_SUCCESS)
        return vr_fail(VR_ERR_COMM, "MPI_Init_thread failed");
    /* Errors come back as codes; vitrun decides whether to agree or abort. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return VR_OK;
}

void vr_comm_finalize(void)
{
    if (g_tp != MPI_COMM_NULL)
        MPI_Comm_free(&g_tp);
    free(g_order);
    g_order = NULL;
    MPI_Finalize();
}

int vr_comm_rank(void)
{
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int vr_comm_size(void)
{
    int n = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

typedef struct { int leader, rank; } node_key;

static int by_node(const void *a, const void *b)
{
    const node_key *x = a, *y = b;
    if (x->leader != y->leader)
        return x->leader < y->leader ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

vr_status vr_comm_grid(vr_grid *g, int dp, int pp, int tp)
{
    memset(g, 0, sizeof *g);
    int n = vr_comm_size(), me = vr_comm_rank();
    g->world_rank = me;
    g->world_size = n;
    if (pp < 1 || tp < 1 || dp < 0)
        return vr_fail(VR_ERR_USAGE, "--pp and --tp must be at least 1");
    if ((long)pp * tp > n)
        return vr_fail(VR_ERR_USAGE, "--pp %d x --tp %d needs %ld ranks, mpirun started %d",
                       pp, tp, (long)pp * tp, n);
    if (dp == 0) {
        if (n % (pp * tp) != 0)
            return vr_fail(VR_ERR_USAGE, "%d ranks cannot be split into pipelines of --pp %d x "
                           "--tp %d = %d ranks; start a multiple of %d ranks", n, pp, tp,
                           pp * tp, pp * tp);
        dp = n / (pp * tp);
    }
    if ((long)dp * pp * tp != n)
        return vr_fail(VR_ERR_USAGE, "--dp %d x --pp %d x --tp %d = %ld ranks, but mpirun "
                       "started %d; make them equal, or leave --dp out", dp, pp,
                       tp, (long)dp * pp * tp, n);
    g->dp = dp;
    g->pp = pp;
    g->tp = tp;

    /* Which node each rank is on: the lowest world rank sharing its memory. */
    MPI_Comm shm;
    int leader = me;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, me, MPI_INFO_NULL, &shm);
    MPI_Allreduce(MPI_IN_PLACE, &leader, 1, MPI_INT, MPI_MIN, shm);
    MPI_Comm_free(&shm);
    node_key *keys = malloc((size_t)n * sizeof *keys);
    int *leaders = malloc((size_t)n * sizeof *leaders);
    g_order = malloc((size_t)n * sizeof *g_order);
    if (!keys || !leaders || !g_order) {
        /* the other ranks are in the allgather below: returning would hang them */
        fprintf(stderr, "vitrun: rank %d: out of memory for the rank grid (%d ranks)\n", me, n);
        MPI_Abort(MPI_COMM_WORLD, vr_exit_code(VR_ERR_NOMEM));
    }
    MPI_Allgather(&leader, 1, MPI_INT, leaders, 1, MPI_INT, MPI_COMM_WORLD);
    for (int r = 0; r < n; r++)
        keys[r] = (node_key){leaders[r], r};
    qsort(keys, (size_t)n, sizeof *keys, by_node);
    int pos = 0;
    for (int i = 0; i < n; i++) {
        g_order[i] = keys[i].rank;
        if (keys[i].rank == me)
            pos = i;
        if (i == 0 || keys[i].leader != keys[i - 1].leader)
            g->nodes++;
    }
    for (int i = 0; i < n; i += tp)
        if (keys[i].leader != keys[i + tp - 1].leader)
            g->tp_groups_split++;
    free(keys);
    free(leaders);
    g->replica = pos / (pp * tp);
    g->stage = (pos / tp) % pp;
    g->tp_rank = pos % tp;
    int e = MPI_Comm_split(MPI_COMM_WORLD, g->replica * pp + g->stage, g->tp_rank, &g_tp);
    if (e != MPI_SUCCESS)
        return mpi_fail(e, "MPI_Comm_split (tensor-parallel group)");
    MPI_Comm_set_errhandler(g_tp, MPI_ERRORS_RETURN);
    return VR_OK;
}

int vr_comm_world_of(const vr_grid *g, int replica, int stage, int tp_rank)
{
    return g_order[(replica * g->pp + stage) * g->tp + tp_rank];
}

vr_status vr_comm_agree(vr_status local)
{
    /* a rank that failed because a peer did (VR_ERR_PEER) ranks after every
     * rank that failed on its own, whose message is the one to show */
    int me = vr_comm_rank(), size = vr_comm_size();
    int first = !local ? INT_MAX : local == VR_ERR_PEER ? size + me : me;
    MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == INT_MAX)
        return VR_OK;
    if (first >= size)
        first -= size;
    struct { int status; char msg[2000]; } m;
    memset(&m, 0, sizeof m);
    if (me == first) {
        m.status = (int)local;
        snprintf(m.msg, sizeof m.msg, "%s", vr_last_error());
    }
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, MPI_COMM_WORLD);
    if (vr_comm_size() > 1)
        return vr_fail((vr_status)m.status, "rank %d: %s", first, m.msg);
    return vr_fail((vr_status)m.status, "%s", m.msg);
}

void vr_comm_abort(int exit_code)
{
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size == 1) {
        /* nobody to take down: the caller's one-line message, not MPI's banner */
        fflush(NULL);
        _exit(exit_code);
    }
    MPI_Abort(MPI_COMM_WORLD, exit_code);
}

/* MPI counts are ints: large buffers go in pieces. */
#define CHUNK ((size_t)1 << 30)

static vr_status tp_allreduce(float *buf, size_t n, vr_comm_stats *st, MPI_Op op,
                              const char *what)
{
    double t0 = vr_now();
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t k = n - off < CHUNK ? n - off : CHUNK;
        int e = MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)k, MPI_FLOAT, op, g_tp);
        if (e != MPI_SUCCESS)
            return mpi_fail(e, what);
    }
    if (st) {
        st->allreduce += vr_now() - t0;
        st->bytes_allreduced += (double)n * sizeof(float);
    }
    return VR_OK;
}

vr_status vr_comm_tp_allreduce(float *buf, size_t n, void *ctx)
{
    return tp_allreduce(buf, n, ctx, MPI_SUM, "tensor-parallel MPI_Allreduce");
}

/* *p holds at least n elements of elem bytes (grown, contents dropped). */
static vr_status grow(void **p, size_t *cap, size_t n, size_t elem, const char *what)
{
    if (n <= *cap)
        return VR_OK;
    void *q = vr_alloc(n, elem, what);
    if (!q)
        return VR_ERR_NOMEM;
    free(*p);
    *p = q;
    *cap = n;
    return VR_OK;
}

/* MPI_Op over bfloat16 (MPI_UINT16_T): inout = bf16(float(in) + float(inout)). */
static void bf16_sum(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const uint16_t *a = in;
    uint16_t *b = inout;
    for (int i = 0; i < *len; i++) {
        uint32_t ua = (uint32_t)a[i] << 16, ub = (uint32_t)b[i] << 16;
        float fa, fb;
        memcpy(&fa, &ua, sizeof fa);
        memcpy(&fb, &ub, sizeof fb);
        float s = fa + fb;
        vr_to_bf16(&b[i], &s, 1);
    }
}

/* That sum as an MPI_Op, made on first use. */
static vr_status bf16_op(MPI_Op *out)
{
    static MPI_Op op = MPI_OP_NULL;
    if (op == MPI_OP_NULL && MPI_Op_create(bf16_sum, 1, &op) != MPI_SUCCESS)
        return vr_fail(VR_ERR_COMM, "cannot create the bfloat16 sum for --wire bf16");
    *out = op;
    return VR_OK;
}

vr_status vr_comm_tp_allreduce_bf16(float *buf, size_t n, void *ctx)
{
    static void *half;
    static size_t cap;
    MPI_Op op = MPI_OP_NULL;
    vr_comm_stats *st = ctx;
    double t0 = vr_now();
    vr_status r;
    if ((r = bf16_op(&op)) || (r = grow(&half, &cap, n, sizeof(uint16_t), "bfloat16 partial sums")))
        return r;
    vr_to_bf16(half, buf, n);
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t k = n - off < CHUNK ? n - off : CHUNK;
        int e = MPI_Allreduce(MPI_IN_PLACE, (uint16_t *)half + off, (int)k, MPI_UINT16_T, op,
                              g_tp);
        if (e != MPI_SUCCESS)
            return mpi_fail(e, "tensor-parallel MPI_Allreduce (bfloat16)");
    }
    memset(buf, 0, n * sizeof *buf);
    vr_bf16_add(buf, half, n);
    if (st) {
        st->allreduce += vr_now() - t0;
        st->bytes_allreduced += (double)n * sizeof(uint16_t);
    }
    return VR_OK;
}

/* Each TP rank's share of `rows` rows of `unit` elements (vr_row_block),
 * as MPI counts and displacements; fails when one does not fit an int. */
static vr_status row_counts(size_t rows, size_t unit, int **counts, int **displs)
{
    static int *c, *d, cap;
    int size = 1, rank = 0;
    MPI_Comm_size(g_tp, &size);
    MPI_Comm_rank(g_tp, &rank);
    if (size > cap) {
        int *nc = realloc(c, (size_t)size * sizeof *c);
        if (nc)
            c = nc;
        int *nd = nc ? realloc(d, (size_t)size * sizeof *d) : NULL;
        if (!nc || !nd)
            return vr_fail(VR_ERR_NOMEM, "cannot allocate the TP group's counts");
        d = nd;
        cap = size;
    }
    if (unit && rows > (size_t)INT_MAX / unit)
        return vr_fail(VR_ERR_COMM, "a tensor-parallel exchange of %zu rows of %zu is too large "
                       "for MPI's int counts; use a smaller --batch", rows, unit);
    for (int i = 0; i < size; i++) {
        size_t lo, hi;
        vr_row_block(rows, size, i, &lo, &hi);
        c[i] = (int)((hi - lo) * unit);
        d[i] = (int)(lo * unit);
    }
    *counts = c;
    *displs = d;
    return VR_OK;
}

/* Ring reduce-scatter of buf (rows, D) over the TP group, in p - 1 steps:
 * at step k rank r sends its running sum of block (r - k - 1) mod p to
 * rank r + 1 and adds the one of block (r - k - 2) mod p from rank r - 1
 * into its own, so after the last step it holds the whole sum of block r
 * (two ranks: one exchange of half the rows). Each block's additions come
 * in a fixed order, so results do not vary from run to run. With `half`,
 * the running sums travel as bfloat16 (--wire bf16) and are added in
 * float32. Block r is then moved to buf's start. */
static vr_status ring_reduce_scatter(float *buf, size_t rows, size_t D, vr_comm_stats *st,
                                     int half)
{
    static void *send, *recv;
    static size_t cap_s, cap_r;
    int p = 1, r = 0, *counts, *displs;
    vr_status e;
    double t0 = vr_now();
    MPI_Comm_size(g_tp, &p);
    MPI_Comm_rank(g_tp, &r);
    if ((e = row_counts(rows, D, &counts, &displs)))
        return e;
    size_t most = ((size_t)rows / (size_t)p + 1) * D, unit = half ? 2 : 4;
    if ((e = grow(&send, &cap_s, most, sizeof(float), "reduce-scatter buffers")) ||
        (e = grow(&recv, &cap_r, most, sizeof(float), "reduce-scatter buffers")))
        return e;
    for (int k = 0; k < p - 1; k++) {
        int out = ((r - k - 1) % p + p) % p, in = ((r - k - 2) % p + p) % p;
        float *src = buf + displs[out], *dst = buf + displs[in];
        const void *from = src;
        if (half) {
            vr_to_bf16(send, src, (size_t)counts[out]);
            from = send;
        }
        int err = MPI_Sendrecv(from, counts[out] * (int)unit, MPI_BYTE, (r + 1) % p, 0, recv,
                               counts[in] * (int)unit, MPI_BYTE, (r - 1 + p) % p, 0, g_tp,
                               MPI_STATUS_IGNORE);
        if (err != MPI_SUCCESS)
            return mpi_fail(err, "tensor-parallel reduce-scatter (MPI_Sendrecv)");
        if (half)
            vr_bf16_add(dst, recv, (size_t)counts[in]);
        else
            vr_add(dst, recv, (size_t)counts[in]);
    }
    if (displs[r])
        memmove(buf, buf + displs[r], (size_t)counts[r] * sizeof *buf);
    if (st) {
        st->allreduce += vr_now() - t0;
        st->bytes_allreduced += (double)rows * D * unit;
    }
    return VR_OK;
}

vr_status vr_comm_tp_reduce_scatter(float *buf, size_t rows, size_t D, void *ctx)
{
    return ring_reduce_scatter(buf, rows, D, ctx, 0);
}

vr_status vr_comm_tp_reduce_scatter_bf16(float *buf, size_t rows, size_t D, void *ctx)
{
    return ring_reduce_scatter(buf, rows, D, ctx, 1);
}

vr_status vr_comm_tp_allgather_rows(void *buf, size_t rows, size_t row_bytes, void *ctx)
{
    vr_comm_stats *st = ctx;
    int *counts, *displs;
    vr_status r;
    double t0 = vr_now();
    if ((r = row_counts(rows, row_bytes, &counts, &displs)))
        return r;
    int e = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, MPI_BYTE,
                           g_tp);
    if (e != MPI_SUCCESS)
        return mpi_fail(e, "tensor-parallel MPI_Allgatherv");
    if (st) {
        st->allreduce += vr_now() - t0;
        st->bytes_allreduced += (double)rows * row_bytes;
    }
    return VR_OK;
}

vr_status vr_comm_tp_allgather_tables(void *const bufs[], const size_t row_bytes[], int n,
                                       size_t rows, void *ctx)
{
    static void *stage;
    static size_t cap;
    size_t unit = 0, lo, hi;
    int p = 1, r = 0;
    vr_status st;
    for (int i = 0; i < n; i++)
        unit += row_bytes[i];
    if (n == 1)
        return vr_comm_tp_allgather_rows(bufs[0], rows, unit, ctx);
    size_t bytes;
    if (!vr_mul(rows, unit, &bytes))
        return vr_fail(VR_ERR_COMM, "allgather of %zu rows of %zu bytes is too large", rows, unit);
    if ((st = grow(&stage, &cap, bytes ? bytes : 1, 1, "allgather staging")))
        return st; /* (cap in bytes: the tables' widths may differ from call to call) */
    MPI_Comm_size(g_tp, &p);
    MPI_Comm_rank(g_tp, &r);
    /* block b of the staging area: its rows of table 0, then of table 1, ... */
    for (int pass = 0; pass < 2; pass++) {
        for (int b = 0; b < p; b++) {
            if ((pass == 0) != (b == r))
                continue;
            vr_row_block(rows, p, b, &lo, &hi);
            char *at = (char *)stage + lo * unit;
            for (int i = 0; i < n; i++) {
                char *t = (char *)bufs[i] + lo * row_bytes[i];
                size_t part = (hi - lo) * row_bytes[i];
                if (pass == 0)
                    memcpy(at, t, part);
                else
                    memcpy(t, at, part);
                at += part;
            }
        }
        if (pass == 0 && (st = vr_comm_tp_allgather_rows(stage, rows, unit, ctx)))
            return st;
    }
    return VR_OK;
}

vr_status vr_comm_tp_allgather_f32(float *buf, size_t rows, size_t D, void *ctx)
{
    if (D > (size_t)INT_MAX / sizeof *buf)
        return vr_fail(VR_ERR_COMM, "allgather of rows of %zu floats is too large", D);
    return vr_comm_tp_allgather_rows(buf, rows, D * sizeof *buf, ctx);
}

vr_status vr_comm_tp_allgather_bf16(float *buf, size_t rows, size_t D, void *ctx)
{
    static void *half;
    static size_t cap;
    size_t n, lo, hi;
    int p = 1, r = 0;
    vr_status st;
    if (!vr_mul(rows, D, &n))
        return vr_fail(VR_ERR_COMM, "allgather of %zu rows of %zu is too large", rows, D);
    if ((st = grow(&half, &cap, n, sizeof(uint16_t), "bfloat16 rows")))
        return st;
    MPI_Comm_size(g_tp, &p);
    MPI_Comm_rank(g_tp, &r);
    vr_row_block(rows, p, r, &lo, &hi);
    vr_to_bf16((uint16_t *)half + lo * D, buf + lo * D, (hi - lo) * D);
    if ((st = vr_comm_tp_allgather_rows(half, rows, D * sizeof(uint16_t), ctx)))
        return st;
    /* every rank's rows from the same bfloat16, its own included */
    memset(buf, 0, n * sizeof *buf);
    vr_bf16_add(buf, half, n);
    return VR_OK;
}

vr_status vr_comm_tp_allreduce_max(float *buf, size_t n, void *ctx)
{
    return tp_allreduce(buf, n, ctx, MPI_MAX, "tensor-parallel MPI_Allreduce (max)");
}

vr_status vr_comm_tp_allgather(float *buf, size_t n, vr_comm_stats *st)
{
    if (n > (size_t)INT_MAX / sizeof(float))
        return vr_fail(VR_ERR_COMM, "allgather of %zu floats is too large", n);
    return vr_comm_tp_allgather_bytes(buf, n * sizeof(float), st);
}

vr_status vr_comm_tp_bcast(void *buf, size_t bytes)
{
    if (bytes > (size_t)INT_MAX)
        return vr_fail(VR_ERR_COMM, "broadcast of %zu bytes is too large", bytes);
    int e = MPI_Bcast(buf, (int)bytes, MPI_BYTE, 0, g_tp);
    return e == MPI_SUCCESS ? VR_OK : mpi_fail(e, "tensor-parallel MPI_Bcast");
}

static vr_status take_slot(vr_request *req)
{
    for (int i = 0; i < POOL; i++)
        if (!g_pool_used[i]) {
            g_pool_used[i] = 1;
            *req = i;
            return VR_OK;
        }
    return vr_fail(VR_ERR_INTERNAL, "more than %d transfers in flight", POOL);
}

vr_status vr_comm_isend(const void *buf, size_t bytes, int dest, int tag, vr_request *req,
                        vr_comm_stats *st)
{
    if (bytes > (size_t)INT_MAX)
        return vr_fail(VR_ERR_COMM, "message of %zu bytes is too large", bytes);
    vr_status s = take_slot(req);
    if (s)
        return s;
    int e = MPI_Isend(buf, (int)bytes, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &g_pool[*req]);
    if (e != MPI_SUCCESS)
        return mpi_fail(e, "MPI_Isend");
    if (st)
        st->bytes_sent += (double)bytes;
    return VR_OK;
}

vr_status vr_comm_irecv(void *buf, size_t bytes, int src, int tag, vr_request *req)
{
    if (bytes > (size_t)INT_MAX)
        return vr_fail(VR_ERR_COMM, "message of %zu bytes is too large", bytes);
    vr_status s = take_slot(req);
    if (s)
        return s;
    int e = MPI_Irecv(buf, (int)bytes, MPI_BYTE, src, tag, MPI_COMM_WORLD, &g_pool[*req]);
    return e == MPI_SUCCESS ? VR_OK : mpi_fail(e, "MPI_Irecv");
}

int vr_comm_wait_setup(int threads)
{
    MPI_Comm node;
    int here = 1;
    cpu_set_t mine, all;
    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof mine, &mine) != 0)
        for (long c = 0, n = sysconf(_SC_NPROCESSORS_ONLN); c < n && c < CPU_SETSIZE; c++)
            CPU_SET((int)c, &mine);
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, vr_comm_rank(), MPI_INFO_NULL,
                        &node);
    MPI_Comm_size(node, &here);
    MPI_Allreduce(&mine, &all, (int)sizeof all, MPI_BYTE, MPI_BOR, node);
    MPI_Comm_free(&node);
    const char *force = getenv("VITRUN_WAIT");
    int cpus = CPU_COUNT(&all);
    g_nap = (long)here * (threads > 0 ? threads : 1) > (cpus > 0 ? cpus : 1);
    if (force && !strcmp(force, "spin"))
        g_nap = 0;
    else if (force && !strcmp(force, "nap"))
        g_nap = 1;
    return g_nap;
}

int vr_comm_naps(void) { return g_nap; }

/* MPI_Wait that sleeps: polls for 50 us, then between tests sleeps 20 us,
 * doubling up to 0.5 ms (a stage's period is tens to hundreds of ms). */
static int wait_napping(MPI_Request *r)
{
    int done = 0, e;
    long nap = 20000;
    double t0 = vr_now();
    while ((e = MPI_Test(r, &done, MPI_STATUS_IGNORE)) == MPI_SUCCESS && !done) {
        if (vr_now() - t0 < 50e-6)
            continue;
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
        nap = nap < 250000 ? 2 * nap : 500000;
    }
    return e;
}

vr_status vr_comm_wait(vr_request *req, double *waited)
{
    if (*req < 0)
        return VR_OK;
    double t0 = vr_now();
    int e = g_nap ? wait_napping(&g_pool[*req]) : MPI_Wait(&g_pool[*req], MPI_STATUS_IGNORE);
    if (waited)
        *waited += vr_now() - t0;
    g_pool_used[*req] = 0;
    *req = -1;
    return e == MPI_SUCCESS ? VR_OK : mpi_fail(e, "MPI_Wait");
}

int vr_comm_test(vr_request *req)
{
    if (*req < 0)
        return 1;
    int done = 0;
    MPI_Test(&g_pool[*req], &done, MPI_STATUS_IGNORE);
    if (done) {
        g_pool_used[*req] = 0;
        *req = -1;
    }
    return done;
}

vr_status vr_comm_bcast(void *buf, size_t bytes, int root)
{
    if (bytes > (size_t)INT_MAX)
        return vr_fail(VR_ERR_COMM, "broadcast of %zu bytes is too large", bytes);
    int e = MPI_Bcast(buf, (int)bytes, MPI_BYTE, root, MPI_COMM_WORLD);
    return e == MPI_SUCCESS ? VR_OK : mpi_fail(e, "MPI_Bcast");
}

vr_status vr_comm_gather(const void *mine, size_t bytes, void *out)
{
    int e = MPI_Gather(mine, (int)bytes, MPI_BYTE, out, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
    return e == MPI_SUCCESS ? VR_OK : mpi_fail(e, "MPI_Gather");
}

#define TAG_NOTE 31 /* apart from the pipeline's tags (runtime/transport.c) */

vr_status vr_comm_note_send(const void *buf, size_t bytes, int dest)
{
    int e = MPI_Send(buf, (int)bytes, MPI_BYTE, dest, TAG_NOTE, MPI_COMM_WORLD);
    return e == MPI_SUCCESS ? VR_OK : mpi_fail(e, "MPI_Send of a note");
}

int vr_comm_note_poll(void *buf, size_t bytes)
{
    int flag = 0;
    MPI_Status st;
    if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_NOTE, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS || !flag)
        return 0;
    return MPI_Recv(buf, (int)bytes, MPI_BYTE, st.MPI_SOURCE, TAG_NOTE, MPI_COMM_WORLD,
                    MPI_STATUS_IGNORE) == MPI_SUCCESS;
}

int vr_comm_tag_ub(void)
{
    int *v = NULL, flag = 0;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &v, &flag);
    return flag && v ? *v : 32767;
}

vr_status vr_comm_tp_allgather_bytes(void *buf, size_t bytes, vr_comm_stats *st)
{
    if (bytes > (size_t)INT_MAX)
        return vr_fail(VR_ERR_COMM, "allgather of %zu bytes is too large", bytes);
    double t0 = vr_now();
    int e = MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, (int)bytes, MPI_BYTE, g_tp);
    if (e != MPI_SUCCESS)
        return mpi_fail(e, "tensor-parallel MPI_Allgather");
    if (st)
        st->allreduce += vr_now() - t0;
    return VR_OK;
}

void vr_comm_node_shape(int *nodes, int *ranks_per_node)
{
    MPI_Comm node;
    int me = vr_comm_rank(), here = 1, lead;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, me, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &here);
    MPI_Comm_rank(node, &lead);
    MPI_Comm_free(&node);
    int v[2] = {lead == 0, here}, out[2] = {1, 1};
    MPI_Allreduce(&v[0], &out[0], 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&v[1], &out[1], 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    *nodes = out[0];
    *ranks_per_node = out[1];
}

void vr_comm_quiet_barrier(void)
{
    MPI_Request r;
    int done = 0;
    if (MPI_Ibarrier(MPI_COMM_WORLD, &r) != MPI_SUCCESS)
        return;
    while (MPI_Test(&r, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        usleep(2000);
}

/* Seconds for one round trip of `bytes` between rank 0 and peer, the
 * best of `reps` (both call it). */
static double round_trip(int me, int peer, char *buf, int bytes, int reps)
{
    double best = 1e30;
    for (int i = 0; i < reps; i++) {
        double t0 = MPI_Wtime();
        if (me == 0) {
            MPI_Send(buf, bytes, MPI_BYTE, peer, 7, MPI_COMM_WORLD);
            MPI_Recv(buf, bytes, MPI_BYTE, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(buf, bytes, MPI_BYTE, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(buf, bytes, MPI_BYTE, 0, 7, MPI_COMM_WORLD);
        }
        double t = MPI_Wtime() - t0;
        best = t < best ? t : best;
    }
    return best;
}

/* Seconds for one exchange of `bytes` each way between rank 0 and peer
 * (both sending at once), the best of `reps` (both call it); buf holds
 * 2 x bytes. */
static double exchange(int me, int peer, char *buf, int bytes, int reps)
{
    double best = 1e30;
    int other = me == 0 ? peer : 0;
    for (int i = 0; i < reps; i++) {
        double t0 = MPI_Wtime();
        MPI_Sendrecv(buf, bytes, MPI_BYTE, other, 8, buf + bytes, bytes, MPI_BYTE, other, 8,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        double t = MPI_Wtime() - t0;
        best = t < best ? t : best;
    }
    return best;
}

vr_status vr_comm_link_probe(double shm[3], double net[3])
{
    int me = vr_comm_rank(), n = vr_comm_size(), leader = me, big = 4 << 20;
    double res[6] = {0, 0, 0, 0, 0, 0};
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, me, MPI_INFO_NULL, &node);
    MPI_Allreduce(MPI_IN_PLACE, &leader, 1, MPI_INT, MPI_MIN, node);
    MPI_Comm_free(&node);
    int *leaders = malloc((size_t)n * sizeof *leaders);
    char *buf = malloc(2 * (size_t)big);
    int ok = leaders && buf, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all) {
        free(leaders);
        free(buf);
        return vr_fail(VR_ERR_NOMEM, "cannot allocate the link probe's buffers");
    }
    memset(buf, 1, 2 * (size_t)big);
    MPI_Allgather(&leader, 1, MPI_INT, leaders, 1, MPI_INT, MPI_COMM_WORLD);
    int peers[2] = {-1, -1}; /* same node as rank 0, another node */
    for (int r = 1; r < n; r++) {
        int k = leaders[r] == leaders[0] ? 0 : 1;
        if (peers[k] < 0)
            peers[k] = r;
    }
    for (int k = 0; k < 2; k++) {
        int peer = peers[k];
        if (peer < 0 || (me != 0 && me != peer))
            continue;
        double small = round_trip(me, peer, buf, 8, 200) / 2;
        double large = round_trip(me, peer, buf, big, 20) / 2;
        /* 1 MiB each way: a ring step's size (ViT-B/16 at batch 8 on tp 2 moves
         * 2.4 MB a step, tp 4 1.2 MB); over TCP the rate each way while both
         * send falls with the size, as queues grow ahead of the acks */
        int mid = 1 << 20;
        double both = exchange(me, peer, buf, mid, 20);
        res[3 * k] = small;
        res[3 * k + 1] = large > small ? big / (large - small) : big / large;
        res[3 * k + 2] = both > small ? mid / (both - small) : mid / both;
    }
    MPI_Bcast(res, 6, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    free(leaders);
    free(buf);
    for (int i = 0; i < 3; i++)
        shm[i] = res[i], net[i] = res[3 + i];
    return VR_OK;
}

int vr_comm_node_peer(void)
{
    int me = vr_comm_rank(), peer = -1, nodes = 0;
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, me, MPI_INFO_NULL, &node);
    int mine = me == 0, zero_here = 0, cand = me == 0 ? -1 : me;
    MPI_Allreduce(&mine, &zero_here, 1, MPI_INT, MPI_MAX, node);
    MPI_Comm_free(&node);
    int offer = zero_here && cand >= 0 ? cand : 1 << 30;
    MPI_Allreduce(&offer, &nodes, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    peer = nodes == 1 << 30 ? -1 : nodes;
    return peer;
}

vr_status vr_comm_swap(const void *out, void *in, size_t bytes, int peer)
{
    if (bytes > INT_MAX)
        return vr_fail(VR_ERR_USAGE, "a swap of %zu bytes is more than one MPI message", bytes);
    int e = MPI_Sendrecv(out, (int)bytes, MPI_BYTE, peer, 77, in, (int)bytes, MPI_BYTE, peer, 77,
                         MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return e == MPI_SUCCESS ? VR_OK : mpi_fail(e, "MPI_Sendrecv");
}

vr_status vr_comm_cancel(vr_request *req)
{
    if (*req < 0)
        return VR_OK;
    MPI_Cancel(&g_pool[*req]);
    int e = MPI_Wait(&g_pool[*req], MPI_STATUS_IGNORE);
    g_pool_used[*req] = 0;
    *req = -1;
    return e == MPI_SUCCESS ? VR_OK : mpi_fail(e, "MPI_Wait after MPI_Cancel");
}

/* Stop votes: one non-blocking MAX-allreduce per step, read `lag` steps later
 * so that no rank waits for a slower one. */
#define VOTE_MAX 64
static MPI_Request g_vote_req[VOTE_MAX];
static int g_vote_in[VOTE_MAX], g_vote_out[VOTE_MAX];
static long g_vote_started, g_vote_done;
static int g_vote_lag;

void vr_comm_vote_init(int lag)
{
    g_vote_lag = lag < 1 ? 1 : lag > VOTE_MAX ? VOTE_MAX : lag;
    g_vote_started = g_vote_done = 0;
}

vr_status vr_comm_vote(int mine, int *decided)
{
    *decided = 0;
    if (g_vote_started - g_vote_done == g_vote_lag) {
        int k = (int)(g_vote_done % g_vote_lag);
        int e = MPI_Wait(&g_vote_req[k], MPI_STATUS_IGNORE);
        if (e != MPI_SUCCESS)
            return mpi_fail(e, "MPI_Wait on a stop vote");
        g_vote_done++;
        *decided = g_vote_out[k];
    }
    int k = (int)(g_vote_started % g_vote_lag);
    g_vote_in[k] = mine;
    int e = MPI_Iallreduce(&g_vote_in[k], &g_vote_out[k], 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD,
                           &g_vote_req[k]);
    if (e != MPI_SUCCESS)
        return mpi_fail(e, "MPI_Iallreduce of a stop vote");
    g_vote_started++;
    return VR_OK;
}

vr_status vr_comm_vote_finish(void)
{
    while (g_vote_done < g_vote_started) {
        int k = (int)(g_vote_done % g_vote_lag);
        int e = MPI_Wait(&g_vote_req[k], MPI_STATUS_IGNORE);
        if (e != MPI_SUCCESS)
            return mpi_fail(e, "MPI_Wait on a stop vote");
        g_vote_done++;
    }
    return VR_OK;
}
