/* profile.h - a node's measured rates (vr_profile) as a JSON file.
 *
 * One flat object, numbers in SI units (seconds, bytes, FLOP/s per core):
 *   {"format": "vitrun-profile 1", "host": "node17", "cores": 2,
 *    "mem_bytes": 2.5e10, "gemm_fp32": 1.7e11, "gemm_bf16": 0,
 *    "gemm_int8": 7e11, "m_half": 20, "attn": 1.6e11, "elem_s": 4e-10,
 *    "act_s": 6e-10, "decode_s": 1.5e-3, "rank_bytes": 1.1e8,
 *    "shm_alpha": 1e-6, "shm_beta": 1e10, "net_alpha": 3e-5,
 *    "net_beta": 1.2e9}
 * A rate of 0 means not measured (bf16 or int8 on a CPU without them).
 * Keys it does not know are ignored (later versions may add some); every
 * key above but host is required. `vitrun --calibrate PROFILE.json`
 * writes one; `--profile` reads it.
 */
#ifndef VR_PROFILE_H
#define VR_PROFILE_H

#include <stdio.h>

#include "perfmodel.h"

#define VR_PROFILE_FORMAT "vitrun-profile 1"
#define VR_PROFILE_MAX_BYTES 65536

/* Parses text (len bytes, NUL not needed); `name` (the file) goes into
 * the messages. VR_ERR_INPUT naming the key or the offset on bad input. */
vr_status vr_profile_parse(vr_profile *p, char *host, size_t host_cap, const char *text,
                           size_t len, const char *name);
/* Reads and parses a file (at most VR_PROFILE_MAX_BYTES). */
vr_status vr_profile_read(vr_profile *p, char *host, size_t host_cap, const char *path);
/* Writes p as above. */
void vr_profile_write(const vr_profile *p, const char *host, FILE *f);

/* The machine this project is developed on (2 cores of an AMD EPYC guest,
 * AVX-512 with VNNI; measured 2026-12-02 with --calibrate; the network
 * not measured): what --plan --nodes uses without --profile, and says so. */
vr_profile vr_profile_builtin(void);

#endif
