/* status.h - error values and the one place an error message is kept.
 *
 * Functions return a vr_status; the human-readable reason (file, dataset,
 * expected vs found, how to fix it) is recorded with vr_fail() and read back
 * with vr_last_error(). Sizes read from files go through vr_mul() so that a
 * hostile shape can never overflow an allocation.
 */
#ifndef VR_STATUS_H
#define VR_STATUS_H

#include <stddef.h>

typedef enum {
    VR_OK = 0,
    VR_ERR_USAGE,   /* bad command line */
    VR_ERR_MODEL,   /* model file missing, malformed, or inconsistent */
    VR_ERR_INPUT,   /* input file missing or malformed */
    VR_ERR_OUTPUT,  /* cannot write the output */
    VR_ERR_NOMEM,   /* allocation failed */
    VR_ERR_COMM,    /* communication failure (MPI) */
    VR_ERR_INTERNAL, /* a bug */
    VR_ERR_IO,       /* a file could not be opened or read (I/O, permissions): worth
                      * another try (a tar shard is retried, --retries) */
    VR_STOPPED,      /* SIGTERM/SIGINT/SIGUSR1: stopped cleanly, resumable */
    VR_ERR_PEER      /* another rank failed first: vr_comm_agree replaces it by that
                      * rank's failure, so it is never what a user sees */
} vr_status;

/* Exit code of a run stopped by a signal after flushing its output: the
 * job can be continued with --resume (sysexits' EX_TEMPFAIL). */
#define VR_EXIT_STOPPED 75

const char *vr_status_str(vr_status s);

/* Records a formatted message for the current failure and returns s. */
vr_status vr_fail(vr_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *vr_last_error(void);
void vr_clear_error(void);

/* Process exit code for a status: 0 ok, 2 for usage/model/input errors
 * (the user can fix them), 75 when stopped by a signal, 1 for everything else. */
int vr_exit_code(vr_status s);

/* *out = a*b; returns 0 on overflow. */
static inline int vr_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a)
        return 0;
    *out = a * b;
    return 1;
}

/* malloc that records VR_ERR_NOMEM with what was being allocated. */
void *vr_alloc(size_t n_floats_or_bytes, size_t elem_size, const char *what);

#endif
