"""Types of the Cython module meshrt/sequencer/_arrivals.pyx."""

from typing import Any

import trio

from meshrt.sequencer._live import LiveStepper, WallClock
from meshrt.venues.live.verdicts import Received

SINK_CAPACITY: int

class Arrivals:
    """What the live venues' sessions sent since the last window, and its cut."""

    clock: WallClock
    pending: list[list[Received]]
    start: int
    wait_until: int
    blocked: int
    wake: trio.Event
    drained: trio.Event
    def __init__(self, clock: WallClock, venues: int) -> None: ...
    @property
    def wall_ns(self) -> int:
        """Time 0 on the wall clock (epoch ns)."""
    def bind(self, sequencer: Any, driver: Any) -> None:
        """The run whose windows these are."""
    def lend(self, stepper: LiveStepper | None) -> None:
        """The loop waits (``stepper``) or cuts again itself (None)."""
    def sink(self, index: int) -> VenueSink:
        """What venue ``index``'s sessions send into."""
    def over(self, now: int) -> bool:
        """Whether the run is over at ``now``: Ctrl-C, or its end reached."""
    def cut(self) -> tuple[int, int, list[list[Received]]] | None:
        """The window to run now as (start, until, items), if any."""
    def next_due(self) -> int | None:
        """When work falls due (None: nothing does)."""

class VenueSink:
    """What one live venue's sessions send into (``ReceivedSink``)."""

    def __init__(self, arrivals: Arrivals, index: int) -> None: ...
    def send_nowait(self, item: Received) -> None:
        """Hand over ``item``; raises ``trio.WouldBlock`` when the venue is full."""
    async def send(self, item: Received) -> None:
        """Hand over ``item``, waiting while the venue is full."""
