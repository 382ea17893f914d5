/* ledger.c - the shard queue's policy (ledger.h). */
#include "ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../io/journal.h"
#include "../io/output.h"
#include "signals.h"
#include "timer.h"

/* Seconds between looks at the claims in flight while nothing can be taken. */
#define IDLE_POLL 1.0

void vr_ledger_idle(const vr_ledger *l, double seconds)
{
    /* in short naps, the idle hook between them: the rank's sends in
     * flight (a large message moves only while its sender is inside MPI)
     * must reach the next stage, whose writer commits what they carry */
    for (double t = 0; t < seconds; t += 0.02) {
        if (l->idle)
            l->idle(l->idle_ctx);
        struct timespec ts = {0, 20000000L};
        nanosleep(&ts, NULL);
    }
}
/* Helping a straggler pays when this replica would finish the shard in
 * this share of the time its holder still needs. */
#define HELP_MARGIN 0.8

static double renew_every(const vr_ledger *l)
{
    double s = l->lease / 4;
    return s > 5 ? 5 : s < 0.2 ? 0.2 : s;
}

static void *renewer(void *arg)
{
    vr_ledger *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double when = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec + renew_every(l);
        ts.tv_sec = (time_t)when;
        ts.tv_nsec = (long)((when - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&l->wake, &l->mu, &ts);
        if (l->stopping)
            break;
        for (int i = 0; i < VR_LEDGER_HELD; i++) {
            vr_ledger_held *h = &l->held[i];
            if (!h->used)
                continue;
            /* gone: committed (by the writer, or by whoever finished first) */
            if (vr_claim_renew(&h->claim, l->who, h->rows))
                h->used = 0;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

vr_status vr_ledger_open(vr_ledger *l, size_t n, vr_stem_fn stem, void *stem_ctx,
                         const vr_outdir *dir, int shared, double lease, const char *job,
                         int replica, int dp)
{
    memset(l, 0, sizeof *l);
    l->n = n;
    l->stem = stem;
    l->stem_ctx = stem_ctx;
    l->dir = dir;
    l->shared = shared;
    l->lease = lease;
    /* a folder this job owns: its claims never lapse (the job's own
     * replicas hold them); --lease then sets only how often they are
     * renewed, which is how fresh the progress in them is */
    l->expire = shared ? lease : 1e30;
    l->replica = replica;
    l->dp = dp;
    char host[128] = "?";
    gethostname(host, sizeof host - 1);
    snprintf(l->job, sizeof l->job, "%s", job);
    snprintf(l->who, sizeof l->who, "%s/r%d@%s:%ld", job, replica, host, (long)getpid());
    /* replicas start far apart, so that their claims rarely collide; a
     * job sharing the folder starts where its name hashes to */
    size_t base = 0;
    if (shared)
        for (const char *p = job; *p; p++)
            base = base * 131 + (unsigned char)*p;
    l->start = n ? (base + (size_t)replica * (n / (size_t)dp)) % n : 0;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->wake, NULL);
    if (!dir)
        return VR_OK;
    if (!(l->inflight = vr_alloc(n ? n : 1, sizeof *l->inflight, "shard queue")) ||
        !(l->given_up = calloc(n ? n : 1, 1)))
        return vr_fail(VR_ERR_NOMEM, "out of memory for a queue of %zu shards", n);
    if (pthread_create(&l->thread, NULL, renewer, l) != 0)
        return vr_fail(VR_ERR_INTERNAL, "cannot start the claim-renewing thread");
    l->have_thread = 1;
    return VR_OK;
}

void vr_ledger_close(vr_ledger *l)
{
    if (l->have_thread) {
        pthread_mutex_lock(&l->mu);
        l->stopping = 1;
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
        l->have_thread = 0;
    }
    /* claims still held belong to shards this job will not finish */
    for (int i = 0; l->dir && i < VR_LEDGER_HELD; i++)
        if (l->held[i].used && !vr_ledger_done(l, l->held[i].shard))
            vr_claim_release(l->dir, l->stem(l->stem_ctx, l->held[i].shard),
                             &l->held[i].claim, 0);
    free(l->inflight);
    free(l->given_up);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->wake);
    memset(l, 0, sizeof *l);
}

static void hold(vr_ledger *l, size_t shard, const vr_claim *c)
{
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < VR_LEDGER_HELD; i++)
        if (!l->held[i].used) {
            l->held[i] = (vr_ledger_held){shard, *c, 0, 1};
            break;
        }
    /* more claims than slots cannot happen (a reader holds its shard and
     * those in its pipeline); one not renewed would only risk a helper */
    pthread_mutex_unlock(&l->mu);
}

