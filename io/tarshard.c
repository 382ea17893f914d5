/* tarshard.c - a webdataset tar shard read as samples, with libarchive
 * (the rules are in tarshard.h). */
#include "tarshard.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "listing.h"
#include "wds_names.h"

#define IO_BLOCK ((size_t)64 << 10)
#define CLS_MAX 64 /* bytes of a .cls member we read */
#define FOUND_LEN 96 /* the extensions listed for a sample without an image */

enum { READING, ENDED, BROKEN };

typedef struct {
    uint64_t hash;
    uint64_t pos; /* byte of the header; in the key set pos + 1, 0 marking a free slot */
} vr_seen;

struct vr_tarshard {
    struct archive *a;
    int fd;                   /* the shard file, or -1 for bytes in memory */
    const uint8_t *mem;       /* (mem_len) bytes in memory, mem_at of them delivered */
    size_t mem_len, mem_at;
    uint8_t *io;              /* (IO_BLOCK) what the file read callback hands libarchive */
    int io_errno;             /* a read of the file failed with this */
    char *name;               /* the shard, for messages */
    size_t max_member;
    char keys[VR_TARSHARD_MAX_IMAGE_KEYS][VR_TARSHARD_EXT_LEN]; /* lower case */
    size_t nkeys;
    uint8_t *buf;             /* (cap) the image member; cap <= max_member */
    size_t cap;
    /* the member read ahead, not yet taken into a sample */
    int have;
    char *path;               /* its member path */
    size_t path_cap, key_len; /* its key is path[0, key_len), its extension after the dot */
    uint64_t pos;             /* byte of its header */
    int64_t size;
    char *key;                /* the current sample's key */
    size_t key_cap;
    vr_seen *ext;             /* (VR_TARSHARD_MAX_MEMBERS) the current sample's extensions */
    size_t next;
    int found_cut;            /* the current sample's "found:" list is full */
    vr_seen *seen;            /* (seen_cap, a power of two) keys seen: open addressing */
    size_t nseen, seen_cap;
    char *last;               /* the last member read whole, for messages */
    size_t last_cap;
    int state;
    char err[512];            /* BROKEN: where, short (cut to VR_ERROR_LEN - 1 in a sample) */
    char err_long[1536];      /* BROKEN: where and why, for vr_last_error() */
};

static uint64_t hash_bytes(const char *s, size_t n, int lower)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (lower && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 0x100000001b3ULL;
    }
    /* FNV's low bits are weak for a power-of-two table: mix (splitmix64) */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static int set_str(char **b, size_t *cap, const char *s, size_t n)
{
    if (n + 1 > *cap) {
        size_t nc = n + 1 < 256 ? 256 : n + 1;
        char *p = realloc(*b, nc);
        if (!p)
            return -1;
        *b = p;
        *cap = nc;
    }
    memcpy(*b, s, n);
    (*b)[n] = '\0';
    return 0;
}

static void broke(vr_tarshard *t, long long at, const char *where, const char *member)
{
    const char *why = archive_error_string(t->a);
    if (!why) /* libarchive 3.6 says nothing when a pax header is cut short */
        why = "libarchive gives no reason; the file may be cut short";
    t->state = BROKEN;
    snprintf(t->err, sizeof t->err, "tar broken at byte %lld %s '%.32s': %s", at, where,
             member, why);
    snprintf(t->err_long, sizeof t->err_long,
             "%s: the tar breaks at byte %lld (of the uncompressed tar) %s '%.1024s': %s; the "
             "samples before it were read, the rest of the shard is lost; re-create or "
             "re-download the shard", t->name, at, where, member, why);
}

/* Reads headers up to the next member that belongs to a sample. 1: it is
 * in t->path; 0: the end of the tar; -1: the tar broke (t->state). */
