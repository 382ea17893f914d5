/* plan.c - cost-balanced split of the half-blocks into pipeline stages,
 * even head split, proportional MLP split. */
#include "plan.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* FLOPs per image of half-block j with Hl heads and Ml MLP columns. The
 * model's last layer computes every token's queries, keys and values but
 * the rest only for the rows the head reads (the class token, for
 * class-token pooling; forward.c). */
static double part_flops(const vr_config *c, size_t j, size_t Hl, size_t Ml)
{
    double T = (double)c->tokens, D = (double)c->hidden, Hd = (double)(Hl * c->head_dim);
    double rows = j / 2 + 1 == c->layers ? (double)c->head_rows : T; /* query rows after qkv */
    double fc1 = c->act == VR_ACT_SWIGLU ? 2.0 : 1.0;
    if (j % 2 == 0)
        return 2.0 * T * D * 3 * Hd      /* qkv, column-parallel */
               + 2.0 * 2 * rows * T * Hd /* scores and weighted sum */
               + 2.0 * rows * Hd * D     /* proj, row-parallel */
               + 10.0 * T * D;           /* norm and residual: small but not zero */
    return 2.0 * (1.0 + fc1) * rows * D * (double)Ml /* fc1 and fc2 */
           + 10.0 * rows * D;                          /* norm, activation and residual */
}

static double embed_flops(const vr_config *c)
{
    return 2.0 * (double)c->patches * (double)c->patch_len * (double)c->hidden +
           (c->norm_pre ? 12.0 : 4.0) * (double)c->tokens * (double)c->hidden;
}

static double head_flops(const vr_config *c)
{
    return vr_config_head_flops(c) + 10.0 * (double)c->head_rows * (double)c->hidden;
}

double vr_shard_flops(const vr_config *c, const vr_shard *s)
{
    double f = 0;
    for (size_t j = s->part_begin; j < s->part_end; j++)
        f += part_flops(c, j, vr_shard_heads(s), vr_shard_mlp(s));
    if (s->has_embed)
        f += embed_flops(c);
    if (s->has_head)
        f += head_flops(c);
    return f;
}

size_t vr_shard_weight_bytes(const vr_config *c, const vr_shard *s)
{
    size_t D = c->hidden, hd = c->head_dim, Hd = vr_shard_heads(s) * hd, Ml = vr_shard_mlp(s);
    size_t fc1 = c->act == VR_ACT_SWIGLU ? 2 * Ml : Ml, ls = c->layer_scale ? D : 0;
    size_t attention = 2 * D + 3 * Hd * D + 3 * Hd + D * Hd + D + (c->qk_norm ? 4 * hd : 0) + ls;
    size_t mlp = (c->parallel_block ? 0 : 2 * D) + fc1 * D + fc1 + D * Ml + D + ls;
    size_t n = 0;
    for (size_t j = s->part_begin; j < s->part_end; j++)
        n += j % 2 ? mlp : attention;
    if (s->has_embed)
        n += D * c->patch_len + D + c->prefix * D + c->pos_tokens * D + (c->norm_pre ? 2 * D : 0);
    if (s->has_head) {
        size_t Pw = c->pooled, Mp = c->pool_mlp_dim;
        if (c->final_norm != VR_NORM_NONE)
            n += 2 * (c->final_norm == VR_NORM_POST_POOL ? Pw : D);
        if (c->pool == VR_POOL_MAP)
            n += 2 * D + 4 * D * D + 3 * D + 2 * D + 2 * Mp * D + Mp + D + D;
        if (c->head == VR_HEAD_PROJECTION)
            n += c->embed_dim * Pw;
        else if (c->head != VR_HEAD_NONE)
            n += c->classes * Pw + c->classes;
        if (c->head == VR_HEAD_DISTILLED)
            n += c->classes * D + c->classes;
    }
    return n * sizeof(float);
}

/* Cost per image of stage s (the whole model: unsplit TP); pre[j] is the
 * cost of half-blocks [0, j). */
static double stage_cost(const vr_config *c, const double *pre, const size_t *split, int pp,
                         int s)
{
    return pre[split[s + 1]] - pre[split[s]] + (s == 0 ? embed_flops(c) : 0.0) +
           (s == pp - 1 ? head_flops(c) : 0.0);
}

static double max_cost(const vr_config *c, const double *pre, const size_t *split, int pp)
{
    double m = 0;
    for (int s = 0; s < pp; s++) {
        double x = stage_cost(c, pre, split, pp, s);
        m = x > m ? x : m;
    }
    return m;
}

