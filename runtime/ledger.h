/* ledger.h - the run's policy over what is done and what is left, in one
 * place: for tar shards, which shard a replica takes next, who else may be
 * working on it, what becomes of a finished (committed, with its manifest
 * line), failed or abandoned one; for a run into one file, how it starts from
 * what it finds (fresh, continuing its journal, or already complete) and what
 * becomes of a directory's listing. The file-system mechanics (claims,
 * commits, the manifest's lock; the journal's records) are io/claims.h and
 * io/journal.h; the choices are made here.
 *
 * Three ways to share the shards (docs/DESIGN.md, "Shard queue"):
 * - no output folder (--no-output): shard i is replica i mod dp's; nothing
 *   is recorded, so nothing can be shared or resumed;
 * - an output folder this job owns (the default): replicas claim shards
 *   from a common queue in the folder as they finish one, so a fast
 *   replica does more; claims left by an earlier run are dead and cleared;
 * - --claim: the folder is shared with other jobs, live or future; a claim
 *   is respected while renewed within --lease seconds and taken over after.
 * In both folder modes a replica with nothing left to claim works on a
 * shard still in flight elsewhere when it would finish it sooner than its
 * holder (a straggler or a stopped node); the first to commit wins and the
 * other's rows are dropped. A claim is renewed by a thread every
 * min(lease/4, 5 s) while its shard is read.
 */
#ifndef VR_LEDGER_H
#define VR_LEDGER_H

#include <pthread.h>
#include <stddef.h>

#include "../io/claims.h"
#include "status.h"

/* Claims a reader holds at once: its shard, the ones still in its
 * pipeline, and the prefetched one. */
#define VR_LEDGER_HELD 32

typedef const char *(*vr_stem_fn)(void *ctx, size_t i);

typedef struct {
    size_t shard;
    vr_claim claim;
    long long rows;          /* rows read so far, for the claim file */
    int used;
} vr_ledger_held;

typedef struct {
    size_t n;                /* shards of the run */
    vr_stem_fn stem;         /* shard i's name in the output folder */
    void *stem_ctx;
    const vr_outdir *dir;    /* NULL: no output folder (static split) */
    int shared;              /* --claim: other jobs use the folder too */
    double lease;            /* --lease: claims are renewed every min(lease/4, 5 s) */
    double expire;           /* seconds a claim lives without renewal (shared folders) */
    int replica, dp;
    char job[128];           /* this job's identity */
    char who[256];           /* JOB/rREPLICA@HOST:PID, in claim files and the manifest */
    size_t start, looked;    /* this replica's first shard; shards looked at in the first pass */
    int tail;                /* the first pass is over: only stale and in-flight shards left */
    double last_full_scan;
    size_t *inflight;        /* (n) shards held elsewhere at the last full scan */
    unsigned char *given_up; /* (n) shards this replica could not read */
    size_t n_inflight;
    /* this reader's own pace, for deciding whether to help a straggler */
    double my_rows, my_seconds, shards_read, rows_read;
    /* claims held, renewed by the thread */
    vr_ledger_held held[VR_LEDGER_HELD];
    void (*idle)(void *ctx); /* called while the ledger waits: the caller's MPI progress */
    void *idle_ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int have_thread, stopping;
} vr_ledger;

/* dir NULL: the static split. job: this job's identity (the same string on
 * all its ranks). */
vr_status vr_ledger_open(vr_ledger *l, size_t n, vr_stem_fn stem, void *stem_ctx,
                         const vr_outdir *dir, int shared, double lease, const char *job,
                         int replica, int dp);
void vr_ledger_close(vr_ledger *l);

/* The next shard for this replica: 1 and *shard (*helping = 1 when another
 * replica or job holds it too); 0 when no shard is left to do (or a stop
 * was requested while waiting); -1 on a file-system error (vr_last_error()).
 * When nothing can be taken yet but shards are still in flight (anyone's:
 * they may lapse, or stall and be worth helping), it waits, polling every
 * second, if can_wait, else returns 2 at once: a reader with micro-batches
 * still in its own pipeline must let them be committed first, or two jobs
 * could each wait for the other's shard. */
int vr_ledger_next(vr_ledger *l, size_t *shard, int *helping, int can_wait);

/* Sleeps `seconds` in short naps, calling l->idle between them. */
void vr_ledger_idle(const vr_ledger *l, double seconds);

/* The reader has read `rows` rows of `shard` (its claim says so at the next
 * renewal). */
void vr_ledger_rows(vr_ledger *l, size_t shard, long long rows);

/* The reader is done with `shard`: it reached its end (its claim is
 * renewed until the writer commits; `seconds` of reading it count towards
 * this reader's pace), or gives it up (`give_up`: a stop, or it was
 * finished elsewhere) and the claim goes. */
void vr_ledger_read(vr_ledger *l, size_t shard, long long rows, double seconds, int give_up);

/* `shard` could not be read (why): a manifest line says so, its claim goes
 * (another job may try it), and this job does not take it again. */
void vr_ledger_failed(vr_ledger *l, size_t shard, const char *why);

/* A manifest field quoted as CSV needs it (commas, quotes, newlines). */
void vr_csv_field(char *out, size_t cap, const char *s);

/* One line of the folder's manifest.csv for shard `stem`: status "ok",
 * "broken" (detail: where the tar broke) or "unreadable" (detail: why),
 * its rows and failed rows, the seconds it took, who (replica, job; this
 * host) and its files. */
vr_status vr_ledger_record(const vr_outdir *d, const char *stem, const char *status,
                           size_t rows, size_t failed, double seconds, int replica,
                           const char *job, const char *files, const char *detail);

/* A writer's shard is complete in its temporary files: committed if no one
 * committed it first (1; then its manifest line is written and every claim
 * of the shard goes), else dropped (0); -1 on a file-system error. */
int vr_ledger_commit(const vr_outdir *d, const char *stem, const char *table_tmp,
                     const char *npy_tmp, size_t rows, size_t failed, double seconds,
                     int replica, const char *job, const char *detail);

/* 1 when `shard` has been committed (by anyone). */
int vr_ledger_done(const vr_ledger *l, size_t shard);

/* --- a run that writes one file (a directory, list, HDF5 or synthetic
 * input): what --resume continues, and the directory's listing ---------- */

typedef enum {
    VR_RUN_FRESH,    /* a new OUT.part and OUT.journal */
    VR_RUN_CONTINUE, /* OUT.journal is an interrupted run's: replay it and go on */
    VR_RUN_COMPLETE  /* OUT is this run's finished output: nothing to do */
} vr_run_start;

/* What a run finds at `output` decides how it starts: OUT.journal without
 * --resume is refused (it holds an interrupted run's rows); with --resume a
 * journal is continued, and a finished OUT without one is complete when it
 * records this run's fingerprint (lines starting with one of `unknown` are
 * not compared: what a finished run cannot know again), else refused. */
vr_status vr_ledger_start(const char *output, int resume, const char *fingerprint,
                          const char *const *unknown, vr_run_start *how);

/* A directory input's listing is OUT.inputs (written once, read by every
 * reading rank; with --no-output a temporary file). *reuse = 1: the
 * interrupted run's listing, to be read as it is (the same rows, whatever
 * was added to the folder since); *finished = 1: OUT is complete, nothing to
 * walk. Refuses OUT.journal without --resume, as vr_ledger_start. */
vr_status vr_ledger_listing(const char *output, int resume, char *listing, size_t cap,
                            int *reuse, int *finished);

/* The run ends (complete, or not): the listing goes unless a journal is
 * left that needs it. */
void vr_ledger_listing_end(const char *output, const char *listing, int complete);

#endif
