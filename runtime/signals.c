/* signals.c - records stop requests; nothing else happens in the handler. */
#include "signals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) { g_stop = sig; }

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
}

int vr_stop_requested(void) { return (int)g_stop; }
