/* model_io.c - the HDF5 model reader: config, labels, sharded hyperslab loads. */
#include "model_io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../runtime/posembed.h"
#include "h5util.h"
#include "output.h"

#define MAXR 4 /* highest tensor rank in the format */

static vr_status need_size(vr_model_file *m, hid_t g, const char *grp, const char *name,
                           size_t *out)
{
    long long v;
    if (vr_h5_attr_i64(g, name, &v) != 0) {
        char got[64];
        vr_h5_attr_describe(g, name, got, sizeof got);
        if (!strcmp(got, "missing"))
            return vr_fail(VR_ERR_MODEL, "%s: %s is missing the integer attribute '%s'; "
                           "re-convert the checkpoint with scripts/convert_checkpoint.py",
                           m->path, grp, name);
        return vr_fail(VR_ERR_MODEL,
                       "%s: %s attribute '%s' should be one integer, found %s; re-convert the "
                       "checkpoint with scripts/convert_checkpoint.py",
                       m->path, grp, name, got);
    }
    if (v < 0 || (unsigned long long)v > VR_MAX_DIM * 4096ULL)
        return vr_fail(VR_ERR_MODEL, "%s: %s attribute '%s' = %lld is out of range", m->path,
                       grp, name, v);
    *out = (size_t)v;
    return VR_OK;
}

/* A size that is one integer (a square) or two, height and width. */
static vr_status need_hw(vr_model_file *m, hid_t g, const char *grp, const char *name,
                         size_t *h, size_t *w)
{
    double v[2];
    if (vr_h5_attr_f64(g, name, v, 2) == 0) {
        for (int i = 0; i < 2; i++)
            if (!(v[i] >= 0 && v[i] <= (double)VR_MAX_DIM) || v[i] != floor(v[i]))
                return vr_fail(VR_ERR_MODEL, "%s: %s attribute '%s' = [%g, %g] should be two "
                               "sizes (height, width) from 0 to %zu", m->path, grp, name, v[0],
                               v[1], VR_MAX_DIM);
        *h = (size_t)v[0];
        *w = (size_t)v[1];
        return VR_OK;
    }
    vr_status st = need_size(m, g, grp, name, h);
    *w = *h;
    return st;
}

static vr_status need_str(vr_model_file *m, hid_t g, const char *grp, const char *name,
                          char *out, size_t cap, const char *const *allowed)
{
    int r = vr_h5_attr_str(g, name, out, cap);
    if (r == -2)
        return vr_fail(VR_ERR_MODEL, "%s: %s attribute '%s' cannot be read: %s; convert the "
                       "checkpoint again", m->path, grp, name, vr_h5_string_error());
    if (r != 0) {
        char got[64];
        vr_h5_attr_describe(g, name, got, sizeof got);
        if (!strcmp(got, "missing"))
            return vr_fail(VR_ERR_MODEL, "%s: %s is missing the string attribute '%s'",
                           m->path, grp, name);
        return vr_fail(VR_ERR_MODEL, "%s: %s attribute '%s' should be one string, found %s",
                       m->path, grp, name, got);
    }
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(out, allowed[i]) == 0)
            return VR_OK;
    char list[256] = "";
    for (size_t i = 0; allowed[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'", i ? ", " : "",
                 allowed[i]);
    return vr_fail(VR_ERR_MODEL, "%s: %s attribute '%s' is '%s'; vitrun supports %s",
                   m->path, grp, name, out, list);
}

/* A 0/1 setting of /config (format 2). */
static vr_status need_flag(vr_model_file *m, hid_t g, const char *name, int *out)
{
    size_t v = 0;
    vr_status st = need_size(m, g, "/config", name, &v);
    if (!st && v > 1)
        st = vr_fail(VR_ERR_MODEL, "%s: /config attribute '%s' = %zu, expected 0 or 1", m->path,
                     name, v);
    if (!st)
        *out = (int)v;
    return st;
}

/* A string setting of /config: its index in `words` (NULL-terminated). */
static vr_status need_word(vr_model_file *m, hid_t g, const char *name,
                           const char *const *words, int *out)
{
    char s[64];
    vr_status st = need_str(m, g, "/config", name, s, sizeof s, words);
    for (int i = 0; !st && words[i]; i++)
        if (!strcmp(s, words[i]))
            *out = i;
    return st;
}

