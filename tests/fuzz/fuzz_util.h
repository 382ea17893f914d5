/* fuzz_util.h - what the libFuzzer targets share: a private temporary folder
 * per process, files written into it, and forked children (io/h5util.c reads
 * some HDF5 strings in one) that fail like the real program instead of
 * reporting a finding on the fuzzer's behalf. */
#ifndef VF_FUZZ_UTIL_H
#define VF_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "../../io/image_common.h"
#include "../../runtime/config.h"

/* Once, from LLVMFuzzerInitialize: makes the folder
 * $VITRUN_FUZZ_TMP, else /dev/shm, else $TMPDIR, else /tmp, plus
 * /vitrun-fuzz-NAME-PID, removed at exit. */
void vf_setup(const char *name);

/* tmpdir/leaf in buf (cap >= 4096); the folder itself for leaf "". */
const char *vf_path(char *buf, size_t cap, const char *leaf);

/* Writes (replacing) a file in the folder; aborts if it cannot: the fuzz
 * target would otherwise test nothing. */
void vf_write(const char *path, const uint8_t *data, size_t n);

/* Removes everything under path (not following symlinks), and path itself
 * when `self`. */
void vf_rmtree(const char *path, int self);

/* The 4 bytes fuzz_jpeg and fuzz_image start with (their headers say
 * which): the preset, crop and resize into *p, the limits into *lim (pixel
 * limits up to max_pixels); bit 4 of data[3] asks for a file read, bit 5 a
 * byte limit under the file's size (n: the file's size). */
void vf_image_header(const uint8_t *data, size_t n, size_t max_pixels, vr_preprocess *p,
                     vr_image_limits *lim);

/* A harness invariant that failed: prints and aborts (a finding). */
void vf_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
