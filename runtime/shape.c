/* shape.c - a model's configuration from --shape (shape.h). */
#include "shape.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEYS "hidden, layers, heads, mlp, patch, image, classes, embed, act, block, qkv_bias, qk_norm"
#define EXAMPLE "hidden=768,layers=12,heads=12,mlp=3072,patch=16"

/* The first len bytes of v as a whole number of digits only (no sign, no
 * space) from lo to hi; 0 if they are not one. */
static int digits(const char *v, size_t len, size_t lo, size_t hi, size_t *out)
{
    char buf[32];
    if (!len || len >= sizeof buf || strspn(v, "0123456789") < len)
        return 0;
    memcpy(buf, v, len);
    buf[len] = '\0';
    errno = 0;
    unsigned long long n = strtoull(buf, NULL, 10);
    if (errno || n < lo || n > hi)
        return 0;
    *out = (size_t)n;
    return 1;
}

static vr_status whole(const char *key, const char *v, size_t len, size_t lo, size_t hi,
                       const char *what, size_t *out)
{
    if (!digits(v, len, lo, hi, out))
        return vr_fail(VR_ERR_USAGE, "--shape: %s=%.*s: expected a whole number from %zu to %zu "
                       "(%s)", key, (int)(len > 40 ? 40 : len), v, lo, hi, what);
    return VR_OK;
}

/* One of `words` (NULL-terminated): its index. */
static vr_status word(const char *key, const char *v, size_t len, const char *const *words,
                      const char *list, int *out)
{
    for (int i = 0; words[i]; i++)
        if (strlen(words[i]) == len && !strncmp(v, words[i], len)) {
            *out = i;
            return VR_OK;
        }
    return vr_fail(VR_ERR_USAGE, "--shape: %s=%.*s: expected %s", key,
                   (int)(len > 40 ? 40 : len), v, list);
}

