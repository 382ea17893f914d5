/* listing.c - directory walks, list files and the manifest between them. */
#include "listing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * FNV_PRIME;
    return h;
}

void vr_dirname(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

const char *vr_file_kind(unsigned mode)
{
    return S_ISDIR(mode)    ? "a folder"
           : S_ISFIFO(mode) ? "a FIFO (named pipe)"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
           : S_ISREG(mode)  ? "a regular file"
                            : "not a regular file";
}

vr_status vr_open_regular(const char *path, const char *expected, FILE **fp)
{
    *fp = NULL;
    /* O_NONBLOCK: opening a FIFO would wait for a writer; the type is known
     * only once it is open (the name may change between a stat and here) */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return vr_fail(VR_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return vr_fail(VR_ERR_INPUT, "%s is %s; expected %s", path, vr_file_kind(sb.st_mode),
                       expected);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || !(*fp = fdopen(fd, "r"))) {
        vr_status st = vr_fail(VR_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return st;
    }
    return VR_OK;
}

#define INPUT_KINDS "a folder of JPEGs, a text file listing image paths (one per line) or an " \
                    "HDF5 image file"

vr_status vr_input_kind_of(const char *path, vr_input_kind *kind)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return vr_fail(VR_ERR_INPUT, "%s: %s (--input takes " INPUT_KINDS ")", path,
                       strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        *kind = VR_INPUT_DIR;
        return VR_OK;
    }
    /* a device or a FIFO never ends (or never starts): /dev/zero read as a
     * list grew without bound */
    FILE *fp;
    vr_status st = vr_open_regular(path, "--input to be " INPUT_KINDS, &fp);
    if (st)
        return st;
    unsigned char sig[12] = {0};
    size_t got = fread(sig, 1, sizeof sig, fp);
    fclose(fp);
    *kind = got >= 8 && !memcmp(sig, "\x89HDF\r\n\x1a\n", 8) ? VR_INPUT_HDF5 : VR_INPUT_LIST;
    vr_image_format f = vr_image_sniff(sig, got);
    if (*kind == VR_INPUT_LIST && (f != VR_IMAGE_UNKNOWN || (got >= 2 && sig[0] == 0xFF &&
                                                           sig[1] == 0xD8)))
        return vr_fail(VR_ERR_INPUT, "%s is a %s image; --input takes a directory of images "
                       "or a text file listing them, one path per line", path,
                       f == VR_IMAGE_PNG ? "PNG" : f == VR_IMAGE_WEBP ? "WebP" : "JPEG");
    return VR_OK;
}

/* The walk takes these names; the format is then read from the bytes
 * (io/image.c), so a PNG named .jpg decodes as a PNG. */
static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") ||
                   !strcasecmp(dot, ".png") || !strcasecmp(dot, ".webp"));
}

typedef struct {
    char *name;
    int dir;
} entry;

/* Directories sort as "name/" so that the walk visits full paths in strcmp
 * order: "a.jpg" ('.' < '/') comes before "a/b.jpg". */
/* Character i of an entry's sort key: its name, plus '/' for a directory. */
static unsigned key_at(const entry *e, size_t i, size_t len)
{
    if (i < len)
        return (unsigned char)e->name[i];
    return i == len && e->dir ? '/' : 0;
}

/* Directories sort as "name/" so that the walk visits full paths in strcmp
 * order: "a.jpg" ('.' < '/') comes before "a/b.jpg". */
static int entry_cmp(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    size_t la = strlen(a->name), lb = strlen(b->name);
    for (size_t i = 0;; i++) {
        unsigned x = key_at(a, i, la), y = key_at(b, i, lb);
        if (x != y)
            return x < y ? -1 : 1;
        if (!x)
            return 0;
    }
}

typedef struct {
    FILE *out;
    size_t n, skipped;
    uint64_t hash;
    char rel[VR_PATH_MAX]; /* path relative to the root being walked */
    char scratch[3 * VR_PATH_MAX]; /* an entry's full path for lstat */
    const char *root;
} walk;

/* Recursive, one level per folder: a frame holds no path buffers (a tree
 * 2000 folders deep, the most VR_PATH_MAX allows, takes a few hundred KB of
 * stack) and its folder is closed before it descends. */
