"""What a native crash or a stuck algo leaves behind: a line naming the deployment and
the callback that was running, on stderr and in the run folder's ``crash.txt``.

A segfault in a native algo cannot be contained (it is in this process), and a native
callback stuck in a loop cannot be interrupted (it holds the GIL; Ctrl-C waits for it).
Both are handled without the GIL, in plain C (meshrt/actors/_crashwatch.c): a
fatal-signal handler writes the line, then Python's faulthandler appends every thread's
traceback to crash.txt and the process ends with 128 + the signal (139 for SIGSEGV); a
watchdog thread, armed while an instance delivers a window's batch, ends the process
with ``EXIT_STUCK`` once one batch has run longer than the limit. Both fsync the replay log
first, so ``meshrt run --resume`` finishes the run from its last checkpoint, as after a
kill -9.
"""

from __future__ import annotations

import contextlib
import faulthandler
import shlex
from collections.abc import Iterator
from pathlib import Path

from meshrt.actors._deliver import guard, unguard

DEFAULT_SECONDS = 5.0  # far beyond any window's batch of a working algo
EXIT_STUCK = 3
CRASH_FILE = "crash.txt"


@contextlib.contextmanager
def guarded(run_dir: Path | None, log_fd: int, watchdog_s: float) -> Iterator[None]:
    """Name the running deployment on a fatal signal, and end a batch stuck longer than
    ``watchdog_s`` seconds (0: never), while the block runs."""
    crash_file = None
    enabled_here = False
    hint = "; the run stops"
    if run_dir is not None:
        crash_file = open(run_dir / CRASH_FILE, "ab")  # noqa: SIM115 - closed below
        if not faulthandler.is_enabled():  # else the host's (pytest's) keeps its file
            faulthandler.enable(crash_file)
            enabled_here = True
        hint += (
            f"; resume from its last checkpoint with: meshrt run --resume "
            f"{shlex.quote(str(run_dir))}"
        )
    guard(crash_file.fileno() if crash_file else -1, log_fd, hint, watchdog_s, EXIT_STUCK)
    try:
        yield
    finally:
        unguard()
        if enabled_here:
            faulthandler.disable()
        if crash_file is not None and run_dir is not None:  # both or neither
            crash_file.close()
            if not (run_dir / CRASH_FILE).stat().st_size:
                (run_dir / CRASH_FILE).unlink()
