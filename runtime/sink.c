/* sink.c - rows out: top-k, journal, output file, progress. */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/listing.h"
#include "../io/model_io.h"
#include "../io/shardlist.h"
#include "kernels.h"
#include "ledger.h"
#include "preprocess.h"
#include "timer.h"

/* Accuracy bookkeeping for rows in output order. */
static vr_status judge(vr_sink *s, const vr_output_row *rows, const vr_row_meta *meta,
                       size_t n)
{
    for (size_t i = 0; (s->have_truth || s->labels_from_cls) && i < n; i++) {
        int label;
        if (s->labels_from_cls) {
            label = meta ? meta[i].label : -1;
            if (label < 0)
                continue; /* a sample without KEY.cls is not judged */
        } else {
            vr_status st = vr_truth_next(&s->truth, rows[i].path, &label);
            if (st)
                return st;
        }
        if (!rows[i].ok)
            continue;
        s->judged++;
        s->top1 += rows[i].topk_index[0] == label;
        for (size_t t = 0; t < s->k && t < 5; t++)
            if (rows[i].topk_index[t] == label) {
                s->top5++;
                break;
            }
    }
    return VR_OK;
}

static vr_status replay(void *ctx, const vr_output_row *rows, size_t n)
{
    vr_sink *s = ctx;
    vr_status st = judge(s, rows, NULL, n);
    if (st)
        return st;
    for (size_t i = 0; i < n; i++)
        s->failed += !rows[i].ok;
    s->resumed += n;
    return vr_output_append(&s->out, rows, n);
}


/* The folder of `path` made absolute, then its last component: the same
 * string for two names of one file that need not exist yet. */
static void canonical(const char *path, char *out, size_t cap)
{
    char dir[4096], real[PATH_MAX];
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    vr_dirname(path, dir, sizeof dir);
    if (!realpath(dir, real))
        snprintf(real, sizeof real, "%s", dir);
    snprintf(out, cap, "%s/%s", real, base);
}

/* A file this run writes (`flag` names it): never empty, a folder, in a
 * folder that is missing (--report, --dump-activations), a file the run
 * reads or writes under another flag, or a vitrun model file. */
static vr_status check_write_path(const vr_options *o, const char *flag, const char *out,
                                  const char *example)
{
    size_t len = strlen(out);
    struct stat so, sx;
    if (!len)
        return vr_fail(VR_ERR_USAGE, "%s is empty; it names a file, e.g. %s", flag, example);
    if (out[len - 1] == '/' || (stat(out, &so) == 0 && S_ISDIR(so.st_mode)))
        return vr_fail(VR_ERR_USAGE, "%s '%s' is a folder; it names a file, e.g. %s%s%s", flag,
                       out, out, out[len - 1] != '/' ? "/" : "", example);
    /* the output's folder is the writer rank's to check (it may be on
     * another node); the others are written by rank 0, which checks here */
    char dir[4096];
    vr_dirname(out, dir, sizeof dir);
    if (strcmp(flag, "--output")) {
        if (stat(dir, &sx) != 0 || !S_ISDIR(sx.st_mode))
            return vr_fail(VR_ERR_USAGE, "%s %s: the folder %s does not exist; create it "
                           "first", flag, out, dir);
    }
    const char *writes[][2] = {{"--output", o->output}, {"--report", o->report},
                               {"--dump-activations", o->dump}};
    char a[8192], b[8192];
    canonical(out, a, sizeof a);
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        if (!writes[i][1] || !strcmp(writes[i][0], flag))
            continue;
        canonical(writes[i][1], b, sizeof b);
        if (!strcmp(a, b))
            return vr_fail(VR_ERR_USAGE, "%s and %s name the same file %s; give each its own",
                           writes[i][0], flag, out);
    }
    if (stat(out, &so) != 0)
        return VR_OK;
    /* OUT.part is renamed over OUT: a device (/dev/null, /dev/full) would be
     * replaced by a regular file, a FIFO would block the check below */
    if (!S_ISREG(so.st_mode))
        return vr_fail(VR_ERR_USAGE, "%s %s is %s, not a regular file: vitrun writes %s.part "
                       "and renames it over the name, which would replace it; name a file "
                       "(to score without keeping the scores, use --no-output)", flag, out,
                       S_ISCHR(so.st_mode)    ? "a character device"
                       : S_ISBLK(so.st_mode)  ? "a block device"
                       : S_ISFIFO(so.st_mode) ? "a FIFO"
                       : S_ISSOCK(so.st_mode) ? "a socket"
                                              : "not a regular file", out);
    const struct { const char *flag, *path; } others[] = {
        {"--model", o->model},   {"--input", o->input},   {"--labels", o->truth},
        {"--output", o->output}, {"--report", o->report}, {"--dump-activations", o->dump}};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (others[i].path && strcmp(others[i].flag, flag) &&
            stat(others[i].path, &sx) == 0 && sx.st_dev == so.st_dev && sx.st_ino == so.st_ino)
            return vr_fail(VR_ERR_USAGE, "%s %s is the %s file: writing it would overwrite "
                           "that; choose another file", flag, out, others[i].flag);
    if (vr_model_is_model_file(out)) /* a shard, or another model's index */
        return vr_fail(VR_ERR_USAGE, "%s %s is a vitrun model file: writing it would overwrite "
                       "the model; choose another file", flag, out);
    return VR_OK;
}

