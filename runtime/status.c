/* status.c - error values, the recorded message, checked allocation. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* per thread: decoding threads record their own reasons */
static _Thread_local char g_msg[2048];

const char *vr_status_str(vr_status s)
{
    switch (s) {
    case VR_OK: return "ok";
    case VR_ERR_USAGE: return "usage error";
    case VR_ERR_MODEL: return "model error";
    case VR_ERR_INPUT: return "input error";
    case VR_ERR_OUTPUT: return "output error";
    case VR_ERR_NOMEM: return "out of memory";
    case VR_ERR_COMM: return "communication error";
    case VR_ERR_INTERNAL: return "internal error";
    case VR_ERR_IO: return "I/O error";
    case VR_ERR_PEER: return "error on another rank";
    case VR_STOPPED: return "stopped by a signal";
    }
    return "unknown error";
}

vr_status vr_fail(vr_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    return s;
}

const char *vr_last_error(void) { return g_msg; }

void vr_clear_error(void) { g_msg[0] = '\0'; }

int vr_exit_code(vr_status s)
{
    switch (s) {
    case VR_OK: return 0;
    case VR_ERR_USAGE:
    case VR_ERR_MODEL:
    case VR_ERR_INPUT: return 2;
    case VR_STOPPED: return VR_EXIT_STOPPED;
    default: return 1;
    }
}

void *vr_alloc(size_t n, size_t elem_size, const char *what)
{
    size_t bytes;
    void *p = NULL;
    if (!vr_mul(n, elem_size, &bytes)) {
        vr_fail(VR_ERR_NOMEM, "%s: %zu x %zu bytes overflows size_t", what, n, elem_size);
        return NULL;
    }
    /* 64-byte alignment so SIMD kernels and BLAS see aligned rows. */
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) {
        vr_fail(VR_ERR_NOMEM, "cannot allocate %zu bytes for %s", bytes, what);
        return NULL;
    }
    return p;
}
