/* vitrun.c - the command: load a model, score a batch at a time, write rows.
 *
 * One process for now; the distributed engine splits the same steps across
 * ranks (embed on the first stage, blocks on their stages, head on the last).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/dump.h"
#include "../io/input_h5.h"
#include "../io/model_io.h"
#include "../io/output.h"
#include "cli.h"
#include "forward.h"
#include "gemm.h"
#include "kernels.h"
#include "preprocess.h"

#ifndef VITRUN_VERSION
#define VITRUN_VERSION "0.1.0"
#endif

/* Everything one scoring run holds; built and freed together. */
typedef struct {
    vr_model_file model;
    vr_weights w;
    vr_run_state st;
    vr_input_h5 in;
    int have_input;
    vr_output out;
    int have_output;
    vr_dump dump;
    int have_dump;
    size_t n;           /* images to score */
    size_t k;           /* top-k actually reported */
    uint8_t *u8;        /* (B, H, W, C) */
    float *pixels;      /* (B, C, H, W) */
    float *x;           /* (B, T, D) residual stream */
    float *emb;         /* (B, D) */
    float *logits;      /* (B, C) */
    float *prob;        /* (B, K) */
    int *idx;           /* (B, K) */
    char (*names)[512]; /* (B) */
} vr_job;

static void job_free(vr_job *j)
{
    if (j->have_dump)
        vr_dump_close(&j->dump);
    if (j->have_output)
        vr_output_close(&j->out);
    if (j->have_input)
        vr_input_h5_close(&j->in);
    vr_state_free(&j->st);
    vr_weights_free(&j->w);
    vr_model_close(&j->model);
    free(j->u8);
    free(j->pixels);
    free(j->x);
    free(j->emb);
    free(j->logits);
    free(j->prob);
    free(j->idx);
    free(j->names);
}

static vr_status job_alloc(vr_job *j, size_t B)
{
    const vr_config *c = &j->model.cfg;
    size_t img = c->channels * c->image_size * c->image_size, td = c->tokens * c->hidden;
    j->u8 = vr_alloc(B, img, "input pixels");
    j->pixels = vr_alloc(B * img, sizeof(float), "input tensor");
    j->x = vr_alloc(B * td, sizeof(float), "residual stream");
    j->emb = vr_alloc(B * c->hidden, sizeof(float), "embeddings");
    j->logits = vr_alloc(B * c->classes, sizeof(float), "logits");
    j->prob = vr_alloc(B * j->k, sizeof(float), "probabilities");
    j->idx = vr_alloc(B * j->k, sizeof(int), "top-k indices");
    j->names = vr_alloc(B, sizeof *j->names, "row names");
    if (!j->u8 || !j->pixels || !j->x || !j->emb || !j->logits || !j->prob || !j->idx ||
        !j->names)
        return VR_ERR_NOMEM;
    return VR_OK;
}

/* Top-k of each row's logits with softmax probabilities (computed in double). */
static void score_rows(vr_job *j, size_t B)
{
    size_t C = j->model.cfg.classes, K = j->k;
    for (size_t b = 0; b < B; b++) {
        const float *l = j->logits + b * C;
        vr_topk(j->idx + b * K, l, C, K);
        double m = l[j->idx[b * K]], s = 0.0;
        for (size_t c = 0; c < C; c++)
            s += exp((double)l[c] - m);
        for (size_t t = 0; t < K; t++)
            j->prob[b * K + t] = (float)(exp((double)l[j->idx[b * K + t]] - m) / s);
    }
}