static vr_status walk_dir(walk *w, size_t rel_len)
{
    char *full = malloc(strlen(w->root) + rel_len + 2);
    if (!full)
        return vr_fail(VR_ERR_NOMEM, "out of memory listing %s", w->root);
    sprintf(full, "%s%s%.*s", w->root, rel_len ? "/" : "", (int)rel_len, w->rel);
    DIR *d = opendir(full);
    if (!d) {
        vr_status st0 = VR_OK;
        if (!rel_len)
            st0 = vr_fail(VR_ERR_INPUT, "%s: cannot list the directory: %s", full,
                          strerror(errno));
        else {
            fprintf(stderr, "vitrun: warning: skipping %s: %s\n", full, strerror(errno));
            w->skipped++;
        }
        free(full);
        return st0;
    }
    entry *ents = NULL;
    size_t ne = 0, cap = 0;
    vr_status st = VR_OK;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, ".."))
            continue;
        int dir = 0;
        if (de->d_type == DT_DIR) {
            dir = 1;
        } else if (de->d_type == DT_UNKNOWN) {
            struct stat sb;
            snprintf(w->scratch, sizeof w->scratch, "%s/%s", full, nm);
            dir = lstat(w->scratch, &sb) == 0 && S_ISDIR(sb.st_mode);
        }
        if (!dir && !is_image_name(nm))
            continue;
        if (strchr(nm, '\n')) {
            fprintf(stderr, "vitrun: warning: skipping '%s/%s': a newline in a file name\n",
                    full, nm);
            w->skipped++;
            continue;
        }
        if (ne == cap) {
            cap = cap ? 2 * cap : 256;
            entry *e2 = realloc(ents, cap * sizeof *ents);
            if (!e2) {
                st = vr_fail(VR_ERR_NOMEM, "out of memory listing %s", full);
                break;
            }
            ents = e2;
        }
        if (!(ents[ne].name = strdup(nm))) {
            st = vr_fail(VR_ERR_NOMEM, "out of memory listing %s", full);
            break;
        }
        ents[ne++].dir = dir;
    }
    closedir(d);
    if (!st && ne) /* qsort(NULL, 0, ...) is undefined: an empty folder */
        qsort(ents, ne, sizeof *ents, entry_cmp);
    for (size_t i = 0; !st && i < ne; i++) {
        size_t len = strlen(ents[i].name);
        size_t nl = rel_len + (rel_len ? 1 : 0) + len;
        if (nl >= VR_PATH_MAX) {
            fprintf(stderr, "vitrun: warning: skipping a path longer than %d bytes under %s\n",
                    VR_PATH_MAX, full);
            w->skipped++;
            continue;
        }
        char *p = w->rel + rel_len;
        if (rel_len)
            *p++ = '/';
        memcpy(p, ents[i].name, len + 1);
        if (ents[i].dir) {
            st = walk_dir(w, nl);
        } else {
            if (fprintf(w->out, "%s\n", w->rel) < 0)
                st = vr_fail(VR_ERR_OUTPUT, "cannot write the input manifest: %s",
                             strerror(errno));
            w->hash = fnv(fnv(w->hash, w->rel, nl), "\n", 1);
            w->n++;
        }
        w->rel[rel_len] = '\0';
    }
    for (size_t i = 0; i < ne; i++)
        free(ents[i].name);
    free(ents);
    free(full);
    return st;
}

