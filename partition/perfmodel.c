/* perfmodel.c - the performance model (perfmodel.h). */
#include "perfmodel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *vr_bound_name(vr_bound b)
{
    static const char *const names[] = {"compute", "stage", "network", "memory"};
    return (unsigned)b < 4 ? names[b] : "?";
}

/* A GEMM of (M, N, K) on `threads` cores. */
static double gemm_s(const vr_profile *f, int prec, double M, double N, double K, int threads)
{
    if (M <= 0 || N <= 0 || K <= 0)
        return 0;
    double rate = f->gemm[prec] * threads * M / (M + f->m_half);
    return 2 * M * N * K / rate;
}

/* (steps) messages of `bytes` each on a link. */
static double xfer_s(const vr_link *l, double steps, double bytes)
{
    return steps > 0 ? steps * (l->alpha + bytes / l->beta) : 0;
}

/* (steps) ring steps of a TP collective, each sending and receiving
 * `bytes` at once on a link. */
static double swap_s(const vr_link *l, double steps, double bytes)
{
    return steps > 0 ? steps * (l->alpha + bytes / (l->duplex > 0 ? l->duplex : l->beta)) : 0;
}

typedef struct {
    double compute, tp, tp_bytes;
} rank_cost;

/* One TP rank's compute, and its TP transfers, per micro-batch. */
static rank_cost rank_time(const vr_plan *p, const vr_shard *sh, const vr_perf_setup *s,
                           const vr_profile *f, const vr_link *tl)
{
    const vr_config *c = &p->cfg;
    int tp = p->tp, h = s->threads, pr = s->precision, i8 = pr == VR_PERF_INT8;
    int par = c->parallel_block;
    double B = s->batch, T = c->tokens, D = c->hidden, hd = c->head_dim;
    double Hd = (double)vr_shard_heads(sh) * hd, Ml = (double)vr_shard_mlp(sh);
    double fc1 = c->act == VR_ACT_SWIGLU ? 2 * Ml : Ml, M = B * T;
    double w = s->wire_bf16 ? 2 : 4;           /* bytes of a float on the wire */
    double qrow = i8 ? D + 8 : D * w;          /* a gathered input row */
    rank_cost r = {0, 0, 0};
    double elems = 0, act = 0, steps = tp - 1;
    int split_end = 0; /* the stage's residual stream needs gathering at its end */
    for (size_t j = sh->part_begin; j < sh->part_end; j++) {
        size_t l = j / 2;
        int cls = l + 1 == c->layers && c->head_rows == 1;
        double Mr = cls ? B : M, own = tp > 1 && !cls ? Mr / tp : Mr;
        if (j % 2 == 0) { /* LayerNorm 1, qkv, attention, proj */
            double ln_rows = tp > 1 && !cls ? M / tp : M;
            r.compute += gemm_s(f, pr, M, 3 * Hd, D, h) + gemm_s(f, pr, Mr, D, Hd, h);
            double q = cls ? 1 : T; /* query rows per image */
            r.compute += 4 * B * (Hd / hd) * q * T * hd / (f->attn * h);
            elems += ln_rows * D + (tp > 1 ? own * D : 0);
        } else { /* LayerNorm 2 (not in a parallel block), fc1, GELU, fc2 */
            r.compute += gemm_s(f, pr, Mr, fc1, D, h) + gemm_s(f, pr, Mr, D, Ml, h);
            elems += (par ? 0 : own * D) + (tp > 1 ? own * D : 0);
            act += Mr * Ml;
        }
        if (tp > 1) {
            /* a parallel block gathers its one LayerNorm's rows in its first
             * half and reduce-scatters both branches' summed partials in its
             * second (forward.c parallel_block) */
            int gather = !par || j % 2 == 0, reduce = !par || j % 2 == 1;
            double b = 0;
            if (!cls) { /* reduce-scatter, allgather of the next input */
                if (reduce) {
                    b += (M / tp) * D * w;
                    r.tp += swap_s(tl, steps, (M / tp) * D * w) + f->tp_sync_s;
                }
                if (gather) {
                    b += (M / tp) * qrow;
                    r.tp += swap_s(tl, steps, (M / tp) * qrow) + f->tp_sync_s;
                }
                split_end = 1;
            } else if (reduce) { /* an allreduce of the class tokens' partial sums */
                b = 2 * (Mr / tp) * D * w;
                r.tp += swap_s(tl, 2 * steps, (Mr / tp) * D * w) + f->tp_sync_s;
            }
            if (i8) { /* the int8 rows' ranges: a max-allreduce of (M, 2) floats */
                b += 2 * (Mr / tp) * 8;
                r.tp += swap_s(tl, 2 * steps, (Mr / tp) * 8) + f->tp_sync_s;
            }
            r.tp_bytes += b * steps;
        }
    }
    if (split_end) { /* x gathered whole (float32) */
        r.tp += swap_s(tl, steps, (M / tp) * D * w) + f->tp_sync_s;
        r.tp_bytes += (M / tp) * D * w * steps;
    }
    if (sh->has_embed) {
        r.compute += gemm_s(f, pr, B * c->patches, D, c->patch_len, h);
        if (s->decode)
            r.compute += B / tp * f->decode_s / h;
        elems += M * D;
    }
    if (sh->has_head && c->classes)
        r.compute += gemm_s(f, VR_PERF_FP32, B, c->classes, c->pooled, h);
    r.compute += elems * f->elem_s / h + act * f->act_s / h;
    return r;
}