static vr_status run_batch(vr_job *j, const vr_options *o, size_t first, size_t B)
{
    const vr_config *c = &j->model.cfg;
    size_t img = c->channels * c->image_size * c->image_size;
    vr_status st;
    int bad[B];
    char reason[B][96];
    if (j->have_input) {
        if ((st = vr_input_h5_read(&j->in, first, B, j->u8, j->pixels)))
            return st;
        if (j->in.is_uint8)
            vr_normalize_u8(j->pixels, j->u8, B, c->image_size, c->image_size, c->channels,
                            &j->model.pre);
    } else {
        vr_synthetic(j->pixels, first, B, c->channels, c->image_size, c->image_size);
    }
    for (size_t b = 0; b < B; b++) {
        bad[b] = vr_has_nonfinite(j->pixels + b * img, img);
        snprintf(reason[b], sizeof reason[b], "%s", bad[b] ? "input holds NaN or Inf" : "");
        if (j->have_input)
            vr_input_h5_name(&j->in, first + b, j->names[b], sizeof j->names[b]);
        else
            snprintf(j->names[b], sizeof j->names[b], "%zu", first + b);
    }
    size_t TD = c->tokens * c->hidden;
    vr_forward_embed(&j->st, &j->w, j->pixels, B, j->x);
    if (j->have_dump && (st = vr_dump_write(&j->dump, "embed", first, B, c->tokens, c->hidden,
                                            j->x)))
        return st;
    for (size_t l = 0; l < c->layers; l++) {
        if ((st = vr_forward_layer(&j->st, &j->w, l, j->x, B, NULL, NULL)))
            return st;
        char name[32];
        snprintf(name, sizeof name, "block_%02zu", l);
        if (j->have_dump &&
            (st = vr_dump_write(&j->dump, name, first, B, c->tokens, c->hidden, j->x)))
            return st;
    }
    (void)TD;
    vr_forward_head(&j->st, &j->w, j->x, B, j->emb, j->logits);
    if (j->have_dump &&
        ((st = vr_dump_write(&j->dump, "embedding", first, B, c->hidden, 0, j->emb)) ||
         (st = vr_dump_write(&j->dump, "logits", first, B, c->classes, 0, j->logits))))
        return st;
    score_rows(j, B);
    vr_output_row rows[B];
    for (size_t b = 0; b < B; b++) {
        int ok = !bad[b] && !vr_has_nonfinite(j->logits + b * c->classes, c->classes);
        if (!bad[b] && !ok)
            snprintf(reason[b], sizeof reason[b], "non-finite logits");
        rows[b] = (vr_output_row){j->names[b], ok, reason[b], j->idx + b * j->k,
                                  j->prob + b * j->k, j->logits + b * c->classes,
                                  j->emb + b * c->hidden};
    }
    return vr_output_append(&j->out, rows, B);
}

static vr_status run(const vr_options *o)
{
    vr_job j;
    memset(&j, 0, sizeof j);
    vr_status st;
    vr_gemm_set_threads(o->threads);
    double t0 = vr_now();
    if ((st = vr_model_open(&j.model, o->model)))
        goto out;
    const vr_config *c = &j.model.cfg;
    vr_shard shard = vr_shard_full(c);
    if ((st = vr_model_load(&j.model, &j.w, &shard)))
        goto out;
    if (o->input) {
        if ((st = vr_input_h5_open(&j.in, o->input, c)))
            goto out;
        j.have_input = 1;
        j.n = j.in.n;
    } else {
        j.n = o->synthetic;
    }
    size_t B = o->batch < j.n ? o->batch : (j.n ? j.n : 1);
    j.k = o->topk < c->classes ? o->topk : c->classes;
    if ((st = vr_state_build(&j.st, &j.w, B)) || (st = job_alloc(&j, B)))
        goto out;
    if ((st = vr_output_open(&j.out, o->output, j.k, c->classes, c->hidden, o->logits,
                             o->embeddings, j.model.labels)))
        goto out;
    j.have_output = 1;
    if (o->dump) {
        if ((st = vr_dump_open(&j.dump, o->dump, j.n)))
            goto out;
        j.have_dump = 1;
    }
    double t1 = vr_now();
    size_t failed = 0;
    for (size_t first = 0; first < j.n; first += B) {
        size_t nb = j.n - first < B ? j.n - first : B;
        if ((st = run_batch(&j, o, first, nb)))
            goto out;
    }
    double t2 = vr_now();
    (void)failed;
    if ((st = vr_output_close(&j.out)))
        goto out;
    j.have_output = 0;
    if (!o->quiet) {
        double flops = vr_config_flops_per_image(c) * (double)j.n;
        fprintf(stderr,
                "vitrun: %zu images in %.3f s (%.2f images/s, %.1f GFLOP/s; load %.3f s, "
                "%.1f MB read) -> %s\n",
                j.n, t2 - t1, (double)j.n / (t2 - t1 > 0 ? t2 - t1 : 1e-9),
                flops / (t2 - t1 > 0 ? t2 - t1 : 1e-9) * 1e-9, t1 - t0,
                (double)j.model.bytes_read / 1e6, o->output);
        fprintf(stderr, "vitrun: time in gemm %.3f s, attention %.3f s, norms %.3f s, "
                "activations %.3f s\n", j.st.t.gemm, j.st.t.attention, j.st.t.norm,
                j.st.t.activation);
    }
out:
    job_free(&j);
    return st;
}

int main(int argc, char **argv)
{
    vr_options o;
    vr_status st = vr_cli_parse(&o, argc, argv);
    if (st) {
        fprintf(stderr, "vitrun: %s\n", vr_last_error());
        return vr_exit_code(st);
    }
    if (o.help) {
        vr_cli_usage(stdout);
        return 0;
    }
    if (o.version) {
        printf("vitrun %s (BLAS: %s)\n", VITRUN_VERSION, vr_gemm_library());
        return 0;
    }
    st = run(&o);
    if (st) {
        fprintf(stderr, "vitrun: %s: %s\n", vr_status_str(st), vr_last_error());
        return vr_exit_code(st);
    }
    return 0;
}