static vr_status read_config(vr_model_file *m, long long version)
{
    hid_t f = (hid_t)m->file;
    vr_status st;
    if (!vr_h5_exists(f, "/config"))
        return vr_fail(VR_ERR_MODEL, "%s: group /config is missing; is this a vitrun model?",
                       m->path);
    hid_t g = H5Gopen2(f, "/config", H5P_DEFAULT);
    vr_config *c = &m->cfg;
    vr_config_classic(c);
    int act = 0, pool = 0, v1 = version == 1;
    /* the words' order is the enumerations' in runtime/config.h */
    static const char *const acts[] = {"gelu", "gelu_tanh", "quick_gelu", "swiglu", NULL},
                             *const pools[] = {"cls", "avg", "map", "cls_avg", NULL},
                             *const gelu[] = {"gelu", NULL}, *const cls[] = {"cls", NULL},
                             *const pos[] = {"all", "patches", NULL},
                             *const norms[] = {"pre_pool", "post_pool", "none", NULL},
                             *const heads[] = {"linear", "none", "projection", "distilled", NULL};
    if ((st = need_hw(m, g, "/config", "image_size", &c->image_h, &c->image_w)) ||
        (st = need_size(m, g, "/config", "patch_size", &c->patch_size)) ||
        (st = need_size(m, g, "/config", "num_channels", &c->channels)) ||
        (st = need_size(m, g, "/config", "hidden_size", &c->hidden)) ||
        (st = need_size(m, g, "/config", "num_layers", &c->layers)) ||
        (st = need_size(m, g, "/config", "num_heads", &c->heads)) ||
        (st = need_size(m, g, "/config", "head_dim", &c->head_dim)) ||
        (st = need_size(m, g, "/config", "mlp_dim", &c->mlp_dim)) ||
        (st = need_size(m, g, "/config", "num_classes", &c->classes)) ||
        (st = need_word(m, g, "activation", v1 ? gelu : acts, &act)) ||
        (st = need_word(m, g, "pooling", v1 ? cls : pools, &pool)))
        goto done;
    c->act = (vr_mlp_act)act;
    c->pool = (vr_pool_kind)pool;
    if (v1) {
        char s[64];
        static const char *const layout[] = {"cls_first", NULL};
        st = need_str(m, g, "/config", "token_layout", s, sizeof s, layout);
    } else {
        int pm = 0, fn = 0, hk = 0;
        size_t regs = 0;
        if ((st = need_flag(m, g, "class_token", &c->class_token)) ||
            (st = need_flag(m, g, "dist_token", &c->dist_token)) ||
            (st = need_size(m, g, "/config", "reg_tokens", &regs)) ||
            (st = need_word(m, g, "pos_embed", pos, &pm)) ||
            (st = need_flag(m, g, "norm_pre", &c->norm_pre)) ||
            (st = need_flag(m, g, "qkv_bias", &c->qkv_bias)) ||
            (st = need_flag(m, g, "qk_norm", &c->qk_norm)) ||
            (st = need_flag(m, g, "layer_scale", &c->layer_scale)) ||
            (st = need_word(m, g, "final_norm", norms, &fn)) ||
            (st = need_word(m, g, "head", heads, &hk)))
            goto done;
        c->reg_tokens = regs;
        c->pos = (vr_pos_mode)pm;
        c->final_norm = (vr_final_norm)fn;
        c->head = (vr_head_kind)hk;
        /* optional: the grid the position table was trained on (when it is
         * not the image's) and how it is resampled to another grid */
        static const char *const resamples[] = {"none", "bicubic_antialias", "bicubic",
                                                "bicubic_offset", "bicubic_align_corners", NULL};
        int pr = 0;
        if ((H5Aexists(g, "pos_grid") > 0 &&
             (st = need_hw(m, g, "/config", "pos_grid", &c->pos_grid_h, &c->pos_grid_w))) ||
            (H5Aexists(g, "pos_resample") > 0 && (st = need_word(m, g, "pos_resample",
                                                                 resamples, &pr))))
            goto done;
        c->pos_resample = (vr_pos_resample)pr;
        /* optional: ViT-22B's parallel block ("sequential" when absent) */
        static const char *const blocks[] = {"sequential", "parallel", NULL};
        if (H5Aexists(g, "block") > 0 &&
            (st = need_word(m, g, "block", blocks, &c->parallel_block)))
            goto done;
        /* optional: zero-shot's logit scale (and SigLIP's bias) from the checkpoint */
        if (H5Aexists(g, "logit_scale") > 0 &&
            (vr_h5_attr_f64(g, "logit_scale", &c->logit_scale, 1) ||
             !(c->logit_scale > 0.0 && c->logit_scale < 1e6))) {
            st = vr_fail(VR_ERR_MODEL, "%s: /config logit_scale should be one number in (0, "
                         "1e6): the multiplier, exp of the checkpoint's parameter", m->path);
            goto done;
        }
        if (H5Aexists(g, "logit_bias") > 0) {
            c->have_logit_bias = 1;
            if (vr_h5_attr_f64(g, "logit_bias", &c->logit_bias, 1) || !isfinite(c->logit_bias)) {
                st = vr_fail(VR_ERR_MODEL, "%s: /config logit_bias should be one finite number",
                             m->path);
                goto done;
            }
        }
        /* optional: how the embedding is written by default (--normalize) */
        if (H5Aexists(g, "normalize_embedding") > 0 &&
            (st = need_flag(m, g, "normalize_embedding", &c->normalize)))
            goto done;
        if (c->head == VR_HEAD_PROJECTION &&
            (st = need_size(m, g, "/config", "embed_dim", &c->embed_dim)))
            goto done;
        if (c->pool == VR_POOL_MAP &&
            (st = need_size(m, g, "/config", "pool_mlp_dim", &c->pool_mlp_dim)))
            goto done;
        if ((c->head == VR_HEAD_NONE || c->head == VR_HEAD_PROJECTION) && c->classes) {
            st = vr_fail(VR_ERR_MODEL, "%s: /config num_classes = %zu with head '%s', which has "
                         "no classifier; expected 0", m->path, c->classes, vr_head_name(c->head));
            goto done;
        }
    }
    if (vr_h5_attr_f64(g, "layer_norm_eps", &c->ln_eps, 1) != 0)
        st = vr_fail(VR_ERR_MODEL, "%s: /config is missing the float attribute 'layer_norm_eps'",
                     m->path);
done:
    H5Gclose(g);
    return st ? st : vr_config_check(c, m->path);
}