/* Greedy: fill each stage up to `cap`, keeping a half-block for every later
 * stage. Returns 0 if some stage must exceed cap. */
static int fits(const vr_config *c, const double *pre, int pp, double cap, size_t *split)
{
    /* a parallel block's MLP reads its attention's LayerNorm: whole blocks */
    size_t P = 2 * c->layers, j = 0, step = c->parallel_block ? 2 : 1;
    for (int s = 0; s < pp; s++) {
        split[s] = j;
        size_t last = P - step * (size_t)(pp - 1 - s);
        double base = (s == 0 ? embed_flops(c) : 0.0) - pre[split[s]];
        j += step; /* at least one half-block (block) */
        while (j + step <= last && base + pre[j + step] <= cap)
            j += step;
        if (s == pp - 1)
            j = P;
        split[s + 1] = j;
        if (stage_cost(c, pre, split, pp, s) > cap)
            return 0;
    }
    split[pp] = P;
    return 1;
}

static vr_status split_parts(vr_plan *p)
{
    const vr_config *c = &p->cfg;
    int pp = p->pp;
    size_t P = 2 * c->layers;
    double *pre = malloc((P + 1) * sizeof *pre);
    if (!pre)
        return vr_fail(VR_ERR_NOMEM, "cannot allocate the plan");
    pre[0] = 0;
    for (size_t j = 0; j < P; j++)
        pre[j + 1] = pre[j] + part_flops(c, j, c->heads, c->mlp_dim);
    double E = embed_flops(c), total = E + head_flops(c) + pre[P];
    /* The smallest max-stage cost the greedy cut achieves (binary search). */
    double lo = 0, hi = total;
    for (int it = 0; it < 200 && hi - lo > 1e-12 * total; it++) {
        double mid = 0.5 * (lo + hi);
        if (fits(c, pre, pp, mid, p->part_split))
            hi = mid;
        else
            lo = mid;
    }
    if (!fits(c, pre, pp, hi * (1 + 1e-12), p->part_split)) {
        free(pre);
        return vr_fail(VR_ERR_INTERNAL, "layer planner found no split");
    }
    /* Greedy front-loads stages (12 layers on 5: 3,3,3,2,1). Cutting where
     * the cumulative cost is nearest even shares is as good when its busiest
     * stage is no busier, and spreads the slack (3,3,2,2,2): prefer it then. */
    size_t even[pp + 1];
    even[0] = 0;
    for (int s = 1; s < pp; s++) {
        double target = total * s / pp - E; /* cost of half-blocks before the cut */
        size_t step = c->parallel_block ? 2 : 1;
        size_t lo_k = even[s - 1] + step, hi_k = P - step * (size_t)(pp - s), k = lo_k;
        for (size_t j = lo_k; j <= hi_k; j += step)
            if (fabs(pre[j] - target) < fabs(pre[k] - target))
                k = j;
        even[s] = k;
    }
    even[pp] = P;
    if (max_cost(c, pre, even, pp) <= max_cost(c, pre, p->part_split, pp) * (1 + 1e-12))
        memcpy(p->part_split, even, sizeof even);
    free(pre);
    return VR_OK;
}

