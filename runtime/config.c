/* config.c - checks a model configuration and derives its sizes. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static vr_status bad(const char *where, const char *what, size_t v, const char *why)
{
    return vr_fail(VR_ERR_MODEL, "%s: /config %s = %zu %s", where, what, v, why);
}

void vr_config_classic(vr_config *c)
{
    c->class_token = 1;
    c->dist_token = 0;
    c->reg_tokens = 0;
    c->pos = VR_POS_ALL;
    c->norm_pre = 0;
    c->qkv_bias = 1;
    c->qk_norm = 0;
    c->layer_scale = 0;
    c->parallel_block = 0;
    c->act = VR_ACT_GELU;
    c->final_norm = VR_NORM_PRE_POOL;
    c->pool = VR_POOL_CLS;
    c->pool_mlp_dim = 0;
    c->head = VR_HEAD_LINEAR;
    c->embed_dim = 0;
    c->normalize = 0;
    c->logit_scale = 0.0;
    c->logit_bias = 0.0;
    c->have_logit_bias = 0;
}

const char *vr_act_name(vr_mlp_act a)
{
    static const char *const n[] = {"gelu", "gelu_tanh", "quick_gelu", "swiglu"};
    return (unsigned)a < 4 ? n[a] : "?";
}

const char *vr_pool_name(vr_pool_kind p)
{
    static const char *const n[] = {"cls", "avg", "map", "cls_avg"};
    return (unsigned)p < 4 ? n[p] : "?";
}

const char *vr_head_name(vr_head_kind h)
{
    static const char *const n[] = {"linear", "none", "projection", "distilled"};
    return (unsigned)h < 4 ? n[h] : "?";
}

vr_status vr_config_check(vr_config *c, const char *where)
{
    int classify = c->head == VR_HEAD_LINEAR || c->head == VR_HEAD_DISTILLED;
    const struct { const char *name; size_t v; int used; } dims[] = {
        {"image_size (height)", c->image_h, 1}, {"image_size (width)", c->image_w, 1},
        {"patch_size", c->patch_size, 1},
        {"num_channels", c->channels, 1}, {"hidden_size", c->hidden, 1},
        {"num_heads", c->heads, 1}, {"mlp_dim", c->mlp_dim, 1},
        {"num_classes", c->classes, classify},
        {"embed_dim", c->embed_dim, c->head == VR_HEAD_PROJECTION},
        {"pool_mlp_dim", c->pool_mlp_dim, c->pool == VR_POOL_MAP},
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (dims[i].used && (dims[i].v == 0 || dims[i].v > VR_MAX_DIM))
            return bad(where, dims[i].name, dims[i].v, "is out of range (expected 1..1048576)");
    if (c->layers == 0 || c->layers > VR_MAX_LAYERS)
        return bad(where, "num_layers", c->layers, "is out of range (expected 1..4096)");
    if (c->reg_tokens > 1024)
        return bad(where, "reg_tokens", c->reg_tokens, "is out of range (expected 0..1024)");
    if ((unsigned)c->act > VR_ACT_SWIGLU || (unsigned)c->pool > VR_POOL_CLS_AVG ||
        (unsigned)c->head > VR_HEAD_DISTILLED || (unsigned)c->final_norm > VR_NORM_NONE ||
        (unsigned)c->pos > VR_POS_PATCHES)
        return vr_fail(VR_ERR_INTERNAL, "%s: a /config setting out of its enumeration", where);
    if (c->image_h % c->patch_size != 0 || c->image_w % c->patch_size != 0) {
        if (c->image_h == c->image_w)
            return vr_fail(VR_ERR_MODEL, "%s: image_size %zu is not a multiple of patch_size %zu",
                           where, c->image_h, c->patch_size);
        return vr_fail(VR_ERR_MODEL, "%s: image_size %zux%zu (height x width) is not a "
                       "multiple of patch_size %zu", where, c->image_h, c->image_w,
                       c->patch_size);
    }
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
    /* what the pooling and the head read must exist */
    if ((c->pool == VR_POOL_CLS || c->pool == VR_POOL_CLS_AVG || c->head == VR_HEAD_DISTILLED) &&
        !c->class_token)
        return vr_fail(VR_ERR_MODEL, "%s: /config pooling '%s' with head '%s' reads the class "
                       "token, but class_token = 0", where, vr_pool_name(c->pool),
                       vr_head_name(c->head));
    /* a distillation token without the distilled head is HF's
     * DeiTForImageClassification: the token attends, the head reads token 0 */
    if (c->head == VR_HEAD_DISTILLED && !c->dist_token)
        return vr_fail(VR_ERR_MODEL, "%s: /config head 'distilled' reads the distillation "
                       "token, but dist_token = 0", where);
    if (c->head == VR_HEAD_DISTILLED && c->pool != VR_POOL_CLS)
        return vr_fail(VR_ERR_MODEL, "%s: /config head 'distilled' needs pooling 'cls', found "
                       "'%s'", where, vr_pool_name(c->pool));
    if (c->pool == VR_POOL_MAP && c->act == VR_ACT_SWIGLU)
        return vr_fail(VR_ERR_MODEL, "%s: /config pooling 'map' with activation 'swiglu': no "
                       "library defines the attention-pool MLP for it", where);
    if (c->head == VR_HEAD_DISTILLED && c->final_norm == VR_NORM_POST_POOL)
        return vr_fail(VR_ERR_MODEL, "%s: /config head 'distilled' with final_norm "
                       "'post_pool': DeiT normalises every token before its heads", where);
    if (c->final_norm == VR_NORM_POST_POOL && c->pool == VR_POOL_MAP)
        return vr_fail(VR_ERR_MODEL, "%s: /config final_norm 'post_pool' with pooling 'map': "
                       "the attention-pool head has its own norm", where);
    c->grid_h = c->image_h / c->patch_size;
    c->grid_w = c->image_w / c->patch_size;
    c->patches = c->grid_h * c->grid_w; /* <= 2^40: both factors <= 2^20 */
    if (!c->pos_grid_h || !c->pos_grid_w) {
        c->pos_grid_h = c->grid_h;
        c->pos_grid_w = c->grid_w;
    }
    if (c->pos_grid_h > VR_MAX_DIM || c->pos_grid_w > VR_MAX_DIM ||
        c->pos_grid_h * c->pos_grid_w > VR_MAX_DIM)
        return vr_fail(VR_ERR_MODEL, "%s: /config pos_grid %zux%zu is out of range", where,
                       c->pos_grid_h, c->pos_grid_w);
    c->prefix = (size_t)(c->class_token != 0) + (size_t)(c->dist_token != 0) + c->reg_tokens;
    c->tokens = c->prefix + c->patches;
    c->pos_tokens = c->pos == VR_POS_ALL ? c->tokens : c->patches;
    c->pos_stored = (c->pos == VR_POS_ALL ? c->prefix : 0) + c->pos_grid_h * c->pos_grid_w;
    if ((c->pos_grid_h != c->grid_h || c->pos_grid_w != c->grid_w) &&
        c->pos_resample == VR_PR_NONE)
        return vr_fail(VR_ERR_MODEL, "%s: the position table is for a %zux%zu grid of patches, "
                       "the image size %zux%zu makes %zux%zu, and the model does not say how "
                       "to resample it (/config pos_resample); re-convert the checkpoint",
                       where, c->pos_grid_h, c->pos_grid_w, c->image_h, c->image_w, c->grid_h,
                       c->grid_w);
    c->patch_len = c->channels * c->patch_size * c->patch_size;
    c->pooled = c->pool == VR_POOL_CLS_AVG ? 2 * c->hidden : c->hidden;
    if (c->head == VR_HEAD_PROJECTION) {
        c->classes = 0;
    } else {
        c->embed_dim = c->pooled;
        if (c->head == VR_HEAD_NONE)
            c->classes = 0;
    }
    c->head_rows = c->pool == VR_POOL_CLS && c->head != VR_HEAD_DISTILLED ? 1 : c->tokens;
    if (c->grid_h > VR_MAX_DIM || c->grid_w > VR_MAX_DIM || c->patches > VR_MAX_DIM ||
        c->patch_len > VR_MAX_DIM)
        return vr_fail(VR_ERR_MODEL, "%s: %zu patches of %zu values is beyond what vitrun supports",
                       where, c->patches, c->patch_len);
    size_t n;
    if (!vr_mul(c->hidden, c->mlp_dim, &n) || !vr_mul(n, 4 * c->layers, &n) ||
        !vr_mul(c->tokens, c->hidden, &n) || !vr_mul(c->tokens, 3 * c->hidden, &n) ||
        !vr_mul(c->embed_dim + c->classes, 2 * c->hidden, &n) ||
        !vr_mul(c->pool_mlp_dim, 2 * c->hidden, &n))
        return vr_fail(VR_ERR_MODEL, "%s: model dimensions overflow", where);
    return VR_OK;
}

