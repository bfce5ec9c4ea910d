"""Exact text for fixed-point values and nanosecond times (no float rounding in output)."""

from __future__ import annotations

from meshrt.contract import PRICE_SCALE, SIZE_SCALE


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
