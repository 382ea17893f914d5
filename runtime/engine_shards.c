/* engine_shards.c - a run over webdataset tar shards: the output folder
 * prepared, each replica's reader taking shards from the ledger (runtime/
 * ledger.h) and its writer committing them (runtime/shardout.h), the
 * replicas ending independently, the job's totals at the end. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_impl.h"
#include "timer.h"

/* --- tar shards ---------------------------------------------------------- */

/* What identifies this job in claims and the manifest: Slurm's job (and
 * array task), else rank 0's host, process and start time. */
static void job_identity(char *out, size_t cap)
{
    const char *job = getenv("SLURM_JOB_ID"), *task = getenv("SLURM_ARRAY_TASK_ID");
    const char *array = getenv("SLURM_ARRAY_JOB_ID");
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    if (array && task)
        snprintf(out, cap, "slurm-%s_%s", array, task);
    else if (job)
        snprintf(out, cap, "slurm-%s", job);
    else
        snprintf(out, cap, "%s-%ld-%ld", host, (long)getpid(), (long)time(NULL));
    for (char *p = out; *p; p++)
        if (*p == '/' || *p == ' ' || *p == ',')
            *p = '_';
}

/* The fingerprint lines that may differ between runs sharing a folder:
 * the shards (a folder grows with its dataset). */
static const char *const k_shard_skip[] = {"input=", "input_kind=", "images=", "listing=",
                                           "input_file=", NULL};

/* in without the lines that start with one of skip (NULL-ended). */
static void without_lines(const char *in, const char *const *skip, char *out, size_t cap)
{
    size_t o = 0;
    while (*in) {
        const char *e = strchr(in, '\n');
        size_t len = e ? (size_t)(e - in) + 1 : strlen(in);
        int drop = 0;
        for (int i = 0; skip[i] && !drop; i++)
            drop = !strncmp(in, skip[i], strlen(skip[i]));
        if (!drop && o + len < cap) {
            memcpy(out + o, in, len);
            o += len;
        }
        in += len;
    }
    out[o] = '\0';
}

/* Rank 0: the output folder made, locked when this job owns it, checked
 * against the run that wrote it before, and cleared of dead claims. */
static vr_status prepare_folder(engine *e)
{
    const vr_options *o = e->o;
    vr_status st = vr_outdir_open(&e->dir, o->output, o->output_csv ? "csv" : "h5",
                                  e->run.embedding != 0, 1);
    if (st)
        return st;
    char owner[VR_OUTDIR_PATH + 32], run[VR_OUTDIR_PATH + 32], fp[8192], had[8192];
    snprintf(owner, sizeof owner, "%s/owner", e->dir.meta);
    if ((st = vr_outlock_acquire_folder(&e->lock, owner, o->claim)))
        return vr_fail(st, "%s: %s", e->dir.dir, vr_last_error());
    engine_fingerprint(e, fp, sizeof fp);
    snprintf(run, sizeof run, "%s/run", e->dir.meta);
    FILE *f = fopen(run, "r");
    if (f) {
        size_t n = fread(had, 1, sizeof had - 1, f);
        had[n] = '\0';
        fclose(f);
        char diff[1024];
        if (!o->resume && !o->claim)
            return vr_fail(VR_ERR_USAGE, "%s holds the outputs of an earlier run (see its "
                           "manifest.csv): add --resume to finish it or to extend it with more "
                           "shards, or choose another folder", e->dir.dir);
        char a[8192], b[8192];
        without_lines(had, k_shard_skip, a, sizeof a);
        without_lines(fp, k_shard_skip, b, sizeof b);
        if (vr_fingerprint_diff(a, b, "the folder's run", NULL, diff, sizeof diff))
            return vr_fail(VR_ERR_USAGE, "%s was written by another run (%s); choose another "
                           "folder", e->dir.dir, diff);
    } else {
        /* first come: link() so that two jobs starting together agree on one */
        char tmp[VR_OUTDIR_PATH + 200];
        snprintf(tmp, sizeof tmp, "%s/run.%s", e->dir.tmp, e->job);
        FILE *w = fopen(tmp, "w");
        if (!w || fputs(fp, w) == EOF || fclose(w) != 0)
            return vr_fail(VR_ERR_OUTPUT, "cannot write %s: %s", tmp, strerror(errno));
        int r = link(tmp, run);
        unlink(tmp);
        if (r != 0 && errno != EEXIST)
            return vr_fail(VR_ERR_OUTPUT, "cannot create %s: %s", run, strerror(errno));
        if (r != 0)
            return prepare_folder(e); /* another job's came first: compare with it */
    }
    /* a folder this job owns: claims and temporary files are a dead run's */
    if (!o->claim)
        vr_outdir_clear(&e->dir);
    return VR_OK;
}

