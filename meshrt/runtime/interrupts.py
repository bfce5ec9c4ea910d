"""Ctrl-C as a request to stop a run, told apart from algo code by how it arrives.

Algo code may raise KeyboardInterrupt or SystemExit itself: that is a crash of its
deployment like any other exception (meshrt/actors/instance.py). A real Ctrl-C is a
SIGINT delivered to the process: while a run is under way Trio receives it as a signal,
so no exception is raised anywhere, and the run stops at the next window boundary, after
a checkpoint when the run keeps them, with everything logged so far flushed. A second
Ctrl-C stops it at once (a resume then starts from the checkpoint before).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import trio


@contextlib.contextmanager
def sigint_receiver() -> Iterator[AsyncIterator[int] | None]:
    """SIGINT as a stream of signals (None off the main thread, where none arrive)."""
    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    with trio.open_signal_receiver(signal.SIGINT) as signals:
        yield signals


async def watch(
    signals: AsyncIterator[int], sequencer: Any, stop_now: trio.CancelScope, scope: trio.CancelScope
) -> None:
    """Until ``scope`` is cancelled: the first Ctrl-C asks the sequencer to stop after its
    window (with a checkpoint due then), the second cancels ``stop_now``."""
    with scope:
        async for _ in signals:
            if sequencer.interrupted:
                stop_now.cancel()
                return
            sequencer.interrupted = True
            sequencer.next_checkpoint = sequencer.seq
