/* signals.c - records stop requests; nothing else happens in the handler. */
#include "signals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) { g_stop = sig; }

static void mask(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGINT);
    sigprocmask(how, &set, NULL);
}

void vr_signals_install(void)
{
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

int vr_stop_requested(void) { return (int)g_stop; }