/* Options that make no sense with tar shards, or without them. */
vr_status engine_shard_options(engine *e)
{
    const vr_options *o = e->o;
    if (!e->shards) {
        if (o->labels_from_cls)
            return vr_fail(VR_ERR_USAGE, "--labels-from cls reads KEY.cls of tar samples; %s "
                           "is not tar shards", o->input ? o->input : "--synthetic");
        if (o->claim || o->output_csv || o->image_keys)
            return vr_fail(VR_ERR_USAGE, "%s goes with tar shards as --input (per-shard "
                           "outputs in a folder)", o->claim ? "--claim" : o->output_csv
                           ? "--output-format" : "--image-keys");
        if (o->output && vr_output_is_folder(o->output))
            return vr_fail(VR_ERR_USAGE, "--output %s is a folder: per-shard outputs are for "
                           "tar shards; for %s name a file (scores.h5 or scores.csv)",
                           o->output, o->input ? o->input : "--synthetic");
        return VR_OK;
    }
    if (o->output && !vr_output_is_folder(o->output))
        return vr_fail(VR_ERR_USAGE, "--output %s: tar shards are written one output per shard "
                       "into a folder; name one (e.g. %s/, a trailing / creates it)",
                       o->output, o->output);
    if (o->dump)
        return vr_fail(VR_ERR_USAGE, "--dump-activations goes with a directory, list or HDF5 "
                       "input, not tar shards");
    if (o->truth)
        return vr_fail(VR_ERR_USAGE, "--labels FILE goes with a directory or list input; with "
                       "tar shards use --labels-from cls");
    if (o->claim && !o->output)
        return vr_fail(VR_ERR_USAGE, "--claim shares an output folder between jobs; give "
                       "--output DIR/");
    return VR_OK;
}

/* Each rank's part of a shard run: the shard list (readers and writers),
 * the folder, the ledger (a first stage's TP rank 0), the writer's sink. */
static vr_status open_shards(engine *e)
{
    const vr_options *o = e->o;
    const vr_config *c = &e->model.cfg;
    const vr_grid *g = e->g;
    int lead = e->first && g->tp_rank == 0, writer = e->last && g->tp_rank == 0;
    vr_status st;
    if (!lead && !writer)
        return VR_OK;
    if ((st = vr_shardlist_build(&e->list, o->input)))
        return st;
    e->have_list = 1;
    if (e->list.n != e->info.n || e->list.hash != e->info.hash)
        return vr_fail(VR_ERR_INPUT, "%s: this rank finds %zu shards, rank 0 found %llu; is "
                       "the input the same on every node?", o->input, e->list.n,
                       (unsigned long long)e->info.n);
    if (o->output && !e->dir.dir[0] &&
        (st = vr_outdir_open(&e->dir, o->output, o->output_csv ? "csv" : "h5",
                             e->run.embedding != 0, 0)))
        return st;
    if (lead) {
        if ((st = vr_ledger_open(&e->ledger, e->list.n, vr_shardlist_stem_of, &e->list,
                                 o->output ? &e->dir : NULL, o->claim,
                                 o->lease, e->job, g->replica, g->dp)))
            return st;
        e->have_ledger = 1;
        /* while it waits for shards in flight, this rank's sends must move */
        e->ledger.idle = vr_transport_poll;
        e->ledger.idle_ctx = &e->tr;
    }
    if (!writer)
        return VR_OK;
    if ((st = engine_load_heads(e)))
        return st;
    static char fp[8192];
    engine_fingerprint(e, fp, sizeof fp);
    size_t C = e->have_zs ? e->zs.K : c->classes;
    vr_score_cols cols = {e->have_sh ? e->sh.n : 0, e->have_sh ? e->sh.names : NULL,
                          e->have_sh ? e->sh.dims : NULL};
    vr_shardout_init(&e->so, &e->dir, e->job, g->replica, fp, e->k, C, c->embed_dim,
                     e->run.logits, e->run.embedding, e->have_zs ? e->zs.names : e->model.labels, &cols);
    st = vr_sink_open_shards(&e->sink, &e->run, o->output ? &e->so : NULL, vr_shardlist_stem_of,
                             &e->list, e->B, e->k, C, c->embed_dim, engine_normalize(e),
                             e->have_zs ? &e->zs : NULL, e->have_sh ? &e->sh : NULL);
    e->have_sink = !st;
    /* the job's progress line is world rank 0's (progress_print) */
    e->sink.bar = -1;
    return st;
}

/* The rest of a run over tar shards. Replicas work independently: each
 * takes shards from the ledger, and its first stage ends its pipeline with
 * a VR_MB_LAST micro-batch when none is left (or a stop was requested:
 * only the first stage's TP rank 0 reacts to one, abandoning its shard). */