/* rank 0 writes --report and --dump-activations only at the end of the
 * run or as it goes: that they can be written is found out now, before
 * anything is scored (a read-only --report was found after scoring) */
static vr_status check_writable(const char *flag, const char *out)
{
    int existed = access(out, F_OK) == 0;
    int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return vr_fail(VR_ERR_USAGE, "%s %s cannot be written: %s; choose a writable place",
                       flag, out, strerror(errno));
    close(fd);
    if (!existed)
        unlink(out);
    return VR_OK;
}

int vr_output_is_folder(const char *out)
{
    struct stat sb;
    size_t len = strlen(out);
    return (len && out[len - 1] == '/') || (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode));
}

vr_status vr_sink_check_output(const vr_options *o)
{
    return o->output ? check_write_path(o, "--output", o->output, "scores.h5 or scores.csv")
                     : VR_OK;
}

vr_status vr_sink_check_paths(const vr_options *o)
{
    /* tar shards into a folder: the folder is checked as the run makes it */
    int folder = o->output && vr_output_is_folder(o->output) && o->input &&
                 vr_shardlist_is_shards(o->input);
    vr_status st = o->output && !folder ? check_write_path(o, "--output", o->output,
                                                "scores.h5 or scores.csv") : VR_OK;
    if (!st && o->report && !(st = check_write_path(o, "--report", o->report, "report.json")))
        st = check_writable("--report", o->report);
    if (!st && o->dump &&
        !(st = check_write_path(o, "--dump-activations", o->dump, "dump.h5")))
        st = check_writable("--dump-activations", o->dump);
    return st;
}

/* The row-making buffers for micro-batches of up to s->B rows. */
static vr_status buffers(vr_sink *s, int emb)
{
    size_t B = s->B, k = s->k, C = s->C, D = s->D, S = s->sh ? s->sh->total : 0;
    s->emb_f16 = emb == VR_EMB_F16;
    if ((s->zs && !(s->zlog = vr_alloc(B * C, sizeof(float), "zero-shot logits"))) ||
        (s->sh && (!(s->scores = vr_alloc(B * S, sizeof(float), "scores")) ||
                   !(s->hscratch = vr_alloc(2 * s->sh->widest, sizeof(double), "head scratch")))) ||
        (s->normalize && !(s->emb = vr_alloc(B * D, sizeof(float), "embeddings"))) ||
        !(s->prob = vr_alloc(B * (k ? k : 1), sizeof(float), "probabilities")) ||
        !(s->idx = vr_alloc(B * (k ? k : 1), sizeof(int), "top-k")) ||
        !(s->rows = vr_alloc(B, sizeof(vr_output_row), "output rows")))
        return VR_ERR_NOMEM;
    return VR_OK;
}


