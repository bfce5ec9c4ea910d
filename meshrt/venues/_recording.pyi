"""Types of the Cython extension meshrt/venues/_recording.pyx."""

from typing import Any, final

from meshrt.venues.events import FeedEvent
from meshrt.venues.specs import RecordedSpec

@final
class BinarySource:
    """Replays a ``.mrec`` recording; ``resume`` is where a pickled source stopped."""

    def __init__(self, spec: RecordedSpec, resume: tuple[int, int, int] | None = None) -> None: ...
    def __reduce__(self) -> tuple[Any, ...]: ...
    @property
    def symbol(self) -> str: ...
    @property
    def spec(self) -> RecordedSpec: ...
    @property
    def exhausted(self) -> bool: ...
    def peek_time(self) -> int | None:
        """Time of the next event, ``None`` once exhausted."""
    def batch(self, until: int) -> list[FeedEvent]:
        """Every remaining event with ``ts < until``, in order; a later call continues."""
    def close(self) -> None:
        """Release the file before the end of the data."""
