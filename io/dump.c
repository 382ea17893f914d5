/* dump.c - activation dumps (HDF5) for checking against the reference. */
#include "dump.h"

#include <stdio.h>
#include <string.h>

#include "h5util.h"

vr_status vr_dump_open(vr_dump *d, const char *path, size_t n)
{
    memset(d, 0, sizeof *d);
    snprintf(d->path, sizeof d->path, "%s", path);
    d->n = n;
    vr_h5_quiet();
    d->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (d->file < 0)
        return vr_fail(VR_ERR_OUTPUT, "%s: cannot create the activation dump", path);
    return VR_OK;
}

vr_status vr_dump_write(vr_dump *d, const char *name, size_t first, size_t count, size_t r1,
                        size_t r2, const float *data)
{
    hid_t f = (hid_t)d->file;
    int r = r2 ? 3 : 2;
    hsize_t dims[3] = {d->n, r1, r2}, start[3] = {first, 0, 0}, cnt[3] = {count, r1, r2};
    hid_t ds;
    if (H5Lexists(f, name, H5P_DEFAULT) > 0) {
        ds = H5Dopen2(f, name, H5P_DEFAULT);
    } else {
        hid_t sp = H5Screate_simple(r, dims, NULL);
        ds = H5Dcreate2(f, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Sclose(sp);
    }
    if (ds < 0)
        return vr_fail(VR_ERR_OUTPUT, "%s: cannot create dataset %s", d->path, name);
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(r, cnt, NULL);
    herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
    if (e >= 0)
        e = H5Dwrite(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, data);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(ds);
    return e < 0 ? vr_fail(VR_ERR_OUTPUT, "%s: writing %s failed", d->path, name) : VR_OK;
}

void vr_dump_close(vr_dump *d)
{
    if (d->file > 0)
        H5Fclose((hid_t)d->file);
    d->file = -1;
}
