"""Kraken's book for one pair: sorted levels, truncation to depth, and the CRC32 checksum.

Shared by the v2 and v1 readers of meshrt/venues/live/kraken.py. Each level keeps its
checksum fragment (price then qty, ``.`` removed, leading zeros stripped) made once when
the level is set, so the checksum after a message only joins the top 10 of each side.
The fragment comes from the wire's number text (Kraken: "pushed onto the wire containing
full precision"), or, once the pair's precision is known from the ``instrument`` channel,
from the fixed-point value formatted to that precision, which equals the wire text when it
is full precision and also holds when the text was re-serialized through a float
(``0.566`` for 0.5660): docs/live.md, "Kraken".
"""

from __future__ import annotations

import zlib
from bisect import bisect_left

from meshrt.contract import PRICE_SCALE, SIZE_SCALE
from meshrt.venues.events import FEED_SNAPSHOT, FeedEvent
from meshrt.venues.recorded_fields import INT64_MAX, PRICE_PLACES, SIZE_PLACES, Bad

CHECKSUM_LEVELS = 10
DEPTHS = (10, 25, 100, 500, 1000)


def raw_digits(text: str) -> str:
    """A number's wire text as the checksum wants it: ``.`` removed, leading zeros stripped."""
    return text.replace(".", "").lstrip("0")


class Precision:
    """A pair's price and qty decimals: fixed point to checksum digits, exactly or refused."""

    __slots__ = ("price_dp", "price_unit", "qty_dp", "qty_unit")

    def __init__(self, price_dp: int, qty_dp: int) -> None:
        if not (0 <= price_dp <= PRICE_PLACES and 0 <= qty_dp <= SIZE_PLACES):
            raise Bad("precision", f"{price_dp}/{qty_dp} decimals exceed the contract's")
        self.price_dp = price_dp
        self.qty_dp = qty_dp
        self.price_unit = PRICE_SCALE // 10**price_dp
        self.qty_unit = SIZE_SCALE // 10**qty_dp

    def digits(self, price: int, size: int) -> str:
        """Formatted to the precision, then ``.`` removed and leading zeros stripped."""
        p, p_rest = divmod(price, self.price_unit)
        q, q_rest = divmod(size, self.qty_unit)
        if p_rest:
            raise Bad("price", f"{price} (fixed point) has more than {self.price_dp} decimals")
        if q_rest:
            raise Bad("qty", f"{size} (fixed point) has more than {self.qty_dp} decimals")
        return f"{p}{q}"


class _Side:
    """One side: level by price, and the prices best first (bids kept as negated keys).

    ``top`` caches the checksum text of the first ten levels; a change below them (most
    of a deep book's updates) leaves it, so the checksum after such a message is free."""

    __slots__ = ("keys", "levels", "sign", "top")

    def __init__(self, sign: int) -> None:
        self.sign = sign  # 1 for asks (low first), -1 for bids (high first)
        self.levels: dict[int, tuple[int, str]] = {}
        self.keys: list[int] = []
        self.top: str | None = None  # None: one of the first ten levels changed

    def set(self, price: int, size: int, digits: str) -> bool:
        """Set or (size 0) remove a level; False when removing a level that is not there."""
        levels, keys = self.levels, self.keys
        if size:
            key = price * self.sign
            if price in levels:
                if levels[price][1] != digits and bisect_left(keys, key) < CHECKSUM_LEVELS:
                    self.top = None
            else:
                at = bisect_left(keys, key)
                keys.insert(at, key)
                if at < CHECKSUM_LEVELS:
                    self.top = None
            levels[price] = (size, digits)
            return True
        if levels.pop(price, None) is None:
            return False
        at = bisect_left(keys, price * self.sign)
        del keys[at]
        if at < CHECKSUM_LEVELS:
            self.top = None
        return True

    def load(self, levels: list[tuple[int, int, str]]) -> None:
        """Set an empty side from a snapshot's (price, size, digits), sorted once."""
        self.levels = {price: (size, digits) for price, size, digits in levels if size}
        self.keys = sorted([price * self.sign for price in self.levels])
        self.top = None

    def truncate(self, depth: int) -> list[int]:
        """Drop the levels past ``depth`` (at least ten: the checksum's levels stay); Kraken
        sends no delete for them."""
        keys = self.keys
        if len(keys) <= depth:
            return []
        gone = [key * self.sign for key in keys[depth:]]
        del keys[depth:]
        for price in gone:
            del self.levels[price]
        return gone

    def top_digits(self) -> str:
        top = self.top
        if top is None:
            levels, sign = self.levels, self.sign
            top = self.top = "".join([levels[key * sign][1] for key in self.keys[:CHECKSUM_LEVELS]])
        return top

    def best_first(self) -> tuple[tuple[int, int], ...]:
        levels, sign = self.levels, self.sign
        return tuple([(key * sign, levels[key * sign][0]) for key in self.keys])

    def best(self) -> int | None:
        return self.keys[0] * self.sign if self.keys else None


class KrakenBook:
    """One pair's book at the subscribed depth."""

    __slots__ = ("_crc", "asks", "bids", "depth", "precision")

    def __init__(self, depth: int, precision: Precision | None) -> None:
        if depth not in DEPTHS:
            raise ValueError(f"Kraken book depth must be one of {DEPTHS}, got {depth}")
        self.depth = depth
        self.precision = precision
        self.bids = _Side(-1)
        self.asks = _Side(1)
        self._crc: int | None = None  # of the tops as cached in the sides

    def reprecision(self, precision: Precision) -> None:
        """Remake every level's digits for a precision learned after the book was built."""
        self.precision = precision
        for side in (self.bids, self.asks):
            side.levels = {p: (s, precision.digits(p, s)) for p, (s, _) in side.levels.items()}
            side.top = None

    def truncate(self) -> tuple[list[int], list[int]] | None:
        """Cut both sides to the depth; the removed bid and ask prices, None if none."""
        depth = self.depth
        if len(self.bids.keys) <= depth and len(self.asks.keys) <= depth:
            return None
        return self.bids.truncate(depth), self.asks.truncate(depth)

    def checksum(self) -> int:
        """CRC32 of the top ten asks' then bids' digits, recomputed only when they changed."""
        asks, bids = self.asks, self.bids
        if asks.top is None or bids.top is None or self._crc is None:
            text = asks.top_digits() + bids.top_digits()
            self._crc = zlib.crc32(text.encode("ascii"))
        return self._crc

    def crossed(self) -> bool:
        bids, asks = self.bids.keys, self.asks.keys
        return bool(bids) and bool(asks) and -bids[0] >= asks[0]

    def snapshot(self, ts: int) -> FeedEvent:
        """The book as delivered: asks past the contract's price range are left out."""
        asks = self.asks.best_first()
        if asks and asks[-1][0] > INT64_MAX:
            asks = asks[: bisect_left(self.asks.keys, INT64_MAX + 1)]
        return (ts, FEED_SNAPSHOT, self.bids.best_first(), asks)

    def top(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        """Best bid and best ask as (price, size), None for an empty side."""
        bid, ask = self.bids.best(), self.asks.best()
        return (
            None if bid is None else (bid, self.bids.levels[bid][0]),
            None if ask is None else (ask, self.asks.levels[ask][0]),
        )

    def level_counts(self) -> tuple[int, int]:
        return len(self.bids.levels), len(self.asks.levels)
