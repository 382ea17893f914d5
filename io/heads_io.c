/* heads_io.c - zero-shot class files (HDF5, .npy + names) and score-head files. */
#include "heads_io.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/config.h"
#include "h5util.h"
#include "output.h"

#define MAX_CLASSES ((size_t)1 << 22)
#define MAX_HEADS 64
#define MAX_LAYERS 64
#define MAX_NAME 4095
#define MAX_FLOATS ((size_t)1 << 30) /* one matrix: 4 GB */

/* A float matrix dataset of exactly `rows` x `cols` (0: any) into float32. */
static vr_status read_matrix(hid_t f, const char *name, const char *path, size_t rows,
                             size_t cols, int rank, float **out, size_t *got_rows)
{
    if (!vr_h5_exists(f, name))
        return vr_fail(VR_ERR_USAGE, "%s: dataset %s is missing", path, name);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return vr_fail(VR_ERR_USAGE, "%s: %s is not a dataset", path, name);
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    hsize_t dims[8] = {0};
    int nd = H5Sget_simple_extent_ndims(sp);
    if (nd > 0 && nd <= 8)
        H5Sget_simple_extent_dims(sp, dims, NULL);
    vr_status st = VR_OK;
    char got[128], want[64];
    vr_h5_fmt_dims(got, sizeof got, dims, nd > 0 && nd <= 8 ? nd : 0);
    if (rank == 2)
        snprintf(want, sizeof want, "[%s, %zu]", rows ? "" : "K", cols);
    if (rank == 2 && rows)
        snprintf(want, sizeof want, "[%zu, %zu]", rows, cols);
    if (rank == 1)
        snprintf(want, sizeof want, "[%zu]", rows);
    size_t n = 0;
    if (H5Tget_class(t) != H5T_FLOAT || nd != rank || (rank == 2 && dims[1] != cols) ||
        (rows && dims[0] != rows) || dims[0] == 0 || dims[0] > MAX_CLASSES ||
        !vr_mul((size_t)dims[0], rank == 2 ? cols : 1, &n) || n > MAX_FLOATS) {
        char tn[32];
        vr_h5_type_name(t, tn, sizeof tn);
        st = vr_fail(VR_ERR_USAGE, "%s: %s is %s %s; expected float %s", path, name, tn, got,
                     want);
    } else if (!(*out = malloc(n * sizeof(float)))) {
        st = vr_fail(VR_ERR_NOMEM, "%s: out of memory for %s", path, name);
    } else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        st = vr_fail(VR_ERR_USAGE, "%s: reading %s failed (damaged?)", path, name);
    }
    for (size_t i = 0; !st && i < n; i++)
        if (!isfinite((*out)[i]))
            st = vr_fail(VR_ERR_USAGE, "%s: %s holds a non-finite value at flat index %zu",
                         path, name, i);
    if (!st && got_rows)
        *got_rows = (size_t)dims[0];
    H5Sclose(sp);
    H5Tclose(t);
    H5Dclose(d);
    return st;
}

