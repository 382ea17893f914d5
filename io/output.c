/* output.c - appends scored rows to an HDF5 or CSV file. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../runtime/kernels.h"
#include "h5util.h"
#include "listing.h"

enum { C_PATH, C_OK, C_ERROR, C_INDEX, C_PROB, C_ESCAPED, C_LABEL, C_LOGITS, C_EMB, C_N };

static const char *const col_name[C_N] = {"path",         "ok",         "error",
                                          "topk_index",   "topk_prob",  "path_escaped",
                                          "topk_label",   "logits",     "embedding"};
_Static_assert(C_N <= sizeof ((vr_output *)0)->ds / sizeof ((vr_output *)0)->ds[0],
               "vr_output.ds holds a handle per column");

/* Length of the strict UTF-8 sequence at s (what h5py and Python decode: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0. Stops at the
 * NUL: a continuation byte is never 0. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

int vr_utf8_valid(const char *s)
{
    for (size_t k; *s; s += k)
        if (!(k = utf8_seq((const unsigned char *)s)))
            return 0;
    return 1;
}

/* A name that is not UTF-8 (a Latin-1 file name) in the UTF-8 'path' column:
 * each byte outside a valid sequence becomes \xNN and each backslash \\, the
 * rest is kept; 'path_escaped' marks the row. Python's
 * raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace") gives the same
 * string, and codecs.escape_decode(name.encode())[0] the bytes back. NULL when
 * out of memory. */
static char *escape_name(const char *s)
{
    char *out = malloc(4 * strlen(s) + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t k; *s; s += k) {
        k = utf8_seq((const unsigned char *)s);
        if (*s == '\\') {
            *o++ = '\\';
            *o++ = '\\';
        } else if (k) {
            memcpy(o, s, k);
            o += k;
        } else {
            o += sprintf(o, "\\x%02x", (unsigned char)*s);
            k = 1;
        }
    }
    *o = '\0';
    return out;
}

static hid_t str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* An extendable (0, width) dataset (or (0) when width == 0), chunked by rows. */
static hid_t make_column(hid_t f, const char *name, hid_t type, size_t width)
{
    int r = width ? 2 : 1;
    hsize_t dims[2] = {0, width}, maxd[2] = {H5S_UNLIMITED, width};
    hsize_t rows = width > 4096 ? 16 : 256;
    hsize_t chunk[2] = {rows, width};
    hid_t sp = H5Screate_simple(r, dims, maxd), pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, r, chunk);
    hid_t d = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    H5Pclose(pl);
    H5Sclose(sp);
    return d;
}

/* IEEE half precision, little-endian, as h5py writes numpy's float16. */
static hid_t f16_type(void)
{
    static hid_t t = -1;
    if (t < 0) {
        t = H5Tcopy(H5T_IEEE_F32LE);
        H5Tset_fields(t, 15, 10, 5, 0, 10);
        H5Tset_size(t, 2);
        H5Tset_ebias(t, 15);
    }
    return t;
}

static void csv_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

