/* heads.h - what the writer computes from each image's embedding, in the
 * same pass: zero-shot classification against class text embeddings (CLIP,
 * SigLIP), and small scoring heads (linear or MLP stacks: the LAION
 * aesthetic / watermark / NSFW pattern), each a score_NAME column.
 *
 * Both are read from files by io/heads_io.c; both run on the writer rank
 * (the last stage), where every replica's embeddings arrive: a few MFLOP per
 * image against the model's GFLOPs.
 */
#ifndef VR_HEADS_H
#define VR_HEADS_H

#include <stddef.h>

#include "status.h"

/* logits (B, K) = scale * e_b . t_k + bias, e and t L2-normalised; with a
 * bias (SigLIP) the probabilities are sigmoids, else a softmax (CLIP). */
typedef struct {
    size_t K, E;
    float *text;     /* (K, E) the class embeddings, each L2-normalised */
    char **names;    /* (K) class names */
    double scale;    /* the logit scale (exp of the checkpoint's logit_scale) */
    double bias;     /* SigLIP's logit bias */
    int sigmoid;     /* probabilities by sigmoid (a bias was given) */
} vr_zero_shot;

typedef enum { VR_HACT_NONE, VR_HACT_RELU, VR_HACT_GELU, VR_HACT_SIGMOID, VR_HACT_TANH } vr_head_act;

/* One head: y = act_L(W_L ... act_1(W_1 x + b_1) ... + b_L), x the
 * embedding (L2-normalised first when normalize_input). */
typedef struct {
    char name[64];
    size_t n_layers;
    size_t *width;   /* (n_layers + 1): input E, then each layer's outputs */
    float **W;       /* (n_layers) each (width[l+1], width[l]) */
    float **b;       /* (n_layers) each (width[l+1]) */
    vr_head_act *act; /* (n_layers) */
    int normalize_input;
} vr_score_head;

typedef struct {
    size_t n;
    vr_score_head *head; /* (n) */
    size_t total;        /* sum of the heads' output widths */
    size_t widest;       /* the widest layer of any head */
    const char **names;  /* (n) for the output's columns */
    size_t *dims;        /* (n) */
} vr_score_heads;

/* logits (B, K) from embeddings e (B, E) (any norm: normalised here). */
void vr_zero_shot_run(const vr_zero_shot *z, const float *e, size_t B, float *logits);
void vr_zero_shot_free(vr_zero_shot *z);

/* out (B, total) = every head on e (B, E), side by side; scratch: 2 * widest
 * floats. */
void vr_score_heads_run(const vr_score_heads *h, const float *e, size_t B, float *out,
                        double *scratch);
void vr_score_heads_free(vr_score_heads *h);

#endif
