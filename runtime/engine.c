/* engine.c - one rank's stage of a pipeline replica.
 *
 * Micro-batch m (images [m*B, m*B+B)) belongs to replica (m - m0) mod dp,
 * where m0 is the first micro-batch of this run (0, or where --resume
 * continues). Within a
 * replica, stage 0 reads and embeds it, every stage runs its layers (the TP
 * ranks of a stage each on their own heads and MLP columns, joined by an
 * allreduce), and the last stage's TP rank 0 computes the head and hands the
 * rows to the writer (last stage, TP rank 0 of replica 0), which writes them
 * in micro-batch order. Activations move between stages with non-blocking
 * sends and receives over a ring of three buffers, so the next micro-batch
 * arrives while this one is computed and the previous one leaves.
 */
#include "engine.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/dump.h"
#include "../io/heads_io.h"
#include "../io/input_h5.h"
#include "../io/model_io.h"
#include "../io/outlock.h"
#include "../io/shardlist.h"
#include "batch.h"
#include "feed.h"
#include "forward.h"
#include "ledger.h"
#include "shardfeed.h"
#include "shardout.h"
#include "signals.h"
#include "sink.h"
#include "transport.h"

typedef struct {
    const vr_options *o;
    const vr_grid *g;
    const vr_plan *plan;
    vr_rank_report *rep;
    vr_shard shard;
    vr_model_file model;
    vr_weights w;
    vr_run_state st;
    vr_preprocess pre;        /* the model's preset, or --preprocess */
    vr_input_info info;       /* what the input is (same on every rank) */
    vr_feed feed;             /* first stage: the input */
    int have_feed;
    vr_sink sink;             /* writer: rows, journal, output */
    int have_sink;
    vr_zero_shot zs;          /* writer: --zero-shot's classes */
    vr_score_heads sh;        /* writer: --score-heads */
    int have_zs, have_sh;
    size_t m0;                /* first micro-batch of this run */
    double t0;                /* when the scoring loop began */
    int complete;             /* --resume found the output finished */
    vr_dump dump;
    int have_dump;
    size_t n, B, k, n_mb;     /* images, batch, top-k, micro-batches in all */
    size_t n_local, n_steps;  /* micro-batches of this replica; steps every rank takes */
    int first, last, writer;  /* roles of this rank */
    int writer_rank;          /* world rank of the writer */
    vr_transport tr;          /* the ring of buffers and the messages between stages */
    int have_tr;
    float *pixels;            /* (B, C, H, W) */
    /* tar shards (runtime/ledger.h): every replica has its own writer */
    int shards;
    char job[128];            /* this job's identity, the same on all its ranks */
    vr_shardlist list;        /* readers and writers */
    int have_list;
    vr_outdir dir;            /* the output folder; dir.dir[0] == 0 with --no-output */
    vr_outlock lock;          /* rank 0, a folder this job owns */
    vr_ledger ledger;         /* a first stage's TP rank 0 */
    int have_ledger;
    vr_shardfeed sfeed;       /* first stage */
    int have_sfeed;
    vr_shardout so;           /* writers */
} engine;

#define DIE(st)                                                                       \
    do {                                                                              \
        if (e->g->world_size > 1)                                                     \
            fprintf(stderr, "vitrun: rank %d: %s: %s\n", e->g->world_rank,            \
                    vr_status_str(st), vr_last_error());                              \
        else                                                                          \
            fprintf(stderr, "vitrun: %s: %s\n", vr_status_str(st), vr_last_error());  \
        vr_comm_abort(vr_exit_code(st));                                              \
    } while (0)

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

