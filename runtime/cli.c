/* cli.c - parses vitrun's options; every number is checked, every unknown flag refused. */
#include "cli.h"

#include "config.h"
#include "shape.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void vr_cli_usage(FILE *fp)
{
    fputs("usage: vitrun --model MODEL.h5 (--input DIR|LIST|IMAGES.h5|SHARDS | --synthetic N) --output OUT\n"
          "              [--batch B] [--topk K] [--threads N] [--logits] [--embeddings]\n"
          "\n"
          "Scores images with a Vision Transformer stored in the vitrun model format\n"
          "(docs/MODEL_FORMAT.md; convert checkpoints with scripts/convert_checkpoint.py).\n"
          "\n"
          "  --model PATH        model index file (.h5); shard files sit next to it\n"
          "  --input PATH        a directory (walked recursively for .jpg/.jpeg in any\n"
          "                      case, sorted by path), a text file listing image paths\n"
          "                      (one per line, relative to the list's folder), or an HDF5\n"
          "                      file with dataset 'images': uint8 [N,H,W,C] at the model\n"
          "                      resolution or float32 [N,C,H,W] already normalised\n"
          "                      or webdataset tar shards: 'DIR/{00000..00999}.tar' (brace\n"
          "                      ranges and comma lists), a folder of .tar(.gz|.xz|...)\n"
          "                      files, one .tar, or a text file listing shards\n"
          "  --synthetic N       score N generated inputs instead (benchmarks)\n"
          "  --output PATH       scores: HDF5, or CSV when PATH ends in .csv; a regular\n"
          "                      file (a device or FIFO is refused); one run at a time\n"
          "                      writes it (OUT.lock; VITRUN_NO_LOCK=1 where the file\n"
          "                      system has no locks)\n"
          "  --output DIR/       with tar shards: per-shard outputs DIR/STEM.h5 (and\n"
          "                      DIR/STEM.npy with embeddings), DIR/manifest.csv; replicas\n"
          "                      take shards from a queue in DIR as they finish one\n"
          "  --no-output         score, count and time, keep no scores (benchmarks); a\n"
          "                      folder's listing then goes to $TMPDIR, which every\n"
          "                      reading rank must see\n"
          "  --batch B           images per forward pass (default 8)\n"
          "  --topk K            classes reported per image (default 5, at most C)\n"
          "  --threads N         BLAS threads (default: the library's choice); where a\n"
          "                      node has more ranks x threads than CPUs, pipeline waits\n"
          "                      sleep between tests (VITRUN_WAIT=spin or nap forces it)\n"
          "  --precision P       fp32 (default) or bf16: weights and GEMM inputs rounded\n"
          "                      to bfloat16, float32 sums, LayerNorm and softmax; needs\n"
          "                      oneDNN and a CPU with AVX512_BF16, else runs fp32;\n"
          "                      or int8: weight GEMMs in int8 (weights per channel,\n"
          "                      activations per token, int32 sums); oneDNN and VNNI\n"
          "  --wire W            fp32 (default) or bf16: activations between pipeline\n"
          "                      stages and tensor-parallel partial sums sent as\n"
          "                      bfloat16 (half the bytes, ~3 significant digits)\n"
          "  --int8-keep LIST    int8: matrices kept float32: patch, a block (3), a\n"
          "                      block's qkv/proj/fc1/fc2 (3.fc2), every block's (*.fc2),\n"
          "                      comma-separated; or @FILE, a --int8-calibrate file\n"
          "  --int8-calibrate FILE\n"
          "                      int8 calibration: every int8 matrix also runs in\n"
          "                      float32 (on float32 inputs; the scores are float32's) and FILE\n"
          "                      gets each matrix's relative error and fp32 for those\n"
          "                      over --int8-threshold (default 0.05): --int8-keep @FILE;\n"
          "                      MODEL.int8, if it exists, applies to int8 runs without\n"
          "                      --int8-keep (--int8-keep none: every matrix in int8)\n"
          "  --gemm G            GEMM back end: auto (oneDNN when built with it), onednn\n"
          "                      or openblas\n"
          "  --logits            also write the logits (N, C)\n"
          "  --embeddings        also write the embedding (N, E): the pooled feature, or its\n"
          "                      projection (CLIP); always for models without a classifier\n"
          "  --normalize, --no-normalize\n"
          "                      L2-normalise the embedding, or not (default: the model's;\n"
          "                      on for CLIP and SigLIP towers)\n"
          "  --embedding-dtype T f32 (default) or f16: how the embedding is stored\n"
          "  --zero-shot FILE    classify by class text embeddings: FILE.h5 (embeddings\n"
          "                      (K, E), names (K)) or FILE.npy with --zero-shot-names\n"
          "                      FILE (one per line); logits = scale * cosine (+ bias)\n"
          "  --logit-scale S, --logit-bias B\n"
          "                      zero-shot's scale and bias (default: the checkpoint's)\n"
          "  --score-heads FILE  extra heads on the embedding (HDF5, docs/MODEL_FORMAT.md):\n"
          "                      one score_NAME column each\n"
          "  --image-size H[xW]  run the model at this input size: its position table\n"
          "                      resampled as its library does it, the preprocessing\n"
          "                      preset re-derived for the size\n"
          "  --dump-activations PATH\n"
          "                      write activations after the embedding and each block\n"
          "                      (HDF5; for checking against a reference, small N only)\n"
          "  --quiet             no progress, no summary line\n"
          "\n"
          "JPEG input and long runs:\n"
          "  --preprocess P      hf, torchvision, timm, clip, siglip or dinov2: the source\n"
          "                      library's resize, crop and normalisation instead of the\n"
          "                      model's stored preset\n"
          "  --decoders N        decoding threads per reading rank (default 1; 0 = inline)\n"
          "  --max-pixels N      refuse JPEGs declaring more pixels (default 89478485)\n"
          "  --max-file-mb N     refuse JPEG files larger than this (default 256)\n"
          "  --dct-scale on|off  decode JPEGs >= 4x the needed size at a 1/8..7/8 scale in\n"
          "                      the DCT domain: faster on camera-size photos, but pixels\n"
          "                      then differ slightly from PIL's (default off: exact)\n"
          "  --strict            stop at the first input that cannot be scored (exit 2);\n"
          "                      by default such rows get ok=0 and the reason\n"
          "  --resume            continue an interrupted run from OUT.journal; with no\n"
          "                      journal it starts afresh (or does nothing if OUT exists)\n"
          "  --progress MODE     bar, log or off (default: bar on a terminal, else log)\n"
          "  --progress-every S  seconds between progress lines in log mode (default 10)\n"
          "  --labels FILE       ground truth: 'CLASS_INDEX PATH' per line in the rows'\n"
          "                      order; prints top-1/top-5 accuracy at the end\n"
          "\n"
          "Tar shards (webdataset):\n"
          "  --image-keys K      member extensions holding the image, first found wins\n"
          "                      (default jpg;jpeg;png;webp)\n"
          "  --labels-from cls   a sample's KEY.cls is its label: prints accuracy\n"
          "  --output-format F   h5 (default) or csv: the per-shard tables\n"
          "  --retries N         more attempts at opening a shard before it is recorded\n"
          "                      as failed in the manifest (default 2)\n"
          "  --claim             share the output folder with other jobs (a Slurm array,\n"
          "                      later runs): claims with leases in DIR/.vitrun/claims\n"
          "  --lease S           a claim not renewed for S seconds (a dead node, a killed\n"
          "                      job) is taken over (default 300)\n"
          "\n"
          "Distributed (mpirun -np N vitrun ...; N = dp x pp x tp):\n"
          "  --pp P              pipeline stages: encoder layers split across P ranks\n"
          "  --tp T              tensor-parallel ranks per stage: heads and MLP columns split\n"
          "  --dp D              pipeline replicas taking different images (default N/(P*T))\n"
          "  --layers L0,L1,...  layers per stage instead of the planner's cost-balanced split;\n"
          "                      x.5 cuts between a layer's attention and its MLP (6.5,5.5)\n"
          "  --plan              print each rank's layers, heads, weight bytes and FLOPs, and\n"
          "                      the predicted per-stage load, without loading weights\n"
          "  --plan --nodes N --ranks-per-node R [--profile P.json] [--memory-per-rank M]\n"
          "                      [--json]: the best layouts (dp x pp x tp, batch) for N\n"
          "                      nodes of R ranks, predicted images/s, memory per rank and\n"
          "                      what bounds each (docs/SCALING.md), from P's rates or\n"
          "                      the built-in profile; M in bytes (K, M, G suffixes);\n"
          "                      --threads T per rank (default: the profile's cores / R)\n"
          "  --shape SPEC        with --plan --nodes, instead of --model: the model's shape\n"
          "                      as KEY=VALUE items, e.g. hidden=6144,layers=48,heads=48,\n"
          "                      mlp=24576,patch=14,classes=0,block=parallel,qkv_bias=0,\n"
          "                      qk_norm=1. Required: hidden, layers, heads (dividing\n"
          "                      hidden), mlp, patch; optional: image=S|HxW (224),\n"
          "                      classes=K (1000; 0: no classifier), embed=E (a projection\n"
          "                      head, CLIP), act=gelu|gelu_tanh|quick_gelu|swiglu,\n"
          "                      block=sequential|parallel, qkv_bias=0|1 (1), qk_norm=0|1\n"
          "                      (0); the rest is the classic ViT's (docs/SCALING.md)\n"
          "  --layout auto       dp, pp, tp and the batch the performance model predicts\n"
          "                      fastest for the ranks and nodes the job has (--profile,\n"
          "                      --memory-per-rank as for --plan --nodes)\n"
          "  --memory-per-rank M with a layout (--pp/--tp/--dp, or none): refuse to run when\n"
          "                      the performance model puts a rank of it above M bytes\n"
          "  --calibrate P.json  measure this node's rates (GEMMs, attention, row passes;\n"
          "                      under mpirun also the links between ranks) into P, exit\n"
          "  --report FILE.json  per-rank time in GEMM, attention, norms, activations,\n"
          "                      send/receive/allreduce waits, idle, images, bytes sent\n"
          "  --send MODE         stage-to-stage transfer when tp > 1: slice (default; 1/T\n"
          "                      per TP rank, then an allgather), group (one copy to TP\n"
          "                      rank 0, then a broadcast) or full (a copy per TP rank)\n"
          "  --version           print the version and exit\n"
          "  --help              this text\n"
          "\n"
          "Output goes to OUT.part and is renamed to OUT when the run completes; the\n"
          "journal OUT.journal (and OUT.inputs for a directory) keep it resumable.\n"
          "SIGTERM, SIGINT or SIGUSR1 stop the run cleanly at the next step, or at\n"
          "once (exit 75) while nothing of the run is written yet (model loading).\n"
          "\n"
          "Exit codes: 0 success (including runs with unreadable images; see the 'ok'\n"
          "column), 2 bad usage / model / input, 75 stopped by a signal (rerun with\n"
          "--resume), 1 other failures.\n",
          fp);
}

