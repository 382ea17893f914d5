/* shardlist.c - --input as a list of tar shards: a pattern, a folder, a tar
 * file or a list file (shardlist.h). */
#include "shardlist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "listing.h"

#define SUFFIXES ".tar, .tar.gz, .tgz, .tar.bz2, .tar.xz or .tar.zst"
#define ARENA_MAX ((size_t)1 << 30) /* bytes of listed paths */
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static const char *const k_suffix[] = {".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz",
                                       ".tar.zst"};

size_t vr_tar_suffix_len(const char *name)
{
    size_t n = strlen(name);
    for (size_t k = 0; k < sizeof k_suffix / sizeof *k_suffix; k++) {
        size_t l = strlen(k_suffix[k]);
        if (n >= l && !strcasecmp(name + n - l, k_suffix[k]))
            return l;
    }
    return 0;
}

static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") ||
                   !strcasecmp(dot, ".png") || !strcasecmp(dot, ".webp"));
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * FNV_PRIME;
    return h;
}

/* The stem of a shard path: its file name without the tar suffix. */
static const char *stem_of(const char *path, size_t *len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t sl = vr_tar_suffix_len(base);
    *len = strlen(base) - sl;
    return base;
}

/* A regular file (or a link to one) in folder `dir`: DT_UNKNOWN and links
 * are asked with stat. */
static int is_file_in(const char *dir, const struct dirent *de)
{
    if (de->d_type == DT_REG)
        return 1;
    if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
        return 0;
    char p[2 * VR_PATH_MAX];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static vr_status both_kinds(const char *dir, const char *tar, const char *image)
{
    return vr_fail(VR_ERR_INPUT, "%s holds both tar shards (%s) and images (%s); --input takes "
                   "either: move one kind to its own folder, or name the shards with a "
                   "pattern or a list file", dir, tar, image);
}

static int folder_kind(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* the image path reports it */
    char tar[256] = "", image[256] = "";
    struct dirent *de;
    while ((de = readdir(d)) && !(tar[0] && image[0])) {
        if (!tar[0] && vr_tar_suffix_len(de->d_name) && is_file_in(dir, de))
            snprintf(tar, sizeof tar, "%s", de->d_name);
        else if (!image[0] && is_image_name(de->d_name))
            snprintf(image, sizeof image, "%s", de->d_name);
    }
    closedir(d);
    if (tar[0] && image[0]) {
        both_kinds(dir, tar, image);
        return -1;
    }
    return tar[0] ? 1 : 0;
}

/* One path from fp, '\r' and '\n' removed: its length, 0 at the end, -1
 * longer than VR_PATH_MAX - 1 or with a NUL, -2 out of memory. Blank lines
 * are skipped; *lineno counts every line. */
static ssize_t next_line(FILE *fp, char **line, size_t *cap, size_t *lineno)
{
    for (;;) {
        ssize_t r = vr_getline_max(line, cap, fp, VR_PATH_MAX);
        if (r == -1)
            return 0;
        if (r == -3)
            return -2;
        ++*lineno;
        if (r == -2)
            return -1;
        size_t l = (size_t)r;
        while (l && ((*line)[l - 1] == '\n' || (*line)[l - 1] == '\r'))
            l--;
        (*line)[l] = '\0';
        if (!l)
            continue;
        return l >= VR_PATH_MAX || strlen(*line) != l ? -1 : (ssize_t)l;
    }
}

int vr_shardlist_is_shards(const char *input)
{
    struct stat sb;
    if (stat(input, &sb) != 0)
        return vr_braces_any(input) || vr_tar_suffix_len(input) ? 1 : 0;
    if (S_ISDIR(sb.st_mode))
        return folder_kind(input);
    if (vr_tar_suffix_len(input))
        return 1;
    if (!S_ISREG(sb.st_mode))
        return 0;
    FILE *fp;
    if (vr_open_regular(input, "a file", &fp) != VR_OK)
        return 0;
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t r = next_line(fp, &line, &cap, &lineno);
    int tar = r > 0 && vr_tar_suffix_len(line);
    free(line);
    fclose(fp);
    return tar;
}

/* Appends dir/name (or name alone, when dir is NULL or name is absolute). */
static vr_status add_path(vr_shardlist *l, size_t *cap, size_t *used, const char *dir,
                          const char *name, const char *input)
{
    int join = dir && name[0] != '/';
    size_t dl = join ? strlen(dir) : 0, nl = strlen(name);
    int slash = join && dl && dir[dl - 1] != '/';
    size_t len = dl + (size_t)slash + nl;
    if (len >= VR_PATH_MAX)
        return vr_fail(VR_ERR_INPUT, "%s: shard path %s%s%s is longer than %d bytes", input,
                       join ? dir : "", slash ? "/" : "", name, VR_PATH_MAX - 1);
    if (l->n >= VR_SHARDLIST_MAX || *used + len + 1 > ARENA_MAX)
        return vr_fail(VR_ERR_INPUT, "%s: more than %zu shards, or over %zu MiB of shard "
                       "paths; split the run", input, VR_SHARDLIST_MAX, ARENA_MAX >> 20);
    if (l->n % 1024 == 0) {
        size_t *o = realloc(l->off, (l->n + 1024) * sizeof *o);
        if (!o)
            return vr_fail(VR_ERR_NOMEM, "%s: out of memory listing shards", input);
        l->off = o;
    }
    if (*used + len + 1 > *cap) {
        size_t nc = *cap ? 2 * *cap : 64 << 10;
        while (nc < *used + len + 1)
            nc *= 2;
        char *a = realloc(l->arena, nc);
        if (!a)
            return vr_fail(VR_ERR_NOMEM, "%s: out of memory listing shards", input);
        l->arena = a;
        *cap = nc;
    }
    l->off[l->n++] = *used;
    snprintf(l->arena + *used, len + 1, "%s%s%s", join ? dir : "", slash ? "/" : "", name);
    *used += len + 1;
    return VR_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static vr_status from_folder(vr_shardlist *l, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return vr_fail(VR_ERR_INPUT, "%s: cannot list the folder: %s", dir, strerror(errno));
    char **names = NULL, image[256] = "";
    size_t n = 0, ncap = 0, cap = 0, used = 0;
    vr_status st = VR_OK;
    struct dirent *de;
    while (!st && (de = readdir(d))) {
        if (!image[0] && is_image_name(de->d_name))
            snprintf(image, sizeof image, "%s", de->d_name);
        if (!vr_tar_suffix_len(de->d_name) || !is_file_in(dir, de))
            continue;
        if (n == ncap) {
            ncap = ncap ? 2 * ncap : 256;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn) {
                st = vr_fail(VR_ERR_NOMEM, "%s: out of memory listing shards", dir);
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name)))
            st = vr_fail(VR_ERR_NOMEM, "%s: out of memory listing shards", dir);
        else
            n++;
    }
    closedir(d);
    if (!st && n && image[0]) /* a caller that took -1 from is_shards for yes */
        st = both_kinds(dir, names[0], image);
    if (!st && n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; !st && i < n; i++)
        st = add_path(l, &cap, &used, dir, names[i], dir);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!st && !l->n)
        st = vr_fail(VR_ERR_INPUT, "%s holds no tar shards (%s) directly in it (sub-folders "
                     "are not searched)", dir, SUFFIXES);
    return st;
}

