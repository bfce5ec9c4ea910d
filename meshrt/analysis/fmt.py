"""Exact text for fixed-point values and nanosecond times (no float rounding in output),
durations as people write them (``100ms``, read back by ``parse_duration``), and the
names of logged enum values."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from meshrt.contract import PRICE_SCALE, SIZE_SCALE, ActionKind, Side, TimeInForce


def fixed(value: int, scale: int, min_decimals: int = 2) -> str:
    """``value / scale`` written exactly, trailing zeros trimmed to ``min_decimals``."""
    digits = len(str(scale)) - 1
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), scale)
    text = f"{frac:0{digits}d}".rstrip("0")
    text = text.ljust(min_decimals, "0")
    return f"{sign}{whole}.{text}" if text else f"{sign}{whole}"


def price(value: int | None) -> str:
    return "-" if value is None else fixed(value, PRICE_SCALE)


def size(value: int) -> str:
    return fixed(value, SIZE_SCALE)


def half_price(mid2: int | None) -> str:
    """A mid stored as twice its value (bid + ask), written exactly."""
    return "-" if mid2 is None else fixed(mid2 * 5, 10 * PRICE_SCALE)


def ns(ts: int) -> str:
    """Nanoseconds as seconds with all nine decimals: every nanosecond stays visible."""
    sign = "-" if ts < 0 else ""
    whole, frac = divmod(abs(ts), 1_000_000_000)
    return f"{sign}{whole}.{frac:09d}"


# a duration's units, longest first; a bare number is seconds
DURATION_UNITS: dict[str, int] = {
    "h": 3_600_000_000_000,
    "min": 60_000_000_000,
    "s": 1_000_000_000,
    "ms": 1_000_000,
    "us": 1_000,
    "ns": 1,
}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(" + "|".join(DURATION_UNITS) + ")?")


def duration(value: int) -> str:
    """Nanoseconds in the longest unit that writes them whole: ``100ms``, ``10s``, ``1min``."""
    unit, scale = next((u, n) for u, n in DURATION_UNITS.items() if value % n == 0)
    return f"{value // scale}{unit}"


def parse_duration(text: str) -> int:
    """``100ms``, ``1.5s``, ``2min``, ``250us``, ``10`` (seconds) as whole nanoseconds;
    ValueError names what is wrong."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        units = ", ".join(DURATION_UNITS)
        raise ValueError(f"not a duration: {text!r} (a number and a unit: {units}; none: s)")
    number, unit = match.groups()
    ns = Fraction(number) * DURATION_UNITS[unit or "s"]
    if ns.denominator != 1:
        raise ValueError(f"not a whole number of nanoseconds: {text!r}")
    return int(ns)


def maybe_price(value: Any) -> str:
    """A logged price as text, or its repr when it is not an int (a malformed record)."""
    return price(value) if isinstance(value, int) else repr(value)


def maybe_size(value: Any) -> str:
    """A logged size as text, or its repr when it is not an int (a malformed record)."""
    return size(value) if isinstance(value, int) else repr(value)


def enum_name(enum: Any, value: Any) -> str:
    """The member name of a logged enum value, or its repr when it names none."""
    try:
        return str(enum(value).name)
    except (ValueError, TypeError):
        return repr(value)


def new_order(kind: Any, side: Any, tif: Any, order_price: Any, order_size: Any) -> str:
    """A new order as the algo asked for it, e.g. ``LIMIT BUY 1.00 @ 99.00 GTC``."""
    kind_name = enum_name(ActionKind, kind)
    side_name = enum_name(Side, side)
    size_text = maybe_size(order_size)
    if kind == ActionKind.MARKET:
        return f"{kind_name} {side_name} {size_text}"
    tif_name = enum_name(TimeInForce, tif)
    return f"{kind_name} {side_name} {size_text} @ {maybe_price(order_price)} {tif_name}"
