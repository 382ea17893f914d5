/* fuzz_listing.c - libFuzzer target: what --input makes of a list file or a
 * folder (io/listing.c, io/reader.c).
 *
 * Input: a mode byte, then
 *   bit 0 clear - a list file: its kind (vr_input_kind_of), vr_listing_scan,
 *     the same paths streamed back (vr_listing_get: same count and hash),
 *     and when every path stays inside the fixture folder (relative, no
 *     "..") the JPEG reader decoding the first rows of it from there;
 *   bit 0 set - a tree of files, folders and symlinks built from the bytes
 *     (ops below) and walked by vr_listing_build: the manifest must scan to
 *     the same count and hash, list existing JPEG names in strictly
 *     increasing byte order, and feed the reader.
 * Tree ops: a byte OP, then (OP >> 2 & 15) + 1 name bytes ('/' and NUL
 * become '_'; length 16 means a 200-byte name); OP & 3: 0 file, 1 folder
 * (entered), 2 symlink, 3 back up (no name). OP >> 6 appends nothing,
 * ".jpg", ".JPEG" or ".jpeg". A file or symlink takes one more byte: the
 * contents (%4: a JPEG, empty, truncated, text) or the link target (%5:
 * ".", "..", "x.jpg", "missing.jpg", the previous name). Nothing points
 * outside the process's temporary folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../io/listing.h"
#include "../../io/reader.h"
#include "fuzz_util.h"

#define MAX_OPS 128
#define MAX_DEPTH 12
#define MAX_READ 12
#define CROP 8

/* an 8x8 grey JPEG (PIL, quality 10) */
static const uint8_t k_jpeg[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x50, 0x37, 0x3c, 0x46, 0x3c,
    0x32, 0x50, 0x46, 0x41, 0x46, 0x5a, 0x55, 0x50, 0x5f, 0x78, 0xc8, 0x82, 0x78, 0x6e, 0x6e,
    0x78, 0xf5, 0xaf, 0xb9, 0x91, 0xc8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00,
    0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08,
    0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x3f, 0xff, 0xd9};

static char g_files[4096], g_list[4096], g_tree[4096], g_manifest[4096];

static void put(const char *dir, const char *name, const uint8_t *b, size_t n)
{
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    vf_write(p, b, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vf_setup("listing");
    /* fixtures a list may name: good, truncated, empty, not a JPEG, nested */
    vf_path(g_files, sizeof g_files, "files");
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/sub", g_files);
    if (mkdir(g_files, 0700) != 0 || mkdir(sub, 0700) != 0)
        vf_fail("cannot make the fixtures: %s", strerror(errno));
    put(g_files, "a.jpg", k_jpeg, sizeof k_jpeg);
    put(g_files, "b.jpg", k_jpeg, sizeof k_jpeg / 2);
    put(g_files, "c.jpeg", k_jpeg, 0);
    put(g_files, "d.JPG", (const uint8_t *)"not a jpeg\n", 11);
    put(sub, "e.jpg", k_jpeg, sizeof k_jpeg);
    snprintf(g_list, sizeof g_list, "%s/list.txt", g_files);
    vf_path(g_tree, sizeof g_tree, "tree");
    vf_path(g_manifest, sizeof g_manifest, "manifest.txt");
    return 0;
}

/* FNV-1a over each path and its newline, as io/listing.c hashes a listing */
static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
    return h;
}

/* Streams the listing back: the same n paths and hash as the scan, nothing
 * after them; for a manifest (sorted), strictly increasing and existing. */
static void stream_back(const char *file, const char *base, size_t n, uint64_t hash,
                        int manifest)
{
    vr_listing l;
    char *name = malloc(VR_PATH_MAX), *full = malloc(2 * VR_PATH_MAX),
         *prev = calloc(1, VR_PATH_MAX);
    if (!name || !full || !prev)
        vf_fail("out of memory");
    if (vr_listing_open(&l, file, base) != VR_OK)
        vf_fail("%s: scanned, then does not open: %s", file, vr_last_error());
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        if (vr_listing_get(&l, i, name, full) != VR_OK)
            vf_fail("path %zu of %zu missing when streamed: %s", i, n, vr_last_error());
        size_t len = strlen(name);
        h = fnv(fnv(h, name, len), "\n", 1);
        if (manifest) {
            struct stat sb;
            if (i && strcmp(prev, name) >= 0)
                vf_fail("manifest out of order: '%s' after '%s'", name, prev);
            if (lstat(full, &sb) != 0)
                vf_fail("manifest names '%s', which does not exist", full);
            memcpy(prev, name, len + 1);
        }
    }
    if (h != hash)
        vf_fail("%s: streamed paths hash differently from the scan", file);
    if (vr_listing_get(&l, n, name, full) == VR_OK)
        vf_fail("%s: a path after the %zu scanned", file, n);
    vr_listing_close(&l);
    free(name);
    free(full);
    free(prev);
}