vr_status vr_output_open(vr_output *o, const char *path, size_t k, size_t classes, size_t dim,
                         int logits, int embedding, char *const *labels,
                         const vr_score_cols *scores)
{
    memset(o, 0, sizeof *o);
    o->file = -1;
    for (int i = 0; i < C_N; i++)
        o->ds[i] = -1;
    snprintf(o->final, sizeof o->final, "%s", path);
    snprintf(o->path, sizeof o->path, "%s.part", path);
    o->k = k;
    o->classes = classes;
    o->dim = dim;
    o->logits = logits;
    o->embedding = embedding;
    o->labels = labels;
    if (scores && scores->n) {
        o->sc = *scores;
        for (size_t i = 0; i < scores->n; i++)
            o->n_scores += scores->dims[i];
        if (!(o->ds_scores = malloc(scores->n * sizeof *o->ds_scores)))
            return vr_fail(VR_ERR_NOMEM, "out of memory for the score columns");
        for (size_t i = 0; i < scores->n; i++)
            o->ds_scores[i] = -1;
    }
    size_t len = strlen(path);
    o->csv = len >= 4 && strcasecmp(path + len - 4, ".csv") == 0;
    path = o->path;
    if (o->csv) {
        o->fp = fopen(path, "w");
        if (!o->fp)
            return vr_fail(VR_ERR_OUTPUT, "%s: cannot create the output file: %s", path,
                           strerror(errno));
        fprintf(o->fp, "path,ok,error");
        for (size_t j = 1; j <= k; j++) {
            fprintf(o->fp, ",top%zu_index,top%zu_prob", j, j);
            if (labels)
                fprintf(o->fp, ",top%zu_label", j);
        }
        for (size_t j = 0; logits && j < classes; j++)
            fprintf(o->fp, ",logit_%zu", j);
        for (size_t j = 0; embedding && j < dim; j++)
            fprintf(o->fp, ",embedding_%zu", j);
        for (size_t i = 0; i < o->sc.n; i++)
            for (size_t j = 0; j < o->sc.dims[i]; j++)
                fprintf(o->fp, o->sc.dims[i] == 1 ? ",score_%s" : ",score_%s_%zu", o->sc.names[i],
                        j);
        fputc('\n', o->fp);
        return VR_OK;
    }
    vr_h5_quiet();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return vr_fail(VR_ERR_OUTPUT, "%s: cannot create the output file (does the folder "
                       "exist and is it writable?)", path);
    o->file = f;
    hid_t st = str_type();
    o->ds[C_PATH] = make_column(f, "path", st, 0);
    o->ds[C_OK] = make_column(f, "ok", H5T_STD_U8LE, 0);
    o->ds[C_ERROR] = make_column(f, "error", st, 0);
    if (k) { /* a model without a classifier has no top-k */
        o->ds[C_INDEX] = make_column(f, "topk_index", H5T_STD_I32LE, k);
        o->ds[C_PROB] = make_column(f, "topk_prob", H5T_IEEE_F32LE, k);
    }
    o->ds[C_ESCAPED] = make_column(f, "path_escaped", H5T_STD_U8LE, 0);
    if (labels && k)
        o->ds[C_LABEL] = make_column(f, "topk_label", st, k);
    if (logits)
        o->ds[C_LOGITS] = make_column(f, "logits", H5T_IEEE_F32LE, classes);
    if (embedding)
        o->ds[C_EMB] = make_column(f, "embedding", embedding == VR_EMB_F16 ? f16_type()
                                                                         : H5T_IEEE_F32LE, dim);
    for (size_t i = 0; i < o->sc.n; i++) {
        char name[96];
        snprintf(name, sizeof name, "score_%s", o->sc.names[i]);
        size_t w = o->sc.dims[i] == 1 ? 0 : o->sc.dims[i];
        if ((o->ds_scores[i] = make_column(f, name, H5T_IEEE_F32LE, w)) < 0) {
            H5Tclose(st);
            vr_output_close(o);
            return vr_fail(VR_ERR_OUTPUT, "%s: cannot create dataset '%s'", path, name);
        }
    }
    H5Tclose(st);
    for (int i = 0; i < C_N; i++)
        if (o->ds[i] < 0 && ((i <= C_ESCAPED && (k || (i != C_INDEX && i != C_PROB))) ||
                             (i == C_LABEL && labels && k) ||
                             (i == C_LOGITS && logits) || (i == C_EMB && embedding))) {
            vr_output_close(o);
            return vr_fail(VR_ERR_OUTPUT, "%s: cannot create dataset '%s'", path, col_name[i]);
        }
    return VR_OK;
}

/* Writes buf (n, width) at rows [o->rows, o->rows + n) of column c. */
/* A transfer property list with a 64 KiB type-conversion buffer. HDF5's
 * default, 1 MiB, is calloc'ed for every H5Dwrite that converts (the string
 * columns); with glibc returning it to the kernel between writes, a run at
 * batch 1 took 640 page faults and 3 MiB of memset per micro-batch: 146
 * instead of 3500 images/s. HDF5 converts in strips of the buffer's size. */
static hid_t small_buffers(void)
{
    static hid_t dxpl = -1;
    if (dxpl < 0) {
        dxpl = H5Pcreate(H5P_DATASET_XFER);
        H5Pset_buffer(dxpl, (size_t)64 << 10, NULL, NULL);
    }
    return dxpl;
}

static int put_ds(vr_output *o, hid_t d, hid_t memtype, size_t n, size_t width,
                  const void *buf);

static int put(vr_output *o, int c, hid_t memtype, size_t n, size_t width, const void *buf)
{
    return put_ds(o, (hid_t)o->ds[c], memtype, n, width, buf);
}

static int put_ds(vr_output *o, hid_t d, hid_t memtype, size_t n, size_t width, const void *buf)
{
    int r = width ? 2 : 1;
    hsize_t newdims[2] = {o->rows + n, width}, start[2] = {o->rows, 0}, cnt[2] = {n, width};
    if (H5Dset_extent(d, newdims) < 0)
        return -1;
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(r, cnt, NULL);
    herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
    if (e >= 0)
        e = H5Dwrite(d, memtype, ms, fs, small_buffers(), buf);
    H5Sclose(ms);
    H5Sclose(fs);
    return e < 0 ? -1 : 0;
}

