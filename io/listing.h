/* listing.h - which images a run scores, in which order, without holding the
 * list in memory.
 *
 * --input is one of: an HDF5 image file (io/input_h5.h); a directory, walked
 * recursively for *.jpg / *.jpeg in any letter case and sorted by path; or a
 * text file with one image path per line (relative paths are relative to the
 * list's folder; blank lines are skipped). A directory walk is written once,
 * by one rank, to a manifest file next to the output, which every reading
 * rank then streams; a list file is streamed as it is.
 */
#ifndef VR_LISTING_H
#define VR_LISTING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../runtime/status.h"

typedef enum { VR_INPUT_HDF5, VR_INPUT_DIR, VR_INPUT_LIST, VR_INPUT_SHARDS } vr_input_kind;

/* Longest path a listing line may hold (and an output row's name). */
#define VR_PATH_MAX 4096

/* What --input names: a directory, an HDF5 file (by its signature), or else
 * a list file. VR_ERR_INPUT when it does not exist. */
vr_status vr_input_kind_of(const char *path, vr_input_kind *kind);

/* Opens `path` for reading when it is a regular file. A FIFO, a device or a
 * folder is VR_ERR_INPUT, "PATH is a FIFO (named pipe); expected <expected>",
 * found without blocking (opening a FIFO waits for a writer). */
vr_status vr_open_regular(const char *path, const char *expected, FILE **fp);

/* "a folder", "a FIFO (named pipe)", "a character device", ... for st_mode. */
const char *vr_file_kind(unsigned mode);

/* Longest line of a labels file (--labels). */
#define VR_LINE_MAX (64 * 1024)

/* getline() that stops at `max` bytes: a line of a list or labels file comes
 * from a user and may be endless (/dev/zero). The line's length with its
 * newline; -1 at the end, -2 when it is longer than max bytes (the buffer
 * then holds max + 1 of them and no more is read), -3 out of memory. */
ssize_t vr_getline_max(char **line, size_t *cap, FILE *fp, size_t max);

/* The folder of `path`: "." for a bare name, "/" for one in the root. */
void vr_dirname(const char *path, char *out, size_t cap);

/* Walks `dir` and writes the sorted JPEG paths, relative to dir, one per line,
 * to `manifest` (through a temporary file and a rename). Directories are
 * ordered as if their names ended in '/', so the walk order is the byte order
 * of the full paths. Symlinked directories are not followed. */
vr_status vr_listing_build(const char *dir, const char *manifest, size_t *n, uint64_t *hash);

/* Counts the paths of a list or manifest file and hashes them (FNV-1a over
 * each path and its newline), checking every line fits VR_PATH_MAX. */
vr_status vr_listing_scan(const char *file, size_t *n, uint64_t *hash);

/* A forward-only stream of paths. */
typedef struct {
    FILE *fp;
    char file[VR_PATH_MAX];
    char base[VR_PATH_MAX]; /* folder relative paths are taken from */
    size_t next;            /* index of the path the next call returns */
    size_t lineno;          /* lines read, blank ones included */
    char *line;
    size_t cap;
} vr_listing;

vr_status vr_listing_open(vr_listing *l, const char *file, const char *base);
/* Path number `index` (>= the last one read): `name` as listed (the output
 * row's path), `full` the path to open. VR_ERR_INPUT past the end. */
vr_status vr_listing_get(vr_listing *l, size_t index, char *name, char *full);
void vr_listing_close(vr_listing *l);

#endif