size_t vr_config_param_count(const vr_config *c)
{
    size_t D = c->hidden, M = c->mlp_dim, hd = c->head_dim;
    size_t fc1 = c->act == VR_ACT_SWIGLU ? 2 * M : M;
    size_t per_layer = (c->parallel_block ? 2 : 4) * D   /* LayerNorms: one in a parallel block */
                       + 3 * D * D + (c->qkv_bias ? 3 * D : 0) /* qkv */
                       + (c->qk_norm ? 4 * hd : 0)         /* q and k norms */
                       + D * D + D                         /* proj */
                       + fc1 * D + fc1 + D * M + D         /* mlp */
                       + (c->layer_scale ? 2 * D : 0);
    size_t embed = D * c->patch_len + D + c->pos_stored * D +
                   (c->tokens - c->patches) * D + (c->norm_pre ? 2 * D : 0);
    size_t after = c->final_norm == VR_NORM_NONE ? 0 : 2 * (c->final_norm == VR_NORM_POST_POOL
                                                                ? c->pooled : D);
    if (c->pool == VR_POOL_MAP)
        after += D + 4 * D * D + 4 * D + 2 * D + 2 * c->pool_mlp_dim * D + c->pool_mlp_dim + D;
    size_t heads = c->head == VR_HEAD_DISTILLED ? 2 : 1;
    if (c->head == VR_HEAD_LINEAR || c->head == VR_HEAD_DISTILLED)
        after += heads * (c->classes * c->pooled + c->classes);
    else if (c->head == VR_HEAD_PROJECTION)
        after += c->embed_dim * c->pooled;
    return embed + c->layers * per_layer + after;
}

