"""Types of the Cython module meshrt/sequencer/_window.pyx."""

from collections.abc import Callable
from typing import Any, final

from meshrt.actors.protocol import Output
from meshrt.sequencer._merge import VenueMerge
from meshrt.sequencer.schedule import Control
from meshrt.venues.outputs import VenueOutput

@final
class WindowDriver:
    """Virtual time's windows run back to back in C (one per run, never pickled)."""

    def __init__(
        self,
        sequencer: Any,
        venues: VenueMerge,
        commit_control: Callable[[list[tuple[int, Control]], int, int], None],
    ) -> None: ...
    def next_time(self) -> int | None:
        """When the next window starts (None: nothing left)."""
    def due_before(self, until: int) -> bool:
        """Something falls due before ``until`` (a live window's next round)."""
    def window_end(self, start: int) -> int:
        """The window's end: the lookahead on, cut at the run's end and at a restart."""
    def take_due(self, until: int) -> list[tuple[int, Control]]:
        """The controls (and heartbeats) due in the window."""
    def open_window(self) -> tuple[int, int, list[tuple[int, Control]]] | None:
        """The next window, opened: (start, until, its controls), or None at the end."""
    def close_window(self, start: int) -> None:
        """A window is done: equity marks when due, the window counted."""
    def run_windows(self, stop_seq: int) -> int | None:
        """Run stepped windows until the end (None), a 64th window or a checkpoint due."""
    def round(self, until: int, control: list[tuple[int, Control]]) -> None:
        """One stepped window: the actors' steps, the commit, the routing, the log."""
    writes_deferred: bool  # paper mode: the live loop calls ``write_check`` itself
    def end_window(self) -> None:
        """A window is committed: the log writes what waits if it has waited long enough
        (unless ``writes_deferred``; every window under an fsync policy)."""
    def write_check(self) -> None:
        """The log writes what waits if it has waited long enough."""
    def commit(
        self,
        control: list[tuple[int, Control]],
        venue_events: list[list[VenueOutput]],
        outputs: list[Output],
    ) -> None:
        """Commit one window's sorted streams in the deterministic order."""
