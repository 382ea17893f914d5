/* onednn.h - what linear.c and attention.c share on oneDNN (builds with
 * VR_HAVE_ONEDNN only): one CPU engine and one in-order stream for the
 * process, and oneDNN statuses turned into vitrun's. */
#ifndef VR_ONEDNN_H
#define VR_ONEDNN_H

#ifdef VR_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>

#include "status.h"

/* VR_OK, or the failure of `what` recorded with vr_fail. */
vr_status vr_dnnl_check(dnnl_status_t s, const char *what);
/* The engine and stream, created on first use (from the forward pass's thread). */
vr_status vr_dnnl_engine(dnnl_engine_t *engine, dnnl_stream_t *stream);
#endif

#endif
