/* The fatal-signal handler and the watchdog thread of meshrt/actors/_crashwatch.h.
 *
 * Plain C with no Python API: the handler must be async-signal-safe (write(2) and
 * fsync(2) only: no allocation, no locks) and the thread must run without the GIL.
 */
#include "_crashwatch.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *volatile crashwatch_callback;
static char running_label[128];
static volatile uint64_t batches_started;
static volatile int delivering; /* a batch is being delivered: the watchdog is armed */
static volatile int delivering_wasm; /* to a WASM algo: wasmtime's traps are signals too */

void crashwatch_batch(const char *label, size_t size, int wasm) {
    if (size > sizeof running_label - 1)
        size = sizeof running_label - 1;
    memcpy(running_label, label, size);
    running_label[size] = 0;
    delivering_wasm = wasm;
    batches_started++;
    delivering = 1;
}

void crashwatch_idle(void) {
    delivering = 0;
    crashwatch_callback = NULL;
}

/* -- the line ----------------------------------------------------------------------- */

/* Async-signal-safe output: write(2) only. */
static void put(int fd, const char *text) {
    size_t n = strlen(text);
    while (n) {
        ssize_t w = write(fd, text, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        text += w;
        n -= (size_t)w;
    }
}

static int crash_fd = -1, log_fd = -1;
static char resume_hint[4096]; /* "; resume with: ..." or why not, set by the runtime */

static void say_running(int fd, const char *what) {
    const char *callback = crashwatch_callback;
    put(fd, "meshrt: ");
    put(fd, what);
    if (running_label[0]) {
        put(fd, callback ? " in deployment '" : " (no algo callback running; last deployment '");
        put(fd, running_label);
        put(fd, callback ? "', callback " : "')");
        if (callback)
            put(fd, callback);
    }
    put(fd, resume_hint);
    put(fd, "\n");
}

static void say_everywhere(const char *what) {
    say_running(2, what);
    if (crash_fd >= 0)
        say_running(crash_fd, what);
    if (log_fd >= 0)
        fsync(log_fd); /* every window written so far, as a checkpoint would */
}

/* -- fatal signals ------------------------------------------------------------------ */

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define N_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])
static struct sigaction previous[N_FATAL];
static int fatal_installed;

static const char *fatal_name(int signum) {
    return signum == SIGSEGV ? "fatal signal SIGSEGV"
           : signum == SIGBUS ? "fatal signal SIGBUS"
           : signum == SIGFPE ? "fatal signal SIGFPE"
           : signum == SIGILL ? "fatal signal SIGILL" : "fatal signal SIGABRT";
}

/* Handlers installed before this one (wasmtime's, which turns a WASM algo's fault into a
   trap and returns; faulthandler's, which dumps the Python tracebacks and re-raises) get
   the signal after the line is written; a default action is restored and the faulting
   instruction re-runs into it (exit status 128 + signum). A fault while a WASM algo runs
   is wasmtime's to judge: no line. */
static void on_fatal(int signum, siginfo_t *info, void *context) {
    struct sigaction *before = &previous[0];
    for (size_t i = 0; i < N_FATAL; i++)
        if (fatal_signals[i] == signum)
            before = &previous[i];
    if (!(delivering && delivering_wasm))
        say_everywhere(fatal_name(signum));
    if (before->sa_flags & SA_SIGINFO)
        before->sa_sigaction(signum, info, context);
    else if (before->sa_handler != SIG_DFL && before->sa_handler != SIG_IGN)
        before->sa_handler(signum);
    else {
        sigaction(signum, before, NULL);
        if (signum == SIGABRT || (info && info->si_code <= 0))
            raise(signum); /* sent, not a faulting instruction: it would not re-run */
    }
}

static void restore_fatal_handlers(void) {
    for (size_t i = 0; i < N_FATAL; i++)
        sigaction(fatal_signals[i], &previous[i], NULL);
    fatal_installed = 0;
}

/* -- the watchdog ------------------------------------------------------------------- */

static pthread_t watchdog_thread;
static pthread_mutex_t watchdog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watchdog_wake = PTHREAD_COND_INITIALIZER;
static int watchdog_running, watchdog_stopping, watchdog_exit_code;
static int64_t watchdog_timeout_ns;
static char watchdog_what[96];

static int64_t monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void *watchdog_main(void *unused) {
    (void)unused;
    uint64_t seen = batches_started;
    int64_t since = monotonic_ns(), period = watchdog_timeout_ns / 4;
    if (period > 250000000)
        period = 250000000;
    pthread_mutex_lock(&watchdog_lock);
    while (!watchdog_stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + period;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&watchdog_wake, &watchdog_lock, &until);
        int64_t now = monotonic_ns();
        if (!delivering || batches_started != seen) {
            seen = batches_started;
            since = now;
        } else if (now - since >= watchdog_timeout_ns && !watchdog_stopping) {
            say_everywhere(watchdog_what);
            _exit(watchdog_exit_code); /* a stuck C call cannot be interrupted */
        }
    }
    pthread_mutex_unlock(&watchdog_lock);
    return NULL;
}

/* -- guard -------------------------------------------------------------------------- */

int crashwatch_guard(int crash, int log, const char *hint, double seconds, int exit_code) {
    if (fatal_installed || watchdog_running)
        return CRASHWATCH_ALREADY_GUARDED;
    crash_fd = crash;
    log_fd = log;
    snprintf(resume_hint, sizeof resume_hint, "%s", hint);
    running_label[0] = 0;
    crashwatch_callback = NULL;
    delivering = 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fatal;
    action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < N_FATAL; i++)
        sigaction(fatal_signals[i], &action, &previous[i]);
    fatal_installed = 1;
    if (seconds > 0) {
        watchdog_timeout_ns = (int64_t)(seconds * 1e9);
        watchdog_exit_code = exit_code;
        watchdog_stopping = 0;
        snprintf(watchdog_what, sizeof watchdog_what,
                 "watchdog: a window made no progress for %g s", seconds);
        if (pthread_create(&watchdog_thread, NULL, watchdog_main, NULL) != 0) {
            restore_fatal_handlers();
            crash_fd = log_fd = -1;
            return CRASHWATCH_NO_THREAD;
        }
        watchdog_running = 1;
    }
    return CRASHWATCH_OK;
}

void crashwatch_unguard(void) {
    if (watchdog_running) {
        pthread_mutex_lock(&watchdog_lock);
        watchdog_stopping = 1;
        pthread_cond_signal(&watchdog_wake);
        pthread_mutex_unlock(&watchdog_lock);
        pthread_join(watchdog_thread, NULL);
        watchdog_running = 0;
    }
    if (fatal_installed)
        restore_fatal_handlers();
    crash_fd = log_fd = -1;
}