/* The reader over the first rows, in ranges of up to 4, one pending. */
static void read_rows(const char *file, const char *base, size_t n)
{
    vr_preprocess p;
    vr_preprocess_preset(&p, "torchvision", CROP, CROP);
    vr_jpeg_limits lim = {1u << 20, 1u << 20, 0};
    vr_reader *r;
    if (vr_reader_open(&r, file, base, &p, &lim, CROP * CROP, 4, 0, 2) != VR_OK)
        vf_fail("reader: %s", vr_last_error());
    uint8_t *px = malloc(4 * CROP * CROP * 3);
    vr_row_meta *rows = malloc(4 * sizeof *rows);
    if (!px || !rows)
        vf_fail("out of memory");
    size_t todo = n < MAX_READ ? n : MAX_READ;
    for (size_t first = 0; first < todo; first += 4) {
        size_t count = todo - first < 4 ? todo - first : 4;
        if (vr_reader_submit(r, first, count) != VR_OK ||
            vr_reader_take(r, px, rows, NULL) != VR_OK)
            vf_fail("reader, rows %zu..: %s", first, vr_last_error());
        for (size_t i = 0; i < count; i++)
            if (!rows[i].ok && !rows[i].error[0])
                vf_fail("row %zu failed without a reason", first + i);
    }
    free(px);
    free(rows);
    vr_reader_close(r);
}

/* Paths the reader may open: relative, no "..", so inside the fixtures. */
static int stays_inside(const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && b[e] != '\n')
            e++;
        if (e > i && b[i] == '/')
            return 0;
        for (size_t k = i; k + 1 < e; k++)
            if (b[k] == '.' && b[k + 1] == '.')
                return 0;
        i = e + 1;
    }
    return 1;
}

static void list_mode(const uint8_t *b, size_t n)
{
    vf_write(g_list, b, n);
    vr_input_kind kind;
    (void)vr_input_kind_of(g_list, &kind);
    size_t count;
    uint64_t hash;
    if (vr_listing_scan(g_list, &count, &hash) != VR_OK)
        return;
    stream_back(g_list, g_files, count, hash, 0);
    if (stays_inside(b, n))
        read_rows(g_list, g_files, count);
}

static void tree_mode(const uint8_t *b, size_t n)
{
    static const char *const suffix[] = {"", ".jpg", ".JPEG", ".jpeg"};
    static const char *const target[] = {".", "..", "x.jpg", "missing.jpg", NULL};
    static const uint8_t text[] = "hello\n";
    char *dir = malloc(VR_PATH_MAX * 2), *path = malloc(VR_PATH_MAX * 3);
    char prev[256] = "x.jpg";
    if (!dir || !path)
        vf_fail("out of memory");
    vf_rmtree(g_tree, 1);
    if (mkdir(g_tree, 0700) != 0)
        vf_fail("cannot make %s: %s", g_tree, strerror(errno));
    snprintf(dir, VR_PATH_MAX * 2, "%s", g_tree);
    size_t i = 0, ops = 0;
    int depth = 0;
    while (i < n && ops++ < MAX_OPS) {
        uint8_t op = b[i++];
        int type = op & 3;
        if (type == 3) {
            if (depth > 0) {
                *strrchr(dir, '/') = '\0';
                depth--;
            }
            continue;
        }
        size_t len = ((op >> 2) & 15) + 1;
        char name[256];
        if (len == 16) {
            memset(name, 'L', 200);
            len = 200;
        } else {
            if (i + len > n)
                break;
            for (size_t k = 0; k < len; k++)
                name[k] = b[i + k] == '/' || b[i + k] == 0 ? '_' : (char)b[i + k];
            i += len;
        }
        name[len] = '\0';
        strcat(name, suffix[op >> 6]);
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            strcpy(name, "_");
        if (strlen(dir) + strlen(name) + 2 > VR_PATH_MAX * 2)
            break;
        snprintf(path, VR_PATH_MAX * 3, "%s/%s", dir, name);
        if (type == 1) {
            struct stat sb;
            if (depth < MAX_DEPTH && (mkdir(path, 0700) == 0 ||
                                      (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)))) {
                strcat(dir, "/");
                strcat(dir, name);
                depth++;
            }
        } else if (i < n) {
            uint8_t arg = b[i++];
            if (type == 0) {
                struct stat sb;
                if (lstat(path, &sb) == 0)
                    continue; /* do not write through a symlink or onto a folder */
                switch (arg % 4) {
                case 0: vf_write(path, k_jpeg, sizeof k_jpeg); break;
                case 1: vf_write(path, k_jpeg, 0); break;
                case 2: vf_write(path, k_jpeg, sizeof k_jpeg / 2); break;
                default: vf_write(path, text, sizeof text - 1); break;
                }
            } else {
                const char *t = target[arg % 5] ? target[arg % 5] : prev;
                if (depth == 0 && !strcmp(t, ".."))
                    t = ".";
                if (symlink(t, path) != 0 && errno != EEXIST)
                    vf_fail("symlink %s: %s", path, strerror(errno));
            }
        }
        snprintf(prev, sizeof prev, "%s", name);
    }
    free(dir);
    free(path);

    size_t count;
    uint64_t hash;
    vr_status st = vr_listing_build(g_tree, g_manifest, &count, &hash);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", g_manifest);
    if (access(tmp, F_OK) == 0)
        vf_fail("the walk left its temporary manifest behind");
    if (st == VR_OK) {
        size_t c2;
        uint64_t h2;
        if (vr_listing_scan(g_manifest, &c2, &h2) != VR_OK || c2 != count || h2 != hash)
            vf_fail("the walk's manifest scans differently (%zu paths, %zu scanned)", count,
                    c2);
        stream_back(g_manifest, g_tree, count, hash, 1);
        read_rows(g_manifest, g_tree, count);
    }
    remove(g_manifest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        tree_mode(data + 1, size - 1);
    else
        list_mode(data + 1, size - 1);
    return 0;
}
