/* test_plan.c - the planner, checked over simulated ranks in one process.
 *
 * Coverage (every layer, head and MLP column owned exactly once), the head
 * split of the issue (12 heads on 5 ranks: 3,3,2,2,2), optimality of the
 * layer split against a brute-force search over all contiguous splits, the
 * weight accounting, and the --layers parser. Exits 1 on any failure. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../partition/plan.h"

static int failures, checks;

#define CHECK(cond, ...)                    \
    do {                                    \
        checks++;                           \
        if (!(cond)) {                      \
            failures++;                     \
            printf("FAIL: " __VA_ARGS__);   \
            printf("\n");                   \
        }                                   \
    } while (0)

static vr_config model(size_t layers, size_t heads, size_t hidden, size_t mlp)
{
    vr_config c = {.image_h = 224, .image_w = 224, .patch_size = 16, .channels = 3, .hidden = hidden,
                   .layers = layers, .heads = heads, .mlp_dim = mlp, .classes = 1000,
                   .ln_eps = 1e-6};
    vr_config_classic(&c);
    if (vr_config_check(&c, "test") != VR_OK)
        printf("bad test config: %s\n", vr_last_error());
    return c;
}

/* Busiest stage of the best contiguous split of the half-blocks into pp
 * stages, by exhaustive search (memoised on stage and first half-block). */
static double memo[16][64];

static double best_from(const vr_config *c, int pp, size_t first, int stage)
{
    size_t P = 2 * c->layers;
    if (memo[stage][first] >= 0)
        return memo[stage][first];
    double best = INFINITY;
    for (size_t end = first + 1; end + (size_t)(pp - 1 - stage) <= P; end++) {
        if (stage == pp - 1 && end != P)
            continue;
        vr_shard s = {0, 0, 0, 0, 0, c->heads, 0, c->mlp_dim, stage == 0, stage == pp - 1, 1};
        vr_shard_set_parts(&s, first, end);
        double here = vr_shard_flops(c, &s);
        double rest = stage == pp - 1 ? 0 : best_from(c, pp, end, stage + 1);
        double worst = here > rest ? here : rest;
        best = worst < best ? worst : best;
    }
    return memo[stage][first] = best;
}

static double best_split(const vr_config *c, int pp)
{
    for (int s = 0; s < 16; s++)
        for (int j = 0; j < 64; j++)
            memo[s][j] = -1;
    return best_from(c, pp, 0, 0);
}

static void check_plan(const vr_config *c, int pp, int tp)
{
    vr_plan p;
    vr_status st = vr_plan_build(&p, c, 2, pp, tp, NULL);
    CHECK(st == VR_OK, "plan L=%zu H=%zu pp=%d tp=%d: %s", c->layers, c->heads, pp, tp,
          vr_last_error());
    if (st)
        return;
    int part_owner[8192] = {0};
    double worst = 0;
    size_t bytes = 0;
    for (int s = 0; s < pp; s++) {
        int head_owner[64] = {0};
        size_t mlp_cols = 0, prev_mlp_end = 0, min_h = 1 << 30, max_h = 0;
        for (int t = 0; t < tp; t++) {
            vr_shard sh = vr_plan_shard(&p, s, t);
            CHECK(sh.part_end > sh.part_begin, "stage %d empty", s);
            CHECK(sh.layer_begin == sh.part_begin / 2 && sh.layer_end == (sh.part_end + 1) / 2,
                  "stage %d: layers %zu-%zu for half-blocks %zu-%zu", s, sh.layer_begin,
                  sh.layer_end, sh.part_begin, sh.part_end);
            if (t == 0)
                for (size_t j = sh.part_begin; j < sh.part_end; j++)
                    part_owner[j]++;
            for (size_t h = sh.head_begin; h < sh.head_end; h++)
                head_owner[h]++;
            size_t nh = vr_shard_heads(&sh);
            min_h = nh < min_h ? nh : min_h;
            max_h = nh > max_h ? nh : max_h;
            CHECK(sh.mlp_begin == prev_mlp_end, "MLP columns not contiguous at t=%d", t);
            prev_mlp_end = sh.mlp_end;
            mlp_cols += vr_shard_mlp(&sh);
            CHECK(sh.has_embed == (s == 0) && sh.has_head == (s == pp - 1),
                  "embed/head on the wrong stage %d", s);
            CHECK(sh.bias_owner == (t == 0), "bias owner wrong at t=%d", t);
            bytes += vr_shard_weight_bytes(c, &sh);
            if (t == 0) {
                double f = vr_shard_flops(c, &sh) / tp;
                worst = f > worst ? f : worst;
            }
        }
        for (size_t h = 0; h < c->heads; h++)
            CHECK(head_owner[h] == 1, "head %zu owned %d times (stage %d)", h, head_owner[h], s);
        CHECK(max_h - min_h <= 1, "head split uneven by more than one");
        CHECK(mlp_cols == c->mlp_dim, "MLP columns %zu != %zu", mlp_cols, c->mlp_dim);
    }
    for (size_t j = 0; j < 2 * c->layers; j++)
        CHECK(part_owner[j] == 1, "half-block %zu owned %d times", j, part_owner[j]);
    /* Everything once, plus the parts every TP rank replicates (LayerNorms,
     * row-parallel biases, embedding and head). */
    size_t D = c->hidden, rep_layer = 6 * D, rep = c->layers * rep_layer + D * c->patch_len +
        2 * D + c->tokens * D + 2 * D + c->classes * D + c->classes;
    CHECK(bytes == 4 * (vr_config_param_count(c) + (size_t)(tp - 1) * rep),
          "weight bytes %zu do not add up (pp=%d tp=%d)", bytes, pp, tp);
    if (c->layers <= 24) {
        double opt = 0;
        vr_plan q;
        vr_plan_build(&q, c, 1, pp, 1, NULL);
        for (int s = 0; s < pp; s++) {
            vr_shard sh = vr_plan_shard(&q, s, 0);
            double f = vr_shard_flops(c, &sh);
            opt = f > opt ? f : opt;
        }
        double brute = best_split(c, pp);
        CHECK(fabs(opt - brute) <= 1e-9 * brute,
              "L=%zu pp=%d: busiest stage %.6g GFLOP, the best split has %.6g", c->layers, pp,
              opt * 1e-9, brute * 1e-9);
        vr_plan_free(&q);
    }
    vr_plan_free(&p);
}

