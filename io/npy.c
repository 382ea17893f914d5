/* npy.c - a .npy writer (npy.h). */
#include "npy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../runtime/kernels.h"

/* The header is given this many bytes (magic, version, length, dict and
 * padding), enough for any shape: numpy wants the data 64-byte aligned. */
#define HEADER 128

static vr_status write_header(vr_npy *n)
{
    char h[HEADER + 1];
    int len = snprintf(h + 10, sizeof h - 10,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }",
                       n->f16 ? "<f2" : "<f4", n->rows, n->dim);
    if (len < 0 || len > HEADER - 11)
        return vr_fail(VR_ERR_INTERNAL, "%s: a .npy header for %zu x %zu does not fit", n->path,
                       n->rows, n->dim);
    memset(h + 10 + len, ' ', (size_t)(HEADER - 11 - len));
    h[HEADER - 1] = '\n';
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    h[8] = (char)((HEADER - 10) & 0xff);
    h[9] = (char)((HEADER - 10) >> 8);
    if (fseek(n->fp, 0, SEEK_SET) != 0 || fwrite(h, 1, HEADER, n->fp) != HEADER)
        return vr_fail(VR_ERR_OUTPUT, "cannot write %s: %s", n->path, strerror(errno));
    return VR_OK;
}

vr_status vr_npy_create(vr_npy *n, const char *path, size_t dim, int f16)
{
    memset(n, 0, sizeof *n);
    snprintf(n->path, sizeof n->path, "%s", path);
    n->dim = dim;
    n->f16 = f16;
    if (f16 && !(n->half = vr_alloc(dim ? dim : 1, sizeof *n->half, "float16 row")))
        return VR_ERR_NOMEM;
    if (!(n->fp = fopen(path, "w+b"))) {
        free(n->half);
        n->half = NULL;
        return vr_fail(VR_ERR_OUTPUT, "cannot create %s: %s", path, strerror(errno));
    }
    vr_status st = write_header(n);
    if (st)
        vr_npy_abort(n);
    return st;
}

vr_status vr_npy_append(vr_npy *n, const float *rows, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const float *r = rows + i * n->dim;
        size_t wrote;
        if (n->f16) {
            vr_to_f16(n->half, r, n->dim);
            wrote = fwrite(n->half, sizeof *n->half, n->dim, n->fp);
        } else {
            wrote = fwrite(r, sizeof *r, n->dim, n->fp);
        }
        if (wrote != n->dim)
            return vr_fail(VR_ERR_OUTPUT, "cannot write %s: %s", n->path, strerror(errno));
    }
    n->rows += count;
    return VR_OK;
}

vr_status vr_npy_finish(vr_npy *n)
{
    vr_status st = write_header(n);
    if (!st && (fflush(n->fp) != 0 || fsync(fileno(n->fp)) != 0))
        st = vr_fail(VR_ERR_OUTPUT, "cannot write %s: %s", n->path, strerror(errno));
    if (fclose(n->fp) != 0 && !st)
        st = vr_fail(VR_ERR_OUTPUT, "cannot write %s: %s", n->path, strerror(errno));
    n->fp = NULL;
    free(n->half);
    n->half = NULL;
    return st;
}

void vr_npy_abort(vr_npy *n)
{
    if (n->fp) {
        fclose(n->fp);
        unlink(n->path);
    }
    n->fp = NULL;
    free(n->half);
    n->half = NULL;
}
