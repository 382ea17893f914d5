/* heads.c - zero-shot logits and score heads on the embeddings. */
#include "heads.h"

#include <math.h>
#include <stdlib.h>

/* 1 / ||x||, or 0 for a zero vector */
static double inv_norm(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return s > 0.0 ? 1.0 / sqrt(s) : 0.0;
}

void vr_zero_shot_run(const vr_zero_shot *z, const float *e, size_t B, float *logits)
{
    for (size_t b = 0; b < B; b++) {
        const float *x = e + b * z->E;
        double inv = inv_norm(x, z->E);
        for (size_t k = 0; k < z->K; k++) {
            const float *t = z->text + k * z->E;
            double dot = 0.0;
            for (size_t j = 0; j < z->E; j++)
                dot += (double)x[j] * t[j];
            logits[b * z->K + k] = (float)(z->scale * dot * inv + z->bias);
        }
    }
}

void vr_zero_shot_free(vr_zero_shot *z)
{
    for (size_t k = 0; z->names && k < z->K; k++)
        free(z->names[k]);
    free(z->names);
    free(z->text);
    z->names = NULL;
    z->text = NULL;
}

static double activate(double v, vr_head_act a)
{
    switch (a) {
    case VR_HACT_RELU: return v > 0.0 ? v : 0.0;
    case VR_HACT_GELU: return 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
    case VR_HACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case VR_HACT_TANH: return tanh(v);
    case VR_HACT_NONE: break;
    }
    return v;
}

void vr_score_heads_run(const vr_score_heads *h, const float *e, size_t B, float *out,
                        double *scratch)
{
    double *cur = scratch, *next = scratch + h->widest;
    for (size_t b = 0; b < B; b++) {
        float *o = out + b * h->total;
        for (size_t i = 0; i < h->n; i++) {
            const vr_score_head *s = &h->head[i];
            const float *x = e + b * s->width[0];
            double inv = s->normalize_input ? inv_norm(x, s->width[0]) : 1.0;
            for (size_t j = 0; j < s->width[0]; j++)
                cur[j] = x[j] * inv;
            for (size_t l = 0; l < s->n_layers; l++) {
                size_t in = s->width[l], outw = s->width[l + 1];
                for (size_t r = 0; r < outw; r++) {
                    const float *w = s->W[l] + r * in;
                    double v = s->b[l][r];
                    for (size_t j = 0; j < in; j++)
                        v += (double)w[j] * cur[j];
                    next[r] = activate(v, s->act[l]);
                }
                double *t = cur;
                cur = next;
                next = t;
            }
            for (size_t r = 0; r < s->width[s->n_layers]; r++)
                *o++ = (float)cur[r];
        }
    }
}

void vr_score_heads_free(vr_score_heads *h)
{
    for (size_t i = 0; h->head && i < h->n; i++) {
        vr_score_head *s = &h->head[i];
        for (size_t l = 0; l < s->n_layers; l++) {
            free(s->W ? s->W[l] : NULL);
            free(s->b ? s->b[l] : NULL);
        }
        free(s->W);
        free(s->b);
        free(s->act);
        free(s->width);
    }
    free(h->head);
    free(h->names);
    free(h->dims);
    h->head = NULL;
    h->names = NULL;
    h->dims = NULL;
    h->n = 0;
}