static vr_status setup(engine *e)
{
    const vr_options *o = e->o;
    const vr_grid *g = e->g;
    vr_status st;
    e->first = g->stage == 0;
    e->last = g->stage == g->pp - 1;
    e->writer = e->last && g->tp_rank == 0 && g->replica == 0;
    e->writer_rank = vr_comm_world_of(g, 0, g->pp - 1, 0);

    if ((st = vr_model_open(&e->model, o->model)) || (st = vr_model_set_size(&e->model, o->image_h, o->image_w, o->preprocess)))
        return st;
    const vr_config *c = &e->model.cfg;
    e->pre = e->model.pre;
    if (o->preprocess && (st = vr_preprocess_preset(&e->pre, o->preprocess, c->image_h, c->image_w)))
        return st;
    e->shard = vr_plan_shard(e->plan, g->stage, g->tp_rank);
    if ((st = vr_model_load(&e->model, &e->w, &e->shard)) ||
        (st = vr_forward_prepare(&e->w, o->gemm, o->precision, g->tp)))
        return st;
    e->rep->weight_bytes = (double)e->model.bytes_read;
    /* from here on this rank may write (the manifest, the output): a stop
     * signal is honoured at the next step, with everything flushed */
    vr_signals_defer();
    /* one rank looks at the input (and walks a directory once) */
    if (g->world_rank == vr_comm_world_of(g, 0, 0, 0))
        return vr_feed_describe(o, c, &e->info);
    return VR_OK;
}

/* The input as --resume must find it again: its real path (so ./a.h5 and
 * /data/a.h5 are one input) and, for a file, its inode, size and
 * modification time, so a file replaced by other images of the same shape
 * between the kill and the resume is not mixed into one output. (Not the
 * device number: an NFS mount's differs between nodes, and a requeued job
 * may resume on another node.) A folder's names are in the listing hash. */