static void init(vr_sink *s, const vr_run *run, size_t B, size_t k, size_t C, size_t D,
                 int normalize, const vr_zero_shot *zs, const vr_score_heads *sh)
{
    memset(s, 0, sizeof *s);
    s->run = run;
    s->B = B;
    s->k = k;
    s->C = C;
    s->D = D;
    s->normalize = normalize;
    s->zs = zs;
    s->sh = sh;
}

vr_status vr_sink_open_shards(vr_sink *s, const vr_run *run, vr_shardout *so,
                              const char *(*stem)(void *ctx, size_t shard), void *stem_ctx,
                              size_t B, size_t k, size_t C, size_t D, int normalize,
                              const vr_zero_shot *zs, const vr_score_heads *sh)
{
    init(s, run, B, k, C, D, normalize, zs, sh);
    s->shards = 1;
    s->so = so;
    s->stem = stem;
    s->stem_ctx = stem_ctx;
    s->labels_from_cls = run->labels_from_cls;
    vr_status st = buffers(s, run->embedding);
    if (st)
        return st;
    s->bar = run->progress;
    s->t0 = s->last_print = vr_now();
    return VR_OK;
}

vr_status vr_sink_open(vr_sink *s, const vr_run *run, const char *fingerprint, size_t n,
                       size_t B, size_t k, size_t C, size_t D, int normalize,
                       const vr_zero_shot *zs, const vr_score_heads *sh, char *const *labels,
                       const char *listing, vr_truth_names_fn names, void *names_ctx,
                       int *complete)
{
    init(s, run, B, k, C, D, normalize, zs, sh);
    s->n = n;
    s->labels = labels;
    *complete = 0;
    snprintf(s->journal_path, sizeof s->journal_path, "%s.journal", run->output ? run->output : "");
    /* how the run starts, from what it finds (runtime/ledger.h). The image
     * count and a folder's listing are not known without walking the folder
     * again, which a finished run does not do. */
    static const char *const unknown[] = {"images=", "listing=", NULL};
    vr_run_start how;
    vr_status sst = vr_ledger_start(run->output, run->resume, fingerprint, unknown, &how);
    if (sst)
        return sst;
    if (how == VR_RUN_COMPLETE) {
        *complete = 1;
        return VR_OK;
    }
    int have_journal = how == VR_RUN_CONTINUE;
    int logits = run->logits && C, emb = run->embedding;
    size_t S = sh ? sh->total : 0;
    vr_status st;
    if ((st = buffers(s, emb)))
        return st;
    if (run->truth) {
        if ((st = vr_truth_open_named(&s->truth, run->truth, C, n, listing, names, names_ctx)))
            return st;
        s->have_truth = 1;
    }
    if (!run->output) /* --no-output: rows are counted and judged, not kept */
        goto progress;
    vr_score_cols cols = {sh ? sh->n : 0, sh ? sh->names : NULL, sh ? sh->dims : NULL};
    if ((st = vr_output_open(&s->out, run->output, k, C, D, logits, emb, labels, &cols)))
        return st;
    s->have_out = 1;
    if ((st = vr_output_describe_run(&s->out, fingerprint)))
        return st;
    if (run->resume && have_journal) {
        st = vr_journal_resume(&s->journal, s->journal_path, fingerprint, k, C, D, logits, emb,
                               S, replay, s);
        s->done = s->journal.rows;
    } else {
        st = vr_journal_create(&s->journal, s->journal_path, fingerprint, k, C, D, logits,
                               emb, S);
    }
    if (st)
        return st;
    s->have_journal = 1;
    if (s->done > n || (s->done % B && s->done != n))
        return vr_fail(VR_ERR_INPUT, "%s records %zu rows, which does not fit a run of %zu "
                       "images in batches of %zu; delete it to start over", s->journal_path,
                       s->done, n, B);
    if (run->resume && have_journal && !run->quiet)
        fprintf(stderr, "vitrun: resuming: %zu of %zu rows were done (%zu failed); scoring the "
                "remaining %zu\n", s->done, n, s->failed, n - s->done);
progress:
    s->bar = run->progress;
    s->t0 = s->last_print = vr_now();
    return VR_OK;
}

