/* report.c - gathers per-rank timings, writes the JSON report and the summary. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"

static double busy(const vr_rank_report *r)
{
    return r->compute.gemm + r->compute.attention + r->compute.norm + r->compute.activation;
}

static double idle(const vr_rank_report *r)
{
    double d = r->wall - busy(r) - r->comm.allreduce - r->comm.send_wait - r->comm.recv_wait -
               r->read - r->write;
    return d > 0 ? d : 0;
}

static void write_json(FILE *f, const vr_rank_report *all, const vr_grid *g, const vr_plan *p,
                       size_t batch, int all_tokens, double images, double wall)
{
    const vr_config *c = &p->cfg;
    fprintf(f, "{\n  \"layout\": {\"ranks\": %d, \"dp\": %d, \"pp\": %d, \"tp\": %d, "
            "\"batch\": %zu, \"nodes\": %d},\n", g->world_size, g->dp, g->pp, g->tp, batch,
            g->nodes);
    fprintf(f, "  \"model\": {\"layers\": %zu, \"hidden\": %zu, \"heads\": %zu, \"mlp\": %zu, "
            "\"tokens\": %zu, \"classes\": %zu, \"gflop_per_image\": %.4f, "
            "\"gflop_per_image_run\": %.4f},\n", c->layers, c->hidden, c->heads, c->mlp_dim,
            c->tokens, c->classes, vr_config_flops_per_image(c) * 1e-9,
            vr_config_flops_run(c, all_tokens) * 1e-9);
    /* in layers; x.5: the cut falls between layer x's attention and its MLP */
    fprintf(f, "  \"layer_split\": [");
    for (int s = 0; s <= p->pp; s++)
        fprintf(f, "%s%g", s ? ", " : "", (double)p->part_split[s] / 2);
    /* pipeline_wait: rank 0's (vr_comm_wait_setup decides per node) */
    fprintf(f, "],\n  \"images\": %.0f,\n  \"wall_s\": %.6f,\n  \"images_per_s\": %.4f,\n"
            "  \"blas\": \"%s\",\n  \"pipeline_wait\": \"%s\",\n  \"ranks\": [\n", images, wall,
            wall > 0 ? images / wall : 0, vr_gemm_library(), vr_comm_naps() ? "nap" : "spin");
    for (int r = 0; r < g->world_size; r++) {
        const vr_rank_report *x = &all[r];
        fprintf(f, "    {\"rank\": %d, \"replica\": %d, \"stage\": %d, \"tp\": %d, "
                "\"gemm_s\": %.6f, \"attention_s\": %.6f, \"norm_s\": %.6f, "
                "\"activation_s\": %.6f, \"allreduce_s\": %.6f, \"send_wait_s\": %.6f, "
                "\"recv_wait_s\": %.6f, \"read_s\": %.6f, \"decode_wait_s\": %.6f, "
                "\"write_s\": %.6f, \"idle_s\": %.6f, "
                "\"wall_s\": %.6f, \"busy_fraction\": %.4f, \"images\": %.0f, "
                "\"micro_batches\": %.0f, \"bytes_sent\": %.0f, \"bytes_allreduced\": %.0f, "
                "\"weight_bytes_read\": %.0f,\n     \"timeline\": [",
                x->world_rank, x->replica, x->stage, x->tp_rank, x->compute.gemm,
                x->compute.attention, x->compute.norm, x->compute.activation, x->comm.allreduce,
                x->comm.send_wait, x->comm.recv_wait, x->read, x->decode_wait, x->write, idle(x), x->wall,
                x->wall > 0 ? busy(x) / x->wall : 0, x->images, x->micro_batches,
                x->comm.bytes_sent, x->comm.bytes_allreduced, x->weight_bytes);
        int steps = x->timeline_steps;
        if (steps < 0 || steps > VR_TIMELINE_STEPS)
            steps = 0;
        for (int i = 0; i < steps; i++)
            fprintf(f, "%s[%.6f, %.6f, %.6f, %.6f]", i ? ", " : "", x->timeline[i][0],
                    x->timeline[i][1], x->timeline[i][2], x->timeline[i][3]);
        fprintf(f, "]");
        int m = x->int8_n < VR_REPORT_MATRICES ? x->int8_n : VR_REPORT_MATRICES;
        if (m) {
            fprintf(f, ",\n     \"int8\": [");
            for (int i = 0; i < m; i++)
                fprintf(f, "%s{\"matrix\": \"%s\", \"precision\": \"%s\", \"error\": %.6e}",
                        i ? ", " : "", x->int8[i].name, x->int8[i].int8 ? "int8" : "fp32",
                        x->int8[i].error);
            fprintf(f, "]");
        }
        fprintf(f, "}%s\n", r + 1 < g->world_size ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
}

/* The int8 matrices of every rank once each (ranks of a replica 0 only,
 * since the replicas hold the same ones), TP parts joined by their largest
 * error: into list (n entries), returned count. */
static int int8_matrices(const vr_rank_report *all, int n, vr_int8_entry *list, int cap)
{
    int k = 0;
    for (int r = 0; r < n; r++) {
        const vr_rank_report *x = &all[r];
        int m = x->int8_n < VR_REPORT_MATRICES ? x->int8_n : VR_REPORT_MATRICES;
        for (int i = 0; x->replica == 0 && i < m; i++) {
            int j = 0;
            while (j < k && strcmp(list[j].name, x->int8[i].name))
                j++;
            if (j == k && k < cap)
                list[k++] = x->int8[i];
            else if (j < k && x->int8[i].error > list[j].error)
                list[j].error = x->int8[i].error;
        }
    }
    return k;
}

static vr_status write_calibration(const char *path, const vr_int8_entry *m, int k,
                                   double threshold, const vr_plan *plan, double images)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return vr_fail(VR_ERR_OUTPUT, "%s: cannot write the calibration: %s", path,
                       strerror(errno));
    int kept = 0;
    for (int i = 0; i < k; i++)
        kept += !m[i].int8 || m[i].error > threshold;
    fprintf(f, "# vitrun int8 calibration: %d matrices of %zu blocks on %.0f images; relative "
            "error sqrt(sum (int8 - fp32)^2 / sum fp32^2) of each matrix's output on float32 "
            "inputs; fp32: over %g (%d), for --int8-keep @%s\n# matrix error precision\n",
            k, plan->cfg.layers, images, threshold, kept, path);
    for (int i = 0; i < k; i++)
        fprintf(f, "%s %.6e %s\n", m[i].name, m[i].error, /* (-1: kept, not measured) */
                !m[i].int8 || m[i].error > threshold ? "fp32" : "int8");
    if (fclose(f) != 0)
        return vr_fail(VR_ERR_OUTPUT, "%s: writing the calibration failed", path);
    return VR_OK;
}