static vr_status from_list(vr_shardlist *l, const char *file)
{
    FILE *fp;
    vr_status st = vr_open_regular(file, "a list of tar shards, one per line", &fp);
    if (st)
        return st;
    char base[VR_PATH_MAX], *line = NULL;
    vr_dirname(file, base, sizeof base);
    size_t lcap = 0, lineno = 0, cap = 0, used = 0;
    ssize_t r;
    while (!st && (r = next_line(fp, &line, &lcap, &lineno)) > 0) {
        if (!vr_tar_suffix_len(line))
            st = vr_fail(VR_ERR_INPUT, "%s line %zu: '%.200s' is not a tar shard (%s); a list "
                         "holds either shards or images, not both", file, lineno, line,
                         SUFFIXES);
        else
            st = add_path(l, &cap, &used, base, line, file);
    }
    free(line);
    int err = ferror(fp);
    fclose(fp);
    if (st)
        return st;
    if (r == -2)
        return vr_fail(VR_ERR_NOMEM, "%s: out of memory at line %zu", file, lineno);
    if (r < 0)
        return vr_fail(VR_ERR_INPUT, "%s line %zu is not a path (longer than %d bytes or holds "
                       "a NUL byte); a shard list has one tar path per line", file, lineno,
                       VR_PATH_MAX - 1);
    if (err)
        return vr_fail(VR_ERR_INPUT, "%s: read error", file);
    if (!l->n)
        return vr_fail(VR_ERR_INPUT, "%s lists no shards (expected one tar path per line)",
                       file);
    return VR_OK;
}