static void progress(vr_sink *s, int final)
{
    double t = vr_now();
    double every = s->bar == 1 ? 0.2 : s->run->progress_every;
    if (s->bar < 0 || (!final && t - s->last_print < every))
        return;
    /* a run shorter than one log interval needs no progress line */
    if (final && s->bar == 0 && !s->printed)
        return;
    s->printed = 1;
    s->last_print = t;
    size_t now_done = s->done - s->resumed, left = s->n - s->done;
    double rate = t > s->t0 ? (double)now_done / (t - s->t0) : 0.0;
    double eta = rate > 0 ? (double)left / rate : 0.0;
    char eta_s[32];
    snprintf(eta_s, sizeof eta_s, "%d:%02d:%02d", (int)(eta / 3600), (int)fmod(eta / 60, 60),
             (int)fmod(eta, 60));
    if (s->bar == 1) {
        int width = 30, fill = s->n ? (int)((double)width * (double)s->done / (double)s->n) : 0;
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r[%s] %zu/%zu  %.1f img/s  ETA %s  failed %zu%s", bar, s->done, s->n,
                rate, eta_s, s->failed, final ? "\n" : "");
    } else {
        fprintf(stderr, "vitrun: progress %zu/%zu (%.1f%%)  %.1f img/s  ETA %s  failed %zu\n",
                s->done, s->n, s->n ? 100.0 * (double)s->done / (double)s->n : 100.0, rate,
                eta_s, s->failed);
    }
    fflush(stderr);
}

/* A shard's rows to its files: opened at its first micro-batch, committed
 * (or dropped) at its last. */
static vr_status to_shard(vr_sink *s, const vr_batch_meta *meta, const float *emb, size_t count)
{
    vr_status st;
    if (!s->so)
        return VR_OK;
    if (meta->flags & VR_MB_BEGIN) {
        if ((st = vr_shardout_begin(s->so, s->stem(s->stem_ctx, (size_t)meta->shard))))
            return st;
    }
    if (count && (st = vr_shardout_append(s->so, s->rows, emb, count)))
        return st;
    if (!(meta->flags & VR_MB_END))
        return VR_OK;
    int committed;
    const char *detail = (meta->flags & VR_MB_BROKEN) && count ? s->rows[count - 1].error : NULL;
    if ((st = vr_shardout_end(s->so, (meta->flags & VR_MB_ABANDON) != 0, detail, &committed)))
        return st;
    s->shards_done += (size_t)committed;
    if (!committed) { /* abandoned, or finished elsewhere first: not this writer's rows */
        s->shards_lost += !(meta->flags & VR_MB_ABANDON);
        s->done = s->at_begin[0];
        s->failed = s->at_begin[1];
        s->judged = s->at_begin[2];
        s->top1 = s->at_begin[3];
        s->top5 = s->at_begin[4];
    }
    return VR_OK;
}

