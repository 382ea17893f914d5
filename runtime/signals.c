/* signals.c - stop requests: an exit before anything is written, a record after. */
#include "signals.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"

static volatile sig_atomic_t g_stop, g_deferred, g_talk = 1;
static char g_remove[4096]; /* set before the first phase can need it */
static volatile sig_atomic_t g_have_remove;

static void say(const char *s) { (void)!write(STDERR_FILENO, s, strlen(s)); }

static void on_signal(int sig)
{
    g_stop = sig;
    if (g_deferred)
        return;
    /* only async-signal-safe calls from here on */
    if (g_have_remove)
        unlink(g_remove);
    if (g_talk) {
        say("vitrun: stopped by ");
        say(sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGUSR1");
        say(" before anything was written; rerun the same command to start (or resume) "
            "the run\n");
    }
    _exit(VR_EXIT_STOPPED);
}

static void mask(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGINT);
    sigprocmask(how, &set, NULL);
}

/* Before MPI says which rank this is, the launcher's environment does: only
 * rank 0 talks, also about a stop during MPI's start-up (mpirun answers one
 * rank's exit by signalling the others, which may still be starting). */
static int launcher_rank_zero(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                       "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strcmp(v, "0") == 0;
    }
    return 1;
}

void vr_signals_install(void)
{
    g_talk = launcher_rank_zero();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_flags = SA_RESTART | SA_RESETHAND; /* a second Ctrl-C kills */
    sigaction(SIGINT, &sa, NULL);
    mask(SIG_UNBLOCK); /* what came while vr_signals_hold blocked them arrives now */
}

void vr_signals_hold(void) { mask(SIG_BLOCK); }

void vr_signals_defer(void) { g_deferred = 1; }

void vr_signals_set_talk(int talk) { g_talk = talk; }

void vr_signals_remove_on_stop(const char *path)
{
    /* the handler must never see a half-copied name */
    g_have_remove = 0;
    if (path && strlen(path) < sizeof g_remove) {
        memcpy(g_remove, path, strlen(path) + 1);
        atomic_signal_fence(memory_order_seq_cst); /* the name before the flag */
        g_have_remove = 1;
    }
}

int vr_stop_requested(void) { return (int)g_stop; }