static vr_ledger_held *find(vr_ledger *l, size_t shard)
{
    for (int i = 0; i < VR_LEDGER_HELD; i++)
        if (l->held[i].used && l->held[i].shard == shard)
            return &l->held[i];
    return NULL;
}

int vr_ledger_done(const vr_ledger *l, size_t shard)
{
    return l->dir && vr_outdir_done(l->dir, l->stem(l->stem_ctx, shard));
}

void vr_ledger_rows(vr_ledger *l, size_t shard, long long rows)
{
    pthread_mutex_lock(&l->mu);
    vr_ledger_held *h = find(l, shard);
    if (h)
        h->rows = rows;
    pthread_mutex_unlock(&l->mu);
}

void vr_ledger_read(vr_ledger *l, size_t shard, long long rows, double seconds, int give_up)
{
    pthread_mutex_lock(&l->mu);
    vr_ledger_held *h = find(l, shard);
    if (h && give_up) {
        vr_claim_release(l->dir, l->stem(l->stem_ctx, shard), &h->claim, 0);
        h->used = 0;
    } else if (h) {
        h->rows = rows;
    }
    if (!give_up) {
        l->shards_read += 1;
        l->rows_read += (double)rows;
        l->my_rows += (double)rows;
        l->my_seconds += seconds;
    }
    pthread_mutex_unlock(&l->mu);
}

void vr_ledger_failed(vr_ledger *l, size_t shard, const char *why)
{
    if (!l->dir)
        return;
    /* marked for this job before the claim goes, so that none of its
     * replicas tries the shard again (a later run, or another job sharing
     * the folder, does) */
    vr_outdir_mark_failed(l->dir, l->stem(l->stem_ctx, shard), l->job);
    vr_ledger_read(l, shard, 0, 0, 1);
    l->given_up[shard] = 1;
    if (vr_ledger_record(l->dir, l->stem(l->stem_ctx, shard), "unreadable", 0, 0, 0,
                         l->replica, l->job, "", why) != VR_OK)
        fprintf(stderr, "vitrun: %s\n", vr_last_error());
}

void vr_csv_field(char *out, size_t cap, const char *s)
{
    size_t j = 0;
    int quote = strpbrk(s, ",\"\n\r") != NULL;
    if (quote && j + 1 < cap)
        out[j++] = '"';
    for (; *s && j + 3 < cap; s++) {
        if (*s == '"')
            out[j++] = '"';
        out[j++] = *s;
    }
    if (quote && j + 1 < cap)
        out[j++] = '"';
    out[j] = '\0';
}

vr_status vr_ledger_record(const vr_outdir *d, const char *stem, const char *status,
                           size_t rows, size_t failed, double seconds, int replica,
                           const char *job, const char *files, const char *detail)
{
    char line[10000], qstem[2100], qfiles[4500], qdet[2100], when[32], host[128] = "?";
    gethostname(host, sizeof host - 1);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    vr_csv_field(qstem, sizeof qstem, stem);
    vr_csv_field(qfiles, sizeof qfiles, files);
    vr_csv_field(qdet, sizeof qdet, detail ? detail : "");
    snprintf(line, sizeof line, "%s,%s,%zu,%zu,%.3f,%d,%s,%s,%s,%s,%s\n", qstem, status, rows,
             failed, seconds, replica, host, job, qfiles, when, qdet);
    return vr_manifest_append(d, line);
}

int vr_ledger_commit(const vr_outdir *d, const char *stem, const char *table_tmp,
                     const char *npy_tmp, size_t rows, size_t failed, double seconds,
                     int replica, const char *job, const char *detail)
{
    /* the first of two replicas or jobs finishing one shard wins */
    int r = vr_outdir_commit(d, stem, table_tmp, npy_tmp);
    if (r <= 0)
        return r;
    char files[2200];
    snprintf(files, sizeof files, "%s.%s%s%s%s", stem, d->ext, npy_tmp ? ";" : "",
             npy_tmp ? stem : "", npy_tmp ? ".npy" : "");
    vr_status st = vr_ledger_record(d, stem, detail && *detail ? "broken" : "ok", rows, failed,
                                    seconds, replica, job, files, detail);
    /* the shard is finished: its claims go */
    vr_claim_release(d, stem, NULL, 1);
    return st ? -1 : 1;
}

/* A claim just taken: held (renewed); when it was taken over from a holder
 * whose lease lapsed, that holder's writer is dead too, and what it left
 * half-written goes. */
static void taken_over(vr_ledger *l, size_t i, const vr_claim *c, const vr_claim_info *was)
{
    if (was->who[0])
        vr_outdir_drop_tmp(l->dir, l->stem(l->stem_ctx, i), was->who);
    hold(l, i, c);
}