static void input_identity(const char *input, char *out, size_t cap)
{
    char real[PATH_MAX];
    struct stat sb;
    if (!input) {
        snprintf(out, cap, "(synthetic)");
        return;
    }
    if (!realpath(input, real))
        snprintf(real, sizeof real, "%s", input);
    if (stat(input, &sb) == 0 && S_ISREG(sb.st_mode))
        snprintf(out, cap, "%s\ninput_file=inode %llu, %lld bytes, modified %lld.%09ld", real,
                 (unsigned long long)sb.st_ino, (long long)sb.st_size,
                 (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
    else
        snprintf(out, cap, "%s", real);
}

/* Whether the embedding is L2-normalised: --normalize/--no-normalize, else
 * the model's default (on for CLIP and SigLIP towers). */
static int normalize(const engine *e)
{
    return e->o->normalize >= 0 ? e->o->normalize : e->model.cfg.normalize;
}

/* What a journal must match for --resume to continue it: everything that
 * decides which rows exist and what numbers they hold. */
static void fingerprint(const engine *e, char *out, size_t cap)
{
    const vr_options *o = e->o;
    const vr_preprocess *p = &e->pre;
    char input[PATH_MAX + 128], zs[PATH_MAX + 128] = "", sh[PATH_MAX + 128] = "";
    input_identity(o->input, input, sizeof input);
    if (o->zero_shot)
        input_identity(o->zero_shot, zs, sizeof zs);
    if (o->score_heads)
        input_identity(o->score_heads, sh, sizeof sh);
    snprintf(out, cap,
             "model_id=%s\ninput=%s\ninput_kind=%d\nimages=%llu\nlisting=%016llx\n"
             "batch=%zu\ntopk=%zu\nlogits=%d\nembeddings=%d\nnormalize=%d\nembedding_dtype=%s\n"
             "pp=%d\ntp=%d\n"
             "preprocess=%d,%zu,%zu,%zu,%zu,%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n"
             "dct_scale=%d\nmax_pixels=%zu\nmax_file_bytes=%zu\nprecision=%s\n"
             "image=%zux%zu\nzero_shot=%s\nlogit_scale=%.17g\nlogit_bias=%.17g\n"
             "score_heads=%s\n",
             e->model.model_id, input, (int)e->info.kind,
             (unsigned long long)e->info.n, (unsigned long long)e->info.hash, o->batch, e->k,
             o->logits, o->embeddings, normalize(e), o->emb_f16 ? "f16" : "f32", e->g->pp,
             e->g->tp, (int)p->resize, p->resize_size, p->resize_w,
             p->crop_h, p->crop_w, (int)p->interp, p->rescale, p->mean[0], p->mean[1], p->mean[2],
             p->std[0], p->std[1], p->std[2], o->dct_scale, o->max_pixels, o->max_file_bytes,
             vr_linear_precision_name(o->precision), e->model.cfg.image_h,
             e->model.cfg.image_w, zs, e->have_zs ? e->zs.scale : 0.0,
             e->have_zs ? e->zs.bias : 0.0, sh);
}

/* An HDF5 input's row names for the --labels check, read NAMES_AT_ONCE at a
 * time (one read per row took 63 us: 10 minutes for 10^7 rows). */
#define NAMES_AT_ONCE 1024
typedef struct {
    vr_input_h5 h5;
    size_t first, count; /* rows held in names */
    char *names;         /* (NAMES_AT_ONCE, VR_NAME_LEN) */
    vr_status st;        /* the first failure to read them */
    char why[1024];      /* and its message */
} row_names;

static void h5_row_name(void *ctx, size_t i, char *out, size_t cap)
{
    row_names *r = ctx;
    if (i < r->first || i >= r->first + r->count) {
        r->first = i;
        r->count = r->h5.n - i < NAMES_AT_ONCE ? r->h5.n - i : NAMES_AT_ONCE;
        vr_status st = vr_input_h5_names(&r->h5, r->first, r->count, r->names, VR_NAME_LEN);
        if (st && !r->st) {
            r->st = st;
            snprintf(r->why, sizeof r->why, "%s", vr_last_error());
        }
    }
    snprintf(out, cap, "%s", r->names + (i - r->first) * VR_NAME_LEN);
}

/* Writer: --zero-shot's classes and --score-heads' heads, on the model's
 * embedding width. */
static vr_status load_heads(engine *e)
{
    const vr_options *o = e->o;
    const vr_config *c = &e->model.cfg;
    vr_status st;
    if (o->zero_shot) {
        double scale = o->logit_scale > 0 ? o->logit_scale : c->logit_scale;
        if (!(scale > 0))
            return vr_fail(VR_ERR_USAGE, "--zero-shot: %s holds no logit scale; pass "
                           "--logit-scale (CLIP's is 100, exp of its logit_scale)", o->model);
        int have_bias = o->have_logit_bias || c->have_logit_bias;
        double bias = o->have_logit_bias ? o->logit_bias : c->logit_bias;
        if ((st = vr_zero_shot_load(&e->zs, o->zero_shot, o->zero_shot_names, c->embed_dim,
                                    scale, bias, have_bias)))
            return st;
        e->have_zs = 1;
        e->k = o->topk < e->zs.K ? o->topk : e->zs.K;
    }
    if (o->score_heads) {
        if ((st = vr_score_heads_load(&e->sh, o->score_heads, c->embed_dim)))
            return st;
        e->have_sh = 1;
    }
    return VR_OK;
}

/* Writer: the output and journal, or with --resume the interrupted run's. */
static vr_status open_sink(engine *e)
{
    const vr_config *c = &e->model.cfg;
    char fp[8192];
    if (!e->writer)
        return VR_OK;
    vr_status hst = load_heads(e);
    if (hst)
        return hst;
    fingerprint(e, fp, sizeof fp);
    int jpeg = e->info.kind == VR_INPUT_DIR || e->info.kind == VR_INPUT_LIST;
    /* --labels with an HDF5 input: its rows' names are checked against the
     * labels before anything is written, not when a row reaches them */
    row_names rn = {.names = NULL};
    int named = e->info.kind == VR_INPUT_HDF5 && e->o->truth;
    if (named) {
        vr_status st = vr_input_h5_open(&rn.h5, e->o->input, c);
        if (st)
            return st;
        if (!(rn.names = vr_alloc(NAMES_AT_ONCE, VR_NAME_LEN, "row names"))) {
            vr_input_h5_close(&rn.h5);
            return VR_ERR_NOMEM;
        }
    }
    vr_status st = vr_sink_open(&e->sink, e->o, fp, e->n, e->B, e->k,
                                e->have_zs ? e->zs.K : c->classes, c->embed_dim, normalize(e),
                                e->have_zs ? &e->zs : NULL, e->have_sh ? &e->sh : NULL,
                                e->have_zs ? e->zs.names : e->model.labels, jpeg ? e->info.listing : NULL,
                                named ? h5_row_name : NULL, &rn, &e->complete);
    if (named) {
        if (rn.st && (!st || st == VR_ERR_INPUT))
            st = vr_fail(rn.st, "%s", rn.why); /* the names' own reason, not a mismatch */
        vr_input_h5_close(&rn.h5);
        free(rn.names);
    }
    e->have_sink = !st && !e->complete;
    return st;
}

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
    int emb = o->embeddings || !e->model.cfg.classes;
    vr_status st = vr_outdir_open(&e->dir, o->output, o->output_csv ? "csv" : "h5", emb, 1);
    if (st)
        return st;
    char owner[VR_OUTDIR_PATH + 32], run[VR_OUTDIR_PATH + 32], fp[8192], had[8192];
    snprintf(owner, sizeof owner, "%s/owner", e->dir.meta);
    if (!o->claim && (st = vr_outlock_acquire(&e->lock, owner)))
        return vr_fail(st, "%s (another run writes this folder; to share it between jobs, "
                       "give each --claim)", vr_last_error());
    fingerprint(e, fp, sizeof fp);
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
static vr_status shard_options(engine *e)
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
    int emb = o->embeddings || !c->classes;
    if (o->output && !e->dir.dir[0] &&
        (st = vr_outdir_open(&e->dir, o->output, o->output_csv ? "csv" : "h5", emb, 0)))
        return st;
    if (lead) {
        if ((st = vr_ledger_open(&e->ledger, e->list.n, vr_shardlist_stem_of, &e->list,
                                 o->output ? &e->dir : NULL, o->claim,
                                 o->lease, e->job, g->replica, g->dp)))
            return st;
        e->have_ledger = 1;
    }
    if (!writer)
        return VR_OK;
    if ((st = load_heads(e)))
        return st;
    static char fp[8192];
    fingerprint(e, fp, sizeof fp);
    size_t C = e->have_zs ? e->zs.K : c->classes;
    vr_score_cols cols = {e->have_sh ? e->sh.n : 0, e->have_sh ? e->sh.names : NULL,
                          e->have_sh ? e->sh.dims : NULL};
    int how = emb ? (o->emb_f16 ? VR_EMB_F16 : VR_EMB_F32) : 0;
    vr_shardout_init(&e->so, &e->dir, e->job, g->replica, fp, e->k, C, c->embed_dim,
                     o->logits && C, how, e->have_zs ? e->zs.names : e->model.labels, &cols);
    st = vr_sink_open_shards(&e->sink, o, o->output ? &e->so : NULL, vr_shardlist_stem_of,
                             &e->list, e->B, e->k, C, c->embed_dim, normalize(e),
                             e->have_zs ? &e->zs : NULL, e->have_sh ? &e->sh : NULL);
    e->have_sink = !st;
    /* one progress line: replica 0's writer speaks */
    if (g->replica != 0)
        e->sink.bar = -1;
    return st;
}

/* After every rank agreed on setup: the sizes everyone needs, then buffers. */
static vr_status allocate(engine *e)
{
    const vr_options *o = e->o;
    const vr_config *c = &e->model.cfg;
    vr_status st;
    size_t img = c->channels * c->image_h * c->image_w;
    if ((st = vr_state_build(&e->st, &e->w, e->B)))
        return st;
    e->st.all_tokens = o->dump != NULL; /* the dump holds every token of every block */
    /* full micro-batches and the last one (a shard's last ones vary) */
    size_t sizes[2] = {e->B, e->shards ? 0 : e->n % e->B};
    if ((st = vr_state_warm(&e->st, &e->w, sizes, 2)))
        return st;
    e->have_tr = 1;
    if ((st = vr_transport_open(&e->tr, e->g, o->send, &e->rep->comm, e->B,
                                c->tokens * c->hidden, e->B * (c->classes + c->embed_dim),
                                e->writer)))
        return st;
    if (e->first) {
        if (!(e->pixels = vr_alloc(e->B * img, sizeof(float), "input tensor")))
            return VR_ERR_NOMEM;
        if (e->shards) {
            vr_tarshard_options topt = {o->max_file_bytes, o->image_keys};
            vr_jpeg_limits lim = {o->max_pixels, o->max_file_bytes, o->dct_scale};
            if ((st = vr_shardfeed_open(&e->sfeed, e->g, c, &e->pre, &e->list,
                                        e->have_ledger ? &e->ledger : NULL, &topt, &lim,
                                        o->retries, o->decoders, e->B)))
                return st;
            e->have_sfeed = 1;
        } else {
            if ((st = vr_feed_open(&e->feed, o, e->g, c, &e->pre, &e->info, e->B, e->m0)))
                return st;
            e->have_feed = 1;
        }
    }
    if (e->writer && o->dump) {
        if ((st = vr_dump_open(&e->dump, o->dump, e->n)))
            return st;
        e->have_dump = 1;
    }
    return VR_OK;
}

static void teardown(engine *e)
{
    if (e->have_tr)
        vr_transport_close(&e->tr);
    e->have_tr = 0;
    if (e->have_dump)
        vr_dump_close(&e->dump);
    if (e->have_sink)
        vr_sink_close(&e->sink, 0);
    if (e->have_zs)
        vr_zero_shot_free(&e->zs);
    if (e->have_sh)
        vr_score_heads_free(&e->sh);
    e->have_zs = e->have_sh = 0;
    if (e->have_feed)
        vr_feed_close(&e->feed);
    if (e->have_sfeed)
        vr_shardfeed_close(&e->sfeed);
    e->have_sfeed = 0;
    if (e->have_ledger)
        vr_ledger_close(&e->ledger);
    e->have_ledger = 0;
    vr_shardout_close(&e->so);
    if (e->have_list)
        vr_shardlist_free(&e->list);
    e->have_list = 0;
    vr_outlock_release(&e->lock);
    vr_state_free(&e->st);
    vr_weights_free(&e->w);
    vr_model_close(&e->model);
    free(e->pixels);
}

/* Writer: a finished micro-batch to the sink (and the dump). */
static vr_status write_rows(engine *e, const vr_batch_meta *meta, const float *res)
{
    const vr_config *c = &e->model.cfg;
    size_t C = c->classes, count = (size_t)meta->count;
    const float *logits = res, *emb = res + e->B * C;
    double t0 = vr_now();
    vr_status st = vr_sink_write(&e->sink, meta, logits, emb);
    if (!st && e->have_dump)
        st = vr_dump_write(&e->dump, "embedding", (size_t)meta->first, count, c->embed_dim, 0,
                           emb);
    if (!st && e->have_dump)
        st = vr_dump_write(&e->dump, "logits", (size_t)meta->first, count, C, 0, logits);
    e->rep->write += vr_now() - t0;
    return st;
}

/* The writer takes micro-batch m from the replica that scored it. */
static vr_status collect(engine *e, size_t m)
{
    int src = vr_comm_world_of(e->g, vr_plan_replica_of(e->plan, m - e->m0), e->g->pp - 1, 0);
    vr_status st = vr_transport_collect(&e->tr, src);
    return st ? st : write_rows(e, e->tr.wmeta, e->tr.wres);
}

/* Dumps (--dump-activations) of what the first stage read and embedded. */
static vr_status dump_input(engine *e, const vr_batch_meta *meta, const float *x)
{
    const vr_config *c = &e->model.cfg;
    vr_status st = vr_dump_write(&e->dump, "pixels", (size_t)meta->first, (size_t)meta->count,
                                 c->channels, c->image_h * c->image_w, e->pixels);
    return st ? st : vr_dump_write(&e->dump, "embed", (size_t)meta->first, (size_t)meta->count,
                                   c->tokens, c->hidden, x);
}

/* A block's output is complete after its MLP. */
static vr_status dump_block(engine *e, size_t l, const vr_batch_meta *meta, const float *x)
{
    const vr_config *c = &e->model.cfg;
    size_t layer = e->shard.layer_begin + l;
    if (!vr_shard_has_mlp(&e->shard, layer))
        return VR_OK;
    char name[32];
    snprintf(name, sizeof name, "block_%02zu", layer);
    return vr_dump_write(&e->dump, name, (size_t)meta->first, (size_t)meta->count, c->tokens,
                         c->hidden, x);
}

/* Step i of this rank: read and embed the micro-batch (first stage) or
 * receive it; its layers; then the head and the rows to the writer (last
 * stage), or on to the next stage. */
static vr_status step(engine *e, size_t i, size_t n_local)
{
    const vr_grid *g = e->g;
    const vr_config *c = &e->model.cfg;
    vr_transport *tr = &e->tr;
    int slot = (int)(i % VR_RING);
    float *x = tr->x[slot], *res = tr->res[slot];
    vr_batch_meta *meta = tr->meta[slot];
    float *tl = i < VR_TIMELINE_STEPS ? e->rep->timeline[i] : NULL;
    vr_status st;
    if (tl)
        tl[0] = (float)(vr_now() - e->t0);
    if (e->first) {
        size_t m = e->m0 + (size_t)g->replica + i * (size_t)g->dp;
        double t0 = vr_now();
        if ((st = vr_transport_reuse(tr, slot)) ||
            (st = e->shards ? vr_shardfeed_next(&e->sfeed, e->pixels, meta, &e->rep->comm)
                            : vr_feed_next(&e->feed, e->pixels, meta, &e->rep->comm)))
            return st;
        e->rep->read += vr_now() - t0;
        if (!e->shards && (size_t)meta->mb != m)
            return vr_fail(VR_ERR_INTERNAL, "feed gave micro-batch %lld, expected %zu",
                           (long long)meta->mb, m);
        /* (a shard's end may come with no rows: nothing to compute) */
        if ((meta->count && (st = vr_forward_embed(&e->st, &e->w, e->pixels,
                                                   (size_t)meta->count, x))) ||
            (e->have_dump && (st = dump_input(e, meta, x))))
            return st;
    } else if ((st = vr_transport_receive(tr, slot))) {
        return st;
    }
    if (tl)
        tl[1] = (float)(vr_now() - e->t0);
    size_t count = (size_t)meta->count;
    for (size_t l = 0; count && l < vr_shard_layers(&e->shard); l++) {
        /* attention + MLP (or the half of the block the shard holds), the TP
         * ranks' partial sums joined by an allreduce */
        if ((st = vr_forward_layer(&e->st, &e->w, l, x, count,
                                   g->tp > 1 ? vr_comm_tp_allreduce : NULL, &e->rep->comm)) ||
            (e->have_dump && (st = dump_block(e, l, meta, x))))
            return st;
        vr_transport_progress(tr);
    }
    if (!e->last) {
        if (tl)
            tl[2] = (float)(vr_now() - e->t0);
        if ((st = vr_transport_send(tr, slot, count)))
            return st;
    } else if (g->tp_rank == 0) {
        /* results: logits (B, C), then embeddings (B, E) */
        if ((st = vr_transport_reuse(tr, slot)) ||
            (count && (st = vr_forward_head(&e->st, &e->w, x, count, res + e->B * c->classes,
                                            res))))
            return st;
        if (tl)
            tl[2] = (float)(vr_now() - e->t0);
        if (e->shards) { /* each replica writes its own shards */
            if (e->have_sink && (st = write_rows(e, meta, res)))
                return st;
        } else if (!e->writer) {
            if ((st = vr_transport_deliver(tr, slot, count, e->writer_rank)))
                return st;
        } else {
            /* ours, then the other replicas' micro-batches up to our next one */
            size_t m = (size_t)meta->mb;
            if ((st = write_rows(e, meta, res)))
                return st;
            for (size_t m2 = m + 1; m2 < m + (size_t)g->dp && m2 < e->n_mb; m2++)
                if ((st = collect(e, m2)))
                    return st;
        }
    }
    if (tl && e->last && g->tp_rank != 0)
        tl[2] = (float)(vr_now() - e->t0);
    e->rep->images += (double)count;
    e->rep->micro_batches += 1;
    /* ring: slot i+2 is slot i-1, whose sends have had a whole step to go */
    if (!e->first && i + VR_RING - 1 < n_local) {
        int s2 = (int)((i + VR_RING - 1) % VR_RING);
        if ((st = vr_transport_reuse(tr, s2)) || (st = vr_transport_post_recv(tr, s2)))
            return st;
    }
    if (tl) {
        tl[3] = (float)(vr_now() - e->t0);
        e->rep->timeline_steps = (int)i + 1;
    }
    return VR_OK;
}

/* A folder's manifest (OUT.inputs) serves the run that its journal can
 * resume. It goes when the run completes, and when the run ends with no
 * journal to resume (refused before scoring, e.g. a bad --labels; or
 * --no-output, whose manifest is a temporary file). */
static void drop_stale_manifest(const engine *e, vr_status st, int stopped)
{
    const vr_options *o = e->o;
    if (e->g->world_rank != vr_comm_world_of(e->g, 0, 0, 0) ||
        e->info.kind != VR_INPUT_DIR || !e->info.listing[0])
        return;
    char journal[VR_PATH_MAX + 16];
    snprintf(journal, sizeof journal, "%s.journal", o->output ? o->output : "");
    if ((!st && !stopped) || !o->output || access(journal, F_OK) != 0)
        remove(e->info.listing);
}

/* The rest of a run over tar shards. Replicas work independently: each
 * takes shards from the ledger, and its first stage ends its pipeline with
 * a VR_MB_LAST micro-batch when none is left (or a stop was requested:
 * only the first stage's TP rank 0 reacts to one, abandoning its shard). */
static vr_status run_shards(engine *e)
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
        st = vr_comm_agree(allocate(e));
    if (st) {
        teardown(e);
        return st;
    }
    double t0 = e->t0 = vr_now();
    for (size_t i = 0; !e->first && i + 1 < VR_RING; i++)
        if ((st = vr_transport_post_recv(&e->tr, (int)i)))
            DIE(st);
    for (size_t i = 0;; i++) {
        if ((st = step(e, i, SIZE_MAX)))
            DIE(st);
        if (e->tr.meta[i % VR_RING]->flags & VR_MB_LAST)
            break;
    }
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
    teardown(e);
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

vr_status vr_engine_run(const vr_options *o, const vr_grid *g, const vr_plan *plan,
                        vr_rank_report *rep)
{
    engine eng, *e = &eng;
    memset(e, 0, sizeof *e);
    memset(rep, 0, sizeof *rep);
    e->o = o;
    e->g = g;
    e->plan = plan;
    e->rep = rep;
    rep->world_rank = g->world_rank;
    rep->replica = g->replica;
    rep->stage = g->stage;
    rep->tp_rank = g->tp_rank;
    vr_status st = vr_comm_agree(setup(e));
    /* everyone learns what the input is from the rank that looked */
    if (!st)
        st = vr_comm_bcast(&e->info, sizeof e->info, vr_comm_world_of(g, 0, 0, 0));
    if (!st) {
        const vr_config *c = &e->model.cfg;
        e->n = (size_t)e->info.n;
        e->B = o->batch < e->n ? o->batch : (e->n ? e->n : 1);
        rep->batch = e->B;
        e->k = o->topk < c->classes ? o->topk : c->classes;
        if (o->zero_shot && c->classes)
            st = vr_fail(VR_ERR_USAGE, "--zero-shot: the model classifies itself (%zu classes, "
                         "head '%s'); zero-shot classification is for image towers (CLIP, "
                         "SigLIP) whose output is an embedding", c->classes, vr_head_name(c->head));
        else if (o->zero_shot_names && !o->zero_shot)
            st = vr_fail(VR_ERR_USAGE, "--zero-shot-names goes with --zero-shot FILE.npy");
        else if ((o->logit_scale > 0 || o->have_logit_bias) && !o->zero_shot)
            st = vr_fail(VR_ERR_USAGE, "--logit-scale and --logit-bias go with --zero-shot");
        else if ((o->emb_f16 || o->normalize >= 0) && c->classes && !o->embeddings)
            st = vr_fail(VR_ERR_USAGE, "%s: this model's output has no embedding column (it "
                         "classifies); add --embeddings to write it",
                         o->emb_f16 ? "--embedding-dtype" : "--normalize/--no-normalize");
        else if (!c->classes && !o->zero_shot && (o->logits || o->truth))
            st = vr_fail(VR_ERR_USAGE, "%s: the model has no classifier (head '%s'), so no "
                         "logits%s; its output is the embedding (%zu values per image)",
                         o->logits ? "--logits" : "--labels", vr_head_name(c->head),
                         o->truth ? " to judge against labels" : "", c->embed_dim);
        else if (o->topk_given && !c->classes && !o->zero_shot && g->world_rank == 0 &&
                 !o->quiet)
            fprintf(stderr, "vitrun: --topk: the model has no classifier (head '%s'); the "
                    "output holds the embedding\n", vr_head_name(c->head));
        else if (o->topk_given && o->topk > c->classes && c->classes && g->world_rank == 0 &&
                 !o->quiet)
            fprintf(stderr, "vitrun: --topk %zu is more than the model's %zu classes; each row "
                    "ranks all %zu\n", o->topk, c->classes, c->classes);
        e->n_mb = ceil_div(e->n, e->B);
        e->shards = e->info.kind == VR_INPUT_SHARDS;
        if (e->shards) { /* counted in shards: the micro-batch is --batch */
            e->B = o->batch;
            rep->batch = e->B;
        }
        if (!st)
            st = vr_comm_agree(shard_options(e));
        if (!st && e->shards)
            return run_shards(e);
        if (!st)
            st = vr_comm_agree(open_sink(e));
    }
    if (!st) {
        /* the writer says where the run starts: 0, or where the journal ends */
        unsigned long long w[2] = {e->sink.done, (unsigned long long)e->complete};
        st = vr_comm_bcast(w, sizeof w, e->writer_rank);
        /* a journal of every row (the run ended before its output was
         * renamed) starts past the last micro-batch, partial or not */
        e->m0 = ceil_div((size_t)w[0], e->B);
        e->complete = (int)w[1];
        if (e->writer)
            rep->resumed = (size_t)w[0]; /* counted once, by the writer */
    }
    if (!st && e->complete) {
        /* said even with --quiet: the run scored nothing */
        if (g->world_rank == 0)
            fprintf(stderr, "vitrun: %s is complete and no journal is left: nothing to "
                    "resume\n", o->output);
        teardown(e);
        return VR_OK;
    }
    if (!st)
        st = vr_comm_agree(allocate(e));
    if (st) {
        teardown(e);
        drop_stale_manifest(e, st, 0);
        return st;
    }
    /* every rank takes the same number of steps (some empty) so that the stop
     * votes line up; a replica's i-th micro-batch is m0 + replica + i*dp */
    size_t todo = e->n_mb - e->m0;
    e->n_steps = ceil_div(todo, (size_t)g->dp);
    e->n_local = todo > (size_t)g->replica ? ceil_div(todo - (size_t)g->replica, (size_t)g->dp)
                                           : 0;
    size_t n_local = e->n_local;
    /* a vote is read this many steps after it is cast: more than the steps
     * a pipeline's first stage runs ahead of its last (pp - 1 when it
     * flows), so reading it does not throttle the pipeline; a stop then
     * takes about (pp + 2) / pp micro-batch times */
    vr_comm_vote_init(g->world_size == 1 ? 1 : g->pp + 2);
    double t0 = e->t0 = vr_now();
    for (size_t i = 0; !e->first && i + 1 < VR_RING && i < n_local; i++)
        if ((st = vr_transport_post_recv(&e->tr, (int)i)))
            DIE(st);
    int stopped = 0;
    for (size_t i = 0; i < e->n_steps; i++) {
        if ((st = vr_comm_vote(vr_stop_requested() != 0, &stopped)))
            DIE(st);
        if (stopped)
            break;
        if (i < n_local && (st = step(e, i, n_local)))
            DIE(st);
    }
    if (stopped)
        vr_transport_cancel(&e->tr);
    if ((st = vr_transport_drain(&e->tr)))
        DIE(st);
    if ((st = vr_comm_vote_finish()))
        DIE(st);
    rep->wall = vr_now() - t0;
    rep->compute = e->st.t;
    if (e->have_feed)
        rep->decode_wait = e->feed.decode_wait;
    if (e->have_sink) {
        e->have_sink = 0;
        rep->failed = e->sink.failed;
        rep->done = e->sink.done;
        st = vr_sink_close(&e->sink, !stopped);
    }
    teardown(e);
    /* all ranks leave with the writer's verdict on the output */
    st = vr_comm_agree(st);
    drop_stale_manifest(e, st, stopped);
    if (!st && stopped) {
        unsigned long long done = rep->done;
        vr_comm_bcast(&done, sizeof done, e->writer_rank);
        if (!o->output)
            return vr_fail(VR_STOPPED, "stopped after %llu of %zu images (--no-output: no "
                           "scores kept)", done, e->n);
        return vr_fail(VR_STOPPED, "%llu of %zu images are scored in %s.part and %s.journal; "
                       "rerun the same command with --resume to finish", done, e->n, o->output,
                       o->output);
    }
    return st;
}
