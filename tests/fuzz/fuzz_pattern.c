/* fuzz_pattern.c - libFuzzer target: shard patterns and shard lists
 * (io/braces.c, io/shardlist.c).
 *
 * Input: a mode byte, then
 *   bit 0 clear - a brace pattern (NUL bytes read as '_') parsed with a cap
 *     of 1 + 8 * (mode >> 1) expansions and expanded whole, into a 4096-
 *     and a 24-byte buffer; then, behind the process's temporary folder,
 *     taken as --input by vr_shardlist_is_shards and vr_shardlist_build;
 *   bit 0 set - a list file of shards in the temporary folder:
 *     vr_shardlist_is_shards, vr_shardlist_build, every shard read back.
 * Checks: counts within the cap, refusals with a reason; no expansion holds
 * a brace; the short buffer refuses exactly the expansions that do not fit
 * it; a built list has n shards with tar names, non-empty distinct stems,
 * and the hash of its paths. Nothing outside the temporary folder is
 * listed (patterns with ".." are not built). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../io/braces.h"
#include "../../io/shardlist.h"
#include "fuzz_util.h"

#define SHORT 24

static char g_dir[4096], g_list[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    vf_setup("pattern");
    vf_path(g_dir, sizeof g_dir, "");
    vf_path(g_list, sizeof g_list, "list.txt");
    return 0;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
    return h;
}

/* A built list read back whole. */
static void read_back(const char *input)
{
    int is = vr_shardlist_is_shards(input);
    if (is < 0 && !vr_last_error()[0])
        vf_fail("is_shards -1 without a reason");
    vr_shardlist l;
    if (vr_shardlist_build(&l, input) != VR_OK) {
        if (!vr_last_error()[0])
            vf_fail("%s: refused without a reason", input);
        if (l.n || l.arena || l.pattern)
            vf_fail("a refused list is not empty");
        return;
    }
    if (!l.n || l.n > VR_SHARDLIST_MAX)
        vf_fail("%s: built with %zu shards", input, l.n);
    char *path = malloc(VR_PATH_MAX), *stem = malloc(VR_PATH_MAX);
    char **stems = calloc(l.n < 64 ? l.n : 64, sizeof *stems);
    if (!path || !stem || !stems)
        vf_fail("out of memory");
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < l.n; i++) {
        if (vr_shardlist_get(&l, i, path, stem) != VR_OK)
            vf_fail("shard %zu of %zu: %s", i, l.n, vr_last_error());
        size_t pl = strlen(path);
        h = fnv(fnv(h, path, pl), "\n", 1);
        if (!vr_tar_suffix_len(path) || !stem[0] || strchr(stem, '/'))
            vf_fail("shard '%s' has stem '%s'", path, stem);
        if (i < 64) {
            for (size_t j = 0; j < i; j++)
                if (!strcmp(stems[j], stem))
                    vf_fail("shards %zu and %zu have the stem '%s'", j, i, stem);
            if (!(stems[i] = strdup(stem)))
                vf_fail("out of memory");
        }
    }
    if (h != l.hash)
        vf_fail("%s: the hash is not that of the paths", input);
    for (size_t i = 0; i < l.n && i < 64; i++)
        free(stems[i]);
    free(stems);
    free(path);
    free(stem);
    vr_shardlist_free(&l);
}

static void pattern(const uint8_t *b, size_t n, size_t cap)
{
    char *p = malloc(n + 1), *out = malloc(VR_PATH_MAX), small[SHORT];
    if (!p || !out)
        vf_fail("out of memory");
    for (size_t i = 0; i < n; i++)
        p[i] = b[i] ? (char)b[i] : '_';
    p[n] = '\0';
    vr_braces *br;
    if (vr_braces_parse(&br, p, cap) != VR_OK) {
        if (!vr_last_error()[0])
            vf_fail("pattern refused without a reason");
        goto done;
    }
    size_t count = vr_braces_count(br);
    if (!count || count > cap)
        vf_fail("%zu expansions with a cap of %zu", count, cap);
    for (size_t i = 0; i < count; i++) {
        if (vr_braces_get(br, i, out, VR_PATH_MAX) != VR_OK)
            continue; /* longer than a path */
        if (strchr(out, '{') || strchr(out, '}'))
            vf_fail("expansion %zu '%s' holds a brace", i, out);
        int fits = vr_braces_get(br, i, small, SHORT) == VR_OK;
        if (fits != (strlen(out) < SHORT) || (fits && strcmp(small, out)))
            vf_fail("expansion %zu '%s': in %d bytes %s", i, out, SHORT,
                    fits ? small : "refused");
    }
    vr_braces_free(br);
    if (!strstr(p, "..") && strlen(g_dir) + n + 2 < VR_PATH_MAX) {
        char *input = malloc(strlen(g_dir) + n + 2);
        if (!input)
            vf_fail("out of memory");
        sprintf(input, "%s/%s", g_dir, p);
        read_back(input);
        free(input);
    }
done:
    free(p);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        vf_write(g_list, data + 1, size - 1);
        read_back(g_list);
    } else {
        pattern(data + 1, size - 1, 1 + 8 * (size_t)(data[0] >> 1));
    }
    return 0;
}