/* Tries to take shard i: 1 taken, 0 not (done, or held: then *held_by is
 * filled and *is_held set), -1 error. */
static int try_take(vr_ledger *l, size_t i, double now_fs, vr_claim_info *held_by, int *is_held)
{
    vr_claim c;
    *is_held = 0;
    if (l->given_up[i] || vr_outdir_failed_by(l->dir, l->stem(l->stem_ctx, i), l->job))
        return 0;
    /* a folder this job owns: any claim not renewed since the job began is
     * a dead run's; a shared folder: the lease decides */
    vr_claim_result r = vr_claim_try(l->dir, l->stem(l->stem_ctx, i), l->who,
                                     l->expire, now_fs, now_fs, &c, held_by);
    if (r == VR_CLAIM_FAILED)
        return -1;
    if (r == VR_CLAIM_HELD)
        *is_held = 1;
    if (r != VR_CLAIM_TAKEN)
        return 0;
    taken_over(l, i, &c, held_by);
    return 1;
}

/* Seconds the holder of a claim still needs, judged from the rows its
 * claim says it read (renewed every few seconds) against this replica's own
 * shards: their average rows, and its seconds per shard when the holder's
 * count says nothing yet. A holder that stopped renewing, or at twice that
 * time with no rows, is stalled (a stopped or swapping node). */
static double holder_left(const vr_ledger *l, const vr_claim_info *ci, double now_fs)
{
    double avg_rows = l->rows_read / l->shards_read, my_time = l->my_seconds / l->shards_read;
    double elapsed = now_fs - ci->started;
    if (elapsed <= 0)
        return 0;
    /* not renewed for three rounds: its holder is stopped or gone (a claim
     * that can lapse would be taken over instead of helped) */
    if (now_fs - ci->renewed > 3 * renew_every(l))
        return 1e30;
    /* (its rows are known from its renewals only: give it three) */
    if (ci->rows <= 0)
        return elapsed > 2 * my_time && elapsed > 3 * renew_every(l) ? 1e30 : my_time - elapsed;
    double rate = (double)ci->rows / elapsed, left = avg_rows - (double)ci->rows;
    return left > 0 ? left / rate : 0;
}

/* The shard in flight elsewhere whose holder needs the longest, when this
 * replica would finish it sooner (HELP_MARGIN); registered as its helper:
 * 1. A shard whose claim lapsed meanwhile is simply taken: 2. 0: none. */
static int pick_help(vr_ledger *l, double now_fs, size_t *shard)
{
    double best = 0;
    size_t pick = l->n;
    vr_claim_info ci, best_ci = {0};
    /* without a pace of its own (no shard read yet) only a holder that
     * stopped renewing is worth helping */
    int paced = l->shards_read > 0 && l->my_seconds > 0;
    double mine = paced ? l->my_seconds / l->shards_read : 0;
    for (size_t k = 0; k < l->n_inflight; k++) {
        size_t i = l->inflight[k];
        vr_claim c;
        vr_claim_result r = vr_claim_try(l->dir, l->stem(l->stem_ctx, i), l->who, l->expire,
                                         now_fs, now_fs, &c, &ci);
        if (r == VR_CLAIM_TAKEN) { /* its lease ran out meanwhile */
            taken_over(l, i, &c, &ci);
            *shard = i;
            return 2;
        }
        /* (rows -1: its holder could not read it) */
        if (r != VR_CLAIM_HELD || ci.helped || ci.rows < 0 || strstr(ci.who, l->who))
            continue;
        double left = paced ? holder_left(l, &ci, now_fs)
                      : now_fs - ci.renewed > 3 * renew_every(l) ? 1e30 : 0;
        if (left > best && mine < HELP_MARGIN * left) {
            best = left;
            pick = i;
            best_ci = ci;
        }
    }
    if (pick == l->n || !vr_claim_help(l->dir, l->stem(l->stem_ctx, pick), &best_ci, l->who))
        return 0;
    *shard = pick;
    return 1;
}

