/* calibrate.h - vitrun --calibrate PROFILE.json: this node's rates for the
 * performance model (partition/perfmodel.h, partition/profile.h).
 *
 * Rank 0 measures, on the run's threads, what the forward pass runs:
 * vr_linear at ViT-B/16's shapes (8 images: 1,576 rows, and 64 rows for the
 * small-M slope) in fp32, bf16 and int8 where this build and CPU have them,
 * the attention of 8 images x 12 heads of 197 x 64, LayerNorm over 1,576 x
 * 768 and GELU; the other ranks sleep meanwhile. Then every rank takes part
 * in the link probe (vr_comm_link_probe): rank 0's ping-pongs with a rank
 * on its node and one on another node give shared memory's and the
 * network's alpha and beta. A link no rank pair could measure gets a
 * stated default. Collective over all ranks.
 */
#ifndef VR_CALIBRATE_H
#define VR_CALIBRATE_H

#include "../partition/perfmodel.h"
#include "linear.h"

/* Fills p (and host, the node's name) as measured here; every rank gets
 * rank 0's compute figures. */
vr_status vr_calibrate(vr_profile *p, char *host, size_t host_cap, vr_gemm_backend be,
                       int *measured_links);

#endif
