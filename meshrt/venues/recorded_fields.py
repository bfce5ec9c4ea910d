"""The field rules of recorded data: exact decimal text to fixed point, sides, times, books.

One home for what a recorded value may be (docs/data.md, "Common rules"), shared by the
JSON-lines and CSV readers of meshrt/venues/recorded.py; the binary reader
(meshrt/venues/_recording.pyx) checks the same invariants on already-converted integers.
Every check raises ``Bad`` with the field's name; the reader adds file and line.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from meshrt.contract import PRICE_SCALE, SIZE_SCALE, Side
from meshrt.venues.events import FEED_SNAPSHOT, FeedEvent

BUY = Side.BUY
SELL = Side.SELL


class Bad(Exception):
    """A field problem found while parsing one line; the reader adds file and line."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason


class Inexact(Exception):
    """A JSON number arrived as a float; re-read the line with exact decimals."""


PRICE_PLACES = len(str(PRICE_SCALE)) - 1
SIZE_PLACES = len(str(SIZE_SCALE)) - 1
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?")
_INTEGER = re.compile(r"[+-]?\d+")
_SIDES = {"buy": BUY, "sell": SELL}
KINDS = ("snapshot", "delta", "trade")


def _decimal_to_fixed(value: Decimal, places: int) -> int:
    """Exact conversion; raises ValueError instead of rounding."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    if value.adjusted() > 18:
        raise ValueError(f"{value} is out of range")
    num, den = value.as_integer_ratio()
    scale: int = 10**places
    scaled, rest = divmod(num * scale, den)
    if rest:
        raise ValueError(f"{value} has more than {places} decimal places")
    if abs(scaled) > INT64_MAX:
        raise ValueError(f"{value} does not fit 64-bit fixed point")
    return scaled


@lru_cache(maxsize=1 << 12)
def _text_to_fixed(text: str, places: int) -> int:
    """Exact decimal text to fixed point; plain ``123.45`` is done on the digits."""
    whole, _, frac = text.partition(".")
    if whole.isdigit() and whole.isascii() and (not frac or (frac.isdigit() and frac.isascii())):
        if len(frac) > places:
            if frac[places:].strip("0"):
                raise ValueError(f"{text!r} has more than {places} decimal places")
            frac = frac[:places]
        value = int(whole + frac + "0" * (places - len(frac)))
        if value > INT64_MAX:
            raise ValueError(f"{text!r} does not fit 64-bit fixed point")
        return value
    if not _DECIMAL.fullmatch(text):  # signs, exponents, ".5": let Decimal do it
        raise ValueError(f"{text!r} is not a decimal number")
    return _decimal_to_fixed(Decimal(text), places)


def _fixed(value: object, places: int, field: str) -> int:
    try:
        if type(value) is str:
            return _text_to_fixed(value.strip(), places)
        if isinstance(value, bool):
            raise Bad(field, f"expected a number, got {value!r}")
        if isinstance(value, (int, Decimal)):
            return _decimal_to_fixed(Decimal(value), places)
    except ValueError as e:
        raise Bad(field, str(e)) from None
    if isinstance(value, float):
        raise Inexact
    raise Bad(field, f"expected a decimal string or number, got {type(value).__name__}")


def price(value: object, field: str = "price") -> int:
    price = _fixed(value, PRICE_PLACES, field)
    if price <= 0:
        raise Bad(field, f"price must be positive, got {value}")
    return price


def size(value: object, field: str = "size", *, zero_ok: bool = False) -> int:
    size = _fixed(value, SIZE_PLACES, field)
    if size < 0 or (size == 0 and not zero_ok):
        raise Bad(field, f"size must be {'>= 0' if zero_ok else 'positive'}, got {value}")
    return size


def side(value: object, field: str = "side") -> Side:
    side = _SIDES.get(value) if isinstance(value, str) else None
    if side is None:
        raise Bad(field, f"expected 'buy' or 'sell', got {value!r}")
    return side


def ts(value: object) -> int:
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            raise Bad("ts", f"{value} does not fit 64 bits")
        return value
    raise Bad("ts", f"expected integer nanoseconds, got {value!r}")


def book(ts: int, bids: dict[int, int], asks: dict[int, int], field: str) -> FeedEvent:
    """A snapshot event with both sides best first; refuses a crossed book."""
    bid_levels = tuple(sorted(bids.items(), reverse=True))
    ask_levels = tuple(sorted(asks.items()))
    if bid_levels and ask_levels and bid_levels[0][0] >= ask_levels[0][0]:
        raise Bad(
            field,
            f"crossed snapshot: best bid {bid_levels[0][0]} >= best ask {ask_levels[0][0]}"
            " (fixed point)",
        )
    return (ts, FEED_SNAPSHOT, bid_levels, ask_levels)


def add_level(book: dict[int, int], price: int, size: int, field: str) -> None:
    if price in book:
        raise Bad(field, f"duplicate snapshot level at price {price} (fixed point)")
    book[price] = size
