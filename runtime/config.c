/* config.c - checks a model configuration and derives its sizes. */
#include "config.h"

#include <math.h>
#include <string.h>

static vr_status bad(const char *where, const char *what, size_t v, const char *why)
{
    return vr_fail(VR_ERR_MODEL, "%s: /config %s = %zu %s", where, what, v, why);
}

vr_status vr_config_check(vr_config *c, const char *where)
{
    const struct { const char *name; size_t v; } dims[] = {
        {"image_size", c->image_size}, {"patch_size", c->patch_size},
        {"num_channels", c->channels}, {"hidden_size", c->hidden},
        {"num_heads", c->heads}, {"mlp_dim", c->mlp_dim},
        {"num_classes", c->classes},
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (dims[i].v == 0 || dims[i].v > VR_MAX_DIM)
            return bad(where, dims[i].name, dims[i].v, "is out of range (expected 1..1048576)");
    if (c->layers == 0 || c->layers > VR_MAX_LAYERS)
        return bad(where, "num_layers", c->layers, "is out of range (expected 1..4096)");
    if (c->image_size % c->patch_size != 0)
        return vr_fail(VR_ERR_MODEL, "%s: image_size %zu is not a multiple of patch_size %zu",
                       where, c->image_size, c->patch_size);
    if (c->hidden % c->heads != 0)
        return vr_fail(VR_ERR_MODEL, "%s: hidden_size %zu is not divisible by num_heads %zu",
                       where, c->hidden, c->heads);
    if (c->head_dim == 0)
        c->head_dim = c->hidden / c->heads;
    if (c->head_dim * c->heads != c->hidden)
        return vr_fail(VR_ERR_MODEL, "%s: head_dim %zu x num_heads %zu != hidden_size %zu",
                       where, c->head_dim, c->heads, c->hidden);
    if (!(c->ln_eps > 0.0 && c->ln_eps < 1.0))
        return vr_fail(VR_ERR_MODEL, "%s: /config layer_norm_eps = %g, expected a value in (0, 1)",
                       where, c->ln_eps);
    c->grid = c->image_size / c->patch_size;
    c->patches = c->grid * c->grid; /* <= 2^40: both factors <= 2^20 */
    c->tokens = c->patches + 1;
    c->patch_len = c->channels * c->patch_size * c->patch_size;
    if (c->patches > VR_MAX_DIM || c->patch_len > VR_MAX_DIM)
        return vr_fail(VR_ERR_MODEL, "%s: %zu patches of %zu values is beyond what vitrun supports",
                       where, c->patches, c->patch_len);
    size_t n;
    if (!vr_mul(c->hidden, c->mlp_dim, &n) || !vr_mul(n, 2 * c->layers, &n) ||
        !vr_mul(c->tokens, c->hidden, &n))
        return vr_fail(VR_ERR_MODEL, "%s: model dimensions overflow", where);
    return VR_OK;
}

size_t vr_config_param_count(const vr_config *c)
{
    size_t D = c->hidden, M = c->mlp_dim;
    size_t per_layer = 4 * D            /* two LayerNorms */
                       + 3 * D * D + 3 * D /* qkv */
                       + D * D + D       /* proj */
                       + M * D + M + D * M + D; /* mlp */
    return D * c->patch_len + D + D + c->tokens * D + c->layers * per_layer + 2 * D +
           c->classes * D + c->classes;
}

double vr_config_flops_per_image(const vr_config *c)
{
    double T = (double)c->tokens, D = (double)c->hidden, M = (double)c->mlp_dim;
    double embed = 2.0 * c->patches * c->patch_len * D;
    double layer = 2.0 * T * D * 3 * D  /* qkv */
                   + 2.0 * 2 * T * T * D /* scores and weighted sum */
                   + 2.0 * T * D * D     /* proj */
                   + 2.0 * 2 * T * D * M; /* mlp */
    return embed + c->layers * layer + 2.0 * D * c->classes;
}

double vr_config_flops_run(const vr_config *c, int all_tokens)
{
    double T = (double)c->tokens, D = (double)c->hidden, M = (double)c->mlp_dim;
    double full = vr_config_flops_per_image(c);
    if (all_tokens || c->layers == 0)
        return full;
    /* the last block's other T - 1 query rows, proj and MLP rows */
    return full - (T - 1) * (2.0 * 2 * T * D + 2.0 * D * D + 2.0 * 2 * D * M);
}

vr_status vr_preprocess_preset(vr_preprocess *p, const char *name, size_t image_size)
{
    static const double imagenet_mean[3] = {0.485, 0.456, 0.406};
    static const double imagenet_std[3] = {0.229, 0.224, 0.225};
    p->crop_size = image_size;
    p->rescale = 1.0 / 255.0;
    if (!strcmp(name, "hf")) {
        p->resize = VR_RESIZE_EXACT;
        p->resize_size = image_size;
        p->interp = VR_INTERP_BILINEAR;
        for (int c = 0; c < 3; c++)
            p->mean[c] = p->std[c] = 0.5;
    } else if (!strcmp(name, "torchvision")) {
        p->resize = VR_RESIZE_SHORTER;
        /* Python's round(): halves to even, as nearbyint in the default mode */
        p->resize_size = (size_t)nearbyint((double)image_size * 256.0 / 224.0);
        p->interp = VR_INTERP_BILINEAR;
        memcpy(p->mean, imagenet_mean, sizeof p->mean);
        memcpy(p->std, imagenet_std, sizeof p->std);
    } else if (!strcmp(name, "timm")) {
        p->resize = VR_RESIZE_SHORTER;
        p->resize_size = (size_t)floor((double)image_size / 0.9);
        p->interp = VR_INTERP_BICUBIC;
    } else {
        return vr_fail(VR_ERR_USAGE, "unknown preprocessing preset '%s' (hf, torchvision, timm)",
                       name);
    }
    return VR_OK;
}
