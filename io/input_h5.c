/* input_h5.c - reads batches of images from an HDF5 file. */
#include "input_h5.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5util.h"
#include "listing.h"

/* Chunks never written read back as the fill value: the scores of images
 * that are not there. A chunked dataset is complete when every chunk its
 * extent covers is stored. H5Dget_space_status cannot tell: it compares the
 * bytes allocated with the dataset's size, and compressed chunks are smaller,
 * edge chunks larger. So the stored chunks are counted (a walk of the chunk
 * index, as long as the file holds chunks, whatever the declared size) and
 * compared with the number the extent needs (0.13 s for a million chunks).
 * The library keeps no chunk outside the extent (shrinking drops them); if a
 * file has more chunks than the extent needs anyway, each needed one is
 * looked up. Contiguous and compact data are whole once allocated. */
static vr_status check_written(hid_t d, const hsize_t *dims, const char *path)
{
    hid_t pl = H5Dget_create_plist(d), sp = H5Dget_space(d);
    hsize_t chunk[4] = {0}, need = 1, per[4], have = 0;
    int missing = 0, chunked = pl >= 0 && H5Pget_layout(pl) == H5D_CHUNKED;
    int ok = !chunked || H5Pget_chunk(pl, 4, chunk) == 4;
    for (int i = 0; ok && chunked && i < 4; i++) {
        ok = chunk[i] > 0;
        per[i] = ok ? dims[i] / chunk[i] + (dims[i] % chunk[i] != 0) : 0;
        ok = ok && per[i] <= UINT64_MAX / need;
        need *= ok ? per[i] : 1;
    }
    H5D_space_status_t alloc = H5D_SPACE_STATUS_ERROR;
    if (ok && chunked)
        ok = H5Dget_num_chunks(d, sp, &have) >= 0;
    else if (ok)
        ok = H5Dget_space_status(d, &alloc) >= 0;
    if (ok && chunked && have > need) {
        hsize_t c[4] = {0};
        for (hsize_t k = 0; k < need && !missing; k++) {
            hsize_t rest = k, size = 0;
            for (int i = 3; i >= 0; i--) {
                c[i] = rest % per[i] * chunk[i];
                rest /= per[i];
            }
            /* about 1 us a chunk here (H5Dget_chunk_info_by_coord: 6) */
            missing = H5Dget_chunk_storage_size(d, c, &size) < 0 || size == 0;
        }
        have = missing ? need - 1 : need; /* the message then says "only part" */
    }
    if (sp >= 0)
        H5Sclose(sp);
    if (pl >= 0)
        H5Pclose(pl);
    if (!ok)
        return vr_fail(VR_ERR_INPUT, "%s: cannot tell which of the images of 'images' are "
                       "written (its layout or chunk index cannot be read: file damaged?)",
                       path);
    if (chunked ? have >= need : alloc == H5D_SPACE_STATUS_ALLOCATED)
        return VR_OK;
    char chunks[96] = "";
    if (chunked && !missing)
        snprintf(chunks, sizeof chunks, "; %llu of the %llu chunks that hold them are stored",
                 (unsigned long long)have, (unsigned long long)need);
    return vr_fail(VR_ERR_INPUT, "%s: 'images' has %s of its %llu images written (the rest "
                   "would read as the fill value%s); the file is incomplete: write every "
                   "image, or shrink the dataset to those written", path,
                   (chunked ? have == 0 : alloc == H5D_SPACE_STATUS_NOT_ALLOCATED) ? "none"
                                                                                   : "only part",
                   (unsigned long long)dims[0], chunks);
}

#define VR_NAME_PROBE 4096