int vr_ledger_next(vr_ledger *l, size_t *shard, int *helping, int can_wait)
{
    *helping = 0;
    if (!l->dir) { /* static: replica r takes r, r + dp, ... */
        size_t i = (size_t)l->replica + (size_t)l->looked * (size_t)l->dp;
        if (i >= l->n)
            return 0;
        l->looked++;
        *shard = i;
        return 1;
    }
    double now_fs = vr_outdir_clock(l->dir, l->who);
    if (now_fs < 0)
        return -1;
    vr_claim_info ci;
    int held;
    /* first pass: every shard once, from this replica's start */
    while (!l->tail && l->looked < l->n) {
        size_t i = (l->start + l->looked++) % l->n;
        int r = try_take(l, i, now_fs, &ci, &held);
        if (r)
            return r < 0 ? -1 : (*shard = i, 1);
    }
    l->tail = 1;
    /* then: shards whose claim lapsed, or a straggler's to help with, or
     * wait while others' live claims may still lapse */
    for (;;) {
        if (vr_stop_requested())
            return 0;
        double t = vr_now();
        if (l->last_full_scan == 0 || t - l->last_full_scan > l->lease) {
            l->n_inflight = 0;
            for (size_t k = 0; k < l->n; k++) {
                size_t i = (l->start + k) % l->n;
                int r = try_take(l, i, now_fs, &ci, &held);
                if (r)
                    return r < 0 ? -1 : (*shard = i, 1);
                if (held)
                    l->inflight[l->n_inflight++] = i;
            }
            l->last_full_scan = vr_now();
        }
        /* what was in flight: finished, lapsed, or worth helping with */
        size_t keep = 0;
        for (size_t k = 0; k < l->n_inflight; k++)
            if (!vr_ledger_done(l, l->inflight[k]))
                l->inflight[keep++] = l->inflight[k];
        l->n_inflight = keep;
        if (!l->n_inflight)
            return 0;
        int h = pick_help(l, now_fs, shard);
        if (h) {
            *helping = h == 1;
            return 1;
        }
        /* shards still in flight (this job's or others'): wait until they
         * are finished, lapse, or stall long enough to be worth helping */
        if (!can_wait)
            return 2;
        vr_ledger_idle(l, IDLE_POLL);
        if ((now_fs = vr_outdir_clock(l->dir, l->who)) < 0)
            return -1;
    }
}

/* --- one output file --------------------------------------------------- */

static int exists(const char *p) { return access(p, F_OK) == 0; }

static vr_status refuse_journal(const char *journal)
{
    return vr_fail(VR_ERR_USAGE, "%s holds the scores of an interrupted run: add --resume to "
                   "continue it, or delete it to start over", journal);
}

vr_status vr_ledger_start(const char *output, int resume, const char *fingerprint,
                          const char *const *unknown, vr_run_start *how)
{
    char journal[4096 + 16];
    *how = VR_RUN_FRESH;
    if (!output)
        return VR_OK;
    snprintf(journal, sizeof journal, "%s.journal", output);
    int have_journal = exists(journal);
    if (!resume && have_journal)
        return refuse_journal(journal);
    if (resume && have_journal) {
        *how = VR_RUN_CONTINUE;
        return VR_OK;
    }
    if (resume && exists(output)) {
        /* finished before: by this run, or by another (another input, model
         * or options) whose output this one must not pass off as its own */
        char had[8192], diff[1024];
        int r = vr_output_read_run(output, had, sizeof had);
        if (r > 0 && vr_fingerprint_diff(had, fingerprint, "it", unknown, diff, sizeof diff))
            return vr_fail(VR_ERR_USAGE, "--resume: %s is the finished output of another run "
                           "(%s); choose another --output, or delete it to score again",
                           output, diff);
        *how = VR_RUN_COMPLETE;
    }
    return VR_OK;
}

vr_status vr_ledger_listing(const char *output, int resume, char *listing, size_t cap,
                            int *reuse, int *finished)
{
    *reuse = *finished = 0;
    if (!output) {
        /* --no-output: the folder's listing still has to be a file the
         * readers share; it goes when the run ends */
        const char *tmp = getenv("TMPDIR");
        snprintf(listing, cap, "%s/vitrun-%ld-%ld.inputs", tmp && *tmp ? tmp : "/tmp",
                 (long)getpid(), (long)time(NULL));
        return VR_OK;
    }
    char journal[4096 + 16];
    snprintf(journal, sizeof journal, "%s.journal", output);
    /* the interrupted run's listing must survive until it is resumed */
    if (!resume && exists(journal))
        return refuse_journal(journal);
    snprintf(listing, cap, "%s.inputs", output);
    if (resume && !exists(journal) && exists(output)) {
        /* finished before: nothing to walk, and a manifest a crash left
         * between the commit and its removal has served its run */
        remove(listing);
        *finished = 1;
        return VR_OK;
    }
    /* without a journal there is no run to continue: a listing left beside
     * it (its journal deleted to start over) is stale */
    *reuse = resume && exists(journal) && exists(listing);
    return VR_OK;
}

void vr_ledger_listing_end(const char *output, const char *listing, int complete)
{
    char journal[4096 + 16];
    snprintf(journal, sizeof journal, "%s.journal", output ? output : "");
    if (complete || !output || !exists(journal))
        remove(listing);
}