vr_status vr_listing_build(const char *dir, const char *manifest, size_t *n, uint64_t *hash)
{
    char tmp[VR_PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", manifest);
    walk *w = calloc(1, sizeof *w); /* 16 KB of path buffers: not on the stack */
    if (!w)
        return vr_fail(VR_ERR_NOMEM, "out of memory listing %s", dir);
    w->hash = FNV_OFFSET;
    w->root = dir;
    vr_status st;
    if (!(w->out = fopen(tmp, "w"))) {
        st = vr_fail(VR_ERR_OUTPUT, "%s: cannot create the input manifest: %s (it goes next to "
                     "--output)", tmp, strerror(errno));
        free(w);
        return st;
    }
    st = walk_dir(w, 0);
    if (fclose(w->out) != 0 && !st)
        st = vr_fail(VR_ERR_OUTPUT, "%s: write failed: %s", tmp, strerror(errno));
    if (!st && w->n == 0)
        st = vr_fail(VR_ERR_INPUT, "%s holds no .jpg, .jpeg, .png or .webp files (any "
                     "letter case)", dir);
    if (!st && rename(tmp, manifest) != 0)
        st = vr_fail(VR_ERR_OUTPUT, "cannot rename %s to %s: %s", tmp, manifest,
                     strerror(errno));
    if (st)
        unlink(tmp);
    else {
        *n = w->n;
        *hash = w->hash;
    }
    free(w);
    return st;
}

ssize_t vr_getline_max(char **line, size_t *cap, FILE *fp, size_t max)
{
    size_t len = 0;
    int ch;
    while ((ch = getc(fp)) != EOF) {
        if (len + 2 > *cap) { /* room for ch and the NUL */
            size_t nc = *cap ? 2 * *cap : 256;
            nc = nc < max + 2 ? nc : max + 2;
            char *b = realloc(*line, nc);
            if (!b)
                return -3;
            *line = b;
            *cap = nc;
        }
        (*line)[len++] = (char)ch;
        if (ch == '\n')
            break;
        if (len > max)
            return -2;
    }
    if (!len)
        return -1;
    (*line)[len] = '\0';
    return (ssize_t)len;
}

/* One path from fp into *line (newline and a '\r' before it removed); 1, 0
 * at the end, -1 if not a path (too long: reading stops at VR_PATH_MAX bytes,
 * or a NUL byte), -2 out of memory. Blank lines are skipped; *lineno counts
 * every line read. */
static int read_path(FILE *fp, char **line, size_t *cap, size_t *len, size_t *lineno)
{
    for (;;) {
        ssize_t r = vr_getline_max(line, cap, fp, VR_PATH_MAX);
        if (r < -2)
            return -2;
        if (r != -1)
            ++*lineno;
        if (r == -2)
            return -1;
        if (r < 0)
            return 0;
        size_t l = (size_t)r;
        while (l && ((*line)[l - 1] == '\n' || (*line)[l - 1] == '\r'))
            l--;
        (*line)[l] = '\0';
        if (!l)
            continue;
        if (l >= VR_PATH_MAX || strlen(*line) != l)
            return -1;
        *len = l;
        return 1;
    }
}

#define LIST_FILE "a text file listing image paths, one per line"

vr_status vr_listing_scan(const char *file, size_t *n, uint64_t *hash)
{
    FILE *fp;
    vr_status st = vr_open_regular(file, LIST_FILE, &fp);
    if (st)
        return st;
    char *line = NULL;
    size_t cap = 0, len, count = 0, lineno = 0;
    uint64_t h = FNV_OFFSET;
    int r;
    while ((r = read_path(fp, &line, &cap, &len, &lineno)) > 0) {
        h = fnv(fnv(h, line, len), "\n", 1);
        count++;
    }
    free(line);
    int err = ferror(fp);
    fclose(fp);
    if (r == -2)
        return vr_fail(VR_ERR_NOMEM, "%s: out of memory at line %zu", file, lineno);
    if (r < 0)
        return vr_fail(VR_ERR_INPUT, "%s: line %zu is not a path (longer than %d bytes or holds "
                       "a NUL byte); the file should list one image path per line", file,
                       lineno, VR_PATH_MAX - 1);
    if (err)
        return vr_fail(VR_ERR_INPUT, "%s: read error", file);
    if (!count)
        return vr_fail(VR_ERR_INPUT, "%s lists no images (expected one path per line)", file);
    *n = count;
    *hash = h;
    return VR_OK;
}

vr_status vr_listing_open(vr_listing *l, const char *file, const char *base)
{
    memset(l, 0, sizeof *l);
    snprintf(l->file, sizeof l->file, "%s", file);
    snprintf(l->base, sizeof l->base, "%s", base);
    return vr_open_regular(file, LIST_FILE, &l->fp);
}

vr_status vr_listing_get(vr_listing *l, size_t index, char *name, char *full)
{
    size_t len = 0;
    if (index < l->next)
        return vr_fail(VR_ERR_INTERNAL, "%s: listing read backwards (%zu after %zu)", l->file,
                       index, l->next);
    while (l->next <= index) {
        int r = read_path(l->fp, &l->line, &l->cap, &len, &l->lineno);
        if (r <= 0)
            return vr_fail(VR_ERR_INPUT, "%s: has fewer paths than when the run started (no "
                           "path %zu); was it changed during the run?", l->file, index + 1);
        l->next++;
    }
    memcpy(name, l->line, len + 1);
    if (l->line[0] == '/' || !l->base[0])
        memcpy(full, l->line, len + 1);
    else
        snprintf(full, 2 * VR_PATH_MAX, "%s/%s", l->base, l->line);
    return VR_OK;
}

void vr_listing_close(vr_listing *l)
{
    if (l->fp)
        fclose(l->fp);
    free(l->line);
    memset(l, 0, sizeof *l);
}