/* K strings of dataset `names`, fixed- or variable-length. */
static vr_status read_names(hid_t f, const char *path, size_t K, char ***out)
{
    if (!vr_h5_exists(f, "names"))
        return vr_fail(VR_ERR_USAGE, "%s: dataset names (one string per class) is missing", path);
    hid_t d = H5Dopen2(f, "names", H5P_DEFAULT);
    if (d < 0)
        return vr_fail(VR_ERR_USAGE, "%s: names is not a dataset", path);
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    vr_status st = VR_OK;
    size_t sz = H5Tget_size(t), bytes = 0;
    int vlen = H5Tis_variable_str(t) > 0;
    char **names = NULL;
    if (H5Tget_class(t) != H5T_STRING || H5Sget_simple_extent_ndims(sp) != 1 || n != (hssize_t)K)
        st = vr_fail(VR_ERR_USAGE, "%s: names must be %zu strings, one per row of embeddings; "
                     "found %lld values", path, K, (long long)n);
    else if (!vlen && (sz > VR_H5_MAX_FIXED_STR || !vr_mul(K, sz, &bytes)))
        st = vr_fail(VR_ERR_USAGE, "%s: names of %zu bytes each; at most %zu", path, sz,
                     VR_H5_MAX_FIXED_STR);
    else if (!(names = calloc(K, sizeof *names)))
        st = vr_fail(VR_ERR_NOMEM, "%s: out of memory for %zu names", path, K);
    if (!st && vlen) {
        char *all = NULL, why[256];
        size_t len;
        if (vr_h5_read_vlen(d, 1, 0, K, &all, &len, why, sizeof why) != 0)
            st = vr_fail(VR_ERR_USAGE, "%s: names cannot be read: %s", path, why);
        const char *p = all;
        for (size_t i = 0; !st && i < K; i++, p += strlen(p) + 1)
            if (!(names[i] = strdup(p)))
                st = vr_fail(VR_ERR_NOMEM, "%s: out of memory for the names", path);
        free(all);
    } else if (!st) {
        char *buf = calloc(bytes ? bytes : 1, 1);
        hid_t mt = H5Tcopy(t);
        if (!buf || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            st = vr_fail(VR_ERR_USAGE, "%s: cannot read names (damaged?)", path);
        for (size_t i = 0; !st && i < K; i++)
            if (!(names[i] = strndup(buf + i * sz, sz)))
                st = vr_fail(VR_ERR_NOMEM, "%s: out of memory for the names", path);
        free(buf);
        H5Tclose(mt);
    }
    H5Sclose(sp);
    H5Tclose(t);
    H5Dclose(d);
    *out = names;
    return st;
}

vr_status vr_npy_parse(const unsigned char *data, size_t size, const char *path, float **out,
                       size_t *rows, size_t *cols)
{
    *out = NULL;
    if (size < 10 || memcmp(data, "\x93NUMPY", 6) || data[6] < 1 || data[6] > 3)
        return vr_fail(VR_ERR_USAGE, "%s: not a .npy file (no \\x93NUMPY header)", path);
    size_t hl = data[6] == 1 ? (size_t)data[8] | (size_t)data[9] << 8
                             : size < 12 ? SIZE_MAX
                                         : (size_t)data[8] | (size_t)data[9] << 8 |
                                               (size_t)data[10] << 16 | (size_t)data[11] << 24;
    size_t start = data[6] == 1 ? 10 : 12;
    if (hl == SIZE_MAX || hl > size - start || hl > 65536)
        return vr_fail(VR_ERR_USAGE, "%s: the .npy header is truncated", path);
    char h[65537];
    memcpy(h, data + start, hl);
    h[hl] = '\0';
    const char *descr = strstr(h, "'descr'"), *fo = strstr(h, "'fortran_order'"),
               *shape = strstr(h, "'shape'");
    const char *val = descr ? strchr(descr + 7, '\'') : NULL; /* the value's quote */
    int f4 = val && !strncmp(val, "'<f4'", 5), f8 = val && !strncmp(val, "'<f8'", 5);
    if (!descr || !fo || !shape || (!f4 && !f8))
        return vr_fail(VR_ERR_USAGE, "%s: a .npy of little-endian float32 or float64 ('<f4', "
                       "'<f8') is expected; its header is %.120s", path, h);
    const char *v = strchr(fo + 15, ':');
    while (v && (*v == ':' || *v == ' '))
        v++;
    if (!v || strncmp(v, "False", 5))
        return vr_fail(VR_ERR_USAGE, "%s: a C-ordered .npy is expected (fortran_order False); "
                       "save it with numpy.ascontiguousarray", path);
    const char *p = strchr(shape, '(');
    unsigned long long dims[2];
    int nd = 0;
    while (p && nd < 3) {
        p++;
        while (*p == ' ')
            p++;
        if (*p == ')')
            break;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(p, &end, 10);
        if (end == p || errno)
            break;
        if (nd < 2)
            dims[nd] = x;
        nd++;
        p = end;
        while (*p == ' ')
            p++;
        if (*p != ',')
            break;
    }
    size_t item = f4 ? 4 : 8, n, bytes;
    if (nd != 2 || !dims[0] || !dims[1] || dims[0] > MAX_CLASSES || dims[1] > VR_MAX_DIM ||
        !vr_mul((size_t)dims[0], (size_t)dims[1], &n) || n > MAX_FLOATS ||
        !vr_mul(n, item, &bytes))
        return vr_fail(VR_ERR_USAGE, "%s: a 2-d .npy (classes, embedding width) is expected; "
                       "its shape is %.60s", path, shape);
    if (bytes != size - start - hl)
        return vr_fail(VR_ERR_USAGE, "%s: the .npy holds %zu data bytes, its shape needs %zu "
                       "(truncated?)", path, size - start - hl, bytes);
    float *m = malloc(n * sizeof *m);
    if (!m)
        return vr_fail(VR_ERR_NOMEM, "%s: out of memory", path);
    const unsigned char *src = data + start + hl;
    for (size_t i = 0; i < n; i++) {
        if (f4) {
            memcpy(&m[i], src + 4 * i, 4);
        } else {
            double x;
            memcpy(&x, src + 8 * i, 8);
            m[i] = (float)x;
        }
        if (!isfinite(m[i])) {
            free(m);
            return vr_fail(VR_ERR_USAGE, "%s: a non-finite value at flat index %zu", path, i);
        }
    }
    *out = m;
    *rows = (size_t)dims[0];
    *cols = (size_t)dims[1];
    return VR_OK;
}

/* One class name per line (a trailing empty line ignored). */
static vr_status read_names_file(const char *path, size_t K, char ***out)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return vr_fail(VR_ERR_USAGE, "--zero-shot-names %s: cannot open it: %s", path,
                       strerror(errno));
    char **names = calloc(K, sizeof *names), line[MAX_NAME + 2];
    size_t n = 0;
    vr_status st = names ? VR_OK : vr_fail(VR_ERR_NOMEM, "out of memory for %zu names", K);
    while (!st && fgets(line, sizeof line, fp)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (!feof(fp))
            st = vr_fail(VR_ERR_USAGE, "%s: line %zu is longer than %d bytes", path, n + 1,
                         MAX_NAME);
        if (!st && n >= K)
            st = vr_fail(VR_ERR_USAGE, "%s: more than the %zu names the embeddings have", path,
                         K);
        if (!st && !(names[n++] = strdup(line)))
            st = vr_fail(VR_ERR_NOMEM, "out of memory for the names");
    }
    fclose(fp);
    if (!st && n != K)
        st = vr_fail(VR_ERR_USAGE, "%s: %zu names for %zu class embeddings", path, n, K);
    *out = names;
    return st;
}