vr_status vr_config_from_shape(vr_config *c, const char *spec)
{
    static const char *const names[] = {"hidden", "layers", "heads", "mlp", "patch", "image",
                                        "classes", "embed", "act", "block", "qkv_bias",
                                        "qk_norm", NULL};
    enum { HIDDEN, LAYERS, HEADS, MLP, PATCH, IMAGE, CLASSES, EMBED, ACT, BLOCK, QKV_BIAS,
           QK_NORM, NKEYS };
    static const char *const acts[] = {"gelu", "gelu_tanh", "quick_gelu", "swiglu", NULL};
    static const char *const blocks[] = {"sequential", "parallel", NULL};
    static const char *const flags[] = {"0", "1", NULL};
    int seen[NKEYS] = {0};
    size_t image_h = 224, image_w = 224;
    vr_status st;
    memset(c, 0, sizeof *c);
    vr_config_classic(c);
    c->channels = 3;
    c->classes = 1000;
    c->ln_eps = 1e-6;
    c->pos_resample = VR_PR_BICUBIC_AA; /* as scripts/make_model.py records it */
    if (!spec || !*spec)
        return vr_fail(VR_ERR_USAGE, "--shape is empty; give KEY=VALUE items, e.g. " EXAMPLE);
    size_t total = strlen(spec);
    if (total > VR_SHAPE_MAX_BYTES)
        return vr_fail(VR_ERR_USAGE, "--shape is %zu bytes long; a shape is at most %d (keys: "
                       KEYS ")", total, VR_SHAPE_MAX_BYTES);
    for (const char *p = spec;;) {
        size_t n = strcspn(p, ","), klen = strcspn(p, "=");
        if (n == 0)
            return vr_fail(VR_ERR_USAGE, "--shape: an empty item at byte %zu of '%s' (items "
                           "are KEY=VALUE separated by single commas)", (size_t)(p - spec), spec);
        if (klen >= n)
            return vr_fail(VR_ERR_USAGE, "--shape: '%.*s' is not KEY=VALUE (keys: " KEYS ")",
                           (int)(n > 40 ? 40 : n), p);
        const char *v = p + klen + 1;
        size_t vlen = n - klen - 1;
        int k = -1;
        for (int i = 0; names[i]; i++)
            if (strlen(names[i]) == klen && !strncmp(p, names[i], klen))
                k = i;
        if (k < 0)
            return vr_fail(VR_ERR_USAGE, "--shape: unknown key '%.*s' (keys: " KEYS ")",
                           (int)(klen > 40 ? 40 : klen), p);
        if (seen[k])
            return vr_fail(VR_ERR_USAGE, "--shape: %s is given twice; give it once", names[k]);
        seen[k] = 1;
        const char *key = names[k];
        int w = 0;
        switch (k) {
        case HIDDEN:
            st = whole(key, v, vlen, 1, VR_MAX_DIM, "the token width", &c->hidden);
            break;
        case LAYERS:
            st = whole(key, v, vlen, 1, VR_MAX_LAYERS, "encoder blocks", &c->layers);
            break;
        case HEADS:
            st = whole(key, v, vlen, 1, VR_MAX_DIM, "attention heads", &c->heads);
            break;
        case MLP:
            st = whole(key, v, vlen, 1, VR_MAX_DIM, "the MLP's inner width", &c->mlp_dim);
            break;
        case PATCH:
            st = whole(key, v, vlen, 1, VR_MAX_DIM, "the patch side in pixels", &c->patch_size);
            break;
        case IMAGE: {
            size_t x = strcspn(v, "xX");
            int ok = x < vlen ? digits(v, x, 1, VR_MAX_DIM, &image_h) &&
                                    digits(v + x + 1, vlen - x - 1, 1, VR_MAX_DIM, &image_w)
                              : digits(v, vlen, 1, VR_MAX_DIM, &image_h);
            if (x >= vlen)
                image_w = image_h;
            st = ok ? VR_OK
                    : vr_fail(VR_ERR_USAGE, "--shape: image=%.*s: expected S or HxW, whole "
                              "numbers of pixels from 1 to %zu (e.g. 224 or 224x320)",
                              (int)(vlen > 40 ? 40 : vlen), v, VR_MAX_DIM);
            break;
        }
        case CLASSES:
            st = whole(key, v, vlen, 0, VR_MAX_DIM, "classifier outputs; 0: no classifier",
                       &c->classes);
            break;
        case EMBED:
            st = whole(key, v, vlen, 1, VR_MAX_DIM, "the projection's outputs", &c->embed_dim);
            break;
        case ACT:
            st = word(key, v, vlen, acts, "gelu, gelu_tanh, quick_gelu or swiglu", &w);
            c->act = (vr_mlp_act)w;
            break;
        case BLOCK:
            st = word(key, v, vlen, blocks, "sequential or parallel", &w);
            c->parallel_block = w;
            break;
        case QKV_BIAS:
        case QK_NORM:
            st = word(key, v, vlen, flags, "0 or 1", &w);
            *(k == QKV_BIAS ? &c->qkv_bias : &c->qk_norm) = w;
            break;
        default:
            st = vr_fail(VR_ERR_INTERNAL, "--shape: key %d has no parser", k);
        }
        if (st)
            return st;
        if (!p[n])
            break;
        p += n + 1;
    }
    for (int k = HIDDEN; k <= PATCH; k++)
        if (!seen[k])
            return vr_fail(VR_ERR_USAGE, "--shape: %s is missing; hidden, layers, heads, mlp "
                           "and patch are required (e.g. " EXAMPLE ")", names[k]);
    if (c->hidden % c->heads)
        return vr_fail(VR_ERR_USAGE, "--shape: heads=%zu does not divide hidden=%zu (each head "
                       "is hidden/heads wide)", c->heads, c->hidden);
    if (image_h % c->patch_size || image_w % c->patch_size) {
        if (image_h == image_w)
            return vr_fail(VR_ERR_USAGE, "--shape: image=%zu is not a multiple of patch=%zu",
                           image_h, c->patch_size);
        return vr_fail(VR_ERR_USAGE, "--shape: image=%zux%zu (height x width) is not a "
                       "multiple of patch=%zu", image_h, image_w, c->patch_size);
    }
    /* what vr_config_check would refuse in a file's terms, in the shape's */
    size_t patches, patch_len;
    if (!vr_mul(image_h / c->patch_size, image_w / c->patch_size, &patches) ||
        patches > VR_MAX_DIM)
        return vr_fail(VR_ERR_USAGE, "--shape: image=%zux%zu in patches of %zu makes %zux%zu "
                       "patches; at most %zu in all", image_h, image_w, c->patch_size,
                       image_h / c->patch_size, image_w / c->patch_size, VR_MAX_DIM);
    if (!vr_mul(c->patch_size, c->patch_size, &patch_len) ||
        !vr_mul(patch_len, c->channels, &patch_len) || patch_len > VR_MAX_DIM)
        return vr_fail(VR_ERR_USAGE, "--shape: patch=%zu: a patch of %zu channels is more than "
                       "%zu values", c->patch_size, c->channels, VR_MAX_DIM);
    if (seen[EMBED]) {
        if (seen[CLASSES] && c->classes)
            return vr_fail(VR_ERR_USAGE, "--shape: embed=%zu is a projection head, which has "
                           "no classifier: give classes=0 or leave classes out", c->embed_dim);
        c->classes = 0;
        c->head = VR_HEAD_PROJECTION;
    } else if (c->classes == 0) {
        c->head = VR_HEAD_NONE;
    }
    c->image_h = image_h;
    c->image_w = image_w;
    return vr_config_check(c, "--shape");
}
