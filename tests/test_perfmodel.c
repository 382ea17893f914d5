/* test_perfmodel.c - the performance model against hand-computed cases.
 *
 * A 2-block ViT (16 x 16 pixels, patch 4: 17 tokens; D 64, 4 heads of 16,
 * MLP 128, 10 classes) on a made-up node whose GEMMs and attention run at
 * 1 GFLOP/s a core (no small-M penalty), a row pass costs 1 ns an element
 * and GELU 2 more, shared memory alpha 1 us beta 1 GB/s, the network alpha
 * 10 us beta 100 MB/s. Every number below is worked out by hand from the
 * model's equations (perfmodel.h) and written down, not computed by the
 * code under test. Exits 1 on any failure, printing the worst difference. */
#include <math.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include "../partition/perfmodel.h"
#include "../partition/profile.h"

static int failures, checks;
static double worst;

static void near(const char *what, double got, double want)
{
    double d = fabs(got - want) / (fabs(want) > 0 ? fabs(want) : 1);
    checks++;
    worst = d > worst ? d : worst;
    if (!(d <= 1e-12)) {
        failures++;
        printf("FAIL: %s: %.12g, expected %.12g\n", what, got, want);
    }
}

static void is(const char *what, int ok)
{
    checks++;
    if (!ok) {
        failures++;
        printf("FAIL: %s\n", what);
    }
}

static vr_config tiny(void)
{
    vr_config c = {.image_h = 16, .image_w = 16, .patch_size = 4, .channels = 3, .hidden = 64,
                   .layers = 2, .heads = 4, .mlp_dim = 128, .classes = 10, .ln_eps = 1e-6};
    vr_config_classic(&c);
    if (vr_config_check(&c, "test") != VR_OK)
        printf("bad test config: %s\n", vr_last_error());
    return c;
}

static const vr_profile node = {
    .cores = 2, .mem_bytes = 1e9, .gemm = {1e9, 1e9, 1e9}, .m_half = 0, .attn = 1e9,
    .elem_s = 1e-9, .act_s = 2e-9, .decode_s = 0, .rank_bytes = 0,
    .shm = {1e-6, 1e9}, .net = {1e-5, 1e8}};

static vr_perf predict(const vr_config *c, int dp, int pp, int tp, int rpn, double mem)
{
    vr_plan p;
    vr_perf r = {0};
    vr_perf_setup s = {.batch = 1, .threads = 1, .ranks_per_node = rpn};
    if (vr_plan_build(&p, c, dp, pp, tp, NULL) || vr_perf_predict(&p, &s, &node, mem, &r)) {
        failures++;
        printf("FAIL: no prediction for dp %d pp %d tp %d: %s\n", dp, pp, tp, vr_last_error());
    }
    vr_plan_free(&p);
    return r;
}