static vr_status read_preprocess(vr_model_file *m)
{
    hid_t f = (hid_t)m->file;
    vr_preprocess *p = &m->pre;
    vr_status st;
    if (!vr_h5_exists(f, "/preprocess"))
        return vr_fail(VR_ERR_MODEL, "%s: group /preprocess is missing", m->path);
    hid_t g = H5Gopen2(f, "/preprocess", H5P_DEFAULT);
    char s[64];
    static const char *const modes[] = {"exact", "shorter", NULL},
                             *const interps[] = {"bilinear", "bicubic", NULL};
    if ((st = need_str(m, g, "/preprocess", "resize", s, sizeof s, modes)) == VR_OK) {
        p->resize = strcmp(s, "exact") == 0 ? VR_RESIZE_EXACT : VR_RESIZE_SHORTER;
        if ((st = need_str(m, g, "/preprocess", "interpolation", s, sizeof s, interps)) == VR_OK)
            p->interp = strcmp(s, "bilinear") == 0 ? VR_INTERP_BILINEAR : VR_INTERP_BICUBIC;
    }
    if (!st && !(st = need_hw(m, g, "/preprocess", "resize_size", &p->resize_size,
                              &p->resize_w)))
        st = need_hw(m, g, "/preprocess", "crop_size", &p->crop_h, &p->crop_w);
    if (!st && p->resize == VR_RESIZE_SHORTER && p->resize_w != p->resize_size)
        st = vr_fail(VR_ERR_MODEL, "%s: /preprocess resize_size %zux%zu: the shorter side is "
                     "resized to one size", m->path, p->resize_size, p->resize_w);
    /* optional: the library preset it came from, for --image-size */
    static const char *const presets[] = {"hf", "torchvision", "timm", "clip", "siglip",
                                          "dinov2", NULL};
    p->preset[0] = '\0';
    p->crop_pct = 0;
    if (!st && H5Aexists(g, "preset") > 0)
        st = need_str(m, g, "/preprocess", "preset", p->preset, sizeof p->preset, presets);
    if (!st && H5Aexists(g, "crop_pct") > 0 &&
        (vr_h5_attr_f64(g, "crop_pct", &p->crop_pct, 1) || !(p->crop_pct > 0.0) ||
         !(p->crop_pct <= 1.0)))
        st = vr_fail(VR_ERR_MODEL, "%s: /preprocess crop_pct should be one number in (0, 1]",
                     m->path);
    if (!st && (vr_h5_attr_f64(g, "rescale", &p->rescale, 1) ||
                vr_h5_attr_f64(g, "mean", p->mean, 3) || vr_h5_attr_f64(g, "std", p->std, 3)))
        st = vr_fail(VR_ERR_MODEL,
                     "%s: /preprocess needs float attributes rescale (1), mean (3) and std (3)",
                     m->path);
    H5Gclose(g);
    if (st)
        return st;
    /* NaN or Inf poisons every pixel (rows come out ok = 0), rescale <= 0
     * maps every image to the same tensor: both look like a working model */
    if (!isfinite(p->rescale) || !(p->rescale > 0.0))
        return vr_fail(VR_ERR_MODEL, "%s: /preprocess rescale = %g must be a positive finite "
                       "number (1/255 for 8-bit pixels); fix the attribute (h5py: "
                       "f['preprocess'].attrs['rescale'] = 1/255)", m->path, p->rescale);
    for (int i = 0; i < 3; i++) {
        if (!isfinite(p->mean[i]))
            return vr_fail(VR_ERR_MODEL, "%s: /preprocess mean[%d] = %g must be finite; fix the "
                           "attribute", m->path, i, p->mean[i]);
        if (!isfinite(p->std[i]) || !(p->std[i] > 0.0))
            return vr_fail(VR_ERR_MODEL, "%s: /preprocess std[%d] = %g must be a positive "
                           "finite number; fix the attribute", m->path, i, p->std[i]);
    }
    if (p->crop_h != m->cfg.image_h || p->crop_w != m->cfg.image_w)
        return vr_fail(VR_ERR_MODEL, "%s: /preprocess crop_size %zux%zu != /config image_size "
                       "%zux%zu", m->path, p->crop_h, p->crop_w, m->cfg.image_h, m->cfg.image_w);
    return vr_preprocess_check(p, m->path);
}

