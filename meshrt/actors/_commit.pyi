"""Types of the Cython module meshrt/actors/_commit.pyx."""

from collections.abc import Callable, Sequence
from typing import Any, final

from meshrt.scenario.latency import LatencyStream
from meshrt.sdk import Book
from meshrt.venues.outputs import VenueOutput

def feed_fragments(source: str, venue: str, symbols: Sequence[str]) -> list[tuple[bytes, ...]]:
    """Per symbol, what a feed record holds between its times and its payload, escaped by
    orjson: ``"source","venue","symbol","kind",`` per feed kind (by number), then for a
    trade (the ``fragments`` of a ``FeedCommit``)."""

@final
class FeedCommit:
    """What the commit loop needs of one venue lane, built once per lane."""

    def __init__(
        self,
        fragments: list[tuple[bytes, ...]],
        last_book: list[Book | None],
        consolidated: list[bool],
        subscribers: list[list[Any]],
        quote: Callable[[int, int, Book], object],
        stream: LatencyStream,
    ) -> None: ...
    def commit(
        self, events: list[VenueOutput], start: int, stop: int, seq: int, lines: list[bytes] | None
    ) -> tuple[int, int]:
        """Commit ``events[start:stop]`` up to the first OrderReport; returns (its index,
        or ``stop``; the last seq id assigned). The stream's ``last`` is moved on."""
