/* tarshard.h - one webdataset tar shard read as a stream of samples.
 *
 * The shard is read front to back with libarchive, never extracted; memory
 * stays flat: one image buffer, reused and grown up to max_member_bytes, the
 * read-ahead member's path (libarchive caps a tar path at 1 MiB), and a set
 * of 16 bytes per sample key for duplicates (at most VR_TARSHARD_MAX_KEYS).
 * Plain tar (ustar, pax, GNU) and tar compressed with gzip, bzip2, xz or
 * zstd, decompressed in the process (libarchive's other filters are not
 * enabled: some of them run external programs). A compressed shard adds its
 * decompressor's window: 32 KiB gzip, < 4 MiB bzip2, 128 MiB at most zstd,
 * and for xz the dictionary its header declares (address space; pages are
 * touched only as far as the output goes).
 *
 * webdataset's rules (tariterators.py: tar_file_iterator, base_plus_ext,
 * group_by_keys), as implemented:
 *  - Only regular files count: folders, symlinks, hard links and devices are
 *    skipped, and so are names whose first component starts and ends with
 *    "__" (webdataset's metadata, "__meta__/..." or "__info__").
 *  - A member's key and extension come from webdataset's base_plus_ext regex
 *    ^((?:.*\/|)[^.]+)[.]([^/]*)$: the key is the path up to the first dot
 *    of its last component, folders kept ("a/b/c.d.jpg": key "a/b/c",
 *    extension "d.jpg"). A member with no dot in its last component has no
 *    key and is skipped; a dot file (".x.jpg") takes the key the regex gives
 *    it ("a/.x.jpg": "a/" when "a" has no dot; none when it has one).
 *  - Extensions compare in lower case (webdataset lowercases them); keys are
 *    case-sensitive.
 *  - A sample is a run of adjacent members with the same key. Its image is
 *    the first member whose whole extension is one of image_keys (so with
 *    "jpg", "x.left.jpg" is not an image: list "left.jpg" to pick it).
 *    "cls" (an integer label, whitespace-trimmed, decimal, optional sign,
 *    at most 64 bytes) is read; every other member is skipped unread.
 *
 * A bad sample is returned with ok = 0 and the shard goes on:
 *  - no image member: "no image member; found: json, txt";
 *  - a key seen before in the shard, not adjacent (webdataset would silently
 *    make two samples of it): "duplicate key; first at byte N";
 *  - an extension twice in a sample ("x.jpg" twice; webdataset raises):
 *    "duplicate member x.jpg; first at byte N";
 *  - an image member over max_member_bytes (skipped unread) or empty;
 *  - a key of VR_NAME_LEN bytes or more (reported cut to VR_NAME_LEN - 1,
 *    grouped by the whole key);
 *  - over VR_TARSHARD_MAX_MEMBERS members with one key.
 * A .cls that is not an integer leaves the sample scorable: has_cls = 0,
 * cls_bad = 1.
 *
 * A tar that breaks (a corrupt header, a checksum that does not match, data
 * or a header cut short) ends the shard: the samples before the break are
 * returned, then the sample the break interrupted (ok = 0 when the break is
 * inside one of its members, else as far as it was read), then
 * vr_tarshard_next returns -1 with the byte and the member in s->error (and
 * in full in vr_last_error()). A file that is not a tar, or is empty (0
 * bytes, not even the tar's end blocks), is -1 at the first call. A tar of
 * end blocks only is a clean end with no samples.
 *
 * Not thread-safe; one reader per shard.
 */
#ifndef VR_TARSHARD_H
#define VR_TARSHARD_H

#include <stddef.h>
#include <stdint.h>

#include "../runtime/batch.h"
#include "../runtime/status.h"

/* A shard that cannot be read at all (missing, no permission, an I/O error
 * at open): a failure the caller may retry, unlike a broken tar. */
#define VR_TARSHARD_ERR_IO VR_ERR_IO

#define VR_TARSHARD_IMAGE_KEYS "jpg;jpeg;png;webp"
#define VR_TARSHARD_DEFAULT_MAX ((size_t)256 << 20) /* --max-file-mb's default */
#define VR_TARSHARD_EXT_LEN 32       /* longest image key + 1 */
#define VR_TARSHARD_MAX_IMAGE_KEYS 16
#define VR_TARSHARD_MAX_MEMBERS 1024 /* members of one sample */
/* Keys remembered for the duplicate check: 16 MiB at most; a shard with
 * more samples is checked for its first VR_TARSHARD_MAX_KEYS keys. Keys are
 * remembered by a 64-bit hash: a false duplicate is a ~1e-8 event. */
#define VR_TARSHARD_MAX_KEYS ((size_t)1 << 20)

typedef struct {
    size_t max_member_bytes; /* a larger image member is refused unread; 0: 256 MiB */
    const char *image_keys;  /* image extensions, ';'-separated, any case; NULL: the default */
} vr_tarshard_options;

typedef struct {
    char key[VR_NAME_LEN];     /* the sample's key, cut to VR_NAME_LEN - 1 bytes */
    int ok;                    /* 0: this sample cannot be scored; error says why */
    char error[VR_ERROR_LEN];
    const uint8_t *image;      /* (image_len) the image member's bytes, valid until the next call */
    size_t image_len;
    char image_ext[VR_TARSHARD_EXT_LEN]; /* its extension, lower case ("jpg") */
    int has_cls;               /* KEY.cls held an integer: cls */
    int64_t cls;
    int cls_bad;               /* KEY.cls was there but not an integer */
    size_t members;            /* the sample's members (regular files with its key) */
    uint64_t offset;           /* byte of its first member's header in the uncompressed tar */
} vr_tarshard_sample;

typedef struct vr_tarshard vr_tarshard;

/* Opens a shard file. VR_TARSHARD_ERR_IO when it cannot be opened or read
 * (the message names the file and the system's reason); VR_ERR_INPUT when
 * it is a folder, FIFO or device; VR_ERR_USAGE for bad options. */
vr_status vr_tarshard_open(vr_tarshard **t, const char *path, const vr_tarshard_options *o);

/* The same over bytes in memory (kept by the caller until close); `name`
 * names them in messages. */
vr_status vr_tarshard_open_memory(vr_tarshard **t, const void *buf, size_t len, const char *name,
                                  const vr_tarshard_options *o);

/* The next sample: 1, with *s filled; 0 at the clean end of the tar; -1 when
 * the tar broke (s->error and vr_last_error() say where and why). After 0 or
 * -1 every later call returns the same. */
int vr_tarshard_next(vr_tarshard *t, vr_tarshard_sample *s);

void vr_tarshard_close(vr_tarshard *t);

#endif
