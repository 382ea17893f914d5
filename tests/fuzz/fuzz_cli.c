/* fuzz_cli.c - libFuzzer target: an untrusted command line through
 * vr_cli_parse (runtime/cli.c), then what vitrun does next with the
 * options that are strings of numbers: --layers through
 * vr_plan_parse_layers and the planner (partition/plan.c) on a ViT-B/16
 * shape, --preprocess through vr_preprocess_preset, --int8-keep through
 * vr_int8_keep_check and vr_int8_keep_print on a 12-block model; --shape
 * (accepted only with --plan --nodes and without --model) through
 * vr_config_from_shape, whose config then takes ViT-B/16's place in the
 * planner. Then the
 * same bytes as a --int8-calibrate file read by --int8-keep @FILE: a refusal
 * names the file and the line, a file that is read gives a keep list the
 * check accepts or refuses with a message.
 *
 * Input: the arguments after argv[0], separated by NUL bytes (an empty
 * argument between two NULs); at most MAX_ARGS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../partition/plan.h"
#include "../../runtime/cli.h"
#include "../../runtime/forward.h"
#include "../../runtime/shape.h"
#include "fuzz_util.h"

#define MAX_ARGS 256

static char g_keep[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vf_setup("cli");
    vf_path(g_keep, sizeof g_keep, "keep.int8");
    return 0;
}

static void keep_list(const char *spec)
{
    vr_clear_error();
    if (vr_int8_keep_check(spec, 12) != VR_OK) {
        if (!vr_last_error()[0])
            vf_fail("a refused --int8-keep without a message");
        return;
    }
    FILE *f = fopen("/dev/null", "w");
    if (f) {
        vr_int8_keep_print(spec, 12, f);
        fclose(f);
    }
}

/* The input as a calibration file, through --int8-keep @FILE. */
static void keep_file(const uint8_t *data, size_t size)
{
    FILE *f = fopen(g_keep, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        vf_fail("cannot write %s", g_keep);
    char at[4100];
    snprintf(at, sizeof at, "@%s", g_keep);
    char *argv[] = {"vitrun", "--model", "m.h5", "--precision", "int8", "--int8-keep", at,
                    "--synthetic", "1", "--no-output", NULL};
    vr_options o;
    vr_clear_error();
    if (vr_cli_parse(&o, 10, argv) != VR_OK) {
        if (!strstr(vr_last_error(), g_keep))
            vf_fail("a refused calibration file not named: %s", vr_last_error());
        return;
    }
    if (!o.int8_keep)
        vf_fail("a calibration file read without a keep list");
    keep_list(o.int8_keep);
}

/* The options' --layers, --pp, --tp, --dp through the planner, on the
 * --shape's model when there is one, else on ViT-B/16. */
static void plan_layers(const vr_options *o)
{
    vr_config c = {.image_h = 224, .image_w = 224, .patch_size = 16, .channels = 3, .hidden = 768,
                   .layers = 12, .heads = 12, .head_dim = 64, .mlp_dim = 3072,
                   .classes = 1000, .ln_eps = 1e-6};
    vr_config_classic(&c);
    if (o->shape) {
        vr_clear_error();
        if (vr_config_from_shape(&c, o->shape) != VR_OK)
            vf_fail("an accepted --shape '%s' fails when built again: %s", o->shape,
                    vr_last_error());
        if (!c.hidden || !c.layers || !c.heads || c.hidden % c.heads || !c.tokens ||
            c.head_dim * c.heads != c.hidden || (c.head == VR_HEAD_LINEAR) != (c.classes > 0))
            vf_fail("--shape '%s' gave an inconsistent config", o->shape);
    } else if (vr_config_check(&c, "vit-b16") != VR_OK)
        vf_fail("the ViT-B/16 shape fails its check: %s", vr_last_error());
    size_t *layers = NULL;
    if (o->layers) {
        if (!(layers = calloc((size_t)o->pp, sizeof *layers)))
            vf_fail("out of memory");
        if (vr_plan_parse_layers(o->layers, layers, o->pp) != VR_OK) {
            free(layers);
            return;
        }
    }
    vr_plan p;
    if (vr_plan_build(&p, &c, o->dp ? o->dp : 1, o->pp, o->tp, layers) == VR_OK) {
        for (int s = 0; s < p.pp; s++)
            for (int t = 0; t < p.tp; t++) {
                vr_shard sh = vr_plan_shard(&p, s, t);
                if (sh.part_end > 2 * c.layers || sh.head_end > c.heads ||
                    sh.mlp_end > c.mlp_dim || sh.part_begin > sh.part_end)
                    vf_fail("stage %d rank %d: a shard outside the model", s, t);
            }
        vr_plan_free(&p);
    }
    free(layers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = strdup("vitrun");
    size_t start = 0;
    for (size_t i = 0; i <= size && argc <= MAX_ARGS; i++) {
        if (i < size && data[i])
            continue;
        /* a copy of exactly the argument: ASan sees a read past its end */
        char *a = malloc(i - start + 1);
        if (!a)
            vf_fail("out of memory");
        memcpy(a, data + start, i - start);
        a[i - start] = '\0';
        argv[argc++] = a;
        start = i + 1;
    }
    argv[argc] = NULL;

    vr_options o;
    vr_clear_error();
    vr_status st = vr_cli_parse(&o, argc, argv);
    if (st == VR_OK && !o.help && !o.version && o.calibrate) {
        /* --calibrate measures the node: nothing else that needs a model or a layout */
        if (o.model || o.shape || o.plan || o.input || o.output || o.synthetic || o.pp != 1 ||
            o.tp != 1 || o.dp || o.layout_auto)
            vf_fail("accepted --calibrate with a model, an input, an output or a layout");
    } else if (st == VR_OK && !o.help && !o.version) {
        /* a model file, or a shape to plan nodes for (never both) */
        if (o.shape ? o.model || !o.plan || !o.nodes || !o.ranks_per_node || o.image_h
                    : !o.model)
            vf_fail("accepted options without a model, with --model and --shape, or --shape "
                    "without --plan --nodes");
        if (o.batch < 1 || o.topk < 1 || o.pp < 1 || o.tp < 1 || o.dp < 0)
            vf_fail("accepted options with a zero size");
        if (o.preprocess) {
            vr_preprocess p = {.crop_pct = 0};
            if (vr_preprocess_preset(&p, o.preprocess, 224, 224) != VR_OK)
                vf_fail("accepted --preprocess '%s' has no preset", o.preprocess);
        }
        plan_layers(&o);
        if (o.int8_keep)
            keep_list(o.int8_keep);
    } else if (st != VR_OK && !vr_last_error()[0]) {
        vf_fail("a refused command line without a message");
    }
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    keep_file(data, size);
    return 0;
}
