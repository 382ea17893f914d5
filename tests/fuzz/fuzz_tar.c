/* fuzz_tar.c - libFuzzer target: a webdataset tar shard read as samples
 * (io/tarshard.c) and webdataset's name rules (io/wds_names.c).
 *
 * Input: a mode byte, then
 *   bit 3 clear - a shard (plain tar, or gzip/bzip2/xz/zstd of one) read
 *     from memory (bit 4 clear) or from a file (bit 4 set) to its end; bits
 *     0-1 pick max_member_bytes (16, 300, 4096, the default 256 MiB), bit 2
 *     the image keys ("jpg;PNG;cls;left.jpg" or the default);
 *   bit 3 set - member names, one a line, through vr_wds_split,
 *     vr_wds_is_meta and vr_wds_parse_cls.
 * Checks: a scorable sample has an image within the limit and an image
 * extension; a refused one has a reason; keys are terminated, non-empty
 * and in range; sample offsets increase; the reader stays finished. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../io/tarshard.h"
#include "../../io/wds_names.h"
#include "fuzz_util.h"

#define MAX_SAMPLES 200000 /* a bomb of a compressed stream still ends in time */

static char g_file[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vf_setup("tar");
    vf_path(g_file, sizeof g_file, "shard.tar");
    return 0;
}

static void read_shard(const uint8_t *b, size_t n, uint8_t mode)
{
    static const size_t limits[] = {16, 300, 4096, 0};
    vr_tarshard_options o = {limits[mode & 3], mode & 4 ? "jpg;PNG;cls;left.jpg" : NULL};
    size_t max = o.max_member_bytes ? o.max_member_bytes : VR_TARSHARD_DEFAULT_MAX;
    vr_tarshard *t;
    vr_status st;
    if (mode & 16) {
        vf_write(g_file, b, n);
        st = vr_tarshard_open(&t, g_file, &o);
    } else {
        st = vr_tarshard_open_memory(&t, b, n, "fuzz", &o);
    }
    if (st) {
        if (!vr_last_error()[0])
            vf_fail("open failed without a reason");
        return;
    }
    vr_tarshard_sample *s = malloc(sizeof *s);
    if (!s)
        vf_fail("out of memory");
    int r;
    size_t count = 0;
    uint64_t prev = 0;
    while (count < MAX_SAMPLES && (r = vr_tarshard_next(t, s)) == 1) {
        size_t kl = strnlen(s->key, VR_NAME_LEN);
        if (kl == 0 || kl >= VR_NAME_LEN)
            vf_fail("sample %zu: key of %zu bytes", count, kl);
        if (s->ok && (!s->image || !s->image_len || s->image_len > max || !s->image_ext[0]))
            vf_fail("sample '%.40s' scorable without an image (%zu bytes, limit %zu)", s->key,
                    s->image_len, max);
        if (!s->ok && !s->error[0])
            vf_fail("sample '%.40s' refused without a reason", s->key);
        if (s->has_cls && s->cls_bad)
            vf_fail("sample '%.40s': a label both read and bad", s->key);
        if (count && s->offset <= prev)
            vf_fail("sample '%.40s' at byte %llu after one at %llu", s->key,
                    (unsigned long long)s->offset, (unsigned long long)prev);
        if (s->members == 0)
            vf_fail("sample '%.40s' of no member", s->key);
        if (s->image) /* ASan sees a read past what the reader holds */
            (void)((volatile const uint8_t *)s->image)[s->image_len - 1];
        prev = s->offset;
        count++;
    }
    if (count < MAX_SAMPLES) {
        if (r < 0 && (!s->error[0] || !vr_last_error()[0]))
            vf_fail("-1 without a reason");
        if (vr_tarshard_next(t, s) != r)
            vf_fail("a finished reader returned something else");
    }
    free(s);
    vr_tarshard_close(t);
}

static void names(const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && b[e] != '\n' && b[e] != 0)
            e++;
        const char *p = (const char *)b + i;
        size_t len = e - i, kl;
        if (vr_wds_split(p, len, &kl)) {
            /* a key, a dot, an extension without '/', the key not ending in one */
            if (kl == 0 || kl >= len || p[kl] != '.' || memchr(p + kl + 1, '/', len - kl - 1))
                vf_fail("split '%.*s' at %zu", (int)len, p, kl);
            size_t c = kl; /* the key's last component has no dot */
            while (c && p[c - 1] != '/')
                c--;
            if (memchr(p + c, '.', kl - c))
                vf_fail("split '%.*s' at %zu: a dot in the key's last component", (int)len,
                        p, kl);
        }
        (void)vr_wds_is_meta(p, len);
        int64_t v;
        if (vr_wds_parse_cls(p, len, &v)) {
            char back[32];
            snprintf(back, sizeof back, "%lld", (long long)v);
            if (!memmem(p, len, back + (v < 0), strlen(back + (v < 0))))
                vf_fail("label '%.*s' read as %lld", (int)len, p, (long long)v);
        }
        i = e + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 8)
        names(data + 1, size - 1);
    else
        read_shard(data + 1, size - 1, data[0]);
    return 0;
}