static vr_status parse_size(const char *flag, const char *s, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return vr_fail(VR_ERR_USAGE, "%s needs a whole number from %zu to %zu, got '%s'", flag,
                       lo, hi, s ? s : "");
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return vr_fail(VR_ERR_USAGE, "%s needs a whole number from %zu to %zu, got '%s'", flag,
                       lo, hi, s);
    *out = (size_t)v;
    return VR_OK;
}

/* A path option given twice is a mistake (a script's default and the
 * user's override?), not "the last one wins". */
static vr_status once(const char *flag, const char *had, const char *now)
{
    if (had)
        return vr_fail(VR_ERR_USAGE, "%s is given twice ('%s' and '%s'); give it once", flag,
                       had, now);
    return VR_OK;
}

/* --int8-keep @FILE: the names a --int8-calibrate file marks fp32 (lines
 * "NAME ERROR int8|fp32", # comments), comma-joined into *spec (kept for
 * the run's life). */
static vr_status read_keep_file(const char *path, const char **spec)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return vr_fail(VR_ERR_USAGE, "--int8-keep @%s: cannot open it: %s", path,
                       strerror(errno));
    static char *keep; /* (one per process) */
    size_t len = 0, cap = 1, lineno = 0;
    char line[512];
    free(keep);
    keep = calloc(1, 1);
    vr_status st = keep ? VR_OK : vr_fail(VR_ERR_NOMEM, "out of memory reading %s", path);
    while (!st && fgets(line, sizeof line, f)) {
        lineno++;
        char name[64], prec[16];
        double err;
        if (line[0] == '#' || strspn(line, " \t\r\n") == strlen(line))
            continue;
        if (sscanf(line, "%63s %lf %15s", name, &err, prec) != 3 ||
            (strcmp(prec, "int8") && strcmp(prec, "fp32"))) {
            st = vr_fail(VR_ERR_USAGE, "--int8-keep @%s, line %zu: expected 'NAME ERROR "
                         "int8|fp32' (as --int8-calibrate writes), found '%.80s'", path, lineno, line);
            break;
        }
        if (strcmp(prec, "fp32"))
            continue;
        size_t n = strlen(name);
        char *k = realloc(keep, cap + n + 1);
        if (!k) {
            st = vr_fail(VR_ERR_NOMEM, "out of memory reading %s", path);
            break;
        }
        keep = k;
        cap += n + 1;
        len += (size_t)snprintf(keep + len, cap - len, "%s%s", len ? "," : "", name);
    }
    fclose(f);
    *spec = keep;
    return st;
}

