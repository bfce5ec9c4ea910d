"""A set of u64 ids held as sorted, disjoint, inclusive ranges.

Ids an algo or the runtime hands out mostly increase by one, so the set of every id
ever used is a handful of ranges however long a run is: memory follows the gaps, not
the count. Two machine-word arrays keep it compact in memory and in checkpoints.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right


class IdRanges:
    """Used ids; adding one merges it with the ranges it touches."""

    __slots__ = ("_starts", "_ends")

    def __init__(self) -> None:
        self._starts = array("Q")  # first id of each range, ascending
        self._ends = array("Q")  # last id of each range (inclusive: UINT64_MAX fits)

    def __contains__(self, value: int) -> bool:
        i = bisect_right(self._starts, value) - 1
        return i >= 0 and value <= self._ends[i]

    def __len__(self) -> int:
        """The number of ranges (not of ids): what the set costs."""
        return len(self._starts)

    def add(self, value: int) -> None:
        """Add an id; raises ValueError if it is already in the set."""
        starts, ends = self._starts, self._ends
        i = bisect_right(starts, value) - 1  # the range starting at or before value
        if i >= 0 and value <= ends[i]:
            raise ValueError(f"id {value} is already used")
        joins_left = i >= 0 and ends[i] + 1 == value
        joins_right = i + 1 < len(starts) and starts[i + 1] == value + 1
        if joins_left and joins_right:
            ends[i] = ends[i + 1]
            del starts[i + 1], ends[i + 1]
        elif joins_left:
            ends[i] = value
        elif joins_right:
            starts[i + 1] = value
        else:
            starts.insert(i + 1, value)
            ends.insert(i + 1, value)
