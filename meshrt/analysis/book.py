"""The displayed book of one venue symbol, rebuilt from the log's feed records.

The log keeps the feed, not the books the venue built from it, so analysis replays
snapshots and deltas to know the touch at any seq. This is the *feed's* book: it does
not subtract the displayed size an algo's taker fills consumed inside the matching
engine (that copy is restored by the feed's next update of the level anyway).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from typing import Any

from meshrt.contract import Side

_BUY = int(Side.BUY)


class FeedBook:
    """Levels by price per side and the best price of each, kept incrementally."""

    __slots__ = ("bids", "asks", "best_bid", "best_ask")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.best_bid: int | None = None
        self.best_ask: int | None = None

    def apply(self, kind: str, payload: list[Any]) -> None:
        """Apply one feed record (``snapshot`` or ``delta``; a ``trade`` changes nothing)."""
        if kind == "delta":
            self.delta(payload[0], payload[1], payload[2])
        elif kind == "snapshot":
            self.snapshot(payload[0], payload[1])

    def snapshot(self, bids: list[list[int]], asks: list[list[int]]) -> None:
        self.bids = {price: size for price, size in bids if size > 0}
        self.asks = {price: size for price, size in asks if size > 0}
        self.best_bid = max(self.bids) if self.bids else None
        self.best_ask = min(self.asks) if self.asks else None

    def delta(self, side: int, price: int, size: int) -> None:
        if side == _BUY:
            levels, best = self.bids, self.best_bid
            if size > 0:
                levels[price] = size
                if best is None or price > best:
                    self.best_bid = price
            elif levels.pop(price, None) is not None and price == best:
                self.best_bid = max(levels) if levels else None
        else:
            levels, best = self.asks, self.best_ask
            if size > 0:
                levels[price] = size
                if best is None or price < best:
                    self.best_ask = price
            elif levels.pop(price, None) is not None and price == best:
                self.best_ask = min(levels) if levels else None

    def mid2(self) -> int | None:
        """Twice the mid (best bid + best ask): exact in integers; None if a side is empty."""
        if self.best_bid is None or self.best_ask is None:
            return None
        return self.best_bid + self.best_ask


NO_MID = -1  # in a MidSeries: a side of the book was empty from this time on


class MidSeries:
    """(time, twice the mid) at every change of one book, for lookups by time.

    Only changes are kept and a later value at the same time replaces the earlier one,
    so a lookup sees the book after everything that happened at that instant.
    """

    __slots__ = ("times", "mids")

    def __init__(self) -> None:
        self.times = array("q")
        self.mids = array("q")

    def record(self, ts: int, mid2: int | None) -> None:
        value = NO_MID if mid2 is None else mid2
        times, mids = self.times, self.mids
        if times:
            if mids[-1] == value:
                return
            if times[-1] == ts:
                mids[-1] = value
                if len(mids) > 1 and mids[-2] == value:
                    del times[-1], mids[-1]
                return
        times.append(ts)
        mids.append(value)

    def at(self, ts: int) -> int | None:
        """Twice the mid of the book as of ``ts`` (after every event at ``ts``), or None."""
        k = bisect_right(self.times, ts) - 1
        if k < 0:
            return None
        value = self.mids[k]
        return None if value == NO_MID else value
