/* shardlist.h - which webdataset tar shards a run reads (--input).
 *
 * --input names shards in one of four ways:
 *  a) a pattern with bash's brace expansion (io/braces.h), e.g.
 *     "/data/laion/{00000..09999}.tar": the shards are made on demand from
 *     it, at most VR_SHARDLIST_MAX of them; they are NOT checked to exist
 *     (a missing shard is that shard's failure when it is opened). An input
 *     that exists is taken as it is, braces in its name or not.
 *  b) a folder: the tar files directly in it (not in sub-folders: a folder of
 *     shards is flat, and a walk would pick up backups and other datasets),
 *     in byte order of their names;
 *  c) one tar file;
 *  d) a text file listing shards, one per line (relative paths are relative
 *     to the list's folder; blank lines and a '\r' before the newline are
 *     ignored).
 * A tar file is one whose name ends in .tar, .tar.gz, .tgz, .tar.bz2,
 * .tar.xz or .tar.zst, in any letter case. Each shard's STEM is its file
 * name without that suffix (".../00042.tar.gz": "00042"); per-shard outputs
 * are named by it, so two shards with the same stem, and an empty stem, are
 * refused. Every expansion of a pattern must be a tar name.
 */
#ifndef VR_SHARDLIST_H
#define VR_SHARDLIST_H

#include <stddef.h>
#include <stdint.h>

#include "../runtime/status.h"
#include "braces.h"
#include "listing.h" /* VR_PATH_MAX */

/* Most shards a run reads: the stem check sorts 8 bytes a shard. */
#define VR_SHARDLIST_MAX ((size_t)10000000)

/* Length of the tar suffix ending `name` (".tar.gz": 7); 0 if none. */
size_t vr_tar_suffix_len(const char *name);

/* Whether --input names shards, cheaply (the caller keeps its image path
 * otherwise):
 *   1 - a tar file name (existing or not), a pattern (a '{' or '}' in an
 *       input that does not exist), a folder holding tar files and no images
 *       directly in it, or a text file whose first non-blank line is a tar
 *       name (its other lines are checked by vr_shardlist_build);
 *   0 - anything else: a folder of images, an image list, an HDF5 file, an
 *       input that does not exist, a FIFO or device (never opened here);
 *  -1 - a folder holding both tar files and images directly: ambiguous,
 *       refused with a message (vr_last_error()); vr_shardlist_build
 *       refuses it too.
 * Images are .jpg, .jpeg, .png and .webp in any letter case. */
int vr_shardlist_is_shards(const char *input);

typedef struct {
    size_t n;            /* shards */
    uint64_t hash;       /* FNV-1a over each shard's path (as opened) and a '\n', in order */
    /* private */
    vr_braces *pattern;  /* a pattern: paths are made from it */
    char *arena;         /* otherwise the n paths, each ending in a NUL */
    size_t *off;         /* (n) where path i starts in arena */
} vr_shardlist;

/* Builds the list for --input: VR_ERR_INPUT (naming the input, the line or
 * the two shards of one stem) or VR_ERR_NOMEM; *l is then empty. */
vr_status vr_shardlist_build(vr_shardlist *l, const char *input);

/* Shard i's path to open and its stem; buffers of VR_PATH_MAX bytes (stem
 * may be NULL). */
vr_status vr_shardlist_get(const vr_shardlist *l, size_t i, char *path, char *stem);

void vr_shardlist_free(vr_shardlist *l);

#endif