/* --- the job's progress line: each replica's writer sends world rank 0 a
 * note (at most every half second, at each shard's end, and when done);
 * rank 0 prints the sum. */

typedef struct {
    int64_t replica, shards, rows, failed, done;
} note;

typedef struct {
    note *last;          /* (dp) the newest note of each replica; rank 0 */
    int finals;          /* replicas done */
    int bar;             /* 1 live bar, 0 log lines, -1 none */
    int printed;
    double t0, last_note, last_print;
    size_t total, before; /* shards of the run; finished before it began */
    int n_replicas;
    long long printed_rows, printed_shards;
    double every;        /* --progress-every */
} job_progress;

static vr_status progress_open(job_progress *p, engine *e)
{
    memset(p, 0, sizeof *p);
    p->t0 = p->last_print = vr_now();
    p->total = (size_t)e->info.n;
    p->n_replicas = e->g->dp;
    p->every = e->run.progress_every;
    p->bar = e->run.progress;
    if (e->g->world_rank != 0)
        return VR_OK;
    if (!(p->last = calloc((size_t)e->g->dp, sizeof *p->last)))
        return vr_fail(VR_ERR_NOMEM, "out of memory for the progress of %d replicas", e->g->dp);
    /* (before any replica commits: the loop has not begun anywhere) */
    for (size_t i = 0; e->have_list && e->dir.dir[0] && i < e->list.n; i++)
        p->before += (size_t)vr_outdir_done(&e->dir, vr_shardlist_stem_of(&e->list, i));
    return VR_OK;
}

static void progress_print(job_progress *p, int final)
{
    double t = vr_now();
    if (p->bar < 0 || (!final && t - p->last_print < (p->bar == 1 ? 0.2 : p->every)) ||
        (final && p->bar == 0 && !p->printed))
        return;
    long long shards = 0, rows = 0, failed = 0;
    for (int r = 0; r < p->n_replicas; r++) {
        shards += p->last[r].shards;
        rows += p->last[r].rows;
        failed += p->last[r].failed;
    }
    if (final && p->printed_rows == rows && p->printed_shards == shards)
        return; /* said already */
    p->printed_rows = rows;
    p->printed_shards = shards;
    p->printed = 1;
    p->last_print = t;
    size_t done = p->before + (size_t)shards, left = p->total > done ? p->total - done : 0;
    double el = t - p->t0, rate = el > 0 ? (double)rows / el : 0;
    double eta = shards > 0 ? (double)left * el / (double)shards : 0;
    char eta_s[32];
    snprintf(eta_s, sizeof eta_s, "%d:%02d:%02d", (int)(eta / 3600), (int)fmod(eta / 60, 60),
             (int)fmod(eta, 60));
    if (p->bar == 1)
        fprintf(stderr, "\r%zu/%zu shards  %lld images  %.1f img/s  ETA %s  failed %lld%s", done,
                p->total, rows, rate, shards ? eta_s : "?", failed, final ? "\n" : "");
    else
        fprintf(stderr, "vitrun: progress %zu/%zu shards (%.1f%%)  %lld images  %.1f img/s  "
                "ETA %s  failed %lld\n", done, p->total,
                p->total ? 100.0 * (double)done / (double)p->total : 100.0, rows, rate,
                shards ? eta_s : "?", failed);
    fflush(stderr);
}

static void progress_take(job_progress *p)
{
    note n;
    while (vr_comm_note_poll(&n, sizeof n))
        if (n.replica >= 0 && n.replica < p->n_replicas) {
            p->finals += n.done && !p->last[n.replica].done;
            p->last[n.replica] = n;
        }
}

/* After a step: a writer's note when due; rank 0 takes the notes in. */
static vr_status progress_step(job_progress *p, engine *e, int shard_end, int last)
{
    double t = vr_now();
    if (e->have_sink && (shard_end || last || t - p->last_note > 0.5)) {
        note n = {e->g->replica, (int64_t)e->sink.shards_done, (int64_t)e->sink.done,
                  (int64_t)e->sink.failed, last};
        p->last_note = t;
        vr_status st = vr_comm_note_send(&n, sizeof n, 0);
        if (st)
            return st;
    }
    if (p->last) {
        progress_take(p);
        progress_print(p, 0);
    }
    return VR_OK;
}

static void progress_wait(job_progress *p, engine *e)
{
    if (p->last) {
        while (p->finals < p->n_replicas) {
            progress_take(p);
            progress_print(p, 0);
            struct timespec ts = {0, 10000000L};
            nanosleep(&ts, NULL);
        }
        progress_print(p, 1);
    }
    free(p->last);
    p->last = NULL;
    (void)e;
}

