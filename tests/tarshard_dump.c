/* tarshard_dump.c - prints what io/tarshard.c, io/braces.c and
 * io/shardlist.c make of an input, as JSON lines, for tests/test_tarshard.py.
 *
 *   tarshard_dump tar FILE [MAX_MEMBER_BYTES [IMAGE_KEYS]]
 *       one line per sample, then {"end": 0|-1, ...}; {"open": STATUS, ...}
 *       when the shard does not open
 *   tarshard_dump pattern PATTERN MAX_COUNT [count]
 *       {"count": N} and (without "count") {"s": ...} per expansion, or
 *       {"error": ...}
 *   tarshard_dump shards INPUT
 *       {"is_shards": 1|0|-1}, then {"n", "hash"} and {"path", "stem"} per
 *       shard, or {"error": ...}
 *
 * Strings are JSON with every byte >= 0x80 written as \u00XX: the test
 * recovers the bytes with .encode("latin-1"). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/braces.h"
#include "../io/shardlist.h"
#include "../io/tarshard.h"

static void str(const char *name, const char *s, const char *sep)
{
    printf("\"%s\": \"", name);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if (*c < 0x20 || *c >= 0x7f)
            printf("\\u%04x", *c);
        else
            putchar(*c);
    }
    printf("\"%s", sep);
}

static uint64_t fnv(const uint8_t *b, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static int dump_tar(const char *file, size_t max, const char *keys)
{
    vr_tarshard_options o = {max, keys};
    vr_tarshard *t;
    vr_status st = vr_tarshard_open(&t, file, &o);
    if (st) {
        printf("{\"open\": %d, ", (int)st);
        str("message", vr_last_error(), "}\n");
        return 0;
    }
    vr_tarshard_sample *s = malloc(sizeof *s);
    if (!s)
        return 1;
    int r;
    while ((r = vr_tarshard_next(t, s)) == 1) {
        printf("{");
        str("key", s->key, ", ");
        printf("\"ok\": %d, ", s->ok);
        str("error", s->error, ", ");
        printf("\"image_len\": %zu, \"image_fnv\": \"%016" PRIx64 "\", ", s->image_len,
               s->image ? fnv(s->image, s->image_len) : 0);
        str("image_ext", s->image_ext, ", ");
        printf("\"has_cls\": %d, \"cls\": %" PRId64 ", \"cls_bad\": %d, \"members\": %zu, "
               "\"offset\": %" PRIu64 "}\n", s->has_cls, s->cls, s->cls_bad, s->members,
               s->offset);
    }
    printf("{\"end\": %d, ", r);
    str("error", r < 0 ? s->error : "", ", ");
    str("message", r < 0 ? vr_last_error() : "", "}\n");
    /* a finished reader stays finished */
    if (vr_tarshard_next(t, s) != r)
        printf("{\"again\": \"differs\"}\n");
    free(s);
    vr_tarshard_close(t);
    return 0;
}

static int dump_pattern(const char *pattern, size_t max, int count_only)
{
    vr_braces *b;
    if (vr_braces_parse(&b, pattern, max) != VR_OK) {
        printf("{");
        str("error", vr_last_error(), "}\n");
        return 0;
    }
    char *out = malloc(VR_PATH_MAX);
    printf("{\"count\": %zu}\n", vr_braces_count(b));
    for (size_t i = 0; out && !count_only && i < vr_braces_count(b); i++) {
        printf("{");
        if (vr_braces_get(b, i, out, VR_PATH_MAX) == VR_OK)
            str("s", out, "}\n");
        else
            str("error", vr_last_error(), "}\n");
    }
    free(out);
    vr_braces_free(b);
    return 0;
}

static int dump_shards(const char *input)
{
    int is = vr_shardlist_is_shards(input);
    printf("{\"is_shards\": %d", is);
    if (is < 0) {
        printf(", ");
        str("message", vr_last_error(), "");
    }
    printf("}\n");
    vr_shardlist l;
    if (vr_shardlist_build(&l, input) != VR_OK) {
        printf("{");
        str("error", vr_last_error(), "}\n");
        return 0;
    }
    printf("{\"n\": %zu, \"hash\": \"%016" PRIx64 "\"}\n", l.n, l.hash);
    char *path = malloc(VR_PATH_MAX), *stem = malloc(VR_PATH_MAX);
    for (size_t i = 0; path && stem && i < l.n; i++) {
        printf("{");
        if (vr_shardlist_get(&l, i, path, stem) == VR_OK) {
            str("path", path, ", ");
            str("stem", stem, "}\n");
        } else {
            str("error", vr_last_error(), "}\n");
        }
    }
    free(path);
    free(stem);
    vr_shardlist_free(&l);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "tar"))
        return dump_tar(argv[2], argc > 3 ? strtoull(argv[3], NULL, 10) : 0,
                        argc > 4 ? argv[4] : NULL);
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "pattern"))
        return dump_pattern(argv[2], strtoull(argv[3], NULL, 10), argc == 5);
    if (argc == 3 && !strcmp(argv[1], "shards"))
        return dump_shards(argv[2]);
    fprintf(stderr, "usage: %s tar FILE [MAX [KEYS]] | pattern PATTERN MAX [count] | "
            "shards INPUT\n", argv[0]);
    return 2;
}
