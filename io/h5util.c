/* h5util.c - HDF5 attribute and naming helpers. */
#include "h5util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vr_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

int vr_h5_exists(hid_t loc, const char *path)
{
    char buf[1024];
    size_t len = strlen(path);
    if (len >= sizeof buf)
        return 0;
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char saved = buf[i];
            buf[i] = '\0';
            if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0)
                return 0;
            buf[i] = saved;
        }
    }
    return 1;
}

static hid_t open_attr(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0)
        return -1;
    return H5Aopen(obj, name, H5P_DEFAULT);
}

int vr_h5_attr_i64(hid_t obj, const char *name, long long *out)
{
    hid_t a = open_attr(obj, name);
    if (a < 0)
        return -1;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    int ok = H5Tget_class(t) == H5T_INTEGER && H5Sget_simple_extent_npoints(sp) == 1 &&
             H5Aread(a, H5T_NATIVE_LLONG, out) >= 0;
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return ok ? 0 : -1;
}

int vr_h5_attr_f64(hid_t obj, const char *name, double *out, size_t n)
{
    hid_t a = open_attr(obj, name);
    if (a < 0)
        return -1;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t cl = H5Tget_class(t);
    int ok = (cl == H5T_FLOAT || cl == H5T_INTEGER) &&
             H5Sget_simple_extent_npoints(sp) == (hssize_t)n &&
             H5Aread(a, H5T_NATIVE_DOUBLE, out) >= 0;
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return ok ? 0 : -1;
}

int vr_h5_attr_str(hid_t obj, const char *name, char *out, size_t cap)
{
    hid_t a = open_attr(obj, name);
    if (a < 0)
        return -1;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    int ok = 0;
    /* one string, scalar or of one element: H5Aread writes every element */
    if (H5Tget_class(t) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1) {
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t));
            if (H5Aread(a, mt, &s) >= 0 && s) {
                snprintf(out, cap, "%s", s);
                ok = 1;
            }
            H5free_memory(s);
            H5Tclose(mt);
        } else {
            size_t sz = H5Tget_size(t);
            char *buf = calloc(sz + 1, 1);
            if (buf && H5Aread(a, t, buf) >= 0) {
                snprintf(out, cap, "%s", buf);
                ok = 1;
            }
            free(buf);
        }
    }
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return ok ? 0 : -1;
}

void vr_h5_fmt_dims(char *buf, size_t cap, const hsize_t *d, int n)
{
    size_t off = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%llu", i ? ", " : "",
                                (unsigned long long)d[i]);
    if (off < cap)
        snprintf(buf + off, cap - off, "]");
}

void vr_h5_type_name(hid_t type, char *buf, size_t cap)
{
    size_t bits = 8 * H5Tget_size(type);
    switch (H5Tget_class(type)) {
    case H5T_FLOAT: snprintf(buf, cap, "float%zu", bits); break;
    case H5T_INTEGER:
        snprintf(buf, cap, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
        break;
    case H5T_STRING: snprintf(buf, cap, "string"); break;
    default: snprintf(buf, cap, "a non-numeric type"); break;
    }
}
