/* h5util.h - small HDF5 helpers shared by the model, input and output files.
 * Only files under io/ include <hdf5.h>. */
#ifndef VR_H5UTIL_H
#define VR_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>

/* HDF5 1.10 (Debian 12) and 1.12+ name a few calls differently. */
#if H5_VERSION_GE(1, 12, 0)
typedef H5L_info2_t vr_h5_linfo;
#define vr_h5_get_linfo(loc, name, info) H5Lget_info2(loc, name, info, H5P_DEFAULT)
#define vr_h5_is_hdf5(path) H5Fis_accessible(path, H5P_DEFAULT)
#else
typedef H5L_info_t vr_h5_linfo;
#define vr_h5_get_linfo(loc, name, info) H5Lget_info(loc, name, info, H5P_DEFAULT)
#define vr_h5_is_hdf5(path) H5Fis_hdf5(path)
#endif

/* Silences HDF5's own error-stack printing: vitrun reports its own messages. */
void vr_h5_quiet(void);

/* Does the path exist, checking each component (H5Lexists on a nested path
 * whose parent is missing is an error, not "no"). */
int vr_h5_exists(hid_t loc, const char *path);

/* Attribute readers: 0 on success, -1 if missing or of the wrong kind or
 * count (a string attribute must hold exactly one string). */
int vr_h5_attr_i64(hid_t obj, const char *name, long long *out);
int vr_h5_attr_f64(hid_t obj, const char *name, double *out, size_t n);
/* A string attribute: fixed-length strings (what vitrun writes) are read
 * here, up to VR_H5_MAX_FIXED_STR bytes; variable-length ones through
 * vr_h5_read_vlen. -2: the variable-length read failed (a crash or hang of
 * libhdf5 in the reader process; vr_h5_string_error() says which). */
#define VR_H5_MAX_FIXED_STR ((size_t)1 << 20)
int vr_h5_attr_str(hid_t obj, const char *name, char *out, size_t cap);
const char *vr_h5_string_error(void);

/* Reads variable-length strings of an attribute (is_dataset 0: all of its
 * `count` elements, first = 0) or of elements [first, first+count) of a 1-D
 * dataset in a forked child process, so that a damaged file's global heap,
 * which crashes or hangs libhdf5 1.10, ends in an error instead. *out (free
 * it) holds the `count` strings one after the other, each ended by a NUL;
 * *len is its size. Returns 0, or -1 with the reason in why. */
int vr_h5_read_vlen(hid_t obj, int is_dataset, size_t first, size_t count, char **out,
                    size_t *len, char *why, size_t whycap);

/* What an attribute holds, for messages: "missing", "float64", "a string",
 * "3 values of int64". */
void vr_h5_attr_describe(hid_t obj, const char *name, char *buf, size_t cap);

/* "[3, 12, 64, 768]" */
void vr_h5_fmt_dims(char *buf, size_t cap, const hsize_t *d, int n);

/* Human name of a dataset's element type ("float32", "int64", "string", ...). */
void vr_h5_type_name(hid_t type, char *buf, size_t cap);

#endif
