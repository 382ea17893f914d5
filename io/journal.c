/* journal.c - append-only checksummed records of finished rows.
 *
 * File: "VRJRNL01", u32 fingerprint length, the fingerprint text, u32 CRC-32
 * of it; then records: u32 magic "VRB1", u32 CRC-32 of the payload, u64 first
 * row, u64 row count, u64 payload bytes, payload. A row in the payload: u8 ok,
 * u16 error length, u16 name length, the two strings, K int32 indices, K
 * float32 probabilities, then C logits and D embedding floats when recorded,
 * then S score-head floats.
 * All little-endian (the machines vitrun runs on).
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "VRJRNL01"
#define REC_MAGIC 0x31425256u /* "VRB1" */
#define REC_HEADER 32
#define MAX_PAYLOAD ((uint64_t)1 << 34)

static uint32_t crc_table[256];

static void crc_init(void)
{
    if (crc_table[1])
        return;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static vr_status write_all(vr_journal *j, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t r = write(j->fd, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return vr_fail(VR_ERR_OUTPUT, "%s: write failed: %s", j->path,
                           r < 0 ? strerror(errno) : "no progress");
        b += r;
        n -= (size_t)r;
    }
    return VR_OK;
}

static size_t read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void setup(vr_journal *j, const char *path, size_t k, size_t classes, size_t dim,
                  int logits, int embedding, size_t scores)
{
    crc_init();
    memset(j, 0, sizeof *j);
    j->fd = -1;
    snprintf(j->path, sizeof j->path, "%s", path);
    j->k = k;
    j->classes = classes;
    j->dim = dim;
    j->logits = logits;
    j->embedding = embedding;
    j->scores = scores;
    j->last_sync = now();
}

vr_status vr_journal_create(vr_journal *j, const char *path, const char *fingerprint, size_t k,
                            size_t classes, size_t dim, int logits, int embedding, size_t scores)
{
    setup(j, path, k, classes, dim, logits, embedding, scores);
    if ((j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        return vr_fail(VR_ERR_OUTPUT, "%s: cannot create the resume journal: %s (it sits next "
                       "to --output)", path, strerror(errno));
    uint32_t len = (uint32_t)strlen(fingerprint);
    uint32_t crc = crc32((const uint8_t *)fingerprint, len);
    vr_status st;
    if ((st = write_all(j, MAGIC, 8)) || (st = write_all(j, &len, 4)) ||
        (st = write_all(j, fingerprint, len)) || (st = write_all(j, &crc, 4)))
        return st;
    return VR_OK;
}

static int skipped(const char *line, size_t len, const char *const *skip)
{
    for (size_t i = 0; skip && skip[i]; i++)
        if (len >= strlen(skip[i]) && !memcmp(line, skip[i], strlen(skip[i])))
            return 1;
    return 0;
}

int vr_fingerprint_diff(const char *had, const char *now, const char *who,
                        const char *const *skip, char *out, size_t cap)
{
    const char *a = had, *b = now;
    while (*a || *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        if ((la != lb || memcmp(a, b, la)) && !(skipped(a, la, skip) && skipped(b, lb, skip))) {
            snprintf(out, cap, "%s has '%.*s', this run '%.*s'", who, (int)la, a, (int)lb, b);
            return 1;
        }
        a += la + (ea ? 1 : 0);
        b += lb + (eb ? 1 : 0);
    }
    snprintf(out, cap, "they are the same");
    return 0;
}

static size_t row_bytes(const vr_journal *j, size_t elen, size_t nlen)
{
    return 5 + elen + nlen + j->k * 8 + (j->logits ? j->classes * 4 : 0) +
           (j->embedding ? j->dim * 4 : 0) + j->scores * 4;
}

/* Decodes one record's payload into rows (pointing into the payload). */
static int decode(const vr_journal *j, const uint8_t *p, size_t len, size_t count,
                  vr_output_row *rows, char *strs, float *nums)
{
    size_t per = j->k * 2 + (j->logits ? j->classes : 0) + (j->embedding ? j->dim : 0) +
                 j->scores;
    size_t off = 0;
    for (size_t r = 0; r < count; r++) {
        if (off + 5 > len)
            return -1;
        uint16_t el, nl;
        memcpy(&el, p + off + 1, 2);
        memcpy(&nl, p + off + 3, 2);
        size_t need = row_bytes(j, el, nl);
        if (off + need > len)
            return -1;
        vr_output_row *o = &rows[r];
        o->ok = p[off];
        /* strings are stored without terminators: copy them out */
        char *e = strs;
        strs += el + nl + 2;
        memcpy(e, p + off + 5, el);
        e[el] = '\0';
        memcpy(e + el + 1, p + off + 5 + el, nl);
        e[el + 1 + nl] = '\0';
        o->error = e;
        o->path = e + el + 1;
        /* numbers copied to aligned storage: the payload packs them unaligned */
        float *q = nums + r * per;
        memcpy(q, p + off + 5 + el + nl, per * 4);
        o->topk_index = (const int *)q;
        o->topk_prob = q + j->k;
        for (size_t t = 0; o->ok && t < j->k; t++) /* they index the class labels */
            if (o->topk_index[t] < 0 || (size_t)o->topk_index[t] >= j->classes)
                return -1;
        q += j->k * 2;
        o->logits = j->logits ? q : NULL;
        q += j->logits ? j->classes : 0;
        o->embedding = j->embedding ? q : NULL;
        q += j->embedding ? j->dim : 0;
        o->scores = j->scores ? q : NULL;
        off += need;
    }
    return off == len ? 0 : -1;
}

vr_status vr_journal_resume(vr_journal *j, const char *path, const char *fingerprint, size_t k,
                            size_t classes, size_t dim, int logits, int embedding,
                            size_t scores, vr_replay_fn replay, void *ctx)
{
    setup(j, path, k, classes, dim, logits, embedding, scores);
    if ((j->fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
        return vr_fail(VR_ERR_OUTPUT, "%s: cannot open the resume journal: %s", path,
                       strerror(errno));
    char magic[8];
    uint32_t len = 0, crc = 0;
    if (read_all(j->fd, magic, 8) != 8 || memcmp(magic, MAGIC, 8) ||
        read_all(j->fd, &len, 4) != 4 || len > (1u << 20))
        return vr_fail(VR_ERR_INPUT, "%s is not a vitrun journal (or its header is damaged); "
                       "delete it and run without --resume to start over", path);
    char *fp = malloc((size_t)len + 1);
    if (!fp)
        return vr_fail(VR_ERR_NOMEM, "out of memory reading %s", path);
    if (read_all(j->fd, fp, len) != len || read_all(j->fd, &crc, 4) != 4 ||
        crc32((const uint8_t *)fp, len) != crc) {
        free(fp);
        return vr_fail(VR_ERR_INPUT, "%s: the journal header is damaged; delete it and run "
                       "without --resume to start over", path);
    }
    fp[len] = '\0';
    if (strcmp(fp, fingerprint)) {
        char diff[1024];
        vr_fingerprint_diff(fp, fingerprint, "the journal", NULL, diff, sizeof diff);
        free(fp);
        return vr_fail(VR_ERR_USAGE, "%s was written by a different run: %s. Resume with the "
                       "same model, input and options, or delete the journal to start over",
                       path, diff);
    }
    free(fp);
    off_t pos = lseek(j->fd, 0, SEEK_CUR);
    struct stat sb;
    if (fstat(j->fd, &sb) != 0)
        return vr_fail(VR_ERR_OUTPUT, "%s: cannot stat the resume journal: %s", path,
                       strerror(errno));
    vr_output_row *rows = NULL;
    char *strs = NULL; /* (payload + 2 per row) the rows' strings, terminated */
    float *nums = NULL; /* (payload / 4) the rows' numbers */
    size_t nums_cap = 0;
    size_t rows_cap = 0, strs_cap = 0;
    vr_status st = VR_OK;
    const char *why = NULL;
    for (;;) {
        uint8_t h[REC_HEADER];
        size_t got = read_all(j->fd, h, REC_HEADER);
        if (got == 0)
            break;
        uint32_t magic32, rcrc;
        uint64_t first, count, plen;
        memcpy(&magic32, h, 4);
        memcpy(&rcrc, h + 4, 4);
        memcpy(&first, h + 8, 8);
        memcpy(&count, h + 16, 8);
        memcpy(&plen, h + 24, 8);
        /* the header is outside the CRC: a payload longer than the rest of
         * the file is a torn record, not an allocation */
        off_t here = lseek(j->fd, 0, SEEK_CUR);
        if (got < REC_HEADER || magic32 != REC_MAGIC || first != j->rows || !count ||
            count > (1u << 20) || plen > MAX_PAYLOAD || here < 0 || here > sb.st_size ||
            plen > (uint64_t)(sb.st_size - here)) {
            why = "a torn or damaged record header";
            break;
        }
        if (plen > j->cap) {
            uint8_t *b = realloc(j->buf, plen);
            if (!b) {
                st = vr_fail(VR_ERR_NOMEM, "out of memory reading %s", path);
                break;
            }
            j->buf = b;
            j->cap = plen;
        }
        if (read_all(j->fd, j->buf, plen) != plen || crc32(j->buf, plen) != rcrc) {
            why = "a torn record";
            break;
        }
        if (count > rows_cap) {
            vr_output_row *r2 = realloc(rows, count * sizeof *rows);
            if (!r2) {
                st = vr_fail(VR_ERR_NOMEM, "out of memory reading %s", path);
                break;
            }
            rows = r2;
            rows_cap = count;
        }
        if (plen + 2 * count > strs_cap) {
            char *s2 = realloc(strs, plen + 2 * count);
            if (!s2) {
                st = vr_fail(VR_ERR_NOMEM, "out of memory reading %s", path);
                break;
            }
            strs = s2;
            strs_cap = plen + 2 * count;
        }
        if (plen / 4 + 1 > nums_cap) {
            float *n2 = realloc(nums, (plen / 4 + 1) * sizeof(float));
            if (!n2) {
                st = vr_fail(VR_ERR_NOMEM, "out of memory reading %s", path);
                break;
            }
            nums = n2;
            nums_cap = plen / 4 + 1;
        }
        if (decode(j, j->buf, plen, count, rows, strs, nums)) {
            why = "a record that does not match this run's row layout";
            break;
        }
        if ((st = replay(ctx, rows, count)))
            break;
        j->rows += count;
        pos = lseek(j->fd, 0, SEEK_CUR);
    }
    free(strs);
    free(nums);
    free(rows);
    if (st)
        return st;
    if (why) {
        fprintf(stderr, "vitrun: %s: dropped %s after row %zu (the run was interrupted while "
                "writing it); those rows are scored again\n", path, why, j->rows);
        if (ftruncate(j->fd, pos) != 0)
            return vr_fail(VR_ERR_OUTPUT, "%s: cannot cut off the torn tail: %s", path,
                           strerror(errno));
    }
    if (lseek(j->fd, pos, SEEK_SET) < 0)
        return vr_fail(VR_ERR_OUTPUT, "%s: seek failed: %s", path, strerror(errno));
    return VR_OK;
}

vr_status vr_journal_append(vr_journal *j, const vr_output_row *rows, size_t n)
{
    size_t plen = 0;
    for (size_t r = 0; r < n; r++) {
        size_t el = strlen(rows[r].error), nl = strlen(rows[r].path);
        if (el > 65535 || nl > 65535)
            return vr_fail(VR_ERR_INTERNAL, "row name or error longer than 65535 bytes");
        plen += row_bytes(j, el, nl);
    }
    if (REC_HEADER + plen > j->cap) {
        uint8_t *b = realloc(j->buf, REC_HEADER + plen);
        if (!b)
            return vr_fail(VR_ERR_NOMEM, "out of memory for a journal record");
        j->buf = b;
        j->cap = REC_HEADER + plen;
    }
    uint8_t *p = j->buf + REC_HEADER;
    for (size_t r = 0; r < n; r++) {
        const vr_output_row *o = &rows[r];
        uint16_t el = (uint16_t)strlen(o->error), nl = (uint16_t)strlen(o->path);
        *p = (uint8_t)(o->ok != 0);
        memcpy(p + 1, &el, 2);
        memcpy(p + 3, &nl, 2);
        memcpy(p + 5, o->error, el);
        memcpy(p + 5 + el, o->path, nl);
        p += 5 + el + nl;
        memcpy(p, o->topk_index, j->k * 4);
        memcpy(p + j->k * 4, o->topk_prob, j->k * 4);
        p += j->k * 8;
        if (j->logits) {
            memcpy(p, o->logits, j->classes * 4);
            p += j->classes * 4;
        }
        if (j->embedding) {
            memcpy(p, o->embedding, j->dim * 4);
            p += j->dim * 4;
        }
        if (j->scores) {
            memcpy(p, o->scores, j->scores * 4);
            p += j->scores * 4;
        }
    }
    uint32_t magic = REC_MAGIC, crc = crc32(j->buf + REC_HEADER, plen);
    uint64_t first = j->rows, count = n, pl = plen;
    memcpy(j->buf, &magic, 4);
    memcpy(j->buf + 4, &crc, 4);
    memcpy(j->buf + 8, &first, 8);
    memcpy(j->buf + 16, &count, 8);
    memcpy(j->buf + 24, &pl, 8);
    vr_status st = write_all(j, j->buf, REC_HEADER + plen);
    if (st)
        return st;
    j->rows += n;
    double t = now();
    if (t - j->last_sync > 2.0) {
        fdatasync(j->fd);
        j->last_sync = t;
    }
    return VR_OK;
}

vr_status vr_journal_close(vr_journal *j, int remove_file)
{
    vr_status st = VR_OK;
    if (j->fd >= 0) {
        if (!remove_file && fdatasync(j->fd) != 0 && errno != EINVAL)
            st = vr_fail(VR_ERR_OUTPUT, "%s: sync failed: %s", j->path, strerror(errno));
        close(j->fd);
        j->fd = -1;
        if (remove_file)
            unlink(j->path);
    }
    free(j->buf);
    j->buf = NULL;
    j->cap = 0;
    return st;
}