static vr_status append_csv(vr_output *o, const vr_output_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const vr_output_row *r = &rows[i];
        csv_str(o->fp, r->path);
        fprintf(o->fp, ",%d,", r->ok ? 1 : 0);
        csv_str(o->fp, r->error ? r->error : "");
        for (size_t j = 0; j < o->k; j++) {
            if (r->ok)
                fprintf(o->fp, ",%d,%.9g", r->topk_index[j], (double)r->topk_prob[j]);
            else
                fprintf(o->fp, ",-1,0");
            if (o->labels) {
                fputc(',', o->fp);
                csv_str(o->fp, r->ok ? o->labels[r->topk_index[j]] : "");
            }
        }
        for (size_t j = 0; o->logits && j < o->classes; j++)
            fprintf(o->fp, ",%.9g", r->ok ? (double)r->logits[j] : 0.0);
        for (size_t j = 0; o->embedding && j < o->dim; j++) {
            float v = r->ok ? r->embedding[j] : 0.0f;
            if (o->embedding == VR_EMB_F16) { /* the value the half holds */
                uint16_t h;
                vr_to_f16(&h, &v, 1);
                v = vr_f16_to_float(h);
            }
            fprintf(o->fp, ",%.9g", (double)v);
        }
        for (size_t j = 0; j < o->n_scores; j++)
            fprintf(o->fp, ",%.9g", r->ok ? (double)r->scores[j] : 0.0);
        fputc('\n', o->fp);
    }
    if (fflush(o->fp) != 0 || ferror(o->fp))
        return vr_fail(VR_ERR_OUTPUT, "%s: write failed: %s (disk full?)", o->path,
                       strerror(errno));
    o->rows += n;
    return VR_OK;
}