vr_status vr_cli_parse(vr_options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->batch = 8;
    o->topk = 5;
    o->normalize = -1;
    o->pp = o->tp = 1;
    o->send = VR_SEND_SLICE; /* measured fastest: docs/DESIGN.md */
    o->max_pixels = 89478485;  /* Pillow's MAX_IMAGE_PIXELS */
    o->max_file_bytes = (size_t)256 << 20;
    o->dct_scale = 0; /* exact pixels by default: docs/DESIGN.md, "JPEG input" */
    o->decoders = 1;
    o->progress_every = 10.0;
    o->lease = 300;
    o->retries = 2;
    o->int8_threshold = 0.05;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t n;
        vr_status st = VR_OK;
#define VALUE()                                                                      \
    do {                                                                             \
        if (!v)                                                                      \
            return vr_fail(VR_ERR_USAGE, "%s needs a value (see vitrun --help)", a); \
        i++;                                                                         \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            o->help = 1;
        } else if (!strcmp(a, "--version")) {
            o->version = 1;
        } else if (!strcmp(a, "--model")) {
            VALUE();
            if ((st = once(a, o->model, v)))
                return st;
            o->model = v;
        } else if (!strcmp(a, "--shape")) {
            VALUE();
            if ((st = once(a, o->shape, v)))
                return st;
            o->shape = v;
        } else if (!strcmp(a, "--input")) {
            VALUE();
            if ((st = once(a, o->input, v)))
                return st;
            o->input = v;
        } else if (!strcmp(a, "--output")) {
            VALUE();
            if ((st = once(a, o->output, v)))
                return st;
            o->output = v;
        } else if (!strcmp(a, "--dump-activations")) {
            VALUE();
            if ((st = once(a, o->dump, v)))
                return st;
            o->dump = v;
        } else if (!strcmp(a, "--synthetic")) {
            VALUE();
            st = parse_size(a, v, 1, (size_t)1 << 40, &o->synthetic);
        } else if (!strcmp(a, "--batch")) {
            VALUE();
            st = parse_size(a, v, 1, 65536, &o->batch);
            o->layout_given = 1;
        } else if (!strcmp(a, "--topk")) {
            VALUE();
            st = parse_size(a, v, 1, 1 << 20, &o->topk);
            o->topk_given = 1;
        } else if (!strcmp(a, "--threads")) {
            VALUE();
            st = parse_size(a, v, 1, 1024, &n);
            o->threads = (int)n;
        } else if (!strcmp(a, "--precision")) {
            VALUE();
            if (!strcmp(v, "fp32"))
                o->precision = VR_FP32;
            else if (!strcmp(v, "bf16"))
                o->precision = VR_BF16;
            else if (!strcmp(v, "int8"))
                o->precision = VR_INT8;
            else
                return vr_fail(VR_ERR_USAGE, "--precision takes fp32, bf16 or int8; got '%s'",
                               v);
        } else if (!strcmp(a, "--wire")) {
            VALUE();
            if (strcmp(v, "fp32") && strcmp(v, "bf16"))
                return vr_fail(VR_ERR_USAGE, "--wire takes fp32 or bf16; got '%s'", v);
            o->wire_bf16 = !strcmp(v, "bf16");
        } else if (!strcmp(a, "--int8-keep")) {
            VALUE();
            st = v[0] == '@' ? read_keep_file(v + 1, &o->int8_keep) : VR_OK;
            if (v[0] != '@')
                o->int8_keep = v;
        } else if (!strcmp(a, "--int8-calibrate")) {
            VALUE();
            o->int8_calibrate = v;
        } else if (!strcmp(a, "--int8-threshold")) {
            VALUE();
            char *end;
            errno = 0;
            o->int8_threshold = strtod(v, &end);
            if (*end || errno || !(o->int8_threshold > 0 && o->int8_threshold <= 10))
                return vr_fail(VR_ERR_USAGE, "--int8-threshold is a relative error, above 0 and "
                               "at most 10; got '%s'", v);
        } else if (!strcmp(a, "--gemm")) {
            VALUE();
            if (!strcmp(v, "auto"))
                o->gemm = VR_GEMM_AUTO;
            else if (!strcmp(v, "onednn"))
                o->gemm = VR_GEMM_ONEDNN;
            else if (!strcmp(v, "openblas"))
                o->gemm = VR_GEMM_OPENBLAS;
            else
                return vr_fail(VR_ERR_USAGE, "--gemm takes auto, onednn or openblas; got '%s'",
                               v);
        } else if (!strcmp(a, "--pp") || !strcmp(a, "--tp") || !strcmp(a, "--dp")) {
            VALUE();
            st = parse_size(a, v, 1, 4096, &n);
            *(a[2] == 'p' ? &o->pp : a[2] == 't' ? &o->tp : &o->dp) = (int)n;
            o->layout_given = 1;
        } else if (!strcmp(a, "--layout")) {
            VALUE();
            if (strcmp(v, "auto"))
                return vr_fail(VR_ERR_USAGE, "--layout takes auto (the layout the performance "
                               "model predicts fastest); got '%s'", v);
            o->layout_auto = 1;
        } else if (!strcmp(a, "--layers")) {
            VALUE();
            o->layers = v;
        } else if (!strcmp(a, "--plan")) {
            o->plan = 1;
        } else if (!strcmp(a, "--nodes") || !strcmp(a, "--ranks-per-node")) {
            VALUE();
            st = parse_size(a, v, 1, 1 << 20, &n);
            *(a[2] == 'n' ? &o->nodes : &o->ranks_per_node) = (int)n;
        } else if (!strcmp(a, "--profile")) {
            VALUE();
            if ((st = once(a, o->profile, v)))
                return st;
            o->profile = v;
        } else if (!strcmp(a, "--calibrate")) {
            VALUE();
            if ((st = once(a, o->calibrate, v)))
                return st;
            o->calibrate = v;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--memory-per-rank")) {
            VALUE();
            char *end;
            errno = 0;
            double m = strtod(v, &end);
            double unit = !*end ? 1 : !strcmp(end, "K") ? 1024.0 : !strcmp(end, "M") ? 1048576.0
                          : !strcmp(end, "G") ? 1073741824.0 : 0;
            if (errno || end == v || unit == 0 || !(m * unit >= 1e6 && m * unit <= 1e15))
                return vr_fail(VR_ERR_USAGE, "--memory-per-rank takes bytes from 1e6 to 1e15, "
                               "optionally with K, M or G (4G); got '%s'", v);
            o->memory_per_rank = m * unit;
        } else if (!strcmp(a, "--report")) {
            VALUE();
            o->report = v;
        } else if (!strcmp(a, "--send")) {
            VALUE();
            if (!strcmp(v, "slice"))
                o->send = VR_SEND_SLICE;
            else if (!strcmp(v, "group"))
                o->send = VR_SEND_GROUP;
            else if (!strcmp(v, "full"))
                o->send = VR_SEND_FULL;
            else
                return vr_fail(VR_ERR_USAGE, "--send takes slice, group or full; got '%s'", v);
        } else if (!strcmp(a, "--resume")) {
            o->resume = 1;
        } else if (!strcmp(a, "--claim")) {
            o->claim = 1;
        } else if (!strcmp(a, "--lease")) {
            VALUE();
            char *end;
            errno = 0;
            o->lease = strtod(v, &end);
            if (*end || errno || !(o->lease >= 1 && o->lease <= 86400 * 30))
                return vr_fail(VR_ERR_USAGE, "--lease is seconds, 1 to 2592000; got '%s'", v);
        } else if (!strcmp(a, "--retries")) {
            VALUE();
            st = parse_size(a, v, 0, 100, &n);
            o->retries = (int)n;
        } else if (!strcmp(a, "--image-keys")) {
            VALUE();
            o->image_keys = v;
        } else if (!strcmp(a, "--labels-from")) {
            VALUE();
            if (strcmp(v, "cls"))
                return vr_fail(VR_ERR_USAGE, "--labels-from takes cls (a tar sample's KEY.cls "
                               "holds its class index); got '%s'", v);
            o->labels_from_cls = 1;
        } else if (!strcmp(a, "--output-format")) {
            VALUE();
            if (strcmp(v, "h5") && strcmp(v, "csv"))
                return vr_fail(VR_ERR_USAGE, "--output-format is h5 or csv; got '%s'", v);
            o->output_csv = !strcmp(v, "csv");
        } else if (!strcmp(a, "--strict")) {
            o->strict = 1;
        } else if (!strcmp(a, "--max-pixels")) {
            VALUE();
            st = parse_size(a, v, 1, (size_t)1 << 40, &o->max_pixels);
        } else if (!strcmp(a, "--max-file-mb")) {
            VALUE();
            st = parse_size(a, v, 1, (size_t)1 << 20, &n);
            o->max_file_bytes = n << 20;
        } else if (!strcmp(a, "--decoders")) {
            VALUE();
            st = parse_size(a, v, 0, 256, &n);
            o->decoders = (int)n;
        } else if (!strcmp(a, "--dct-scale")) {
            VALUE();
            if (strcmp(v, "on") && strcmp(v, "off"))
                return vr_fail(VR_ERR_USAGE, "--dct-scale takes on or off; got '%s'", v);
            o->dct_scale = !strcmp(v, "on");
        } else if (!strcmp(a, "--preprocess")) {
            VALUE();
            static const char *const presets[] = {"hf", "torchvision", "timm", "clip", "siglip",
                                                   "dinov2"};
            int known = 0;
            for (size_t k = 0; k < sizeof presets / sizeof presets[0]; k++)
                known |= !strcmp(v, presets[k]);
            if (!known)
                return vr_fail(VR_ERR_USAGE, "--preprocess takes hf, torchvision, timm, clip, "
                               "siglip or dinov2; got '%s'", v);
            o->preprocess = v;
        } else if (!strcmp(a, "--progress")) {
            VALUE();
            if (!strcmp(v, "bar"))
                o->progress = VR_PROGRESS_BAR;
            else if (!strcmp(v, "log"))
                o->progress = VR_PROGRESS_LOG;
            else if (!strcmp(v, "off"))
                o->progress = VR_PROGRESS_OFF;
            else
                return vr_fail(VR_ERR_USAGE, "--progress takes bar, log or off; got '%s'", v);
        } else if (!strcmp(a, "--progress-every")) {
            VALUE();
            char *end;
            o->progress_every = strtod(v, &end);
            if (*end || !(o->progress_every > 0) || o->progress_every > 86400)
                return vr_fail(VR_ERR_USAGE, "--progress-every needs seconds > 0; got '%s'", v);
        } else if (!strcmp(a, "--labels")) {
            VALUE();
            if ((st = once(a, o->truth, v)))
                return st;
            o->truth = v;
        } else if (!strcmp(a, "--no-output")) {
            o->no_output = 1;
        } else if (!strcmp(a, "--logits")) {
            o->logits = 1;
        } else if (!strcmp(a, "--embeddings")) {
            o->embeddings = 1;
        } else if (!strcmp(a, "--normalize") || !strcmp(a, "--no-normalize")) {
            if (o->normalize >= 0)
                return vr_fail(VR_ERR_USAGE, "--normalize/--no-normalize given twice");
            o->normalize = !strcmp(a, "--normalize");
        } else if (!strcmp(a, "--zero-shot") || !strcmp(a, "--zero-shot-names") ||
                   !strcmp(a, "--score-heads")) {
            VALUE();
            const char **dst = !strcmp(a, "--zero-shot")       ? &o->zero_shot
                               : !strcmp(a, "--score-heads")   ? &o->score_heads
                                                               : &o->zero_shot_names;
            if ((st = once(a, *dst, v)))
                return st;
            *dst = v;
        } else if (!strcmp(a, "--logit-scale") || !strcmp(a, "--logit-bias")) {
            VALUE();
            char *end;
            double x = strtod(v, &end);
            int scale = !strcmp(a, "--logit-scale");
            if (*end || !isfinite(x) || (scale && !(x > 0 && x < 1e6)))
                return vr_fail(VR_ERR_USAGE, "%s needs a %snumber; got '%s'", a,
                               scale ? "positive " : "finite ", v);
            if (scale)
                o->logit_scale = x;
            else {
                o->logit_bias = x;
                o->have_logit_bias = 1;
            }
        } else if (!strcmp(a, "--image-size")) {
            VALUE();
            char *end;
            errno = 0;
            unsigned long long h = strtoull(v, &end, 10), w = h;
            if (*end == 'x' || *end == 'X')
                w = strtoull(end + 1, &end, 10);
            if (*end || errno || !h || !w || h > VR_MAX_DIM || w > VR_MAX_DIM || v[0] == '-' ||
                strchr(v, '-'))
                return vr_fail(VR_ERR_USAGE, "--image-size is H or HxW in pixels (1..%zu); got "
                               "'%s'", VR_MAX_DIM, v);
            o->image_h = (size_t)h;
            o->image_w = (size_t)w;
        } else if (!strcmp(a, "--embedding-dtype")) {
            VALUE();
            if (strcmp(v, "f32") && strcmp(v, "f16"))
                return vr_fail(VR_ERR_USAGE, "--embedding-dtype is f32 or f16; got '%s'", v);
            o->emb_f16 = !strcmp(v, "f16");
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = 1;
        } else {
            return vr_fail(VR_ERR_USAGE, "unknown option '%s' (see vitrun --help)", a);
        }
#undef VALUE
        if (st)
            return st;
    }
    if (o->help || o->version)
        return VR_OK;
    if (o->calibrate)
        return o->model || o->shape || o->plan || o->layout_given || o->layout_auto || o->input ||
                       o->output || o->synthetic
                   ? vr_fail(VR_ERR_USAGE, "--calibrate measures the node, not a model or a "
                             "layout: give it alone (with --threads, --gemm)")
                   : VR_OK;
    if ((o->nodes || o->ranks_per_node || o->json) && !(o->plan && o->nodes && o->ranks_per_node))
        return vr_fail(VR_ERR_USAGE, "--nodes, --ranks-per-node and --json go with --plan "
                       "--nodes N --ranks-per-node R");
    if (o->profile && !o->memory_per_rank && !(o->plan && o->nodes) && !o->layout_auto)
        return vr_fail(VR_ERR_USAGE, "--profile goes with --plan --nodes, --layout auto or "
                       "--memory-per-rank");
    if (o->layout_auto && (o->layout_given || o->plan || o->layers))
        return vr_fail(VR_ERR_USAGE, "--layout auto chooses --dp, --pp, --tp and --batch "
                       "itself: give none of them (and not --plan; --plan --nodes N "
                       "--ranks-per-node R lists the candidates)");
    if (o->shape) {
        vr_config c;
        if (o->model)
            return vr_fail(VR_ERR_USAGE, "--shape describes the model instead of --model: give "
                           "one of them");
        if (!(o->plan && o->nodes))
            return vr_fail(VR_ERR_USAGE, "--shape goes with --plan --nodes N --ranks-per-node R "
                           "(it predicts layouts for a model without its file; scoring and "
                           "--plan of one layout need --model)");
        if (o->image_h)
            return vr_fail(VR_ERR_USAGE, "--image-size does not go with --shape: give the size "
                           "in the shape (image=H or image=HxW)");
        /* checked here, before any rank starts; vitrun.c builds it again */
        vr_status st = vr_config_from_shape(&c, o->shape);
        if (st)
            return st;
    } else if (!o->model)
        return vr_fail(VR_ERR_USAGE, "--model is required (or --shape with --plan --nodes; see "
                       "vitrun --help)");
    if (o->int8_calibrate && o->precision == VR_FP32)
        o->precision = VR_INT8; /* what it measures */
    if ((o->int8_keep || o->int8_calibrate) && o->precision != VR_INT8)
        return vr_fail(VR_ERR_USAGE, "%s is for --precision int8, not %s",
                       o->int8_keep ? "--int8-keep" : "--int8-calibrate",
                       vr_linear_precision_name(o->precision));
    if (o->int8_keep && !strcmp(o->int8_keep, "none"))
        o->int8_keep = "";
    /* a calibration kept next to the model applies by itself */
    if (o->model && o->precision == VR_INT8 && !o->int8_keep && !o->int8_calibrate) {
        char path[sizeof o->int8_auto];
        if (snprintf(path, sizeof path, "%s.int8", o->model) < (int)sizeof path &&
            access(path, F_OK) == 0) {
            vr_status st = read_keep_file(path, &o->int8_keep);
            if (st)
                return st;
            snprintf(o->int8_auto, sizeof o->int8_auto, "%s", path);
        }
    }
    if (o->plan)
        return VR_OK;
    if (o->no_output && (o->output || o->resume))
        return vr_fail(VR_ERR_USAGE, "--no-output keeps no scores, so it goes with neither "
                       "--output nor --resume");
    if (!o->output && !o->no_output)
        return vr_fail(VR_ERR_USAGE, "--output is required (or --no-output to score without "
                       "keeping the scores; see vitrun --help)");
    if (!o->input == !o->synthetic)
        return vr_fail(VR_ERR_USAGE, "give exactly one of --input PATH or --synthetic N");
    if (o->output && strlen(o->output) > 4000)
        return vr_fail(VR_ERR_USAGE, "--output path is longer than 4000 bytes");
    if (o->labels_from_cls && o->truth)
        return vr_fail(VR_ERR_USAGE, "--labels FILE and --labels-from cls both give labels; "
                       "choose one");
    return VR_OK;
}