vr_status vr_zero_shot_load(vr_zero_shot *z, const char *path, const char *names_path, size_t E,
                            double scale, double bias, int have_bias)
{
    memset(z, 0, sizeof *z);
    z->E = E;
    z->scale = scale;
    z->bias = have_bias ? bias : 0.0;
    z->sigmoid = have_bias;
    vr_status st;
    size_t len = strlen(path);
    if (len > 4 && !strcmp(path + len - 4, ".npy")) {
        FILE *fp = fopen(path, "rb");
        if (!fp)
            return vr_fail(VR_ERR_USAGE, "--zero-shot %s: cannot open it: %s", path,
                           strerror(errno));
        unsigned char *buf = NULL;
        long sz = fseek(fp, 0, SEEK_END) == 0 ? ftell(fp) : -1;
        size_t cols = 0;
        st = sz < 0 || sz > (1L << 34) || fseek(fp, 0, SEEK_SET) ? vr_fail(VR_ERR_USAGE,
                                                                          "%s: cannot read it",
                                                                          path)
             : !(buf = malloc((size_t)sz + 1)) ? vr_fail(VR_ERR_NOMEM, "%s: out of memory", path)
             : fread(buf, 1, (size_t)sz, fp) != (size_t)sz
                 ? vr_fail(VR_ERR_USAGE, "%s: read failed", path)
                 : vr_npy_parse(buf, (size_t)sz, path, &z->text, &z->K, &cols);
        free(buf);
        fclose(fp);
        if (!st && cols != E)
            st = vr_fail(VR_ERR_USAGE, "%s: class embeddings of width %zu; the model's "
                         "embedding has %zu", path, cols, E);
        if (!st && !names_path)
            st = vr_fail(VR_ERR_USAGE, "--zero-shot %s: a .npy holds no class names; add "
                         "--zero-shot-names FILE (one per line)", path);
        if (!st)
            st = read_names_file(names_path, z->K, &z->names);
    } else {
        vr_h5_quiet();
        if (vr_h5_is_hdf5(path) <= 0)
            return vr_fail(VR_ERR_USAGE, "--zero-shot %s: neither HDF5 (embeddings, names) nor "
                           ".npy", path);
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f < 0)
            return vr_fail(VR_ERR_USAGE, "%s: HDF5 cannot open it", path);
        st = read_matrix(f, "embeddings", path, 0, E, 2, &z->text, &z->K);
        if (!st)
            st = read_names(f, path, z->K, &z->names);
        H5Fclose(f);
    }
    for (size_t k = 0; !st && k < z->K; k++) {
        float *t = z->text + k * E;
        double s = 0;
        for (size_t j = 0; j < E; j++)
            s += (double)t[j] * t[j];
        if (!(s > 0))
            st = vr_fail(VR_ERR_USAGE, "%s: class %zu's embedding is all zeros", path, k);
        for (size_t j = 0; !st && j < E; j++)
            t[j] = (float)(t[j] / sqrt(s));
        if (!st && !vr_utf8_valid(z->names[k]))
            st = vr_fail(VR_ERR_USAGE, "%s: class name %zu is not UTF-8", path, k);
    }
    if (st)
        vr_zero_shot_free(z);
    return st;
}