vr_status vr_plan_build(vr_plan *p, const vr_config *c, int dp, int pp, int tp,
                        const size_t *layers)
{
    memset(p, 0, sizeof *p);
    p->cfg = *c;
    p->dp = dp;
    p->pp = pp;
    p->tp = tp;
    if (dp < 1 || pp < 1 || tp < 1)
        return vr_fail(VR_ERR_USAGE, "--dp, --pp and --tp must be at least 1");
    if ((size_t)pp > c->layers)
        return vr_fail(VR_ERR_USAGE, "--pp %d asks for more pipeline stages than the model's "
                       "%zu layers", pp, c->layers);
    if ((size_t)tp > c->heads)
        return vr_fail(VR_ERR_USAGE, "--tp %d asks for more tensor-parallel ranks than the "
                       "model's %zu attention heads", tp, c->heads);
    p->part_split = calloc((size_t)pp + 1, sizeof *p->part_split);
    p->head_split = calloc((size_t)tp + 1, sizeof *p->head_split);
    p->mlp_split = calloc((size_t)tp + 1, sizeof *p->mlp_split);
    if (!p->part_split || !p->head_split || !p->mlp_split) {
        vr_plan_free(p);
        return vr_fail(VR_ERR_NOMEM, "cannot allocate the plan");
    }
    vr_status st = VR_OK;
    if (layers) {
        size_t sum = 0;
        for (int s = 0; s < pp && !st; s++) {
            p->part_split[s] = sum;
            if (layers[s] == 0)
                st = vr_fail(VR_ERR_USAGE, "--layers: stage %d has no layers", s);
            sum += layers[s];
        }
        p->part_split[pp] = sum;
        if (!st && sum != 2 * c->layers)
            st = vr_fail(VR_ERR_USAGE, "--layers adds up to %g layers, the model has %zu",
                         (double)sum / 2, c->layers);
        for (int s = 0; s < pp && !st && c->parallel_block; s++)
            if (layers[s] % 2)
                st = vr_fail(VR_ERR_USAGE, "--layers: stage %d has %g layers, but the model's "
                             "blocks are parallel (attention and MLP read one LayerNorm) and "
                             "cannot be cut between them; give whole layers", s,
                             (double)layers[s] / 2);
    } else {
        st = split_parts(p);
    }
    if (st) {
        vr_plan_free(p);
        return st;
    }
    /* 12 heads on 5 ranks: 3,3,2,2,2; MLP columns follow the heads' share. */
    size_t H = c->heads, base = H / (size_t)tp, extra = H % (size_t)tp;
    for (int t = 0; t < tp; t++) {
        p->head_split[t + 1] = p->head_split[t] + base + ((size_t)t < extra ? 1 : 0);
        p->mlp_split[t + 1] = (c->mlp_dim * p->head_split[t + 1] + H / 2) / H;
    }
    p->mlp_split[tp] = c->mlp_dim;
    for (int t = 0; t < tp; t++)
        if (p->mlp_split[t + 1] <= p->mlp_split[t]) {
            vr_plan_free(p);
            return vr_fail(VR_ERR_USAGE, "--tp %d leaves tensor-parallel rank %d no MLP "
                           "columns (the model's MLP has %zu, shared as its %zu heads are); "
                           "use a smaller --tp", tp, t, c->mlp_dim, H);
        }
    return VR_OK;
}

void vr_plan_free(vr_plan *p)
{
    free(p->part_split);
    free(p->head_split);
    free(p->mlp_split);
    p->part_split = p->head_split = p->mlp_split = NULL;
}

vr_shard vr_plan_shard(const vr_plan *p, int stage, int t)
{
    vr_shard s;
    vr_shard_set_parts(&s, p->part_split[stage], p->part_split[stage + 1]);
    s.head_begin = p->head_split[t];
    s.head_end = p->head_split[t + 1];
    s.mlp_begin = p->mlp_split[t];
    s.mlp_end = p->mlp_split[t + 1];
    s.has_embed = stage == 0;
    s.has_head = stage == p->pp - 1;
    s.bias_owner = t == 0;
    return s;
}

void vr_plan_microbatch(size_t m, size_t batch, size_t n, size_t *first, size_t *count)
{
    *first = m * batch;
    *count = *first >= n ? 0 : (n - *first < batch ? n - *first : batch);
}

