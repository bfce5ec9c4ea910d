"""Types of the Cython module meshrt/sequencer/_merge.pyx."""

from collections.abc import Callable
from typing import final

from meshrt.actors._commit import FeedCommit
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import VenueLane
from meshrt.venues.outputs import LiveNote, VenueOutput
from meshrt.venues.reports import VenueReport

@final
class VenueMerge:
    """The venues' streams of one window, committed as one stream in the merge order."""

    last: int | None  # the latest event time loaded, None when none
    def __init__(
        self,
        commits: list[FeedCommit],
        lanes: list[VenueLane],
        commit_report: Callable[[VenueLane, int, VenueReport], None],
        commit_note: Callable[[VenueLane, LiveNote], None],
        journal: Journal,
    ) -> None: ...
    def load(self, streams: list[list[VenueOutput]], lines: list[bytes] | None) -> None:
        """Take a window's venue streams (one sorted list per venue index) and the replay
        log's line list (None when nothing is logged)."""
    def head(self) -> int | None:
        """The time of the next event to commit, or None when none is left."""
    def commit_until(self, limit: int | None) -> None:
        """Commit every loaded event before ``limit`` (None: all) in the merge order."""