int main(void)
{
    vr_config c = tiny();
    is("the test model has 17 tokens", c.tokens == 17 && c.patches == 16 && c.patch_len == 48);

    /* One rank, batch 1. GEMM FLOPs (2 M N K): block 0 qkv 417792, proj 139264,
     * fc1 278528, fc2 278528; block 1 (class token only after its keys and
     * values) qkv 417792, proj 8192, fc1 16384, fc2 16384; patch embedding
     * 98304; head 1280: 1672448. Attention (4 B heads q T hd): 73984 + 4352.
     * Row passes (LayerNorms; one rank's residual adds are in its GEMMs):
     * block 0 1088 + 1088, block 1 1088 (every row's keys and values) + 64,
     * embedding 1088: 4416 elements; GELU 2176 + 128. Seconds: 1.672448e-3 +
     * 7.8336e-5 + 4.416e-6 + 2 * 2.304e-6 = 1.759808e-3. */
    vr_perf one = predict(&c, 1, 1, 1, 1, 0);
    near("1 rank: seconds per micro-batch", one.period_s, 1.759808e-3);
    near("1 rank: images/s", one.images_per_s, 1 / 1.759808e-3);
    is("1 rank: compute bound", one.bound == VR_BOUND_COMPUTE);
    near("1 rank: no TP transfers", one.tp_s[0], 0);
    near("1 rank: a 10-image run is 10 periods", vr_perf_run_seconds(&one, 1, 10, 1),
         10 * 1.759808e-3);

    /* Two replicas on two nodes: twice the images, the same period. */
    vr_perf two = predict(&c, 2, 1, 1, 1, 0);
    near("dp 2: images/s", two.images_per_s, 2 / 1.759808e-3);

    /* tp 2 on one node. Transfers: block 0's two reduce-scatters and two
     * allgathers of float rows, each one step of 8.5 rows x 256 bytes (1 us
     * + 2.176 us); block 1's two allreduces of the class token (2 steps of
     * 128 bytes: 2.256 us each); x gathered at the end (3.176 us):
     * 4 x 3.176 + 2 x 2.256 + 3.176 = 20.392 us. */
    vr_perf t2 = predict(&c, 1, 1, 2, 2, 0);
    near("tp 2: TP transfers", t2.tp_s[0], 20.392e-6);
    near("tp 2: TP bytes per rank", t2.tp_bytes, 4 * 2176 + 2 * 256 + 2176);
    is("tp 2: on shared memory", !t2.tp_link_net);
    /* each of those 7 exchanges also waits tp_sync_s for the group */
    {
        vr_profile sy = node;
        sy.tp_sync_s = 1e-4;
        vr_plan pl2;
        vr_perf r2 = {0};
        vr_perf_setup su2 = {.batch = 1, .threads = 1, .ranks_per_node = 2};
        if (vr_plan_build(&pl2, &c, 1, 1, 2, NULL) || vr_perf_predict(&pl2, &su2, &sy, 0, &r2))
            is("tp 2 with tp_sync_s predicts", 0);
        near("tp 2: 7 exchanges x tp_sync_s on top", r2.tp_s[0], 20.392e-6 + 7e-4);
        /* a link that carries 250 MB/s each way while both ends send (a
         * quarter of its 1 GB/s one way): each ring step's bytes at 2.5e8 */
        sy.tp_sync_s = 0;
        sy.shm.duplex = 2.5e8;
        if (vr_perf_predict(&pl2, &su2, &sy, 0, &r2))
            is("tp 2 with a duplex rate predicts", 0);
        near("tp 2: ring steps at the duplex rate", r2.tp_s[0],
             5 * (1e-6 + 2176 / 2.5e8) + 2 * 2 * (1e-6 + 128 / 2.5e8));
        vr_plan_free(&pl2);
    }
    /* the same group split over two nodes: alpha 10 us, beta 100 MB/s */
    vr_perf t2n = predict(&c, 1, 1, 2, 1, 0);
    near("tp 2 across nodes: TP transfers", t2n.tp_s[0],
         5 * (1e-5 + 2176 / 1e8) + 2 * 2 * (1e-5 + 128 / 1e8));
    is("tp 2 across nodes: on the network", t2n.tp_link_net);

    /* pp 2, one rank a node: stage 0 sends 17 x 64 floats (4352 bytes) over
     * the network, 10 us + 43.52 us; the stages' compute adds up to one
     * rank's (the same work, cut in two). */
    vr_perf p2 = predict(&c, 1, 2, 1, 1, 0);
    near("pp 2: send", p2.send_s[0], 1e-5 + 4352 / 1e8);
    near("pp 2: the last stage sends nothing", p2.send_s[1], 0);
    near("pp 2: stages add up to one rank", p2.compute_s[0] + p2.compute_s[1], 1.759808e-3);
    is("pp 2: across nodes", p2.pp_link_net);
    near("pp 2: bytes per send", p2.pp_bytes, 4352);
    double slow = p2.compute_s[0] > p2.compute_s[1] ? p2.compute_s[0] : p2.compute_s[1];
    near("pp 2: period is the slower stage", p2.period_s, slow);
    near("pp 2: a 10-image run fills and drains (11 periods and the first send)",
         vr_perf_run_seconds(&p2, 2, 10, 1), 11 * slow + 1e-5 + 4352 / 1e8);

    /* Parallel blocks (ViT-22B): no LayerNorm 2 (block 0: 1088 elements,
     * block 1: the class token's 64), so 1.152 us less on one rank; under
     * tp 2 block 0 has one allgather and one reduce-scatter, block 1 one
     * allreduce, x gathered at the end: 3 x 3.176 + 2.256 = 11.784 us. */
    vr_config cp = tiny();
    cp.parallel_block = 1;
    vr_perf par1 = predict(&cp, 1, 1, 1, 1, 0);
    near("parallel blocks, 1 rank: seconds per micro-batch", par1.period_s,
         1.759808e-3 - 1.152e-6);
    vr_perf par2 = predict(&cp, 1, 1, 2, 2, 0);
    near("parallel blocks, tp 2: TP transfers", par2.tp_s[0], 11.784e-6);
    near("parallel blocks, tp 2: TP bytes per rank", par2.tp_bytes, 3 * 2176 + 256);
    vr_plan pl;
    is("parallel blocks: pp 2 cuts between whole blocks",
       !vr_plan_build(&pl, &cp, 1, 2, 1, NULL) && pl.part_split[1] % 2 == 0);
    vr_plan_free(&pl);
    size_t half[2] = {1, 3};
    is("parallel blocks: a cut inside a block is refused",
       vr_plan_build(&pl, &cp, 1, 2, 1, half) == VR_ERR_USAGE);

    /* Shared cores: 4 ranks of 1 thread on a 2-core node (dp 4): each
     * replica's own period is one rank's, but the node does 4 ranks' work on
     * 2 cores, so the period doubles: 2 x 1.759808e-3, 4 images a period. */
    vr_perf sh4 = predict(&c, 4, 1, 1, 4, 0);
    near("dp 4 on 2 cores: images/s", sh4.images_per_s, 4 / (2 * 1.759808e-3));
    near("dp 4 on 2 cores: period", sh4.period_s, 2 * 1.759808e-3);
    is("dp 4 on 2 cores: compute bound", sh4.bound == VR_BOUND_COMPUTE);
    /* tp 2 on a one-core node: both ranks' compute and TP exchanges share
     * the core (a rank in an exchange copies or polls: core time the other
     * rank cannot use), so the period is twice one rank's compute plus its
     * 20.392 us of transfers. */
    {
        vr_profile one_core = node;
        one_core.cores = 1;
        vr_plan pl1;
        vr_perf r1 = {0};
        vr_perf_setup su1 = {.batch = 1, .threads = 1, .ranks_per_node = 2};
        if (vr_plan_build(&pl1, &c, 1, 1, 2, NULL) ||
            vr_perf_predict(&pl1, &su1, &one_core, 0, &r1))
            is("tp 2 on one core predicts", 0);
        near("tp 2 on one core: two ranks' compute and exchanges", r1.period_s,
             2 * (t2.compute_s[0] + 20.392e-6));
        is("tp 2 on one core: compute bound (the core)", r1.bound == VR_BOUND_COMPUTE);
        vr_plan_free(&pl1);
        /* pp 2 on the one core: the period is both stages' compute (1
         * rank's, 1.759808e-3 s), alone each stage would take its own; a
         * 10-image run takes the longer of 10 shared periods and 11 alone
         * (the fill's idle stage leaves the core to the other), plus the
         * first send on shared memory: 1 us + 4352 bytes at 1 GB/s */
        if (vr_plan_build(&pl1, &c, 1, 2, 1, NULL) ||
            vr_perf_predict(&pl1, &su1, &one_core, 0, &r1))
            is("pp 2 on one core predicts", 0);
        double st_max = r1.compute_s[0] > r1.compute_s[1] ? r1.compute_s[0] : r1.compute_s[1];
        near("pp 2 on one core: the period is both stages", r1.period_s, 1.759808e-3);
        near("pp 2 on one core: alone, the slower stage", r1.alone_period_s, st_max);
        near("pp 2 on one core: a 10-image run, the fill hidden",
             vr_perf_run_seconds(&r1, 2, 10, 1), 10 * 1.759808e-3 + 1e-6 + 4352 / 1e9);
        vr_plan_free(&pl1);
    }
    /* pp 2 with 2 ranks on 2 cores: no sharing, the stages' own periods */
    vr_perf p2s = predict(&c, 1, 2, 1, 2, 0);
    near("pp 2 on 2 cores: the slower stage", p2s.period_s,
         p2s.compute_s[0] > p2s.compute_s[1] ? p2s.compute_s[0] : p2s.compute_s[1]);

    /* full_load 0.8: a core computes at 80% when all the node's cores do.
     * On a 4-core node 1 rank keeps 1 core busy (100%), 2 ranks 2 of 4:
     * 1 - 0.2 x 1/3 = 0.9333...; 4 ranks all of them: 80%. A one-core node
     * is always full (80%). */
    {
        vr_profile ld = node;
        ld.full_load = 0.8;
        ld.cores = 4;
        const double alone = 1.759808e-3; /* the 1-rank compute above */
        vr_plan pf;
        vr_perf r = {0};
        struct { int dp, rpn, cores; double speed; const char *what; } lc[] = {
            {1, 4, 4, 1.0, "full_load: 1 rank of 4 cores at the alone rate"},
            {2, 4, 4, 1 - 0.2 / 3, "full_load: 2 ranks of 4 cores at 93.3%"},
            {4, 4, 4, 0.8, "full_load: 4 ranks of 4 cores at 80%"},
            {2, 1, 1, 0.8, "full_load: one-core nodes at 80%"},
        };
        for (size_t i = 0; i < sizeof lc / sizeof lc[0]; i++) {
            vr_perf_setup su1 = {.batch = 1, .threads = 1, .ranks_per_node = lc[i].rpn};
            ld.cores = lc[i].cores;
            if (vr_plan_build(&pf, &c, lc[i].dp, 1, 1, NULL) ||
                vr_perf_predict(&pf, &su1, &ld, 0, &r))
                is(lc[i].what, 0);
            else
                near(lc[i].what, r.compute_s[0], alone / lc[i].speed);
            vr_plan_free(&pf);
        }
    }

    /* memory: the test model's weights (0.4 MB) do not fit 1 kB a rank */
    vr_perf m = predict(&c, 1, 1, 1, 1, 1e3);
    is("a 1 kB rank is memory bound", m.bound == VR_BOUND_MEMORY);

    /* the search over 2 nodes x 2 ranks: dp pp tp = 4 with tp <= 4 heads and
     * pp <= 2 layers: (4,1,1) (2,2,1) (2,1,2) (1,2,2) (1,1,4), at
     * 7 batches each; sorted, those that fit first, fastest first */
    vr_perf_setup su = {0};
    vr_perf_choice *ch = NULL;
    size_t n = 0;
    if (vr_perf_search(&c, 2, 2, &su, &node, 0, &ch, &n))
        is("search runs", 0);
    is("search: 5 layouts x 7 batches", n == 35);
    if (n != 35)
        printf("  %zu layouts found\n", n);
    int sorted = 1, four = 1, stage = 1;
    for (size_t i = 0; i < n; i++) {
        four &= (long)ch[i].dp * ch[i].pp * ch[i].tp == 4 && ch[i].threads == 1;
        /* the period is its stage's, the slowest replica's: no shorter than
         * the replicas' mean period */
        double busy = ch[i].compute_s + ch[i].tp_s, p = ch[i].period_s;
        stage &= fabs(p - (busy > ch[i].send_s ? busy : ch[i].send_s)) <= 1e-12 * p &&
                 p * ch[i].images_per_s >= ch[i].dp * ch[i].batch * (1 - 1e-12) &&
                 ch[i].imbalance >= 1 - 1e-12 && ch[i].imbalance <= ch[i].pp + 1e-12;
        if (i > 1 && (ch[i].fits > ch[i - 1].fits ||
                  (ch[i].fits == ch[i - 1].fits && ch[i].images_per_s > ch[i - 1].images_per_s)))
            sorted = 0;
    }
    is("search: every layout uses the 4 ranks, 1 thread each", four);
    is("search: sorted (fitting first, fastest first) after the lead", sorted);
    /* the lead: within 1% of the fastest; of those the fewest ranks per
     * replica, then the batch nearest 1576 rows, then the least memory */
    double fastest = 0;
    for (size_t i = 0; i < n; i++)
        fastest = ch[i].images_per_s > fastest ? ch[i].images_per_s : fastest;
    int lead_ok = n > 1 && ch[0].fits && ch[0].images_per_s >= 0.99 * fastest;
    for (size_t i = 1; i < n; i++) {
        const vr_perf_choice *x = &ch[i], *y = &ch[0];
        if (!x->fits || x->images_per_s < 0.99 * fastest)
            continue;
        double T = (double)c.tokens;
        double dx = fabs(log(x->batch * T / 1576)), dy = fabs(log(y->batch * T / 1576));
        if (x->pp * x->tp < y->pp * y->tp ||
            (x->pp * x->tp == y->pp * y->tp &&
             (dx < dy - 1e-9 ||
              (fabs(dx - dy) <= 1e-9 && x->memory_per_rank < y->memory_per_rank))))
            lead_ok = 0;
    }
    is("search: the lead is within 1% of the fastest, the fewest ranks per replica, the batch "
       "nearest 8 images of 197 tokens, the least memory of those",
       lead_ok);
    /* here: replicas of one rank each, 64 images of 17 tokens (1088 rows) */
    is("search: that lead here is dp 4 x batch 64 (1088 rows of 17 tokens)",
       ch[0].dp == 4 && ch[0].batch == 64);
    is("search: each layout's period is its slowest stage's, imbalance in [1, pp]", stage);
    free(ch);

    /* profiles: what --calibrate writes reads back; damaged ones are refused */
    char text[4096], host[64];
    FILE *f = fmemopen(text, sizeof text, "w");
    vr_profile_write(&node, "n\"1", f);
    fclose(f);
    vr_profile back;
    is("profile: written, read back",
       !vr_profile_parse(&back, host, sizeof host, text, strlen(text), "p.json") &&
           !strcmp(host, "n\"1") && back.cores == 2 && back.gemm[0] == 1e9 &&
           back.net.beta == 1e8 && back.shm.alpha == 1e-6 && back.act_s == 2e-9);
    static const char *const bad[][2] = {
        {"", "expected '{'"},
        {"{\"format\": \"vitrun-profile 2\"}", "this vitrun reads"},
        {"{\"format\": \"vitrun-profile 1\"}", "is missing"},
        {"{\"format\": \"vitrun-profile 1\", \"cores\": 0}", "'cores' is 0"},
        {"{\"format\": \"vitrun-profile 1\", \"cores\": 2.5}", "'cores' is 2.5"},
        {"{\"format\": \"vitrun-profile 1\", \"cores\": 2, \"cores\": 2}", "twice"},
        {"{\"format\": \"vitrun-profile 1\", \"attn\": -1}", "'attn' is -1"},
        {"{\"format\": \"vitrun-profile 1\", \"attn\": 1e999}", "a finite number"},
        {"{\"format\": \"vitrun-profile 1\" \"attn\": 1}", "',' or '}'"},
        {"{\"format\": \"vitrun-profile 1\"} x", "nothing after"},
        {"{\"fo\\u0072mat\": 1}", "no other escapes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vr_status st = vr_profile_parse(&back, host, sizeof host, bad[i][0], strlen(bad[i][0]),
                                        "p.json");
        int ok = st == VR_ERR_INPUT && strstr(vr_last_error(), bad[i][1]) &&
                 strstr(vr_last_error(), "p.json");
        if (!ok)
            printf("  profile %zu: %s\n", i, vr_last_error());
        is("profile: a damaged one is refused, naming the file and what is wrong", ok);
    }

    printf("%d checks, %d failed, worst relative difference %.3e\n", checks, failures, worst);
    return failures ? 1 : 0;
}