vr_status engine_run_shards(engine *e)
{
    const vr_options *o = e->o;
    const vr_grid *g = e->g;
    vr_rank_report *rep = e->rep;
    int root = vr_comm_world_of(g, 0, 0, 0);
    vr_status st = VR_OK;
    if (g->world_rank == root)
        job_identity(e->job, sizeof e->job);
    st = vr_comm_bcast(e->job, sizeof e->job, root);
    if (!st)
        st = vr_comm_agree(g->world_rank == root && o->output ? prepare_folder(e) : VR_OK);
    if (!st)
        st = vr_comm_agree(open_shards(e));
    if (!st)
        st = vr_comm_agree(engine_allocate(e));
    if (st) {
        engine_teardown(e);
        return st;
    }
    double t0 = e->t0 = vr_now();
    job_progress jp;
    if ((st = vr_comm_agree(progress_open(&jp, e))))
        DIE(st);
    for (size_t i = 0; !e->first && i + 1 < VR_RING; i++)
        if ((st = vr_transport_post_recv(&e->tr, (int)i)))
            DIE(st);
    for (size_t i = 0;; i++) {
        if ((st = engine_step(e, i, SIZE_MAX)))
            DIE(st);
        int last = (e->tr.meta[i % VR_RING]->flags & VR_MB_LAST) != 0;
        if ((st = progress_step(&jp, e, (e->tr.meta[i % VR_RING]->flags & VR_MB_END) != 0, last)))
            DIE(st);
        if (last)
            break;
    }
    /* world rank 0 tells the job's progress until every replica is done */
    progress_wait(&jp, e);
    vr_transport_cancel(&e->tr);
    if ((st = vr_transport_drain(&e->tr)))
        DIE(st);
    rep->wall = vr_now() - t0;
    rep->compute = e->st.t;
    int stopped = e->have_sfeed && e->sfeed.stopped;
    if (e->have_sfeed)
        rep->decode_wait = e->sfeed.decode_wait;
    /* this rank's share of the job's totals: shards committed, dropped
     * (finished elsewhere first), given up; rows, failed rows; judged,
     * top-1, top-5 (--labels-from cls) */
    unsigned long long mine[8] = {0}, all[8] = {0};
    if (e->have_sink) {
        const vr_sink *k = &e->sink;
        unsigned long long t[8] = {k->shards_done, k->shards_lost, 0, k->done, k->failed,
                                   k->judged, k->top1, k->top5};
        memcpy(mine, t, sizeof t);
        e->have_sink = 0;
        rep->failed = e->sink.failed;
        rep->done = e->sink.done;
        st = vr_sink_close(&e->sink, 1);
    }
    if (e->have_sfeed)
        mine[2] = e->sfeed.shards_failed;
    engine_teardown(e);
    unsigned long long *each = g->world_rank == 0 ? calloc((size_t)g->world_size, sizeof mine)
                                                  : NULL;
    vr_status gst = vr_comm_gather(mine, sizeof mine, each);
    for (int r = 0; each && r < g->world_size; r++)
        for (int j = 0; j < 8; j++)
            all[j] += each[r * 8 + j];
    free(each);
    if (!gst && g->world_rank == 0 && !o->quiet) {
        fprintf(stderr, "vitrun: %llu of %zu shards finished by this run (%llu rows, %llu "
                "failed)", all[0], (size_t)e->info.n, all[3], all[4]);
        if (all[1])
            fprintf(stderr, "; %llu done twice (a straggler helped), the second copy dropped",
                    all[1]);
        if (all[2])
            fprintf(stderr, "; %llu could not be read (manifest.csv says why)", all[2]);
        fprintf(stderr, "\n");
        if (o->labels_from_cls)
            fprintf(stderr, "vitrun: accuracy over %llu scored images with a .cls label: top-1 "
                    "%.2f%% (%llu), top-%zu %.2f%% (%llu)\n", all[5],
                    all[5] ? 100.0 * (double)all[6] / (double)all[5] : 0.0, all[6],
                    e->k < 5 ? e->k : 5, all[5] ? 100.0 * (double)all[7] / (double)all[5] : 0.0,
                    all[7]);
    }
    unsigned long long shards = mine[0];
    st = vr_comm_agree(st ? st : gst ? gst : stopped ? vr_fail(VR_STOPPED, "stopped") : VR_OK);
    if (st == VR_STOPPED)
        return vr_fail(VR_STOPPED, "stopped: the shards finished are in %s (this run: %llu on "
                       "replica %d's writer); rerun the same command with --resume to do the "
                       "rest", o->output ? o->output : "(--no-output)", shards, g->replica);
    return st;
}