vr_status vr_input_h5_open(vr_input_h5 *in, const char *path, const vr_config *cfg)
{
    memset(in, 0, sizeof *in);
    in->file = in->dset = -1;
    snprintf(in->path, sizeof in->path, "%s", path);
    vr_h5_quiet();
    if (access(path, R_OK) != 0)
        return vr_fail(VR_ERR_INPUT, "%s: cannot open the input: %s", path, strerror(errno));
    /* checked where it is opened: on another node the name may be something else */
    struct stat sb;
    if (stat(path, &sb) != 0)
        return vr_fail(VR_ERR_INPUT, "%s: cannot open the input: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return vr_fail(VR_ERR_INPUT, "%s is %s; expected an HDF5 image file", path,
                       vr_file_kind(sb.st_mode));
    if (vr_h5_is_hdf5(path) <= 0)
        return vr_fail(VR_ERR_INPUT, "%s: not an HDF5 file (or truncated); expected a dataset "
                       "'images' of uint8 [N,H,W,C] or float32 [N,C,H,W]", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return vr_fail(VR_ERR_INPUT, "%s: HDF5 cannot open it", path);
    in->file = f;
    if (!vr_h5_exists(f, "/images")) {
        vr_input_h5_close(in);
        return vr_fail(VR_ERR_INPUT, "%s: no dataset 'images'; expected uint8 [N,%zu,%zu,%zu] "
                       "or float32 [N,%zu,%zu,%zu]", path, cfg->image_h, cfg->image_w,
                       cfg->channels, cfg->channels, cfg->image_h, cfg->image_w);
    }
    hid_t d = H5Dopen2(f, "/images", H5P_DEFAULT);
    if (d < 0) {
        vr_input_h5_close(in);
        return vr_fail(VR_ERR_INPUT, "%s: 'images' cannot be opened as a dataset (a group, or "
                       "a link to a missing file?); expected uint8 [N,%zu,%zu,%zu] or float32 "
                       "[N,%zu,%zu,%zu]", path, cfg->image_h, cfg->image_w, cfg->channels,
                       cfg->channels, cfg->image_h, cfg->image_w);
    }
    in->dset = d;
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    hsize_t dims[8] = {0};
    int nd = H5Sget_simple_extent_ndims(sp);
    if (nd > 0 && nd <= 8)
        H5Sget_simple_extent_dims(sp, dims, NULL);
    char tname[32], got[128];
    vr_h5_type_name(t, tname, sizeof tname);
    vr_h5_fmt_dims(got, sizeof got, dims, nd > 0 && nd <= 8 ? nd : 0);
    int cls = H5Tget_class(t);
    size_t sz = H5Tget_size(t);
    int is_unsigned = cls == H5T_INTEGER && H5Tget_sign(t) == H5T_SGN_NONE;
    H5Sclose(sp);
    H5Tclose(t);
    size_t Hi = cfg->image_h, Wi = cfg->image_w, C = cfg->channels;
    if (nd == 4 && is_unsigned && sz == 1 && dims[1] == Hi && dims[2] == Wi && dims[3] == C) {
        in->is_uint8 = 1;
    } else if (nd == 4 && cls == H5T_FLOAT && dims[1] == C && dims[2] == Hi && dims[3] == Wi) {
        in->is_uint8 = 0;
    } else {
        vr_input_h5_close(in);
        return vr_fail(VR_ERR_INPUT, "%s: 'images' is %s %s; this model needs uint8 "
                       "[N,%zu,%zu,%zu] pixels or float32 [N,%zu,%zu,%zu] normalised tensors "
                       "(resize images to %zux%zu first)", path, tname, got, Hi, Wi, C, C, Hi, Wi,
                       Wi, Hi);
    }
    vr_status cst = dims[0] ? check_written(d, dims, path) : VR_OK;
    if (cst) {
        vr_input_h5_close(in);
        return cst;
    }
    in->n = dims[0];
    in->h = Hi;
    in->w = Wi;
    in->c = C;
    /* the first and last images read now, not mid-run: external raw storage
     * that is missing, or a damaged chunk there, is a clear error here */
    if (in->n) {
        size_t img = C * Hi * Wi;
        void *probe = malloc(img * (in->is_uint8 ? 1 : sizeof(float)));
        vr_status pst = probe ? VR_OK : vr_fail(VR_ERR_NOMEM, "%s: out of memory", path);
        for (int k = 0; !pst && k < 2; k++)
            pst = vr_input_h5_read(in, k ? in->n - 1 : 0, 1, probe, probe);
        free(probe);
        if (pst) {
            char why[512];
            snprintf(why, sizeof why, "%s", vr_last_error());
            vr_input_h5_close(in);
            return vr_fail(pst, "%s (is its external data file missing?)", why);
        }
    }
    in->has_paths = vr_h5_exists(f, "/paths");
    if (in->has_paths) {
        /* the rows' names: one string per image, or the output would name
         * some rows by index without saying so */
        hid_t pd = H5Dopen2(f, "/paths", H5P_DEFAULT);
        hid_t pt = pd >= 0 ? H5Dget_type(pd) : -1, ps = pd >= 0 ? H5Dget_space(pd) : -1;
        int pnd = ps >= 0 ? H5Sget_simple_extent_ndims(ps) : -1;
        hssize_t pn = ps >= 0 ? H5Sget_simple_extent_npoints(ps) : -1;
        int ok = pt >= 0 && H5Tget_class(pt) == H5T_STRING && pnd == 1 &&
                 pn == (hssize_t)in->n;
        if (ps >= 0)
            H5Sclose(ps);
        if (pt >= 0)
            H5Tclose(pt);
        if (pd >= 0)
            H5Dclose(pd);
        if (!ok) {
            vr_input_h5_close(in);
            return vr_fail(VR_ERR_INPUT, "%s: 'paths' must be %llu strings, one per image (it "
                           "names the rows); found %lld values%s. Fix it or remove it to name "
                           "rows by index", path, (unsigned long long)dims[0], (long long)pn,
                           pnd > 1 ? " in more than one dimension" : "");
        }
        /* the first and last names read now, as the images are */
        char nm[2][VR_NAME_PROBE];
        vr_status nst = VR_OK;
        for (int k = 0; !nst && in->n && k < 2; k++)
            nst = vr_input_h5_names(in, k ? in->n - 1 : 0, 1, nm[k], sizeof nm[k]);
        if (nst) {
            vr_input_h5_close(in);
            return nst;
        }
    }
    return VR_OK;
}

vr_status vr_input_h5_read(vr_input_h5 *in, size_t first, size_t count, uint8_t *u8, float *f32)
{
    hid_t d = (hid_t)in->dset;
    hid_t fs = H5Dget_space(d);
    hsize_t start[4] = {first, 0, 0, 0};
    hsize_t cnt[4] = {count, in->is_uint8 ? in->h : in->c, in->is_uint8 ? in->w : in->h,
                      in->is_uint8 ? in->c : in->w};
    hid_t ms = H5Screate_simple(4, cnt, NULL);
    herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
    if (e >= 0)
        e = H5Dread(d, in->is_uint8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT,
                    in->is_uint8 ? (void *)u8 : (void *)f32);
    H5Sclose(ms);
    H5Sclose(fs);
    if (e < 0)
        return vr_fail(VR_ERR_INPUT, "%s: reading images %zu..%zu failed (file damaged?)",
                       in->path, first, first + count - 1);
    return VR_OK;
}

vr_status vr_input_h5_names(vr_input_h5 *in, size_t first, size_t count, char *out,
                            size_t stride)
{
    for (size_t i = 0; i < count; i++)
        snprintf(out + i * stride, stride, "%zu", first + i);
    if (!in->has_paths || !count)
        return VR_OK;
    if (first > in->n || count > in->n - first)
        return vr_fail(VR_ERR_INTERNAL, "%s: names of rows %zu..%zu of %zu asked for", in->path,
                       first, first + count - 1, in->n);
    hid_t d = H5Dopen2((hid_t)in->file, "/paths", H5P_DEFAULT);
    if (d < 0)
        return vr_fail(VR_ERR_INPUT, "%s: 'paths' cannot be opened (damaged?)", in->path);
    hid_t t = H5Dget_type(d), fs = H5Dget_space(d), ms = -1, mt = -1;
    hsize_t h0 = first, hn = count;
    size_t sz = H5Tget_size(t), bytes = 0;
    char *buf = NULL, why[256] = "";
    vr_status st = VR_OK;
    if (H5Tis_variable_str(t) > 0) {
        /* read out of process: a damaged global heap crashes libhdf5 (h5util.h) */
        size_t len;
        if (vr_h5_read_vlen(d, 1, first, count, &buf, &len, why, sizeof why) == 0) {
            const char *p = buf;
            for (size_t i = 0; i < count; i++, p += strlen(p) + 1)
                snprintf(out + i * stride, stride, "%s", p);
        }
    } else if (sz > VR_H5_MAX_FIXED_STR || !vr_mul(count, sz, &bytes) ||
               !(buf = malloc(bytes ? bytes : 1))) {
        snprintf(why, sizeof why, "strings of %zu bytes each", sz);
    } else {
        mt = H5Tcopy(t); /* as stored: no conversion, padding handled below */
        ms = H5Screate_simple(1, &hn, NULL);
        if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, &h0, NULL, &hn, NULL) < 0 ||
            H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf) < 0)
            snprintf(why, sizeof why, "the read failed (damaged?)");
        for (size_t i = 0; !why[0] && i < count; i++) {
            size_t l = strnlen(buf + i * sz, sz), c = l < stride ? l : stride - 1;
            memcpy(out + i * stride, buf + i * sz, c);
            out[i * stride + c] = '\0';
        }
    }
    if (why[0])
        st = vr_fail(VR_ERR_INPUT, "%s: 'paths' of rows %zu..%zu cannot be read: %s; write "
                     "the file again (fixed-length strings need no heap) or remove 'paths'",
                     in->path, first, first + count - 1, why);
    free(buf);
    if (ms >= 0)
        H5Sclose(ms);
    if (mt >= 0)
        H5Tclose(mt);
    H5Sclose(fs);
    H5Tclose(t);
    H5Dclose(d);
    return st;
}

void vr_input_h5_name(vr_input_h5 *in, size_t i, char *out, size_t cap)
{
    if (vr_input_h5_names(in, i, 1, out, cap))
        snprintf(out, cap, "%zu", i);
}

void vr_input_h5_close(vr_input_h5 *in)
{
    if (in->dset >= 0)
        H5Dclose((hid_t)in->dset);
    if (in->file >= 0)
        H5Fclose((hid_t)in->file);
    in->file = in->dset = -1;
}
