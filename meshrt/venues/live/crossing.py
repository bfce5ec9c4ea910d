"""The crossed-book rule, one home for every live adapter (docs/live.md, "Crossed books").

Diff streams can cross briefly (one side's change arrives a message before the other's),
so a symbol's book that is crossed (best bid >= best ask) after a message is tolerated for
a grace period of receive time, and resynced if it is still crossed after it:

* A message that leaves the book crossed begins a crossing (counted) or continues one.
  While crossed the adapter keeps applying (and verifying) every message, but delivers
  none of the book's events: the venue keeps the last uncrossed book, so neither its
  matching engine nor an algo ever sees a crossed book. Trades still go out.
* A message that uncrosses the book within the grace ends the crossing: the whole book
  goes out as one ``FEED_SNAPSHOT`` (the deltas held back cannot be delivered one by one
  without crossing the venue's book on the way).
* At any frame whose receive time is more than ``grace_ns`` after a crossing began,
  that symbol is resynced (``Why.CROSSED``), whether or not the frame is its own.
"""

from __future__ import annotations

import enum
from typing import Final

# Binance diffs come every 100 ms and Coinbase's level2_batch every 50 ms: a crossing from
# one side's change arriving first heals within a message or two, and 500 ms allows
# several while keeping the venue on its last uncrossed book for at most half a second
CROSSED_GRACE_NS: Final = 500_000_000


class Crossing(enum.Enum):
    """What a symbol's book after a message means for its delivery."""

    CLEAR = "not crossed: deliver the message's events"
    UNCROSSED = "uncrossed within the grace: deliver the whole book as a snapshot"
    CROSSED = "crossed by this message: deliver none of the book (a crossing counted)"
    HELD = "still crossed within the grace: deliver none of the book"


class CrossedClock:
    """When each crossed book of one connection crossed, keyed by exchange symbol."""

    __slots__ = ("grace_ns", "since")

    def __init__(self, grace_ns: int) -> None:
        if grace_ns < 0:
            raise ValueError(f"crossed_grace_ns must be >= 0, got {grace_ns}")
        self.grace_ns = grace_ns
        self.since: dict[str, int] = {}  # only the symbols crossed now

    def check(self, key: str, crossed: bool, ts: int) -> Crossing:
        """The verdict on ``key``'s book after a message received at ``ts``
        (``expired(ts)`` ran first for the frame)."""
        since = self.since
        if not crossed:
            if key not in since:
                return Crossing.CLEAR
            del since[key]
            return Crossing.UNCROSSED
        if key in since:
            return Crossing.HELD
        since[key] = ts
        return Crossing.CROSSED

    def held(self, key: str) -> bool:
        return key in self.since

    def forget(self, key: str) -> None:
        """``key``'s book is dropped (a resync): its crossing, if any, ends with it."""
        self.since.pop(key, None)

    def expired(self, ts: int) -> list[tuple[str, str]]:
        """The symbols crossed for more than the grace at ``ts``, each with a resync
        detail, forgotten; call it first for every frame (cheap when nothing is crossed)."""
        since = self.since
        if not since:
            return []
        limit = ts - self.grace_ns
        gone = [(key, at) for key, at in since.items() if at < limit]
        for key, _ in gone:
            del since[key]
        return [
            (key, f"crossed since {at} ns, past the {self.grace_ns} ns grace at {ts} ns")
            for key, at in gone
        ]
