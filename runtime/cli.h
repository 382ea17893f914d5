/* cli.h - vitrun's command line. */
#ifndef VR_CLI_H
#define VR_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "linear.h"
#include "status.h"

/* How a stage hands the residual stream to a tensor-parallel next stage. */
typedef enum {
    VR_SEND_SLICE, /* TP rank t sends 1/T to TP rank t; the group allgathers */
    VR_SEND_GROUP, /* TP rank 0 sends it all to TP rank 0; the group broadcasts */
    VR_SEND_FULL   /* TP rank t sends it all to TP rank t */
} vr_send_mode;

typedef enum { VR_PROGRESS_AUTO, VR_PROGRESS_BAR, VR_PROGRESS_LOG, VR_PROGRESS_OFF } vr_progress;

typedef struct {
    const char *model;     /* --model: index file of a vitrun model */
    const char *shape;     /* --shape SPEC: the model's shape instead (--plan --nodes only; shape.h) */
    const char *input;     /* --input: JPEG directory, list file or HDF5 image file */
    size_t synthetic;      /* --synthetic N: generated inputs instead of --input */
    const char *output;    /* --output: .h5 (default) or .csv; NULL with --no-output */
    int no_output;         /* --no-output: score without keeping the scores */
    size_t batch;          /* --batch: images per forward pass */
    size_t topk;           /* --topk */
    int topk_given;        /* --topk was on the command line (not the default 5) */
    int threads;           /* --threads: BLAS threads, 0 = library default */
    vr_gemm_backend gemm;  /* --gemm auto|onednn|openblas */
    vr_precision precision; /* --precision fp32|bf16|int8 (bf16 may fall back to fp32) */
    const char *int8_keep;  /* --int8-keep: matrices kept float32 (forward.h's names) */
    char int8_auto[4200];   /* the MODEL.int8 calibration applied without --int8-keep, or "" */
    const char *int8_calibrate; /* --int8-calibrate FILE: int8 and float32 side by side, errors to FILE */
    double int8_threshold;  /* --int8-threshold: --int8-calibrate's limit for int8 */
    int logits;            /* --logits: also write logits */
    int embeddings;        /* --embeddings: also write pooled features */
    int normalize;         /* --normalize 1, --no-normalize 0, else -1: the model's default */
    size_t image_h, image_w; /* --image-size H[xW]: run at this size (0: the model's) */
    const char *zero_shot;  /* --zero-shot FILE: classes as text embeddings (.h5, .npy) */
    const char *zero_shot_names; /* --zero-shot-names FILE: a .npy's class names */
    double logit_scale;     /* --logit-scale S (0: the model's) */
    double logit_bias;      /* --logit-bias B, when have_logit_bias */
    int have_logit_bias;
    const char *score_heads; /* --score-heads FILE.h5: extra heads, score_NAME columns */
    int emb_f16;           /* --embedding-dtype f16: embeddings stored as float16 */
    const char *dump;      /* --dump-activations: HDF5 of intermediate tensors */
    int quiet;             /* --quiet: no summary line */
    int pp, tp, dp;        /* --pp, --tp, --dp: pipeline stages, TP ranks, replicas (0: derive) */
    const char *layers;    /* --layers 4,4,3,1: layers per stage, overriding the planner */
    int plan;              /* --plan: print the plan and exit, loading no weights */
    int nodes, ranks_per_node; /* --plan --nodes N --ranks-per-node R: the best layouts */
    const char *profile;   /* --profile FILE.json: the node's rates (else built in) */
    double memory_per_rank; /* --memory-per-rank BYTES (0: the node's over its ranks) */
    int json;              /* --json: --plan --nodes as a JSON list */
    const char *calibrate; /* --calibrate PROFILE.json: measure this node, write, exit */
    int layout_auto;       /* --layout auto: dp, pp, tp and batch from the performance model */
    int layout_given;      /* --dp, --pp, --tp or --batch was given */
    const char *report;    /* --report FILE.json: per-rank timing */
    vr_send_mode send;     /* --send slice|group|full */
    int wire_bf16;         /* --wire bf16: activations between ranks as bfloat16 */
    int resume;            /* --resume: continue an interrupted run from OUT.journal */
    int strict;            /* --strict: an input that cannot be scored is fatal */
    size_t max_pixels;     /* --max-pixels: largest width*height a JPEG may declare */
    size_t max_file_bytes; /* --max-file-mb (in bytes): largest JPEG file */
    int dct_scale;         /* --dct-scale on|off: decode large JPEGs at a reduced size */
    int decoders;          /* --decoders N: JPEG decoding threads per reading rank */
    const char *preprocess; /* --preprocess hf|torchvision|timm: override the model's preset */
    vr_progress progress;  /* --progress bar|log|off (default: bar on a terminal, else log) */
    double progress_every; /* --progress-every S: seconds between log lines */
    const char *truth;     /* --labels FILE: ground truth, to report accuracy */
    int labels_from_cls;   /* --labels-from cls: a tar sample's KEY.cls is its label */
    int claim;             /* --claim: the output folder is shared with other jobs */
    double lease;          /* --lease S: a claim not renewed for S seconds is taken over */
    int retries;           /* --retries N: more attempts at opening a shard */
    const char *image_keys; /* --image-keys a;b: tar members holding the image */
    int output_csv;        /* --output-format csv: per-shard tables as CSV */
    int help, version;
} vr_options;

/* Fills opt from argv; VR_ERR_USAGE with a message on a bad command line. */
vr_status vr_cli_parse(vr_options *opt, int argc, char **argv);
void vr_cli_usage(FILE *fp);

#endif
