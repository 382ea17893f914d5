/* fuzz_claims.c - libFuzzer target: the files of a shared output folder
 * that other processes (other jobs, other users on a shared file system)
 * write and vitrun reads back (io/claims.c): claim files of any content and
 * generation, helper marks, failure marks, finished tables.
 *
 * Input: 1 byte of layout, then up to three payloads separated by 0xFF 0xFE:
 *   [0] bit 0: claim generation 0 exists (payload 1), bit 1: generation 1
 *       (payload 2) or, with bit 2, generation 3 (a hole), bit 3: a helper
 *       mark on the newest, bit 4: the table exists (the shard is done),
 *       bit 5: the run writes .npy (and bit 6: it exists), bit 7: a lease of
 *       1 ms (every claim stale) instead of a day
 *   payload 3: the failure mark's content (the job that gave up)
 * Then: claim the shard, judge the holder, help, renew, release, and read the
 * failure mark. Invariants: a claim taken exists as a file holding the
 * claimant's name, and is gone after its release (when it is the newest);
 * a holder's name is a terminated string; nothing crashes or leaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../io/claims.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    vf_setup("claims");
    return 0;
}

/* The next payload of data[*at, n), up to the separator. */
static const uint8_t *payload(const uint8_t *data, size_t n, size_t *at, size_t *len)
{
    size_t i = *at;
    while (i < n && !(data[i] == 0xFF && i + 1 < n && data[i + 1] == 0xFE))
        i++;
    const uint8_t *p = data + *at;
    *len = i - *at;
    *at = i < n ? i + 2 : n;
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 1)
        return 0;
    char root[4096], p[8192];
    vf_path(root, sizeof root, "out");
    vf_rmtree(root, 1);
    uint8_t lay = data[0];
    vr_outdir d;
    if (vr_outdir_open(&d, root, "h5", (lay >> 5) & 1, 1) != VR_OK)
        vf_fail("cannot make the folder %s", root);
    size_t at = 1, l1, l2, l3;
    const uint8_t *p1 = payload(data, n, &at, &l1), *p2 = payload(data, n, &at, &l2),
                  *p3 = payload(data, n, &at, &l3);
    if (lay & 1) {
        snprintf(p, sizeof p, "%s/s.0", d.claims);
        vf_write(p, p1, l1);
    }
    int second = lay & 4 ? 3 : 1;
    if (lay & 2) {
        snprintf(p, sizeof p, "%s/s.%d", d.claims, second);
        vf_write(p, p2, l2);
    }
    if (lay & 8) {
        snprintf(p, sizeof p, "%s/s.%d.dup", d.claims, lay & 2 ? second : 0);
        vf_write(p, p2, l2);
    }
    if (lay & 16) {
        snprintf(p, sizeof p, "%s/s.h5", d.dir);
        vf_write(p, (const uint8_t *)"x", 1);
    }
    if (lay & 64) {
        snprintf(p, sizeof p, "%s/s.npy", d.dir);
        vf_write(p, (const uint8_t *)"x", 1);
    }
    snprintf(p, sizeof p, "%s/s", d.failed);
    vf_write(p, p3, l3);

    double now = vr_outdir_clock(&d, "fuzz/r0");
    if (now < 0)
        vf_fail("no clock file in %s", d.claims);
    double lease = lay & 128 ? 0.001 : 86400;
    vr_claim c;
    vr_claim_info holder;
    vr_claim_result r = vr_claim_try(&d, "s", "fuzz/r0@host:1", lease, now + 1, now, &c, &holder);
    if (memchr(holder.who, 0, sizeof holder.who) == NULL)
        vf_fail("holder name not terminated");
    if (r == VR_CLAIM_TAKEN) {
        char buf[512] = "";
        FILE *f = fopen(c.path, "r");
        if (!f)
            vf_fail("claim %s taken but not there", c.path);
        size_t got = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[got] = '\0';
        if (!strstr(buf, "who=fuzz/r0@host:1"))
            vf_fail("claim %s does not name its holder: '%s'", c.path, buf);
        vr_claim_renew(&c, "fuzz/r0@host:1", 7);
        snprintf(p, sizeof p, "%s/s.%d", d.claims, c.gen + 1);
        int newest = access(p, F_OK) != 0;
        vr_claim_release(&d, "s", &c, 0);
        if (newest && access(c.path, F_OK) == 0)
            vf_fail("claim %s still there after its release", c.path);
    } else if (r == VR_CLAIM_HELD) {
        vr_claim_help(&d, "s", &holder, "fuzz/r1");
    }
    (void)vr_outdir_failed_by(&d, "s", "job");
    (void)vr_outdir_done(&d, "s");
    vr_claim_release(&d, "s", NULL, 1);
    vr_outdir_clear(&d);
    vf_rmtree(root, 1);
    return 0;
}