static int name_ok(const char *s)
{
    if (!*s || strlen(s) > 48)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

typedef struct {
    char names[MAX_HEADS][64];
    size_t n;
    int too_many;
} name_list;

static herr_t collect(hid_t g, const char *name, const H5L_info_t *info, void *ctx)
{
    (void)g;
    (void)info;
    name_list *l = ctx;
    if (l->n == MAX_HEADS) {
        l->too_many = 1;
        return 1;
    }
    snprintf(l->names[l->n++], 64, "%s", name);
    return 0;
}

static vr_status load_head(vr_score_head *s, hid_t g, const char *path, const char *name,
                           size_t E)
{
    static const char *const acts[] = {"none", "relu", "gelu", "sigmoid", "tanh"};
    snprintf(s->name, sizeof s->name, "%s", name);
    long long norm = 0;
    if (H5Aexists(g, "normalize_input") > 0 &&
        (vr_h5_attr_i64(g, "normalize_input", &norm) || (norm != 0 && norm != 1)))
        return vr_fail(VR_ERR_USAGE, "%s: /heads/%s attribute normalize_input should be 0 or 1",
                       path, name);
    s->normalize_input = (int)norm;
    size_t L = 0;
    char lay[32];
    for (; L <= MAX_LAYERS; L++) {
        snprintf(lay, sizeof lay, "layer_%02zu", L);
        if (!vr_h5_exists(g, lay))
            break;
    }
    if (L == 0 || L > MAX_LAYERS)
        return vr_fail(VR_ERR_USAGE, "%s: /heads/%s needs layer_00, layer_01, ... (1 to %d "
                       "layers); found %zu", path, name, MAX_LAYERS, L);
    s->n_layers = L;
    if (!(s->width = calloc(L + 1, sizeof *s->width)) || !(s->W = calloc(L, sizeof *s->W)) ||
        !(s->b = calloc(L, sizeof *s->b)) || !(s->act = calloc(L, sizeof *s->act)))
        return vr_fail(VR_ERR_NOMEM, "out of memory for head %s", name);
    s->width[0] = E;
    for (size_t l = 0; l < L; l++) {
        char wn[64], bn[64], grp[64], a[16];
        snprintf(grp, sizeof grp, "layer_%02zu", l);
        snprintf(wn, sizeof wn, "layer_%02zu/weight", l);
        snprintf(bn, sizeof bn, "layer_%02zu/bias", l);
        size_t out = 0;
        hid_t lg = H5Gopen2(g, grp, H5P_DEFAULT);
        int r = lg < 0 ? -1 : vr_h5_attr_str(lg, "activation", a, sizeof a);
        if (lg >= 0)
            H5Gclose(lg);
        int k = -1;
        for (int i = 0; r == 0 && i < 5; i++)
            if (!strcmp(a, acts[i]))
                k = i;
        if (k < 0)
            return vr_fail(VR_ERR_USAGE, "%s: /heads/%s/%s needs the string attribute "
                           "activation: none, relu, gelu, sigmoid or tanh", path, name, grp);
        s->act[l] = (vr_head_act)k;
        /* the weight's input width must be the previous layer's output */
        hid_t d = H5Dopen2(g, wn, H5P_DEFAULT);
        if (d < 0)
            return vr_fail(VR_ERR_USAGE, "%s: /heads/%s/%s is missing", path, name, wn);
        hid_t sp = H5Dget_space(d);
        hsize_t dims[2] = {0, 0};
        int nd = H5Sget_simple_extent_ndims(sp);
        if (nd == 2)
            H5Sget_simple_extent_dims(sp, dims, NULL);
        H5Sclose(sp);
        H5Dclose(d);
        out = (size_t)dims[0];
        if (nd != 2 || dims[1] != s->width[l] || !out || out > VR_MAX_DIM)
            return vr_fail(VR_ERR_USAGE, "%s: /heads/%s/%s should be (outputs, %zu) with 1 to "
                           "%zu outputs; it is %d-d with %llu x %llu", path, name, wn,
                           s->width[l], VR_MAX_DIM, nd, (unsigned long long)dims[0],
                           (unsigned long long)dims[1]);
        s->width[l + 1] = out;
        vr_status st;
        if ((st = read_matrix(g, wn, path, out, s->width[l], 2, &s->W[l], NULL)) ||
            (st = read_matrix(g, bn, path, out, 0, 1, &s->b[l], NULL)))
            return st;
    }
    return VR_OK;
}

vr_status vr_score_heads_load(vr_score_heads *h, const char *path, size_t E)
{
    memset(h, 0, sizeof *h);
    vr_h5_quiet();
    if (vr_h5_is_hdf5(path) <= 0)
        return vr_fail(VR_ERR_USAGE, "--score-heads %s: not an HDF5 file", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return vr_fail(VR_ERR_USAGE, "%s: HDF5 cannot open it", path);
    vr_status st = VR_OK;
    hid_t g = vr_h5_exists(f, "heads") ? H5Gopen2(f, "heads", H5P_DEFAULT) : -1;
    name_list l = {.n = 0};
    if (g < 0 || H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, &l) < 0)
        st = vr_fail(VR_ERR_USAGE, "%s: no group /heads holding one group per head", path);
    else if (l.too_many || !l.n)
        st = vr_fail(VR_ERR_USAGE, "%s: /heads holds %s heads; 1 to %d are read", path,
                     l.n ? "more than 64" : "no", MAX_HEADS);
    if (!st && (!(h->head = calloc(l.n, sizeof *h->head)) ||
                !(h->names = calloc(l.n, sizeof *h->names)) ||
                !(h->dims = calloc(l.n, sizeof *h->dims))))
        st = vr_fail(VR_ERR_NOMEM, "out of memory for the heads");
    for (size_t i = 0; !st && i < l.n; i++) {
        if (!name_ok(l.names[i])) {
            st = vr_fail(VR_ERR_USAGE, "%s: head name '%s' should be 1 to 48 letters, digits or "
                         "_ (it names the column score_NAME)", path, l.names[i]);
            break;
        }
        hid_t hg = H5Gopen2(g, l.names[i], H5P_DEFAULT);
        if (hg < 0) {
            st = vr_fail(VR_ERR_USAGE, "%s: /heads/%s is not a group", path, l.names[i]);
            break;
        }
        h->n = i + 1;
        st = load_head(&h->head[i], hg, path, l.names[i], E);
        H5Gclose(hg);
        if (st)
            break;
        vr_score_head *s = &h->head[i];
        h->names[i] = s->name;
        h->dims[i] = s->width[s->n_layers];
        h->total += h->dims[i];
        for (size_t k = 0; k <= s->n_layers; k++)
            h->widest = s->width[k] > h->widest ? s->width[k] : h->widest;
    }
    if (g >= 0)
        H5Gclose(g);
    H5Fclose(f);
    if (st)
        vr_score_heads_free(h);
    return st;
}