vr_status vr_sink_write(vr_sink *s, const vr_batch_meta *meta, const float *logits,
                        const float *emb)
{
    size_t C = s->C, K = s->k, count = (size_t)meta->count;
    if (s->shards && (meta->flags & VR_MB_BEGIN)) {
        /* a shard's rows count once it is this writer's (committed) */
        size_t snap[5] = {s->done, s->failed, s->judged, s->top1, s->top5};
        memcpy(s->at_begin, snap, sizeof snap);
    }
    if (!s->shards && (size_t)meta->first != s->done)
        return vr_fail(VR_ERR_INTERNAL, "writer got rows from %lld, expected %zu",
                       (long long)meta->first, s->done);
    /* the heads read the model's embedding, before --normalize */
    if (s->zs) {
        vr_zero_shot_run(s->zs, emb, count, s->zlog);
        logits = s->zlog;
    }
    if (s->sh)
        vr_score_heads_run(s->sh, emb, count, s->scores, s->hscratch);
    if (s->normalize) { /* unit L2 norm, then written (and journaled) as such */
        memcpy(s->emb, emb, count * s->D * sizeof(float));
        vr_l2_normalize_rows(s->emb, count, s->D);
        emb = s->emb;
    }
    for (size_t b = 0; b < count; b++) {
        const float *l = logits + b * C, *e = emb + b * s->D;
        if (K) {
            vr_topk(s->idx + b * K, l, C, K);
            double mx = l[s->idx[b * K]], sum = 0.0;
            for (size_t j = 0; j < C; j++)
                sum += exp((double)l[j] - mx);
            for (size_t t = 0; t < K; t++) /* SigLIP's zero-shot: each class a sigmoid */
                s->prob[b * K + t] = s->zs && s->zs->sigmoid
                                         ? (float)(1.0 / (1.0 + exp(-(double)l[s->idx[b * K + t]])))
                                         : (float)(exp((double)l[s->idx[b * K + t]] - mx) / sum);
        }
        const vr_row_meta *r = &meta->rows[b];
        /* without a classifier the embedding is what the row holds; float16
         * holds it only below 65504 */
        int f16_over = 0;
        for (size_t j = 0; s->emb_f16 && j < s->D; j++)
            f16_over |= fabsf(e[j]) >= 65520.0f; /* rounds to infinity */
        int ok = r->ok && (C ? !vr_has_nonfinite(l, C) : !vr_has_nonfinite(e, s->D)) &&
                 !f16_over;
        const char *why = !r->ok        ? r->error
                          : f16_over    ? "embedding beyond float16's range (use "
                                          "--embedding-dtype f32, or --normalize)"
                          : !ok && C    ? "non-finite logits"
                          : !ok         ? "non-finite embedding"
                                        : "";
        s->rows[b] = (vr_output_row){r->name, ok, why,
                                     s->idx + b * K, s->prob + b * K, l, emb + b * s->D,
                                     s->sh ? s->scores + b * s->sh->total : NULL};
        if (!ok && s->run->strict)
            return vr_fail(VR_ERR_INPUT, "%s: %s (--strict stops at the first input that "
                           "cannot be scored; rows before it are kept for --resume)",
                           r->name, s->rows[b].error);
        s->failed += !ok;
    }
    vr_status st = judge(s, s->rows, meta->rows, count);
    if (st)
        return st;
    if (s->shards) {
        s->done += count;
        if ((st = to_shard(s, meta, emb, count)))
            return st;
        progress(s, 0);
        return VR_OK;
    }
    /* journal first: it is what --resume trusts */
    if (s->have_journal)
        st = vr_journal_append(&s->journal, s->rows, count);
    if (!st && s->have_out)
        st = vr_output_append(&s->out, s->rows, count);
    if (st)
        return st;
    s->done += count;
    progress(s, 0);
    return VR_OK;
}

vr_status vr_sink_close(vr_sink *s, int complete)
{
    vr_status st = VR_OK, st2;
    if (s->rows)
        progress(s, 1);
    if (s->have_out) {
        st = complete ? vr_output_commit(&s->out) : vr_output_close(&s->out);
        s->have_out = 0;
    }
    if (s->have_journal) {
        /* the journal goes only once the output carries its final name */
        st2 = vr_journal_close(&s->journal, complete && !st);
        st = st ? st : st2;
        s->have_journal = 0;
    }
    if (s->have_truth) { /* (tar shards: the job's accuracy is summed by the engine) */
        if (!s->run->quiet || complete)
            fprintf(stderr, "vitrun: accuracy over %zu scored images%s: top-1 %.2f%% (%zu), "
                    "top-%zu %.2f%% (%zu); %zu failed rows not counted\n", s->judged,
                    complete ? "" : " so far", s->judged ? 100.0 * (double)s->top1 /
                    (double)s->judged : 0.0, s->top1, s->k < 5 ? s->k : 5,
                    s->judged ? 100.0 * (double)s->top5 / (double)s->judged : 0.0, s->top5,
                    s->failed);
        if (s->have_truth)
            vr_truth_close(&s->truth);
        s->have_truth = 0;
    }
    free(s->prob);
    free(s->emb);
    free(s->zlog);
    free(s->scores);
    free(s->hscratch);
    free(s->idx);
    free(s->rows);
    s->prob = NULL;
    s->emb = NULL;
    s->zlog = NULL;
    s->scores = NULL;
    s->hscratch = NULL;
    s->idx = NULL;
    s->rows = NULL;
    return st;
}