/* Bytes one rank holds: its weights as packed for the precision, the run's
 * buffers for B images, and what every rank needs besides. */
static double rank_memory(const vr_plan *p, const vr_shard *sh, const vr_perf_setup *s,
                          const vr_profile *f)
{
    const vr_config *c = &p->cfg;
    double wbytes = (double)vr_shard_weight_bytes(c, sh);
    double scale = s->precision == VR_PERF_INT8 ? 0.25 : s->precision == VR_PERF_BF16 ? 0.5 : 1;
    double M = (double)s->batch * c->tokens, D = c->hidden;
    double Hd = (double)vr_shard_heads(sh) * c->head_dim, Ml = (double)vr_shard_mlp(sh);
    double fc1 = c->act == VR_ACT_SWIGLU ? 3 * Ml : Ml;
    /* xn, qkv, attn, partial, mlp (+ gate), three residual-stream buffers; uint8 rows */
    double act = M * (D + 3 * Hd + Hd + D + fc1 + 3 * D) * 4 + M * (D + 8);
    if (c->parallel_block && p->tp > 1) /* fc2's partial sums beside proj's */
        act += M * D * 4;
    return wbytes * scale + act + f->rank_bytes;
}

vr_status vr_perf_predict(const vr_plan *p, const vr_perf_setup *s, const vr_profile *f,
                          double mem_per_rank, vr_perf *out)
{
    memset(out, 0, sizeof *out);
    if (p->pp < 1 || p->pp > VR_PERF_MAX_PP || p->tp < 1 || p->dp < 1 || s->batch < 1 ||
        s->threads < 1 || s->ranks_per_node < 1 || s->precision < 0 || s->precision > 2)
        return vr_fail(VR_ERR_USAGE, "performance model: no prediction for dp %d pp %d tp %d "
                       "batch %d threads %d ranks per node %d", p->dp, p->pp, p->tp, s->batch,
                       s->threads, s->ranks_per_node);
    if (!(f->gemm[s->precision] > 0 && f->attn > 0 && f->shm.beta > 0 && f->net.beta > 0 &&
          f->cores > 0))
        return vr_fail(VR_ERR_USAGE, "performance model: the profile lacks a rate it needs");
    if (mem_per_rank <= 0)
        mem_per_rank = f->mem_bytes / s->ranks_per_node;
    const vr_config *c = &p->cfg;
    double w = s->wire_bf16 ? 2 : 4, M = (double)s->batch * c->tokens;
    double worst_period = 0, total = 0, mem = 0;
    /* a node's cores are shared by its ranks: per micro-batch, the core-
     * seconds of the ranks on a node over its cores bound their period;
     * a TP exchange's seconds count as the core's (copies, polling: tp 4 on
     * 2 cores was 17% optimistic without them), a pipeline wait's do not */
    long ranks = (long)p->dp * p->pp * p->tp, rpn = s->ranks_per_node;
    long nodes = (ranks + rpn - 1) / rpn;
    /* a core computes slower when the node's other cores compute too: from
     * its rate alone (one busy core) to full_load's (all busy) */
    double load = f->full_load > 0 ? f->full_load : 1;
    long busy_cores = (ranks < rpn ? ranks : rpn) * s->threads;
    busy_cores = busy_cores < f->cores ? busy_cores : f->cores;
    double speed = f->cores > 1 ? 1 - (1 - load) * (double)(busy_cores - 1) / (f->cores - 1)
                                : load;
    double *node_s = calloc((size_t)nodes, sizeof *node_s);
    double *own = calloc((size_t)p->dp, sizeof *own);
    if (!node_s || !own) {
        free(node_s);
        free(own);
        return vr_fail(VR_ERR_NOMEM, "performance model: out of memory");
    }
    for (int r = 0; r < p->dp; r++) {
        double period = 0, comp[VR_PERF_MAX_PP], tps[VR_PERF_MAX_PP], snd[VR_PERF_MAX_PP];
        int tp_net = 0, pp_net = 0;
        double tp_bytes = 0, pp_bytes = 0;
        for (int st = 0; st < p->pp; st++) {
            long first = ((long)r * p->pp + st) * p->tp;
            int cross = first / rpn != (first + p->tp - 1) / rpn;
            const vr_link *tl = cross ? &f->net : &f->shm;
            tp_net |= cross && p->tp > 1;
            comp[st] = tps[st] = snd[st] = 0;
            for (int t = 0; t < p->tp; t++) {
                vr_shard sh = vr_plan_shard(p, st, t);
                rank_cost rc = rank_time(p, &sh, s, f, tl);
                rc.compute /= speed;
                node_s[(first + t) / rpn] += rc.compute * s->threads + rc.tp;
                if (rc.compute > comp[st])
                    comp[st] = rc.compute;
                if (rc.tp > tps[st])
                    tps[st] = rc.tp;
                if (rc.tp_bytes > tp_bytes)
                    tp_bytes = rc.tp_bytes;
                double m = rank_memory(p, &sh, s, f);
                if (m > mem)
                    mem = m;
            }
            if (st + 1 < p->pp) { /* each TP rank sends its slice; the next group gathers */
                int next_cross = first / rpn != (first + p->tp) / rpn;
                const vr_link *pl = next_cross ? &f->net : &f->shm;
                pp_net |= next_cross;
                double piece = M * c->hidden * w / p->tp;
                snd[st] = xfer_s(pl, 1, piece) + swap_s(tl, p->tp - 1, piece);
                pp_bytes = piece;
            }
            double busy = comp[st] + tps[st];
            double sp = busy > snd[st] ? busy : snd[st];
            if (sp > period)
                period = sp;
        }
        own[r] = period;
        if (period > worst_period) {
            worst_period = period;
            memcpy(out->compute_s, comp, sizeof(double) * p->pp);
            memcpy(out->tp_s, tps, sizeof(double) * p->pp);
            memcpy(out->send_s, snd, sizeof(double) * p->pp);
            out->tp_bytes = tp_bytes;
            out->pp_bytes = pp_bytes;
            out->tp_link_net = tp_net;
            out->pp_link_net = pp_net;
        }
    }
    int shared = 0; /* the cores, not a stage or link, set some replica's period */
    for (int r = 0; r < p->dp; r++) {
        double period = own[r];
        if (period > out->alone_period_s)
            out->alone_period_s = period;
        long lo = (long)r * p->pp * p->tp / rpn, hi = ((long)(r + 1) * p->pp * p->tp - 1) / rpn;
        for (long n = lo; n <= hi; n++)
            if (node_s[n] / f->cores > period * (1 + 1e-9)) {
                period = node_s[n] / f->cores;
                shared = 1;
            }
        total += s->batch / period;
        if (period > worst_period)
            worst_period = period;
    }
    free(node_s);
    free(own);
    out->images_per_s = total;
    out->period_s = worst_period;
    out->memory_per_rank = mem;
    double mean = 0, most = -1;
    int slow = 0; /* the stage that sets the period */
    for (int st = 0; st < p->pp; st++) {
        double busy = out->compute_s[st] + out->tp_s[st];
        double sp = busy > out->send_s[st] ? busy : out->send_s[st];
        out->busy[st] = busy / worst_period;
        mean += sp / p->pp;
        if (sp > most) {
            most = sp;
            slow = st;
        }
    }
    if (mem > mem_per_rank)
        out->bound = VR_BOUND_MEMORY;
    else if (shared)
        out->bound = VR_BOUND_COMPUTE;
    else if (out->send_s[slow] >= out->compute_s[slow] + out->tp_s[slow] ||
             out->tp_s[slow] >= out->compute_s[slow])
        out->bound = VR_BOUND_NETWORK;
    else if (p->pp > 1 && worst_period > 1.15 * mean)
        out->bound = VR_BOUND_STAGE;
    else
        out->bound = VR_BOUND_COMPUTE;
    return VR_OK;
}