vr_status vr_report_finish(const vr_rank_report *mine, const vr_grid *g, const vr_plan *plan,
                           size_t batch, int all_tokens, const char *path, const char *output,
                           int quiet, const char *calibrate, double threshold)
{
    int me = g->world_rank, n = g->world_size;
    vr_rank_report *all = NULL;
    if (me == 0 && !(all = calloc((size_t)n, sizeof *all))) {
        /* the other ranks are in the gather: returning would hang them */
        fprintf(stderr, "vitrun: out of memory gathering the report of %d ranks\n", n);
        vr_comm_abort(vr_exit_code(VR_ERR_NOMEM));
    }
    vr_status st = vr_comm_gather(mine, sizeof *mine, all);
    if (st || me != 0) {
        free(all);
        return st;
    }
    double images = 0, wall = 0, weights = 0;
    size_t failed = 0, done = 0, resumed = 0;
    double stage_busy[plan->pp];
    int stage_n[plan->pp];
    memset(stage_busy, 0, sizeof stage_busy);
    memset(stage_n, 0, sizeof stage_n);
    for (int r = 0; r < n; r++) {
        const vr_rank_report *x = &all[r];
        if (x->stage == plan->pp - 1 && x->tp_rank == 0)
            images += x->images;
        failed += x->failed;
        done += x->done;
        resumed += x->resumed;
        wall = x->wall > wall ? x->wall : wall;
        weights = x->weight_bytes > weights ? x->weight_bytes : weights;
        stage_busy[x->stage] += x->wall > 0 ? busy(x) / x->wall : 0;
        stage_n[x->stage]++;
    }
    if (path) {
        FILE *f = fopen(path, "w");
        if (!f) {
            free(all);
            return vr_fail(VR_ERR_OUTPUT, "%s: cannot write the report: %s", path,
                           strerror(errno));
        }
        write_json(f, all, g, plan, batch, all_tokens, images, wall);
        if (fclose(f) != 0) {
            free(all);
            return vr_fail(VR_ERR_OUTPUT, "%s: writing the report failed", path);
        }
    }
    if (!quiet) {
        double flops = vr_config_flops_run(&plan->cfg, all_tokens) * images;
        fprintf(stderr, "vitrun: %.0f images in %.3f s: %.2f images/s, %.1f GFLOP/s on %d "
                "rank(s) (dp %d x pp %d x tp %d), %zu failed; largest weight shard %.1f MB; "
                "stage busy", images, wall, wall > 0 ? images / wall : 0,
                wall > 0 ? flops / wall * 1e-9 : 0, n, g->dp, g->pp, g->tp, failed,
                weights / 1e6);
        for (int s = 0; s < plan->pp; s++)
            fprintf(stderr, " %.2f", stage_n[s] ? stage_busy[s] / stage_n[s] : 0);
        if (resumed)
            fprintf(stderr, "; %zu rows resumed from the journal", resumed);
        fprintf(stderr, " -> %s (%zu rows)\n", output, done);
    }
    vr_status st2 = VR_OK;
    int any = 0;
    for (int r = 0; r < n; r++)
        any |= all[r].int8_n > 0;
    if (any) { /* int8: what stayed float32, and the calibration */
        int cap = n * VR_REPORT_MATRICES;
        vr_int8_entry *m = calloc((size_t)cap, sizeof *m);
        int k = m ? int8_matrices(all, n, m, cap) : 0, fp = 0;
        for (int i = 0; i < k; i++)
            fp += !m[i].int8;
        if (!quiet && m) {
            fprintf(stderr, "vitrun: int8: %d of %d matrices in int8", k - fp, k);
            for (int i = 0, j = 0; i < k; i++)
                if (!m[i].int8)
                    fprintf(stderr, "%s%s", j++ ? ", " : "; kept float32: ", m[i].name);
            fprintf(stderr, "\n");
        }
        if (calibrate)
            st2 = m ? write_calibration(calibrate, m, k, threshold, plan, images)
                    : vr_fail(VR_ERR_NOMEM, "out of memory writing the calibration");
        free(m);
    }
    free(all);
    return st2;
}