static int advance(vr_tarshard *t)
{
    for (;;) {
        struct archive_entry *e;
        long long at = (long long)archive_filter_bytes(t->a, 0); /* where the header starts */
        int r = archive_read_next_header(t->a, &e);
        const char *after = t->last && t->last[0] ? t->last : "(none: the first header)";
        if (r == ARCHIVE_EOF) {
            if (archive_format(t->a) == ARCHIVE_FORMAT_EMPTY) {
                t->state = BROKEN;
                snprintf(t->err, sizeof t->err, "empty file: not a tar archive");
                snprintf(t->err_long, sizeof t->err_long, "%s is empty (0 bytes%s): a tar holds "
                         "at least its end-of-archive blocks; was the shard written completely?",
                         t->name, archive_filter_count(t->a) > 1 ? " after decompression" : "");
                return -1;
            }
            /* libarchive also ends at a block boundary with no end blocks,
             * as a shard cut between two members is */
            if (archive_filter_bytes(t->a, 0) == archive_read_header_position(t->a)) {
                archive_set_error(t->a, EINVAL,
                                  "no end-of-archive blocks: the file is truncated");
                broke(t, at, "at its end, after member", after);
                return -1;
            }
            return 0;
        }
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) { /* RETRY (a bad checksum), FATAL */
            broke(t, at, "reading the header after member", after);
            return -1;
        }
        const char *p = archive_entry_pathname(e);
        if (!p)
            p = archive_entry_pathname_utf8(e);
        size_t n = p ? strlen(p) : 0;
        if (set_str(&t->path, &t->path_cap, p ? p : "", n) != 0) {
            archive_set_error(t->a, ENOMEM, "out of memory for a %zu-byte member path", n);
            broke(t, at, "reading the header after member", after);
            return -1;
        }
        t->pos = (uint64_t)archive_read_header_position(t->a);
        t->size = archive_entry_size(e);
        if (p && archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e) &&
            !vr_wds_is_meta(p, n) && vr_wds_split(p, n, &t->key_len) && t->size >= 0)
            return 1;
        if (archive_read_data_skip(t->a) != ARCHIVE_OK) {
            broke(t, (long long)archive_filter_bytes(t->a, 0), "inside member", t->path);
            return -1;
        }
        set_str(&t->last, &t->last_cap, t->path, n);
    }
}