double vr_perf_run_seconds(const vr_perf *r, int pp, size_t n, int batch)
{
    size_t mb = (n + (size_t)batch - 1) / (size_t)batch;
    double sends = 0;
    for (int st = 0; st < pp && st < VR_PERF_MAX_PP; st++)
        sends += r->send_s[st];
    double shared = (double)mb * r->period_s, alone = ((double)mb + pp - 1) * r->alone_period_s;
    double fill = ((double)mb + pp - 1) * r->period_s;
    if (r->alone_period_s > 0 && r->alone_period_s < r->period_s)
        fill = shared > alone ? shared : alone;
    return mb ? fill + sends : 0;
}

static int by_choice(const void *a, const void *b)
{
    const vr_perf_choice *x = a, *y = b;
    if (x->fits != y->fits)
        return y->fits - x->fits;
    if (x->images_per_s != y->images_per_s)
        return x->images_per_s < y->images_per_s ? 1 : -1;
    return x->memory_per_rank < y->memory_per_rank ? -1 : x->memory_per_rank > y->memory_per_rank;
}

/* Whether x's prediction rests more firmly than y's (vr_perf_search's
 * lead among near-equals): fewer ranks per replica, then rows per
 * micro-batch nearer VR_PERF_CALIBRATED_ROWS, then less memory. */
