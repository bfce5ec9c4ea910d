"""Types of the Cython module meshrt/sequencer/id_ranges.pyx."""

from array import array
from typing import final

@final
class IdRanges:
    """Used ids; adding one merges it with the ranges it touches."""

    def __contains__(self, value: object) -> bool: ...
    def __len__(self) -> int:
        """The number of ranges (not of ids): what the set costs."""
    def add(self, value: int) -> None:
        """Add an id; raises ValueError if it is already in the set."""
    def __reduce__(
        self,
    ) -> tuple[type[IdRanges], tuple[()], tuple[array[int], array[int]]]: ...
    def __setstate__(self, state: tuple[array[int], array[int]]) -> None: ...