static vr_status read_labels(vr_model_file *m)
{
    hid_t f = (hid_t)m->file;
    if (!vr_h5_exists(f, "/labels"))
        return VR_OK;
    hid_t d = H5Dopen2(f, "/labels", H5P_DEFAULT);
    if (d < 0)
        return vr_fail(VR_ERR_MODEL, "%s: /labels is not a dataset; expected %zu strings (one "
                       "per class)", m->path, m->cfg.classes);
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    vr_status st = VR_OK;
    char tn[32];
    vr_h5_type_name(t, tn, sizeof tn);
    size_t sz = H5Tget_size(t), bytes;
    int vlen = H5Tis_variable_str(t) > 0;
    if (H5Tget_class(t) != H5T_STRING || H5Sget_simple_extent_ndims(sp) != 1 ||
        n != (hssize_t)m->cfg.classes) {
        st = vr_fail(VR_ERR_MODEL, "%s: /labels must be %zu strings (one per class); found %lld "
                     "%s%s", m->path, m->cfg.classes, (long long)n,
                     H5Tget_class(t) == H5T_STRING ? "strings" : "values of ",
                     H5Tget_class(t) == H5T_STRING ? "" : tn);
    } else if (!vlen && (sz > VR_H5_MAX_FIXED_STR || !vr_mul((size_t)n, sz, &bytes))) {
        st = vr_fail(VR_ERR_MODEL, "%s: /labels holds strings of %zu bytes each; at most %zu",
                     m->path, sz, VR_H5_MAX_FIXED_STR);
    } else if (!(m->labels = calloc((size_t)n, sizeof *m->labels))) {
        st = vr_fail(VR_ERR_NOMEM, "%s: out of memory for %lld labels", m->path, (long long)n);
    } else if (vlen) {
        char *all = NULL, why[256];
        size_t len;
        if (vr_h5_read_vlen(d, 1, 0, (size_t)n, &all, &len, why, sizeof why) != 0)
            st = vr_fail(VR_ERR_MODEL, "%s: /labels cannot be read: %s; convert the checkpoint "
                         "again", m->path, why);
        const char *p = all;
        for (hssize_t i = 0; !st && i < n; i++) {
            if (!(m->labels[i] = strdup(p)))
                st = vr_fail(VR_ERR_NOMEM, "%s: out of memory for the labels", m->path);
            p += strlen(p) + 1; /* n strings, each ended by a NUL: checked by the reader */
        }
        free(all);
    } else {
        hid_t mt = H5Tcopy(t); /* as stored: same size, padding and character set */
        char *buf = calloc(bytes ? bytes : 1, 1);
        if (!buf || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            st = vr_fail(VR_ERR_MODEL, "%s: cannot read /labels (damaged?)", m->path);
        for (hssize_t i = 0; !st && i < n; i++)
            if (!(m->labels[i] = strndup(buf + (size_t)i * sz, sz)))
                st = vr_fail(VR_ERR_NOMEM, "%s: out of memory for the labels", m->path);
        free(buf);
        H5Tclose(mt);
    }
    /* they go to the UTF-8 topk_label column: bytes that are not UTF-8
     * would make every reader of the output fail */
    for (hssize_t i = 0; !st && i < n; i++)
        if (!vr_utf8_valid(m->labels[i]))
            st = vr_fail(VR_ERR_MODEL, "%s: /labels[%lld] is not UTF-8 text; fix the label "
                         "(h5py: f['labels'][%lld] = 'name')", m->path, (long long)i,
                         (long long)i);
    H5Sclose(sp);
    H5Tclose(t);
    H5Dclose(d);
    return st;
}

vr_status vr_model_open(vr_model_file *m, const char *path)
{
    memset(m, 0, sizeof *m);
    m->file = -1;
    vr_h5_quiet();
    snprintf(m->path, sizeof m->path, "%s", path);
    snprintf(m->dir, sizeof m->dir, "%s", path);
    char *slash = strrchr(m->dir, '/');
    if (slash)
        slash[1] = '\0';
    else
        m->dir[0] = '\0';
    if (access(path, R_OK) != 0)
        return vr_fail(VR_ERR_MODEL, "%s: cannot open the model file: %s", path, strerror(errno));
    if (vr_h5_is_hdf5(path) <= 0)
        return vr_fail(VR_ERR_MODEL, "%s: not an HDF5 file, or truncated; expected a vitrun "
                       "model written by scripts/convert_checkpoint.py", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return vr_fail(VR_ERR_MODEL, "%s: HDF5 cannot open it (truncated or damaged?)", path);
    m->file = f;
    long long version;
    if (vr_h5_attr_i64(f, "format_version", &version) != 0) {
        char got[64];
        vr_h5_attr_describe(f, "format_version", got, sizeof got);
        vr_model_close(m);
        if (strcmp(got, "missing"))
            return vr_fail(VR_ERR_MODEL, "%s: root attribute 'format_version' should be one "
                           "integer, found %s; re-convert the checkpoint with "
                           "scripts/convert_checkpoint.py", path, got);
        return vr_fail(VR_ERR_MODEL, "%s: no root attribute 'format_version'; this is not a "
                       "vitrun model. Convert checkpoints with scripts/convert_checkpoint.py", path);
    }
    if (version < 1 || version > VR_FORMAT_VERSION) {
        vr_model_close(m);
        return vr_fail(VR_ERR_MODEL, "%s: format_version %lld, this vitrun reads versions 1 to "
                       "%d; re-convert the model or use a matching vitrun", path, version,
                       VR_FORMAT_VERSION);
    }
    int r = vr_h5_attr_str(f, "model_id", m->model_id, sizeof m->model_id);
    if (r == -2) {
        vr_model_close(m);
        return vr_fail(VR_ERR_MODEL, "%s: root attribute 'model_id' cannot be read: %s; "
                       "convert the checkpoint again", path, vr_h5_string_error());
    }
    if (r != 0) {
        m->model_id[0] = '\0';
        if (H5Aexists(f, "model_id") > 0) {
            vr_model_close(m);
            return vr_fail(VR_ERR_MODEL, "%s: root attribute 'model_id' is not one string; "
                           "re-convert the model with scripts/convert_checkpoint.py", path);
        }
    }
    vr_status st;
    if ((st = read_config(m, version)) || (st = read_preprocess(m)) || (st = read_labels(m))) {
        vr_model_close(m);
        return st;
    }
    return VR_OK;
}

vr_status vr_model_set_size(vr_model_file *m, size_t h, size_t w, const char *preset)
{
    if (!h || (h == m->cfg.image_h && w == m->cfg.image_w))
        return VR_OK;
    if (preset)
        snprintf(m->pre.preset, sizeof m->pre.preset, "%s", preset);
    vr_status st = vr_config_resize(&m->cfg, &m->pre, h, w, m->path);
    return st ? st : vr_preprocess_check(&m->pre, m->path);
}

int vr_model_is_model_file(const char *path)
{
    vr_h5_quiet();
    if (vr_h5_is_hdf5(path) <= 0)
        return 0;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return 0;
    int model = H5Aexists(f, "model_id") > 0 || H5Aexists(f, "format_version") > 0;
    H5Fclose(f);
    return model;
}

void vr_model_close(vr_model_file *m)
{
    for (size_t i = 0; i < m->n_shards_open; i++) {
        H5Fclose((hid_t)m->shards[i].file);
        free(m->shards[i].name);
    }
    m->n_shards_open = 0;
    if (m->file >= 0)
        H5Fclose((hid_t)m->file);
    m->file = -1;
    if (m->labels) {
        for (size_t i = 0; i < m->cfg.classes; i++)
            free(m->labels[i]);
        free(m->labels);
        m->labels = NULL;
    }
}

/* Where the tensors of `group` (e.g. "/layers/03") live: the index file itself,
 * or, through an external link, a shard file (opened once, on first use). */
typedef struct {
    hid_t file;
    char file_name[4096]; /* for messages */
    char prefix[512];     /* the group's path inside that file */
} location;

static vr_status locate(vr_model_file *m, const char *group, location *loc)
{
    hid_t f = (hid_t)m->file;
    if (!vr_h5_exists(f, group))
        return vr_fail(VR_ERR_MODEL, "%s: group %s is missing; the model is incomplete "
                       "(was the conversion interrupted?)", m->path, group);
    vr_h5_linfo info;
    if (vr_h5_get_linfo(f, group, &info) < 0)
        return vr_fail(VR_ERR_MODEL, "%s: cannot inspect %s", m->path, group);
    if (info.type != H5L_TYPE_EXTERNAL) {
        loc->file = f;
        snprintf(loc->file_name, sizeof loc->file_name, "%s", m->path);
        snprintf(loc->prefix, sizeof loc->prefix, "%s", group);
        return VR_OK;
    }
    char buf[4096];
    const char *target_file = NULL, *target_obj = NULL;
    unsigned flags;
    if (info.u.val_size > sizeof buf || H5Lget_val(f, group, buf, sizeof buf, H5P_DEFAULT) < 0 ||
        H5Lunpack_elink_val(buf, info.u.val_size, &flags, &target_file, &target_obj) < 0)
        return vr_fail(VR_ERR_MODEL, "%s: cannot read the external link %s", m->path, group);
    if (strlen(m->dir) + strlen(target_file) >= sizeof loc->file_name ||
        strlen(target_obj) >= sizeof loc->prefix)
        return vr_fail(VR_ERR_MODEL, "%s: the external link %s makes a path of over %zu "
                       "characters (shard file) or %zu (group); give the shard files shorter "
                       "names", m->path, group, sizeof loc->file_name - 1,
                       sizeof loc->prefix - 1);
    size_t nd = target_file[0] == '/' ? 0 : strlen(m->dir), nt = strlen(target_file);
    memcpy(loc->file_name, m->dir, nd); /* the lengths fit: checked above */
    memcpy(loc->file_name + nd, target_file, nt + 1);
    snprintf(loc->prefix, sizeof loc->prefix, "%s", target_obj);
    for (size_t i = 0; i < m->n_shards_open; i++)
        if (strcmp(m->shards[i].name, target_file) == 0) {
            loc->file = (hid_t)m->shards[i].file;
            goto check_group;
        }
    if (access(loc->file_name, R_OK) != 0)
        return vr_fail(VR_ERR_MODEL, "%s: %s points to shard file '%s', which cannot be opened "
                       "(%s); keep the shard files next to the index file", m->path, group,
                       loc->file_name, strerror(errno));
    if (vr_h5_is_hdf5(loc->file_name) <= 0)
        return vr_fail(VR_ERR_MODEL, "%s: shard file '%s' (for %s) is not a readable HDF5 file; "
                       "it may be truncated: copy or convert it again", m->path, loc->file_name,
                       group);
    if (m->n_shards_open == VR_MAX_SHARD_FILES)
        return vr_fail(VR_ERR_MODEL, "%s: more than %d shard files", m->path, VR_MAX_SHARD_FILES);
    hid_t sf = H5Fopen(loc->file_name, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (sf < 0)
        return vr_fail(VR_ERR_MODEL, "%s: HDF5 cannot open shard file '%s' (truncated or "
                       "damaged?)", m->path, loc->file_name);
    char id[64] = "";
    int r = m->model_id[0] ? vr_h5_attr_str(sf, "model_id", id, sizeof id) : 0, no_id = r != 0;
    if (r == -2) {
        H5Fclose(sf);
        return vr_fail(VR_ERR_MODEL, "%s: shard file '%s': attribute 'model_id' cannot be read: "
                       "%s; copy or convert it again", m->path, loc->file_name,
                       vr_h5_string_error());
    }
    if (m->model_id[0] && (no_id || strcmp(id, m->model_id) != 0)) {
        H5Fclose(sf);
        if (no_id)
            return vr_fail(VR_ERR_MODEL, "%s: shard file '%s' has no model_id string (the index "
                           "has '%s'); it is damaged or from another model: copy or convert it "
                           "again", m->path, loc->file_name, m->model_id);
        return vr_fail(VR_ERR_MODEL, "%s: shard file '%s' has model_id '%s' but the index has "
                       "'%s'; it belongs to another model (mixed-up copies?)", m->path,
                       loc->file_name, id, m->model_id);
    }
    if (!(m->shards[m->n_shards_open].name = strdup(target_file))) {
        H5Fclose(sf);
        return vr_fail(VR_ERR_NOMEM, "%s: out of memory opening shard file '%s'", m->path,
                       loc->file_name);
    }
    m->shards[m->n_shards_open++].file = sf;
    loc->file = sf;
check_group:
    if (!vr_h5_exists(loc->file, loc->prefix))
        return vr_fail(VR_ERR_MODEL, "%s: shard file '%s' has no group %s (linked from %s)",
                       m->path, loc->file_name, loc->prefix, group);
    return VR_OK;
}

/* Reads the hyperslab start/count of dataset `group/name`, which must have
 * exactly the dims `full` (rank r), into dst as float32. */
static vr_status read_tensor(vr_model_file *m, const char *group, const char *name, int r,
                             const hsize_t *full, const hsize_t *start, const hsize_t *count,
                             float *dst)
{
    location loc;
    vr_status st = locate(m, group, &loc);
    if (st)
        return st;
    char path[1024], want[128], got[128], tname[32];
    snprintf(path, sizeof path, "%s/%s", loc.prefix, name);
    vr_h5_fmt_dims(want, sizeof want, full, r);
    if (!vr_h5_exists(loc.file, path))
        return vr_fail(VR_ERR_MODEL, "%s: dataset %s/%s is missing (expected float32 %s)",
                       loc.file_name, group, name, want);
    hid_t d = H5Dopen2(loc.file, path, H5P_DEFAULT);
    if (d < 0)
        return vr_fail(VR_ERR_MODEL, "%s: %s/%s is not a dataset", loc.file_name, group, name);
    hid_t t = H5Dget_type(d), fs = H5Dget_space(d), ms = -1;
    hsize_t dims[MAXR + 4];
    int nd = H5Sget_simple_extent_ndims(fs);
    if (nd >= 0 && nd <= MAXR + 4)
        H5Sget_simple_extent_dims(fs, dims, NULL);
    int same = nd == r;
    for (int i = 0; same && i < r; i++)
        same = dims[i] == full[i];
    if (!same) {
        vr_h5_fmt_dims(got, sizeof got, dims, nd > 0 && nd <= MAXR + 4 ? nd : 0);
        st = vr_fail(VR_ERR_MODEL, "%s: %s/%s has shape %s, expected %s; was it converted for "
                     "another model configuration?", loc.file_name, group, name, got, want);
        goto done;
    }
    vr_h5_type_name(t, tname, sizeof tname);
    if (H5Tget_class(t) != H5T_FLOAT || (H5Tget_size(t) != 4 && H5Tget_size(t) != 8)) {
        st = vr_fail(VR_ERR_MODEL, "%s: %s/%s has type %s, expected float32 (or float64)",
                     loc.file_name, group, name, tname);
        goto done;
    }
    hsize_t n = 1;
    for (int i = 0; i < r; i++)
        n *= count[i]; /* each count <= its dim, and the dims were checked by the config */
    ms = H5Screate_simple(1, &n, NULL);
    if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dread(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, dst) < 0) {
        st = vr_fail(VR_ERR_MODEL, "%s: reading %s/%s failed; the file is damaged or "
                     "truncated", loc.file_name, group, name);
        goto done;
    }
    m->bytes_read += (size_t)n * H5Tget_size(t);
    for (hsize_t i = 0; i < n; i++)
        if (!isfinite(dst[i])) {
            st = vr_fail(VR_ERR_MODEL, "%s: %s/%s holds a non-finite value (%g at flat index "
                         "%llu of the slice read); the checkpoint is damaged", loc.file_name,
                         group, name, (double)dst[i], (unsigned long long)i);
            break;
        }
done:
    if (ms >= 0)
        H5Sclose(ms);
    H5Sclose(fs);
    H5Tclose(t);
    H5Dclose(d);
    return st;
}

/* Whole tensor of rank r with dims d. */
static vr_status read_all(vr_model_file *m, const char *g, const char *name, int r,
                          const hsize_t *d, float *dst)
{
    static const hsize_t zero[MAXR] = {0};
    return read_tensor(m, g, name, r, d, zero, d, dst);
}

/* A tensor the settings exclude must not be there: a file whose /config
 * says "no qkv bias" but holds one was edited or mis-converted, and
 * ignoring the tensor would give other numbers than its source library. */
static vr_status refuse_extra(vr_model_file *m, const char *group, const char *name,
                              const char *setting)
{
    location loc;
    char path[1024];
    if (!vr_h5_exists((hid_t)m->file, group) || locate(m, group, &loc))
        return VR_OK; /* a missing group is reported where it is needed */
    snprintf(path, sizeof path, "%s/%s", loc.prefix, name);
    if (!vr_h5_exists(loc.file, path))
        return VR_OK;
    return vr_fail(VR_ERR_MODEL, "%s: %s/%s is present, but /config %s says the model has "
                   "none; convert the checkpoint again (or fix the setting)", loc.file_name,
                   group, name, setting);
}

static vr_status load_layer(vr_model_file *m, vr_layer_weights *L, size_t layer,
                            const vr_shard *s)
{
    const vr_config *c = &m->cfg;
    char g[64];
    snprintf(g, sizeof g, "/layers/%02zu", layer);
    hsize_t D = c->hidden, H = c->heads, hd = c->head_dim, M = c->mlp_dim;
    hsize_t h0 = s->head_begin, Hl = vr_shard_heads(s), m0 = s->mlp_begin, Ml = vr_shard_mlp(s);
    hsize_t vec[1] = {D}, hvec[1] = {hd};
    int glu = c->act == VR_ACT_SWIGLU;
    vr_status st;
    /* column-parallel: q/k/v rows of this shard's heads; fc1 rows of its columns
     * (for SwiGLU the same columns of the gate and of the value: one hyperslab
     * [0:2, m0:m0+Ml, :]) */
    hsize_t qkv_full[4] = {3, H, hd, D}, qkv_start[4] = {0, h0, 0, 0}, qkv_cnt[4] = {3, Hl, hd, D};
    hsize_t qb_full[3] = {3, H, hd}, qb_start[3] = {0, h0, 0}, qb_cnt[3] = {3, Hl, hd};
    hsize_t g1_full[3] = {2, M, D}, g1_start[3] = {0, m0, 0}, g1_cnt[3] = {2, Ml, D};
    hsize_t g1b_full[2] = {2, M}, g1b_start[2] = {0, m0}, g1b_cnt[2] = {2, Ml};
    /* rank-1 less for a plain MLP: drop the gate axis */
    int r1 = glu ? 3 : 2, r1b = glu ? 2 : 1, o = glu ? 0 : 1;
    /* row-parallel: proj columns of this shard's heads; fc2 columns of its columns */
    hsize_t pj_full[2] = {D, H * hd}, pj_start[2] = {0, h0 * hd}, pj_cnt[2] = {D, Hl * hd};
    hsize_t fc2_full[2] = {D, M}, fc2_start[2] = {0, m0}, fc2_cnt[2] = {D, Ml};
    if (vr_shard_has_attention(s, layer)) {
        if ((!c->qkv_bias && (st = refuse_extra(m, g, "attn/qkv_bias", "qkv_bias = 0"))) ||
            (!c->qk_norm && (st = refuse_extra(m, g, "attn/q_norm", "qk_norm = 0"))) ||
            (!c->layer_scale && (st = refuse_extra(m, g, "ls1", "layer_scale = 0"))))
            return st;
        if ((st = read_all(m, g, "ln1/weight", 1, vec, L->ln1_w)) ||
            (st = read_all(m, g, "ln1/bias", 1, vec, L->ln1_b)) ||
            (st = read_tensor(m, g, "attn/qkv_weight", 4, qkv_full, qkv_start, qkv_cnt,
                              L->qkv_w)) ||
            (c->qkv_bias &&
             (st = read_tensor(m, g, "attn/qkv_bias", 3, qb_full, qb_start, qb_cnt, L->qkv_b))) ||
            (c->qk_norm && ((st = read_all(m, g, "attn/q_norm/weight", 1, hvec, L->q_norm_w)) ||
                            (st = read_all(m, g, "attn/q_norm/bias", 1, hvec, L->q_norm_b)) ||
                            (st = read_all(m, g, "attn/k_norm/weight", 1, hvec, L->k_norm_w)) ||
                            (st = read_all(m, g, "attn/k_norm/bias", 1, hvec, L->k_norm_b)))) ||
            (st = read_tensor(m, g, "attn/proj_weight", 2, pj_full, pj_start, pj_cnt,
                              L->proj_w)) ||
            (st = read_all(m, g, "attn/proj_bias", 1, vec, L->proj_b)) ||
            (c->layer_scale && (st = read_all(m, g, "ls1/gamma", 1, vec, L->ls1))))
            return st;
        if (!c->qkv_bias)
            memset(L->qkv_b, 0, 3 * Hl * hd * sizeof(float));
    }
    if (vr_shard_has_mlp(s, layer) && !c->layer_scale &&
        (st = refuse_extra(m, g, "ls2", "layer_scale = 0")))
        return st;
    /* a parallel block's MLP reads ln1's output: it has no ln2 */
    if (vr_shard_has_mlp(s, layer) && c->parallel_block &&
        (st = refuse_extra(m, g, "ln2", "block = \"parallel\" (one LayerNorm per block)")))
        return st;
    if (vr_shard_has_mlp(s, layer) &&
        ((!c->parallel_block && ((st = read_all(m, g, "ln2/weight", 1, vec, L->ln2_w)) ||
                                 (st = read_all(m, g, "ln2/bias", 1, vec, L->ln2_b)))) ||
         (st = read_tensor(m, g, "mlp/fc1_weight", r1, g1_full + o, g1_start + o, g1_cnt + o,
                           L->fc1_w)) ||
         (st = read_tensor(m, g, "mlp/fc1_bias", r1b, g1b_full + o, g1b_start + o,
                           g1b_cnt + o, L->fc1_b)) ||
         (st = read_tensor(m, g, "mlp/fc2_weight", 2, fc2_full, fc2_start, fc2_cnt, L->fc2_w)) ||
         (st = read_all(m, g, "mlp/fc2_bias", 1, vec, L->fc2_b)) ||
         (c->layer_scale && (st = read_all(m, g, "ls2/gamma", 1, vec, L->ls2)))))
        return st;
    return VR_OK;
}

/* The position table: as stored, or resampled from its own grid to the
 * image's (--image-size) as its library does it (runtime/posembed.h); the
 * prefix tokens' rows are kept. */
static vr_status load_pos(vr_model_file *m, vr_weights *w)
{
    const vr_config *c = &m->cfg;
    hsize_t D = c->hidden, stored[2] = {c->pos_stored, D};
    if (c->pos_grid_h == c->grid_h && c->pos_grid_w == c->grid_w)
        return read_all(m, "/embed", "pos_embed", 2, stored, w->pos);
    size_t n;
    float *tab = vr_mul(c->pos_stored, c->hidden, &n) ? vr_alloc(n, sizeof(float),
                                                                 "position table") : NULL;
    if (!tab)
        return VR_ERR_NOMEM;
    vr_status st = read_all(m, "/embed", "pos_embed", 2, stored, tab);
    size_t keep = c->pos == VR_POS_ALL ? c->prefix : 0;
    if (!st) {
        memcpy(w->pos, tab, keep * c->hidden * sizeof(float));
        st = vr_pos_resample_grid(w->pos + keep * c->hidden, c->grid_h, c->grid_w,
                                  tab + keep * c->hidden, c->pos_grid_h, c->pos_grid_w, c->hidden,
                                  c->pos_resample);
    }
    free(tab);
    return st;
}

/* The embedding: patches, prefix tokens (in token order), positions, norm_pre. */
static vr_status load_embed(vr_model_file *m, vr_weights *w)
{
    const vr_config *c = &m->cfg;
    hsize_t D = c->hidden, vec[1] = {D};
    hsize_t pw[4] = {D, c->channels, c->patch_size, c->patch_size};
    hsize_t regs[2] = {c->reg_tokens, D};
    float *t = w->prefix;
    vr_status st;
    if ((!c->class_token && (st = refuse_extra(m, "/embed", "cls_token", "class_token = 0"))) ||
        (!c->dist_token && (st = refuse_extra(m, "/embed", "dist_token", "dist_token = 0"))) ||
        (!c->reg_tokens && (st = refuse_extra(m, "/embed", "reg_tokens", "reg_tokens = 0"))) ||
        (!c->norm_pre && (st = refuse_extra(m, "/embed", "norm_pre", "norm_pre = 0"))))
        return st;
    if ((st = read_all(m, "/embed", "patch_weight", 4, pw, w->patch_w)) ||
        (st = read_all(m, "/embed", "patch_bias", 1, vec, w->patch_b)) ||
        (c->class_token && (st = read_all(m, "/embed", "cls_token", 1, vec, t))) ||
        (c->dist_token && (st = read_all(m, "/embed", "dist_token", 1, vec,
                                         t + (size_t)c->class_token * D))) ||
        (c->reg_tokens &&
         (st = read_all(m, "/embed", "reg_tokens", 2, regs,
                        t + (size_t)(c->class_token + c->dist_token) * D))) ||
        (st = load_pos(m, w)) ||
        (c->norm_pre && ((st = read_all(m, "/embed", "norm_pre/weight", 1, vec, w->norm_pre_w)) ||
                         (st = read_all(m, "/embed", "norm_pre/bias", 1, vec, w->norm_pre_b)))))
        return st;
    return VR_OK;
}

/* The attention-pool head (pooling 'map'); kv in the layout of qkv, two of three. */
static vr_status load_pool(vr_model_file *m, vr_pool_weights *p)
{
    const vr_config *c = &m->cfg;
    hsize_t D = c->hidden, H = c->heads, hd = c->head_dim, Mp = c->pool_mlp_dim;
    hsize_t vec[1] = {D}, dd[2] = {D, D}, kv[4] = {2, H, hd, D}, kvb[3] = {2, H, hd};
    hsize_t f1[2] = {Mp, D}, f1b[1] = {Mp}, f2[2] = {D, Mp};
    vr_status st;
    if ((st = read_all(m, "/pool", "latent", 1, vec, p->latent)) ||
        (st = read_all(m, "/pool", "q_weight", 2, dd, p->q_w)) ||
        (st = read_all(m, "/pool", "q_bias", 1, vec, p->q_b)) ||
        (st = read_all(m, "/pool", "kv_weight", 4, kv, p->kv_w)) ||
        (st = read_all(m, "/pool", "kv_bias", 3, kvb, p->kv_b)) ||
        (st = read_all(m, "/pool", "proj_weight", 2, dd, p->proj_w)) ||
        (st = read_all(m, "/pool", "proj_bias", 1, vec, p->proj_b)) ||
        (st = read_all(m, "/pool", "norm/weight", 1, vec, p->norm_w)) ||
        (st = read_all(m, "/pool", "norm/bias", 1, vec, p->norm_b)) ||
        (st = read_all(m, "/pool", "fc1_weight", 2, f1, p->fc1_w)) ||
        (st = read_all(m, "/pool", "fc1_bias", 1, f1b, p->fc1_b)) ||
        (st = read_all(m, "/pool", "fc2_weight", 2, f2, p->fc2_w)) ||
        (st = read_all(m, "/pool", "fc2_bias", 1, vec, p->fc2_b)))
        return st;
    return VR_OK;
}

/* The final norm, pooling head and classifier or projection. */
static vr_status load_head(vr_model_file *m, vr_weights *w)
{
    const vr_config *c = &m->cfg;
    hsize_t D = c->hidden, K = c->classes, Pw = c->pooled;
    hsize_t nv[1] = {c->final_norm == VR_NORM_POST_POOL ? Pw : D};
    hsize_t hw[2] = {c->head == VR_HEAD_PROJECTION ? c->embed_dim : K, Pw}, hb[1] = {K};
    hsize_t dw[2] = {K, D};
    vr_status st;
    if ((c->final_norm == VR_NORM_NONE && (st = refuse_extra(m, "/final_norm", "weight",
                                                              "final_norm 'none'"))) ||
        (c->head == VR_HEAD_PROJECTION && (st = refuse_extra(m, "/head", "bias",
                                                             "head 'projection' (no bias)"))))
        return st;
    if ((c->final_norm != VR_NORM_NONE &&
         ((st = read_all(m, "/final_norm", "weight", 1, nv, w->norm_w)) ||
          (st = read_all(m, "/final_norm", "bias", 1, nv, w->norm_b)))) ||
        (c->pool == VR_POOL_MAP && (st = load_pool(m, &w->pool))) ||
        (w->head_w && (st = read_all(m, "/head", "weight", 2, hw, w->head_w))) ||
        (w->head_b && (st = read_all(m, "/head", "bias", 1, hb, w->head_b))) ||
        (w->dist_w && ((st = read_all(m, "/head_dist", "weight", 2, dw, w->dist_w)) ||
                       (st = read_all(m, "/head_dist", "bias", 1, hb, w->dist_b)))))
        return st;
    return VR_OK;
}

vr_status vr_model_load(vr_model_file *m, vr_weights *w, const vr_shard *s,
                        vr_layer_fn after_layer, void *ctx)
{
    const vr_config *c = &m->cfg;
    vr_status st;
    if (s->part_end > 2 * c->layers || s->head_end > c->heads || s->mlp_end > c->mlp_dim ||
        s->part_begin > s->part_end || s->head_begin > s->head_end ||
        s->mlp_begin > s->mlp_end)
        return vr_fail(VR_ERR_INTERNAL, "shard out of the model's range");
    size_t l = s->layer_begin; /* the next layer to read */
    if ((st = vr_weights_build(w, c, s)))
        goto tell;
    if (s->has_embed && (st = load_embed(m, w)))
        goto fail;
    for (; l < s->layer_end; l++) {
        if ((st = load_layer(m, &w->layer[l - s->layer_begin], l, s)))
            goto fail;
        if (after_layer && (st = after_layer(ctx, l - s->layer_begin, VR_OK))) {
            l = s->layer_end; /* (it knows) */
            goto fail;
        }
    }
    if (s->has_head && (st = load_head(m, w)))
        goto fail;
    return VR_OK;
fail:
    vr_weights_free(w);
tell:
    if (after_layer && l < s->layer_end)
        st = after_layer(ctx, l - s->layer_begin, st);
    return st;
}
