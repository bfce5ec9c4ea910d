"""Types of the Cython module meshrt/actors/_commit.pyx."""

from collections.abc import Callable, Sequence
from typing import Any

def feed_fragments(source: str, venue: str, symbols: Sequence[str]) -> list[tuple[bytes, ...]]:
    """Per symbol, what a feed record holds between its times and its payload, escaped by
    orjson: ``"source","venue","symbol","kind",`` per feed kind (by number), then for a
    trade (the ``fragments`` argument of ``commit_feed``)."""

def commit_feed(
    events: list[tuple[Any, ...]],
    start: int,
    stop: int,
    seq: int,
    last: int,
    lines: list[bytes] | None,
    fragments: Sequence[tuple[bytes, ...]],
    dumps: Callable[[Any], bytes],
    last_book: list[Any],
    consolidated: Sequence[bool],
    quote: Callable[[int, int, Any], object],
    subscribers: Sequence[list[Any]],
    base: int,
    span: int,
    draw: Callable[[], float],
) -> tuple[int, int, int]:
    """Commit venue feed events ``events[start:stop]`` up to the first OUT_REPORT; returns
    (its index, or ``stop``; the last seq id assigned; the feed's last delivery time)."""
