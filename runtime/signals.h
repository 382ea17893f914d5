/* signals.h - SIGTERM, SIGINT and SIGUSR1 as a request to stop.
 *
 * Slurm sends SIGTERM at the time limit (then SIGKILL after KillWait) or
 * the batch script's USR1, mpirun forwards SIGUSR1, a user presses Ctrl-C.
 * Two phases:
 * - until vr_signals_defer(), nothing of the run is written: the handler
 *   ends the process at once with VR_EXIT_STOPPED (75), removing the file
 *   given to vr_signals_remove_on_stop (the output lock), so a stop during
 *   a long model load, or inside a library call that never returns, is
 *   prompt;
 * - after it, the handler only records the signal; the engine polls it
 *   once per step and all ranks agree on the step to stop at
 *   (vr_comm_vote), then flush and exit with VR_EXIT_STOPPED.
 * A second Ctrl-C kills at once.
 */
#ifndef VR_SIGNALS_H
#define VR_SIGNALS_H

/* Installs the handlers (first phase) and unblocks the three signals. */
void vr_signals_install(void);
/* Blocks them (kept across exec) until vr_signals_install. */
void vr_signals_hold(void);
/* Second phase: from now on a stop is recorded, honoured at the next step. */
void vr_signals_defer(void);
/* Whether the first phase's one-line message is printed (rank 0 only). */
void vr_signals_set_talk(int talk);
/* A file the first phase removes before it exits (NULL: none). */
void vr_signals_remove_on_stop(const char *path);
/* The signal that asked for a stop, or 0. */
int vr_stop_requested(void);

#endif