/* One block on `rows` query rows of T tokens, all T for keys and values. */
static double block_flops(const vr_config *c, double rows)
{
    double T = (double)c->tokens, D = (double)c->hidden, M = (double)c->mlp_dim;
    double fc1 = c->act == VR_ACT_SWIGLU ? 2 * M : M;
    return 2.0 * T * D * 3 * D      /* qkv */
           + 2.0 * 2 * rows * T * D /* scores and weighted sum */
           + 2.0 * rows * D * D     /* proj */
           + 2.0 * rows * D * (fc1 + M); /* mlp */
}

double vr_config_head_flops(const vr_config *c)
{
    double T = (double)c->tokens, D = (double)c->hidden, f = 0;
    if (c->pool == VR_POOL_MAP)
        f += 2.0 * T * D * 2 * D + 2.0 * 2 * T * D + 2.0 * D * D +
             2.0 * 2 * D * (double)c->pool_mlp_dim;
    double out = (double)(c->head == VR_HEAD_PROJECTION ? c->embed_dim : c->classes);
    return f + 2.0 * (double)c->pooled * out * (c->head == VR_HEAD_DISTILLED ? 2 : 1);
}

double vr_config_flops_per_image(const vr_config *c)
{
    double embed = 2.0 * c->patches * c->patch_len * c->hidden;
    return embed + c->layers * block_flops(c, (double)c->tokens) + vr_config_head_flops(c);
}

double vr_config_flops_run(const vr_config *c, int all_tokens)
{
    if (all_tokens || c->layers == 0 || c->head_rows == c->tokens)
        return vr_config_flops_per_image(c);
    /* the last block on the head's rows only, after every token's keys and values */
    return vr_config_flops_per_image(c) - block_flops(c, (double)c->tokens) +
           block_flops(c, (double)c->head_rows);
}

const char *vr_pos_resample_name(vr_pos_resample r)
{
    static const char *const n[] = {"none", "bicubic_antialias", "bicubic", "bicubic_offset",
                                    "bicubic_align_corners"};
    return (unsigned)r < 5 ? n[r] : "?";
}