int main(void)
{
    vr_config b16 = model(12, 12, 768, 3072), l16 = model(24, 16, 1024, 4096),
              odd = model(7, 5, 320, 1000);
    for (int pp = 1; pp <= 12; pp++)
        for (int tp = 1; tp <= 12; tp++)
            check_plan(&b16, pp, tp);
    for (int pp = 1; pp <= 8; pp++)
        for (int tp = 1; tp <= 16; tp += 3)
            check_plan(&l16, pp, tp);
    for (int pp = 1; pp <= 7; pp++)
        for (int tp = 1; tp <= 5; tp++)
            check_plan(&odd, pp, tp);

    vr_plan p;
    vr_plan_build(&p, &b16, 1, 1, 5, NULL);
    size_t want[] = {3, 3, 2, 2, 2};
    for (int t = 0; t < 5; t++) {
        vr_shard sh = vr_plan_shard(&p, 0, t);
        CHECK(vr_shard_heads(&sh) == want[t], "12 heads on 5 ranks: rank %d has %zu, want %zu", t,
              vr_shard_heads(&sh), want[t]);
        CHECK(vr_shard_mlp(&sh) == 3072 * want[t] / 12, "rank %d MLP share %zu", t,
              vr_shard_mlp(&sh));
    }
    vr_plan_free(&p);

    size_t layers[4];
    CHECK(vr_plan_parse_layers("4,4,3,1", layers, 4) == VR_OK && layers[3] == 2, "parse 4,4,3,1");
    CHECK(vr_plan_build(&p, &b16, 1, 4, 1, layers) == VR_OK && p.part_split[2] == 16 &&
              p.part_split[3] == 22, "--layers 4,4,3,1 honoured");
    vr_plan_free(&p);
    CHECK(vr_plan_parse_layers("4,4,3", layers, 4) != VR_OK, "three counts for four stages");
    CHECK(vr_plan_parse_layers("4,x,3,1", layers, 4) != VR_OK, "non-number");
    CHECK(vr_plan_parse_layers("4,-4,3,1", layers, 4) != VR_OK, "negative");
    CHECK(vr_plan_parse_layers("4,3.7,3,1", layers, 4) != VR_OK, "a fraction other than .5");
    CHECK(vr_plan_parse_layers("6.5,0.5,4,1", layers, 4) == VR_OK && layers[0] == 13 &&
              layers[1] == 1 && layers[3] == 2, "parse 6.5,0.5,4,1 into half-blocks");
    CHECK(vr_plan_build(&p, &b16, 1, 4, 1, layers) == VR_OK && p.part_split[1] == 13 &&
              p.part_split[2] == 14 && p.part_split[4] == 24, "--layers 6.5,0.5,4,1 honoured");
    vr_plan_free(&p);
    layers[0] = 12; layers[1] = 12; layers[2] = 0; layers[3] = 0;
    CHECK(vr_plan_build(&p, &b16, 1, 4, 1, layers) != VR_OK, "empty stage refused");
    layers[0] = 10; layers[1] = 12; layers[2] = 2; layers[3] = 0;
    CHECK(vr_plan_build(&p, &b16, 1, 4, 1, layers) != VR_OK, "a stage with 0 layers refused");
    layers[0] = 10; layers[1] = 10; layers[2] = 2; layers[3] = 4;
    CHECK(vr_plan_build(&p, &b16, 1, 4, 1, layers) != VR_OK, "13 layers for a 12-layer model");
    CHECK(vr_plan_build(&p, &b16, 1, 13, 1, NULL) != VR_OK, "13 stages for 12 layers refused");
    CHECK(vr_plan_build(&p, &b16, 1, 1, 13, NULL) != VR_OK, "13 TP ranks for 12 heads refused");
    vr_config tiny = model(2, 4, 32, 2); /* MLP of 2 columns over 4 heads */
    CHECK(vr_plan_build(&p, &tiny, 1, 1, 2, NULL) == VR_OK && p.mlp_split[1] == 1,
          "MLP 2 on tp 2: a column each");
    vr_plan_free(&p);
    for (int tp = 3; tp <= 4; tp++)
        CHECK(vr_plan_build(&p, &tiny, 1, 1, tp, NULL) != VR_OK &&
                  strstr(vr_last_error(), "no MLP columns"),
              "MLP 2 on tp %d: a rank without columns refused (%s)", tp, vr_last_error());

    vr_plan_build(&p, &b16, 1, 5, 1, NULL);
    printf("ViT-B/16 on 5 stages: layers per stage");
    for (int s = 0; s < 5; s++)
        printf(" %g", (double)(p.part_split[s + 1] - p.part_split[s]) / 2);
    printf("\n");
    vr_plan_free(&p);
    /* the last layer is light (its MLP runs on class tokens only), so two
     * stages balance best with the cut inside layer 5 */
    vr_plan_build(&p, &b16, 1, 2, 1, NULL);
    CHECK(p.part_split[1] % 2 == 1, "ViT-B on 2 stages cut between a layer's attention and "
          "its MLP (cut at half-block %zu)", p.part_split[1]);
    vr_plan_free(&p);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
