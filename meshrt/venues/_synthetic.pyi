"""Types of the C extension meshrt/venues/_synthetic.c."""

from meshrt.venues.sources import SyntheticSpec

class SyntheticSource:
    """Seeded random-walk book: one snapshot, then ``updates - 1`` deltas with trades."""

    def __init__(self, spec: SyntheticSpec, start_ns: int = 0) -> None: ...
    @property
    def symbol(self) -> str: ...
    @property
    def spec(self) -> SyntheticSpec: ...
    @property
    def exhausted(self) -> bool: ...
    def peek_time(self) -> int | None:
        """Time of the next event, ``None`` once exhausted."""
    def batch(self, until: int) -> list[tuple]:
        """Every remaining event with ``ts < until``, in order; a later call continues."""