vr_status vr_output_append(vr_output *o, const vr_output_row *rows, size_t n)
{
    if (n == 0)
        return VR_OK;
    if (o->csv)
        return append_csv(o, rows, n);
    size_t k = o->k, C = o->classes, D = o->dim;
    const char **paths = malloc(n * sizeof *paths), **errs = malloc(n * sizeof *errs);
    const char **labs = o->labels ? malloc((n && k ? n * k : 1) * sizeof *labs) : NULL;
    unsigned char *ok = malloc(n), *esc = calloc(n, 1);
    char **escaped = calloc(n, sizeof *escaped); /* (n) the rewritten names, or NULL */
    int *idx = malloc((n && k ? n * k : 1) * sizeof *idx);
    float *prob = malloc((n && k ? n * k : 1) * sizeof *prob);
    float *lg = o->logits ? calloc(n * C, sizeof *lg) : NULL;
    float *em = o->embedding ? calloc(n * D, sizeof *em) : NULL;
    float *sc = o->n_scores ? calloc(n * o->n_scores, sizeof *sc) : NULL;
    vr_status st = VR_OK;
    if (!paths || !errs || !ok || !esc || !escaped || !idx || !prob || (o->labels && !labs) ||
        (o->logits && !lg) || (o->embedding && !em) || (o->n_scores && !sc)) {
        st = vr_fail(VR_ERR_NOMEM, "cannot stage %zu output rows", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const vr_output_row *r = &rows[i];
        paths[i] = r->path;
        if (!vr_utf8_valid(r->path)) {
            if (!(paths[i] = escaped[i] = escape_name(r->path))) {
                st = vr_fail(VR_ERR_NOMEM, "cannot stage %zu output rows", n);
                goto out;
            }
            esc[i] = 1;
        }
        errs[i] = r->error ? r->error : "";
        ok[i] = r->ok ? 1 : 0;
        for (size_t j = 0; j < k; j++) {
            idx[i * k + j] = r->ok ? r->topk_index[j] : -1;
            prob[i * k + j] = r->ok ? r->topk_prob[j] : 0.0f;
            if (labs)
                labs[i * k + j] = r->ok ? o->labels[r->topk_index[j]] : "";
        }
        if (lg && r->ok)
            memcpy(lg + i * C, r->logits, C * sizeof *lg);
        if (em && r->ok)
            memcpy(em + i * D, r->embedding, D * sizeof *em);
        if (sc && r->ok)
            memcpy(sc + i * o->n_scores, r->scores, o->n_scores * sizeof *sc);
    }
    hid_t stt = str_type();
    int e = put(o, C_PATH, stt, n, 0, paths) | put(o, C_OK, H5T_NATIVE_UINT8, n, 0, ok) |
            put(o, C_ERROR, stt, n, 0, errs) | put(o, C_ESCAPED, H5T_NATIVE_UINT8, n, 0, esc);
    if (k)
        e |= put(o, C_INDEX, H5T_NATIVE_INT, n, k, idx) |
             put(o, C_PROB, H5T_NATIVE_FLOAT, n, k, prob);
    if (labs && k)
        e |= put(o, C_LABEL, stt, n, k, labs);
    if (lg)
        e |= put(o, C_LOGITS, H5T_NATIVE_FLOAT, n, C, lg);
    if (em && o->embedding == VR_EMB_F16) { /* rounded here, stored as is */
        uint16_t *h = malloc(n * D * sizeof *h);
        if (h) {
            vr_to_f16(h, em, n * D);
            e |= put(o, C_EMB, f16_type(), n, D, h);
        }
        free(h);
        e |= !h;
    } else if (em) {
        e |= put(o, C_EMB, H5T_NATIVE_FLOAT, n, D, em);
    }
    /* score_NAME: its columns of the rows' side-by-side scores */
    for (size_t i = 0, at = 0; sc && i < o->sc.n; at += o->sc.dims[i], i++) {
        size_t w = o->sc.dims[i];
        float *col = malloc(n * w * sizeof *col);
        if (!col) {
            e |= 1;
            break;
        }
        for (size_t r = 0; r < n; r++)
            memcpy(col + r * w, sc + r * o->n_scores + at, w * sizeof *col);
        e |= put_ds(o, (hid_t)o->ds_scores[i], H5T_NATIVE_FLOAT, n, w == 1 ? 0 : w, col);
        free(col);
    }
    H5Tclose(stt);
    if (e || H5Fflush((hid_t)o->file, H5F_SCOPE_LOCAL) < 0)
        st = vr_fail(VR_ERR_OUTPUT, "%s: writing rows %zu..%zu failed (disk full?)", o->path,
                     o->rows, o->rows + n - 1);
    else
        o->rows += n;
out:
    for (size_t i = 0; escaped && i < n; i++)
        free(escaped[i]);
    free(escaped);
    free(esc);
    free(paths);
    free(errs);
    free(labs);
    free(ok);
    free(idx);
    free(prob);
    free(lg);
    free(em);
    free(sc);
    return st;
}

vr_status vr_output_close(vr_output *o)
{
    vr_status st = VR_OK;
    if (o->fp) {
        if (fclose(o->fp) != 0)
            st = vr_fail(VR_ERR_OUTPUT, "%s: closing failed: %s", o->path, strerror(errno));
        o->fp = NULL;
    }
    for (int i = 0; i < C_N; i++)
        if (o->ds[i] >= 0) {
            H5Dclose((hid_t)o->ds[i]);
            o->ds[i] = -1;
        }
    for (size_t i = 0; o->ds_scores && i < o->sc.n; i++)
        if (o->ds_scores[i] >= 0)
            H5Dclose((hid_t)o->ds_scores[i]);
    free(o->ds_scores);
    o->ds_scores = NULL;
    if (o->file >= 0) {
        if (H5Fclose((hid_t)o->file) < 0)
            st = vr_fail(VR_ERR_OUTPUT, "%s: closing failed", o->path);
        o->file = -1;
    }
    return st;
}

vr_status vr_output_describe_run(vr_output *o, const char *run)
{
    if (o->csv)
        return VR_OK; /* a CSV has no place for it */
    size_t len = strlen(run);
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, len ? len : 1);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t a = H5Acreate2((hid_t)o->file, "vitrun_run", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a >= 0 ? H5Awrite(a, t, len ? run : " ") : -1;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return e < 0 ? vr_fail(VR_ERR_OUTPUT, "%s: cannot write the run's description", o->path)
                 : VR_OK;
}

int vr_output_read_run(const char *path, char *run, size_t cap)
{
    size_t len = strlen(path);
    if (len >= 4 && strcasecmp(path + len - 4, ".csv") == 0)
        return 0;
    vr_h5_quiet();
    if (vr_h5_is_hdf5(path) <= 0)
        return -1;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return -1;
    int r = vr_h5_attr_str(f, "vitrun_run", run, cap);
    int exists = H5Aexists(f, "vitrun_run") > 0;
    H5Fclose(f);
    return r == 0 ? 1 : exists ? -1 : 0;
}

vr_status vr_output_commit(vr_output *o)
{
    vr_status st = vr_output_close(o);
    if (st)
        return st;
    /* the data reaches the disk before the name says the file is complete */
    int fd = open(o->path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    if (rename(o->path, o->final) != 0)
        return vr_fail(VR_ERR_OUTPUT, "cannot rename %s to %s: %s", o->path, o->final,
                       strerror(errno));
    /* and the new name reaches it before the caller deletes the journal */
    char dir[4096];
    vr_dirname(o->final, dir, sizeof dir);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(fd);
        close(fd);
    }
    return VR_OK;
}