vr_status vr_shardlist_get(const vr_shardlist *l, size_t i, char *path, char *stem)
{
    if (i >= l->n)
        return vr_fail(VR_ERR_INTERNAL, "shard %zu of %zu", i, l->n);
    if (l->pattern) {
        vr_status st = vr_braces_get(l->pattern, i, path, VR_PATH_MAX);
        if (st)
            return st;
    } else {
        snprintf(path, VR_PATH_MAX, "%s", l->arena + l->off[i]);
    }
    if (stem) {
        size_t sl;
        const char *s = stem_of(path, &sl);
        snprintf(stem, VR_PATH_MAX, "%.*s", (int)sl, s);
    }
    return VR_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Two shards with stem hash h and equal stems: an error naming both. Each
 * is compared with the first of that hash: missing a pair behind a 64-bit
 * collision is not worth a quadratic scan. */
static vr_status same_stem(const vr_shardlist *l, uint64_t h, const char *input, char *a,
                           char *b)
{
    int have = 0;
    for (size_t i = 0; i < l->n; i++) {
        char *p = have ? b : a;
        size_t sl, al;
        if (vr_shardlist_get(l, i, p, NULL) != VR_OK)
            return VR_ERR_INPUT;
        const char *s = stem_of(p, &sl);
        if (fnv(FNV_OFFSET, s, sl) != h)
            continue;
        if (!have) {
            have = 1;
            continue;
        }
        const char *as = stem_of(a, &al);
        if (al == sl && !memcmp(as, s, sl))
            return vr_fail(VR_ERR_INPUT, "%s: shards %s and %s have the same name '%.*s' "
                           "(outputs are named by it); rename one", input, a, p, (int)sl, s);
    }
    return VR_OK;
}

/* Every shard a tar name that fits, a stem of its own; the hash. */
static vr_status check(vr_shardlist *l, const char *input)
{
    char *p = malloc(VR_PATH_MAX), *q = malloc(VR_PATH_MAX);
    uint64_t *h = malloc((l->n ? l->n : 1) * sizeof *h); /* n <= VR_SHARDLIST_MAX */
    vr_status st = VR_OK;
    if (!p || !q || !h)
        st = vr_fail(VR_ERR_NOMEM, "%s: out of memory checking %zu shards", input, l->n);
    l->hash = FNV_OFFSET;
    for (size_t i = 0; !st && i < l->n; i++) {
        if ((st = vr_shardlist_get(l, i, p, NULL)))
            break;
        size_t sl;
        const char *s = stem_of(p, &sl);
        if (!vr_tar_suffix_len(s))
            st = vr_fail(VR_ERR_INPUT, "shard pattern '%s' makes '%s', which is not a tar "
                         "shard (%s)", input, p, SUFFIXES);
        else if (!sl)
            st = vr_fail(VR_ERR_INPUT, "%s: shard %s has no name before its suffix", input, p);
        l->hash = fnv(fnv(l->hash, p, strlen(p)), "\n", 1);
        h[i] = fnv(FNV_OFFSET, s, sl);
    }
    if (!st && l->n > 1) {
        qsort(h, l->n, sizeof *h, cmp_u64);
        for (size_t i = 1; !st && i < l->n; i++)
            if (h[i] == h[i - 1] && (i < 2 || h[i - 2] != h[i]))
                st = same_stem(l, h[i], input, p, q);
    }
    free(p);
    free(q);
    free(h);
    return st;
}

vr_status vr_shardlist_build(vr_shardlist *l, const char *input)
{
    memset(l, 0, sizeof *l);
    struct stat sb;
    vr_status st;
    size_t cap = 0, used = 0;
    if (stat(input, &sb) != 0) {
        if (!vr_braces_any(input))
            return vr_fail(VR_ERR_INPUT, "%s: %s (--input takes a shard pattern such as "
                           "'data/{00000..00099}.tar', a folder of tar shards, a tar file or "
                           "a list of shards)", input, strerror(errno));
        st = vr_braces_parse(&l->pattern, input, VR_SHARDLIST_MAX);
        if (!st)
            l->n = vr_braces_count(l->pattern);
    } else if (S_ISDIR(sb.st_mode)) {
        st = from_folder(l, input);
    } else if (vr_tar_suffix_len(input)) {
        st = add_path(l, &cap, &used, NULL, input, input);
    } else {
        st = from_list(l, input);
    }
    if (!st)
        st = check(l, input);
    if (st)
        vr_shardlist_free(l);
    return st;
}

void vr_shardlist_free(vr_shardlist *l)
{
    vr_braces_free(l->pattern);
    free(l->arena);
    free(l->off);
    memset(l, 0, sizeof *l);
}
