/* What is running, for a fatal-signal handler and a watchdog thread (no Python API).
 *
 * The instance actor (through meshrt/actors/_deliver.pyx) marks each batch it delivers
 * and the callback it is in; a fatal signal or a batch stuck past the watchdog's limit
 * then writes one line naming them (meshrt/runtime/watchdog.py says what follows). Both readers
 * run without the GIL, which a stuck native callback holds, so the marks are plain
 * stores, and a torn read can garble a name in the line, never crash the reader.
 */
#ifndef MESHRT_CRASHWATCH_H
#define MESHRT_CRASHWATCH_H

#include <stddef.h>

/* The callback running now (NULL: between callbacks); it must stay alive while set. */
extern const char *volatile crashwatch_callback;

static inline void crashwatch_set_callback(const char *name) {
    crashwatch_callback = name;
}

/* A deployment starts delivering a batch (arms the watchdog); `wasm`: its faults are
   wasmtime's traps, not crashes. The label is copied (at most 127 bytes). */
void crashwatch_batch(const char *label, size_t size, int wasm);

/* The batch is done (disarms the watchdog). */
void crashwatch_idle(void);

enum { CRASHWATCH_OK = 0, CRASHWATCH_ALREADY_GUARDED = -1, CRASHWATCH_NO_THREAD = -2 };

/* Until crashwatch_unguard(): a fatal signal, or a batch that runs longer than
   `watchdog_seconds` (<= 0: no watchdog; the process ends with `exit_code`), writes
   the line to stderr and to `crash_fd` (-1: none), after fsync(log_fd) (-1: none).
   `resume_hint` ends the line (copied, at most 4095 bytes). On failure nothing is
   installed. */
int crashwatch_guard(int crash_fd, int log_fd, const char *resume_hint,
                     double watchdog_seconds, int exit_code);

/* Stops the watchdog thread (joins it: call without the GIL) and restores the signal
   handlers that were installed before crashwatch_guard. */
void crashwatch_unguard(void);

#endif
