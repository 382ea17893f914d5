/* fuzz_profile.c - libFuzzer target: an untrusted node profile (--profile
 * FILE.json, partition/profile.c). The bytes are parsed; a profile that
 * parses is written back and must parse again to the same numbers, and
 * drives one prediction (a small ViT on 2 x 2 ranks), which must give a
 * finite, positive rate. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../partition/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vr_profile p, q;
    char host[64], host2[64], text[8192];
    if (size > VR_PROFILE_MAX_BYTES ||
        vr_profile_parse(&p, host, sizeof host, (const char *)data, size, "fuzz.json"))
        return 0;
    FILE *f = fmemopen(text, sizeof text, "w");
    if (!f)
        abort();
    vr_profile_write(&p, host, f);
    fclose(f);
    if (vr_profile_parse(&q, host2, sizeof host2, text, strlen(text), "again.json") ||
        strcmp(host, host2) || q.cores != p.cores)
        abort(); /* what it writes, it reads */
    vr_config c = {.image_h = 32, .image_w = 32, .patch_size = 8, .channels = 3, .hidden = 64,
                   .layers = 4, .heads = 4, .mlp_dim = 128, .classes = 10, .ln_eps = 1e-6};
    vr_config_classic(&c);
    if (vr_config_check(&c, "fuzz"))
        abort();
    vr_plan plan;
    vr_perf r;
    vr_perf_setup s = {.batch = 8, .threads = 1, .ranks_per_node = 2};
    if (vr_plan_build(&plan, &c, 1, 2, 2, NULL))
        abort();
    if (!vr_perf_predict(&plan, &s, &p, 0, &r) && !(r.images_per_s >= 0))
        abort(); /* (NaN) */
    vr_plan_free(&plan);
    return 0;
}
