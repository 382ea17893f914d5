/* outlock.h - one writer per output: an advisory lock on OUT.lock.
 *
 * A requeued job whose predecessor still runs, or a double submission, would
 * otherwise write OUT.part and OUT.journal from two processes (an OUT that
 * h5py cannot open; a CSV journal cut while live). The writer rank takes a
 * POSIX record lock (fcntl F_SETLK) on OUT.lock before anything of the run is
 * written and holds it until the output is committed or the run stops. The
 * file holds "HOST PID" of the holder, for the refusal message. The kernel
 * drops the lock when the holder dies (SIGKILL, a lost node under NFS lock
 * recovery), so a leftover OUT.lock never blocks a run. POSIX locks work on
 * local file systems, NFSv4 and NFSv3 with lockd; Lustre needs the client
 * mount option `flock` (with `localflock` they are node-local only). Where
 * the file system refuses locks, VITRUN_NO_LOCK=1 runs without one.
 */
#ifndef VR_OUTLOCK_H
#define VR_OUTLOCK_H

#include "../runtime/status.h"

typedef struct {
    int fd;              /* -1: not held */
    int keep;            /* the file stays when released (shared locks on it) */
    char path[4096 + 8]; /* OUT.lock */
} vr_outlock;

/* Takes the lock for `output`, or refuses (VR_ERR_USAGE) naming the holder. */
vr_status vr_outlock_acquire(vr_outlock *l, const char *output);
/* The lock on OUT.lock for an output folder that jobs may share: `shared`
 * takes a read lock that any number of --claim jobs hold together, else a
 * write lock that excludes them (a run that owns the folder). The file is
 * never removed (a lock on a removed file would exclude nobody). */
vr_status vr_outlock_acquire_folder(vr_outlock *l, const char *output, int shared);

/* Removes OUT.lock (unless kept) and drops the lock; harmless when not held. */
void vr_outlock_release(vr_outlock *l);

#endif