static void bad(vr_tarshard_sample *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bad(vr_tarshard_sample *s, const char *fmt, ...)
{
    if (!s->ok)
        return; /* the first reason stands */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    s->ok = 0;
}

static int read_exact(vr_tarshard *t, uint8_t *dst, size_t n)
{
    size_t got = 0;
    while (got < n) {
        la_ssize_t r = archive_read_data(t->a, dst + got, n - got);
        if (r < 0)
            return -1;
        if (r == 0) {
            archive_set_error(t->a, EINVAL, "data ends after %zu of %zu bytes",
                              got, n);
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

static int is_image_key(const vr_tarshard *t, const char *ext, size_t n)
{
    for (size_t k = 0; k < t->nkeys; k++)
        if (strlen(t->keys[k]) == n && !strncasecmp(t->keys[k], ext, n))
            return 1;
    return 0;
}

/* Takes the read-ahead member into sample s: the image or the label is
 * read, anything else skipped. 0, or -1 when the tar breaks inside it. */
static int take_member(vr_tarshard *t, vr_tarshard_sample *s, int *got_image, char *found)
{
    const char *ext = t->path + t->key_len + 1;
    size_t elen = strlen(ext);
    s->members++;
    if (s->members > VR_TARSHARD_MAX_MEMBERS) {
        bad(s, "over %d members with this key", VR_TARSHARD_MAX_MEMBERS);
    } else {
        uint64_t h = hash_bytes(ext, elen, 1);
        for (size_t i = 0; i < t->next; i++)
            if (t->ext[i].hash == h) {
                char low[41];
                snprintf(low, sizeof low, "%s", ext);
                vr_wds_lower(low);
                bad(s, "duplicate member .%s; first at byte %llu", low,
                    (unsigned long long)t->ext[i].pos);
                break;
            }
        t->ext[t->next++] = (vr_seen){h, t->pos};
        /* the extensions for "no image member; found: ...", cut to fit */
        size_t fl = strlen(found), add = (fl ? 2 : 0) + elen;
        if (t->found_cut) {
        } else if (fl + add < FOUND_LEN - 6) {
            snprintf(found + fl, FOUND_LEN - fl, "%s%s", fl ? ", " : "", ext);
            vr_wds_lower(found + fl);
        } else {
            strcat(found, fl ? ", ..." : "...");
            t->found_cut = 1;
        }
    }
    int is_cls = elen == 3 && !strncasecmp(ext, "cls", 3);
    if (!*got_image && is_image_key(t, ext, elen)) {
        *got_image = 1;
        uint64_t size = (uint64_t)t->size;
        snprintf(s->image_ext, sizeof s->image_ext, "%s", ext);
        vr_wds_lower(s->image_ext);
        if (size > t->max_member) {
            bad(s, "image member of %llu bytes is over the limit of %zu (--max-file-mb)",
                (unsigned long long)size, t->max_member);
        } else if (size == 0) {
            bad(s, "image member .%s is empty (0 bytes)", s->image_ext);
        } else if (s->ok) {
            if (size > t->cap) { /* grows to the largest image, bounded by max_member */
                uint8_t *b = realloc(t->buf, (size_t)size);
                if (!b) {
                    archive_set_error(t->a, ENOMEM, "out of memory for a %llu-byte image",
                                      (unsigned long long)size);
                    return -1;
                }
                t->buf = b;
                t->cap = (size_t)size;
            }
            if (read_exact(t, t->buf, (size_t)size) != 0)
                return -1;
            s->image = t->buf;
            s->image_len = (size_t)size;
        }
    } else if (is_cls && t->size <= CLS_MAX && !s->has_cls && !s->cls_bad) {
        char b[CLS_MAX];
        if (read_exact(t, (uint8_t *)b, (size_t)t->size) != 0)
            return -1;
        s->has_cls = vr_wds_parse_cls(b, (size_t)t->size, &s->cls);
        s->cls_bad = !s->has_cls;
    } else if (is_cls && !s->has_cls) {
        s->cls_bad = 1;
    }
    /* the rest unread, or the padding after what was read: a cut there is
     * a cut inside this member, not at the next header */
    return archive_read_data_skip(t->a) == ARCHIVE_OK ? 0 : -1;
}

/* The key set: 0 when `h` is new (and is remembered), else 1 with the byte
 * of its first sample. */
static int seen_before(vr_tarshard *t, uint64_t h, uint64_t pos, uint64_t *first)
{
    if (t->nseen >= VR_TARSHARD_MAX_KEYS)
        return 0;
    if (2 * (t->nseen + 1) > t->seen_cap) { /* load <= 1/2 */
        size_t nc = t->seen_cap ? 2 * t->seen_cap : 1024;
        vr_seen *ns = calloc(nc, sizeof *ns);
        if (!ns)
            return 0; /* the check is a courtesy: without memory, skip it */
        for (size_t i = 0; i < t->seen_cap; i++)
            if (t->seen[i].pos) {
                size_t j = t->seen[i].hash & (nc - 1);
                while (ns[j].pos)
                    j = (j + 1) & (nc - 1);
                ns[j] = t->seen[i];
            }
        free(t->seen);
        t->seen = ns;
        t->seen_cap = nc;
    }
    size_t j = h & (t->seen_cap - 1);
    for (; t->seen[j].pos; j = (j + 1) & (t->seen_cap - 1))
        if (t->seen[j].hash == h) {
            *first = t->seen[j].pos - 1;
            return 1;
        }
    t->seen[j] = (vr_seen){h, pos + 1};
    t->nseen++;
    return 0;
}

static int report_broken(vr_tarshard *t, vr_tarshard_sample *s)
{
    snprintf(s->error, sizeof s->error, "%.*s", VR_ERROR_LEN - 1, t->err);
    s->ok = 0;
    vr_fail(VR_ERR_INPUT, "%s", t->err_long);
    return -1;
}

int vr_tarshard_next(vr_tarshard *t, vr_tarshard_sample *s)
{
    s->key[0] = '\0';
    s->ok = 1;
    s->error[0] = '\0';
    s->image = NULL;
    s->image_len = 0;
    s->image_ext[0] = '\0';
    s->has_cls = s->cls_bad = 0;
    s->cls = 0;
    s->members = 0;
    s->offset = 0;
    if (t->state == ENDED)
        return 0;
    if (t->state == BROKEN)
        return report_broken(t, s);
    if (!t->have) {
        int r = advance(t);
        if (r <= 0) {
            if (r == 0)
                t->state = ENDED;
            return r == 0 ? 0 : report_broken(t, s);
        }
    }
    t->have = 0;
    size_t klen = t->key_len;
    if (set_str(&t->key, &t->key_cap, t->path, klen) != 0) {
        archive_set_error(t->a, ENOMEM, "out of memory for a %zu-byte key", klen);
        broke(t, (long long)t->pos, "at member", t->path);
        return report_broken(t, s);
    }
    s->offset = t->pos;
    snprintf(s->key, sizeof s->key, "%.*s", (int)(klen < VR_NAME_LEN ? klen : VR_NAME_LEN - 1),
             t->key);
    if (klen >= VR_NAME_LEN)
        bad(s, "key of %zu bytes; at most %d are kept", klen, VR_NAME_LEN - 1);
    uint64_t first;
    if (seen_before(t, hash_bytes(t->key, klen, 0), t->pos, &first))
        bad(s, "duplicate key; first at byte %llu", (unsigned long long)first);
    char found[FOUND_LEN] = "";
    int got_image = 0;
    t->next = 0;
    t->found_cut = 0;
    for (;;) {
        if (take_member(t, s, &got_image, found) != 0) {
            broke(t, (long long)archive_filter_bytes(t->a, 0), "inside member", t->path);
            s->image = NULL;
            s->image_len = 0;
            s->ok = 1; /* this reason replaces any other */
            bad(s, "the tar breaks inside member .%.40s", t->path + klen + 1);
            return 1;
        }
        set_str(&t->last, &t->last_cap, t->path, strlen(t->path));
        int r = advance(t);
        if (r <= 0) {
            if (r == 0)
                t->state = ENDED;
            break; /* broken: this sample as far as it was read, then -1 */
        }
        if (t->key_len != klen || memcmp(t->path, t->key, klen)) {
            t->have = 1;
            break;
        }
    }
    if (!got_image)
        bad(s, "no image member; found: %s", found);
    return 1;
}

static la_ssize_t fd_read(struct archive *a, void *p, const void **buf)
{
    vr_tarshard *t = p;
    for (;;) {
        ssize_t n = read(t->fd, t->io, IO_BLOCK);
        if (n >= 0) {
            *buf = t->io;
            return n;
        }
        if (errno != EINTR) {
            t->io_errno = errno;
            archive_set_error(a, errno, "read error: %s", strerror(errno));
            return -1;
        }
    }
}

/* No skip callback, for files and memory alike: a skip past the end of a
 * truncated file would succeed (lseek) and read as a clean end. */
static la_ssize_t mem_read(struct archive *a, void *p, const void **buf)
{
    vr_tarshard *t = p;
    size_t n = t->mem_len - t->mem_at < IO_BLOCK ? t->mem_len - t->mem_at : IO_BLOCK;
    *buf = t->mem + t->mem_at;
    t->mem_at += n;
    return (la_ssize_t)n;
}

static vr_status make(vr_tarshard **out, const char *name, const vr_tarshard_options *o)
{
    *out = NULL;
    vr_tarshard *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(name)) ||
        !(t->ext = malloc(VR_TARSHARD_MAX_MEMBERS * sizeof *t->ext))) {
        if (t)
            free(t->name);
        free(t);
        return vr_fail(VR_ERR_NOMEM, "%s: out of memory opening the shard", name);
    }
    t->fd = -1;
    *out = t;
    t->max_member = o && o->max_member_bytes ? o->max_member_bytes : VR_TARSHARD_DEFAULT_MAX;
    const char *k = o && o->image_keys ? o->image_keys : VR_TARSHARD_IMAGE_KEYS;
    while (*k) {
        size_t n = strcspn(k, ";");
        if (n) {
            if (n >= VR_TARSHARD_EXT_LEN || t->nkeys == VR_TARSHARD_MAX_IMAGE_KEYS)
                return vr_fail(VR_ERR_USAGE, "image keys '%s': at most %d keys of at most %d "
                               "bytes each, ';'-separated (like jpg;png)",
                               o->image_keys, VR_TARSHARD_MAX_IMAGE_KEYS,
                               VR_TARSHARD_EXT_LEN - 1);
            snprintf(t->keys[t->nkeys++], VR_TARSHARD_EXT_LEN, "%.*s", (int)n, k);
        }
        k += n + (k[n] == ';');
    }
    if (!t->nkeys)
        return vr_fail(VR_ERR_USAGE, "image keys '%s' name no extension; expected e.g. %s",
                       o->image_keys, VR_TARSHARD_IMAGE_KEYS);
    if (!(t->a = archive_read_new()))
        return vr_fail(VR_ERR_NOMEM, "%s: out of memory opening the shard", name);
    /* in-process decompressors only; "empty" tells a 0-byte file apart */
    archive_read_support_filter_gzip(t->a);
    archive_read_support_filter_bzip2(t->a);
    archive_read_support_filter_xz(t->a);
    archive_read_support_filter_zstd(t->a);
    archive_read_support_format_tar(t->a);
    archive_read_support_format_empty(t->a);
    return VR_OK;
}

/* The compression a stream starts with, by its magic bytes (6 read); NULL:
 * none of the four enabled. */
static const char *compression_of(const unsigned char *m)
{
    static const struct {
        const char *name;
        unsigned char magic[6];
        size_t n;
    } k[] = {{"gzip", {0x1f, 0x8b}, 2},
             {"bzip2", {'B', 'Z', 'h'}, 3},
             {"xz", {0xfd, '7', 'z', 'X', 'Z', 0}, 6},
             {"zstd", {0x28, 0xb5, 0x2f, 0xfd}, 4}};
    for (size_t i = 0; i < sizeof k / sizeof *k; i++)
        if (!memcmp(m, k[i].magic, k[i].n))
            return k[i].name;
    return NULL;
}

/* libarchive reads the first blocks at open to choose the format: an I/O
 * error there is the caller's to retry; a format it does not know is a
 * broken shard, told by the first vr_tarshard_next. */
static vr_status start(vr_tarshard *t, archive_read_callback *cb)
{
    if (archive_read_open(t->a, t, NULL, cb, NULL) == ARCHIVE_OK)
        return VR_OK;
    if (t->io_errno)
        return vr_fail(VR_TARSHARD_ERR_IO, "%s: cannot read: %s", t->name,
                       strerror(t->io_errno));
    const char *why = archive_error_string(t->a);
    why = why ? why : "no reason given";
    t->state = BROKEN;
    /* libarchive drops its filters when the open fails: the magic says
     * whether the stream was compressed (and broke before a header) */
    unsigned char m[6] = {0};
    if (t->fd >= 0) {
        if (pread(t->fd, m, sizeof m, 0) < 0)
            m[0] = 0;
    } else {
        memcpy(m, t->mem, t->mem_len < sizeof m ? t->mem_len : sizeof m);
    }
    const char *f = compression_of(m);
    if (f) {
        snprintf(t->err, sizeof t->err, "%s data broken before the first header: %.60s", f,
                 why);
        snprintf(t->err_long, sizeof t->err_long, "%s: the %s stream breaks before the tar's "
                 "first header (libarchive: %s); re-create or re-download the shard",
                 t->name, f, why);
    } else {
        snprintf(t->err, sizeof t->err, "not a tar archive: %.80s", why);
        snprintf(t->err_long, sizeof t->err_long, "%s is not a tar archive (libarchive: %s); "
                 "a webdataset shard is a tar, plain or compressed with gzip, bzip2, xz or "
                 "zstd", t->name, why);
    }
    return VR_OK;
}

vr_status vr_tarshard_open(vr_tarshard **out, const char *path, const vr_tarshard_options *o)
{
    vr_status st = make(out, path, o);
    vr_tarshard *t = *out;
    if (st)
        goto fail;
    /* O_NONBLOCK: a FIFO would wait for a writer before its type is known */
    t->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        st = vr_fail(VR_TARSHARD_ERR_IO, "%s: cannot open the shard: %s", path,
                     strerror(errno));
        goto fail;
    }
    struct stat sb;
    if (fstat(t->fd, &sb) != 0) {
        st = vr_fail(VR_TARSHARD_ERR_IO, "%s: cannot stat the shard: %s", path,
                     strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = vr_fail(VR_ERR_INPUT, "%s is %s; expected a tar shard file", path,
                     vr_file_kind(sb.st_mode));
        goto fail;
    }
    int fl = fcntl(t->fd, F_GETFL);
    if (fl < 0 || fcntl(t->fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        st = vr_fail(VR_TARSHARD_ERR_IO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!(t->io = malloc(IO_BLOCK))) {
        st = vr_fail(VR_ERR_NOMEM, "%s: out of memory opening the shard", path);
        goto fail;
    }
    if (!(st = start(t, fd_read)))
        return VR_OK;
fail:
    vr_tarshard_close(t);
    *out = NULL;
    return st;
}

vr_status vr_tarshard_open_memory(vr_tarshard **out, const void *buf, size_t len,
                                  const char *name, const vr_tarshard_options *o)
{
    vr_status st = make(out, name, o);
    vr_tarshard *t = *out;
    if (!st) {
        t->mem = buf;
        t->mem_len = len;
        if (!(st = start(t, mem_read)))
            return VR_OK;
    }
    vr_tarshard_close(t);
    *out = NULL;
    return st;
}

void vr_tarshard_close(vr_tarshard *t)
{
    if (!t)
        return;
    if (t->a)
        archive_read_free(t->a);
    if (t->fd >= 0)
        close(t->fd);
    free(t->io);
    free(t->name);
    free(t->buf);
    free(t->path);
    free(t->key);
    free(t->ext);
    free(t->seen);
    free(t->last);
    free(t);
}
