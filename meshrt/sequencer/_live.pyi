"""Types of the Cython module meshrt/sequencer/_live.pyx."""

from typing import Any, final

from meshrt.actors.live_venue import LiveVenueActor
from meshrt.venues.live.verdicts import Received

class WallClock:
    """ns since the run began, from the monotonic clock, anchored to wall time once."""

    @property
    def wall_ns(self) -> int:
        """Time 0 on the wall clock (epoch ns)."""
    def __call__(self) -> int: ...

def live_window(seq: int, start: int, until: int) -> bytes:
    """records.live_window(seq, start, until), written in C."""

@final
class LiveStepper:
    """One live window of a stepped run: hand-over, rounds, close."""

    end: int
    def __init__(self, sequencer: Any, live: list[LiveVenueActor | None]) -> None: ...
    def hand(self, start: int, until: int, items: list[list[Received]]) -> None:
        """Give each live venue its items and log the window's bounds."""
    def window(self, start: int, until: int, items: list[list[Received]]) -> None:
        """The whole window: hand-over, rounds, close."""
    def close(self, start: int, until: int) -> None:
        """Equity marks when due, the window counted."""