vr_status vr_preprocess_preset(vr_preprocess *p, const char *name, size_t h, size_t w)
{
    static const double imagenet_mean[3] = {0.485, 0.456, 0.406};
    static const double imagenet_std[3] = {0.229, 0.224, 0.225};
    static const double clip_mean[3] = {0.48145466, 0.4578275, 0.40821073};
    static const double clip_std[3] = {0.26862954, 0.26130258, 0.27577711};
    size_t big = h > w ? h : w;
    p->crop_h = h;
    p->crop_w = w;
    p->resize_w = w;
    p->rescale = 1.0 / 255.0;
    int exact = !strcmp(name, "hf") || !strcmp(name, "siglip");
    if (exact) { /* HF's ViTImageProcessor, SiglipImageProcessor */
        p->resize = VR_RESIZE_EXACT;
        p->resize_size = h;
        p->interp = !strcmp(name, "hf") ? VR_INTERP_BILINEAR : VR_INTERP_BICUBIC;
        for (int c = 0; c < 3; c++)
            p->mean[c] = p->std[c] = 0.5;
    } else if (!strcmp(name, "torchvision") || !strcmp(name, "dinov2")) {
        p->resize = VR_RESIZE_SHORTER;
        /* Python's round(): halves to even, as nearbyint in the default mode */
        p->resize_size = (size_t)nearbyint((double)big * 256.0 / 224.0);
        p->interp = !strcmp(name, "dinov2") ? VR_INTERP_BICUBIC : VR_INTERP_BILINEAR;
        memcpy(p->mean, imagenet_mean, sizeof p->mean);
        memcpy(p->std, imagenet_std, sizeof p->std);
    } else if (!strcmp(name, "timm")) {
        /* the model's crop fraction (read from the file, checked in (0, 1]), else timm's default */
        double pct = p->crop_pct > 0.0 && p->crop_pct <= 1.0 ? p->crop_pct : 0.9;
        p->crop_pct = pct;
        p->interp = VR_INTERP_BICUBIC;
        if (h == w) {
            p->resize = VR_RESIZE_SHORTER;
            p->resize_size = (size_t)floor((double)h / pct);
        } else { /* timm's transforms resize a tuple size straight to it */
            p->resize = VR_RESIZE_EXACT;
            p->resize_size = (size_t)floor((double)h / pct);
            p->resize_w = (size_t)floor((double)w / pct);
        }
    } else if (!strcmp(name, "clip")) { /* CLIPImageProcessor: shortest edge, centre crop */
        p->resize = VR_RESIZE_SHORTER;
        p->resize_size = big;
        p->interp = VR_INTERP_BICUBIC;
        memcpy(p->mean, clip_mean, sizeof p->mean);
        memcpy(p->std, clip_std, sizeof p->std);
    } else {
        return vr_fail(VR_ERR_USAGE, "unknown preprocessing preset '%s' (hf, torchvision, timm, "
                       "clip, siglip, dinov2)", name);
    }
    snprintf(p->preset, sizeof p->preset, "%s", name);
    return VR_OK;
}

vr_status vr_config_resize(vr_config *c, vr_preprocess *p, size_t h, size_t w, const char *where)
{
    if (h == c->image_h && w == c->image_w)
        return VR_OK;
    if (h % c->patch_size || w % c->patch_size)
        return vr_fail(VR_ERR_USAGE, "--image-size %zux%zu: %s cuts images into patches of "
                       "%zu pixels; give a multiple of %zu (e.g. %zux%zu)", h, w, where,
                       c->patch_size, c->patch_size, (h + c->patch_size - 1) / c->patch_size *
                       c->patch_size, (w + c->patch_size - 1) / c->patch_size * c->patch_size);
    if (c->pos_resample == VR_PR_NONE)
        return vr_fail(VR_ERR_USAGE, "--image-size %zux%zu: %s runs at %zux%zu only; it does "
                       "not say how its position table is resampled (/config pos_resample: "
                       "models converted before format 2's resolution support); convert the "
                       "checkpoint again", h, w, where, c->image_h, c->image_w);
    if (!p->preset[0])
        return vr_fail(VR_ERR_USAGE, "--image-size %zux%zu: %s does not record which library's "
                       "preprocessing it uses; add --preprocess hf|torchvision|timm|clip|siglip|"
                       "dinov2", h, w, where);
    c->image_h = h;
    c->image_w = w;
    /* the geometry follows the size; the model's interpolation and
     * normalisation stay */
    vr_preprocess keep = *p;
    vr_status st = vr_preprocess_preset(p, keep.preset, h, w);
    p->interp = keep.interp;
    memcpy(p->mean, keep.mean, sizeof p->mean);
    memcpy(p->std, keep.std, sizeof p->std);
    return st ? st : vr_config_check(c, where);
}

vr_status vr_preprocess_check(const vr_preprocess *p, const char *where)
{
    int exact = p->resize == VR_RESIZE_EXACT;
    size_t rh = p->resize_size, rw = exact ? p->resize_w : p->resize_size;
    if (rh > VR_MAX_DIM || rw > VR_MAX_DIM || (exact && (rh < p->crop_h || rw < p->crop_w)) ||
        (!exact && rh < (p->crop_h > p->crop_w ? p->crop_h : p->crop_w)))
        return vr_fail(VR_ERR_MODEL,
                       "%s: /preprocess resize_size %zux%zu must be from crop_size %zux%zu to "
                       "%zu (images are resized to it, %s, then centre-cropped to %zux%zu); fix "
                       "the attribute or override it with --preprocess",
                       where, rh, rw, p->crop_h, p->crop_w, VR_MAX_DIM,
                       exact ? "both sides" : "the shorter side", p->crop_h, p->crop_w);
    return VR_OK;
}
