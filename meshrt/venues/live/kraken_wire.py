"""Kraken's wire values: frame text to JSON with every number's text kept, and a price
or qty text to the contract's fixed point with its checksum digits (meshrt/venues/live/
kraken.py reads frames with them; docs/live.md, "Kraken"). The common frame and plain
number text are read in C (_kraken_scan.pyx, for _kraken_rule.pyx); any other value here.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypeAlias

import orjson

from meshrt.venues.live._kraken_book import raw_digits
from meshrt.venues.recorded_fields import INT64_MAX, PRICE_PLACES, Bad, price, size

MEMO = 1 << 16  # distinct price or qty texts remembered before a memo starts over
# JSON numbers keep their text (never a float): the checksum and fixed point both need it
decode = json.JSONDecoder(parse_float=str).decode  # an int keeps its digits as an int
# v1 frames carry every price and volume as a string: orjson reads them, several times
# faster; a v1 level holding a JSON number instead is read again exactly (Float)
decode_v1 = orjson.loads

Levels: TypeAlias = list[tuple[Any, Any]]


class Float(Exception):
    """A v1 value that orjson read as a number: read the frame again exactly."""


def texts(bids: Levels, asks: Levels) -> None:
    """Raise Float, before anything is applied or counted, if a value is not text."""
    for levels in (bids, asks):
        for p, q in levels:
            if type(p) is not str or type(q) is not str:
                raise Float


class Values:
    """Fixed point and checksum digits of price and qty texts, remembered (a bounded memo
    of recorded_fields.price and size, the rule's one home: book prices repeat)."""

    __slots__ = ("prices", "sizes")

    def __init__(self) -> None:
        self.prices: dict[Any, tuple[int, str]] = {}
        self.sizes: dict[Any, tuple[int, str]] = {}

    def price(self, value: Any) -> tuple[int, str]:
        prices = self.prices
        if len(prices) >= MEMO:
            prices.clear()
        try:
            fixed = price(value)
        except Bad:
            fixed = far_ask(value)  # the caller refuses it on the bid side
        prices[value] = entry = (fixed, raw_digits(str(value)))
        return entry

    def size(self, value: Any) -> tuple[int, str]:
        sizes = self.sizes
        if len(sizes) >= MEMO:
            sizes.clear()
        sizes[value] = entry = (size(value, "qty", zero_ok=True), raw_digits(str(value)))
        return entry


def far_ask(value: Any) -> int:
    """The exact fixed point of an ask too far from any market for the contract's int64
    price (XBT/CHF at 9999999997 in the real capture): kept so truncation and the checksum
    stay exact, never delivered; the delivered book is the book up to the contract's
    highest price, a cut like the depth's. Any other refusal of the value stands."""
    try:
        scaled = Decimal(str(value)).scaleb(PRICE_PLACES)
    except ArithmeticError:
        scaled = Decimal("NaN")
    if scaled.is_finite() and scaled > INT64_MAX and scaled == scaled.to_integral_value():
        return int(scaled)
    return price(value)  # raises Bad with its own reason


def field_of(error: Exception) -> str:
    """The field a KeyError names, else the kind of problem."""
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    return "structure"