static int firmer(const vr_perf_choice *x, const vr_perf_choice *y)
{
    int rx = x->pp * x->tp, ry = y->pp * y->tp;
    if (rx != ry)
        return rx < ry;
    double dx = fabs(log((double)x->rows / VR_PERF_CALIBRATED_ROWS));
    double dy = fabs(log((double)y->rows / VR_PERF_CALIBRATED_ROWS));
    if (fabs(dx - dy) > 1e-9)
        return dx < dy;
    return x->memory_per_rank < y->memory_per_rank;
}

/* The stage of r that sets its period, and how far the stages are from even. */
static void slowest_stage(const vr_perf *r, int pp, vr_perf_choice *ch)
{
    double most = -1, sum = 0;
    ch->fill_send_s = 0;
    for (int st = 0; st < pp; st++) {
        ch->fill_send_s += r->send_s[st];
        double busy = r->compute_s[st] + r->tp_s[st];
        double sp = busy > r->send_s[st] ? busy : r->send_s[st];
        sum += sp;
        if (sp > most) {
            most = sp;
            ch->compute_s = r->compute_s[st];
            ch->tp_s = r->tp_s[st];
            ch->send_s = r->send_s[st];
        }
    }
    ch->period_s = r->period_s;
    ch->alone_period_s = r->alone_period_s;
    ch->imbalance = sum > 0 ? most * pp / sum : 1;
}

