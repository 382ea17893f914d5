/* signals.h - SIGTERM, SIGINT and SIGUSR1 as a request to stop cleanly.
 *
 * Slurm sends SIGTERM at the time limit (then SIGKILL after KillWait),
 * mpirun forwards SIGUSR1, a user presses Ctrl-C. The handler only records
 * the signal; the engine polls it once per step and all ranks agree on the
 * step to stop at (vr_comm_vote), then flush and exit with VR_EXIT_STOPPED.
 * A second Ctrl-C kills at once.
 */
#ifndef VR_SIGNALS_H
#define VR_SIGNALS_H

/* Installs the handlers and unblocks the three signals. */
void vr_signals_install(void);
/* Blocks them (kept across exec) until vr_signals_install. */
void vr_signals_hold(void);
/* The signal that asked for a stop, or 0. */
int vr_stop_requested(void);

#endif