void vr_plan_print(const vr_plan *p, FILE *fp)
{
    const vr_config *c = &p->cfg;
    fprintf(fp, "plan: %d ranks = %d replica(s) x %d stage(s) x %d tensor-parallel rank(s)\n",
            p->dp * p->pp * p->tp, p->dp, p->pp, p->tp);
    fprintf(fp, "model: %zu layers, width %zu, %zu heads, MLP %zu, %zu tokens, %.2f GFLOP/image\n",
            c->layers, c->hidden, c->heads, c->mlp_dim, c->tokens,
            vr_config_flops_per_image(c) * 1e-9);
    fprintf(fp, "input: %zux%zu pixels, %zux%zu patches", c->image_h, c->image_w, c->grid_h,
            c->grid_w);
    if (c->pos_grid_h != c->grid_h || c->pos_grid_w != c->grid_w)
        fprintf(fp, "; position table resampled from %zux%zu (%s)", c->pos_grid_h,
                c->pos_grid_w, vr_pos_resample_name(c->pos_resample));
    fprintf(fp, "\n");
    char regs[48] = "";
    if (c->reg_tokens)
        snprintf(regs, sizeof regs, "%zu registers + ", c->reg_tokens);
    fprintf(fp, "variant: tokens %s%s%s%zu patches (positions over %s)%s; %sblocks %s%s%s%s; "
            "pooling %s%s, head %s",
            c->class_token ? "class + " : "", c->dist_token ? "distillation + " : "", regs,
            c->patches, c->pos == VR_POS_ALL ? "all" : "the patches",
            c->norm_pre ? ", norm_pre" : "", c->parallel_block ? "parallel " : "",
            vr_act_name(c->act),
            c->qkv_bias ? "" : ", no qkv bias", c->qk_norm ? ", qk_norm" : "",
            c->layer_scale ? ", LayerScale" : "", vr_pool_name(c->pool),
            c->final_norm == VR_NORM_POST_POOL ? " then fc_norm"
            : c->final_norm == VR_NORM_NONE    ? " (no final norm)"
                                               : "",
            vr_head_name(c->head));
    if (c->head == VR_HEAD_PROJECTION)
        fprintf(fp, " to %zu", c->embed_dim);
    else if (c->classes)
        fprintf(fp, ", %zu classes", c->classes);
    fprintf(fp, " (on the last stage's tp rank 0); the last block on %s\n",
            c->head_rows == 1 ? "the class token" : "every token");
    fprintf(fp, "%5s %7s %5s %3s %-9s %-9s %-11s %10s %12s  %s\n", "rank", "replica", "stage",
            "tp", "layers", "heads", "mlp cols", "weights MB", "GFLOP/image", "extra");
    for (int d = 0; d < p->dp; d++)
        for (int s = 0; s < p->pp; s++)
            for (int t = 0; t < p->tp; t++) {
                vr_shard sh = vr_plan_shard(p, s, t);
                char lay[48], hd[32], ml[32];
                /* a: ends after that layer's attention; m: begins at its MLP */
                snprintf(lay, sizeof lay, "%zu%s-%zu%s", sh.part_begin / 2,
                         sh.part_begin % 2 ? "m" : "", (sh.part_end - 1) / 2,
                         sh.part_end % 2 ? "a" : "");
                snprintf(hd, sizeof hd, "%zu-%zu", sh.head_begin, sh.head_end - 1);
                snprintf(ml, sizeof ml, "%zu-%zu", sh.mlp_begin, sh.mlp_end - 1);
                fprintf(fp, "%5d %7d %5d %3d %-9s %-9s %-11s %10.1f %12.3f  %s%s\n",
                        (d * p->pp + s) * p->tp + t, d, s, t, lay, hd, ml,
                        (double)vr_shard_weight_bytes(c, &sh) / 1e6,
                        vr_shard_flops(c, &sh) * 1e-9, sh.has_embed ? "embed " : "",
                        sh.has_head ? "head" : "");
            }
    double worst = 0, load[p->pp];
    for (int s = 0; s < p->pp; s++) {
        load[s] = 0;
        for (int t = 0; t < p->tp; t++) {
            vr_shard sh = vr_plan_shard(p, s, t);
            double f = vr_shard_flops(c, &sh);
            load[s] = f > load[s] ? f : load[s]; /* a stage waits for its slowest rank */
        }
        worst = load[s] > worst ? load[s] : worst;
    }
    fprintf(fp, "predicted stage load (busiest rank of the stage / busiest stage):");
    for (int s = 0; s < p->pp; s++)
        fprintf(fp, " %.2f", load[s] / worst);
    fprintf(fp, "\n");
}

vr_status vr_plan_parse_layers(const char *s, size_t *out, int pp)
{
    int n = 0;
    const char *q = s;
    while (*q) {
        char *end;
        errno = 0;
        if (*q == '-' || *q == '+')
            break;
        unsigned long long v = strtoull(q, &end, 10);
        if (end == q || errno || v > VR_MAX_LAYERS)
            break;
        v *= 2; /* in half-blocks: "3.5" is a layer's attention more than 3 layers */
        if (end[0] == '.' && end[1] == '5') {
            v++;
            end += 2;
        } else if (end[0] == '.' && end[1] == '0') {
            end += 2;
        }
        if (n < pp)
            out[n] = (size_t)v;
        n++;
        q = end;
        if (*q == ',')
            q++;
        else if (*q)
            break;
    }
    if (*q || n != pp)
        return vr_fail(VR_ERR_USAGE, "--layers '%s' must be %d comma-separated layer counts, "
                       "one per pipeline stage (e.g. 4,4,3,1; x.5 ends or begins a stage "
                       "between a layer's attention and its MLP, e.g. 6.5,5.5)", s, pp);
    return VR_OK;
}