vr_status vr_perf_search(const vr_config *c, int nodes, int ranks_per_node,
                         const vr_perf_setup *s, const vr_profile *prof, double mem_per_rank,
                         vr_perf_choice **out, size_t *n)
{
    long ranks = (long)nodes * ranks_per_node;
    size_t cap = 64, k = 0;
    vr_perf_choice *ch = malloc(cap * sizeof *ch);
    *out = NULL;
    *n = 0;
    if (!ch)
        return vr_fail(VR_ERR_NOMEM, "cannot allocate the layout search");
    if (mem_per_rank <= 0)
        mem_per_rank = prof->mem_bytes / ranks_per_node;
    int threads = s->threads > 0                       ? s->threads
                  : prof->cores / ranks_per_node > 0 ? prof->cores / ranks_per_node
                                                     : 1;
    for (long tp = 1; tp <= ranks && tp <= (long)c->heads; tp++) {
        if (ranks % tp)
            continue;
        for (long pp = 1; pp * tp <= ranks && pp <= (long)c->layers &&
                          pp <= VR_PERF_MAX_PP; pp++) {
            if (ranks % (tp * pp))
                continue;
            long dp = ranks / (tp * pp);
            vr_plan plan;
            if (vr_plan_build(&plan, c, (int)dp, (int)pp, (int)tp, NULL))
                continue; /* (a split it cannot make) */
            for (int b = 1; b <= 64; b *= 2) {
                vr_perf_setup su = *s;
                vr_perf r;
                su.batch = b;
                su.threads = threads;
                su.ranks_per_node = ranks_per_node;
                if (vr_perf_predict(&plan, &su, prof, mem_per_rank, &r))
                    continue;
                if (k == cap) {
                    vr_perf_choice *m = realloc(ch, 2 * cap * sizeof *ch);
                    if (!m) {
                        vr_plan_free(&plan);
                        free(ch);
                        return vr_fail(VR_ERR_NOMEM, "cannot allocate the layout search");
                    }
                    ch = m;
                    cap *= 2;
                }
                ch[k] = (vr_perf_choice){.dp = (int)dp, .pp = (int)pp, .tp = (int)tp,
                                         .batch = b, .threads = threads,
                                         .rows = (size_t)b * c->tokens,
                                         .images_per_s = r.images_per_s,
                                         .memory_per_rank = r.memory_per_rank, .bound = r.bound,
                                         .fits = r.memory_per_rank <= mem_per_rank,
                                         .tp_bytes = r.tp_bytes, .pp_bytes = r.pp_bytes,
                                         .tp_link_net = r.tp_link_net,
                                         .pp_link_net = r.pp_link_net};
                slowest_stage(&r, (int)pp, &ch[k]);
                k++;
            }
            vr_plan_free(&plan);
        }
    }
    qsort(ch, k, sizeof *ch, by_choice);
    /* Within 1% of the fastest the model cannot tell layouts apart; the
     * lead is the one its prediction rests on most firmly: the fewest ranks
     * per replica (stage boundaries and TP exchanges carry waits the model
     * counts only on average: measured, they made it optimistic), then the
     * batch whose rows are nearest those the calibration timed, then the
     * least memory. */
    size_t lead = 0;
    for (size_t i = 1; i < k && ch[0].fits && ch[i].fits &&
                       ch[i].images_per_s >= 0.99 * ch[0].images_per_s; i++)
        if (firmer(&ch[i], &ch[lead]))
            lead = i;
    if (lead) {
        vr_perf_choice t = ch[lead];
        memmove(ch + 1, ch, lead * sizeof *ch);
        ch[0] = t;
    }
    *out = ch;
    *n = k;
    return VR_OK;
}

void vr_perf_print(const vr_perf_choice *ch, size_t n, size_t top, int json, FILE *f)
{
    if (json) {
        fprintf(f, "[");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s\n {\"dp\": %d, \"pp\": %d, \"tp\": %d, \"batch\": %d, "
                       "\"threads\": %d, \"images_per_s\": %.6g, \"memory_per_rank\": %.6g, "
                       "\"bound\": \"%s\", \"fits\": %s, \"period_s\": %.6g, "
                       "\"stage_compute_s\": %.6g, \"stage_tp_s\": %.6g, \"stage_send_s\": %.6g, "
                       "\"imbalance\": %.6g, \"tp_bytes\": %.6g, \"tp_link\": \"%s\", "
                       "\"pp_bytes\": %.6g, \"pp_link\": \"%s\", \"fill_send_s\": %.6g, "
                       "\"alone_period_s\": %.6g, \"rows\": %zu}",
                    i ? "," : "", ch[i].dp, ch[i].pp, ch[i].tp, ch[i].batch, ch[i].threads,
                    ch[i].images_per_s, ch[i].memory_per_rank, vr_bound_name(ch[i].bound),
                    ch[i].fits ? "true" : "false", ch[i].period_s, ch[i].compute_s, ch[i].tp_s,
                    ch[i].send_s, ch[i].imbalance, ch[i].tp_bytes,
                    ch[i].tp_link_net ? "net" : "shm", ch[i].pp_bytes,
                    ch[i].pp_link_net ? "net" : "shm", ch[i].fill_send_s, ch[i].alone_period_s,
                    ch[i].rows);
        fprintf(f, "\n]\n");
        return;
    }
    fprintf(f, "%4s %4s %4s %6s %8s %12s %14s  %s\n", "dp", "pp", "tp", "batch", "threads",
            "images/s", "MB per rank", "bound");
    for (size_t i = 0; i < n && i < top; i++)
        fprintf(f, "%4d %4d %4d %6d %8d %12.2f %14.0f  %s%s\n", ch[i].dp, ch[i].pp, ch[i].tp,
                ch[i].batch, ch[i].threads, ch[i].images_per_s, ch[i].memory_per_rank / 1e6,
                vr_bound_name(ch[i].bound), ch[i].fits ? "" : " (does not fit)");
}
