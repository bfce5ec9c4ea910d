"""Recorded market data: a user's JSON-lines or CSV file replayed as feed events.

Streamed and parsed one event ahead of the venue, converted exactly to fixed point
(prices 1e-9, sizes 1e-8: never through a float), and checked line by line; a bad line is
a ``SourceError`` naming the file, line and field. Formats: docs/data.md. The spec that
names a file is ``meshrt.venues.sources.RecordedSpec``.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Generator
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from meshrt.contract import PRICE_SCALE, SIZE_SCALE, Side
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE, FeedEvent

if TYPE_CHECKING:
    from meshrt.venues.sources import RecordedSpec

BUY = Side.BUY
SELL = Side.SELL


class SourceError(ValueError):
    """Bad recorded data: says which file, line and field, and what is wrong."""

    def __init__(self, path: str, line: int | None, field: str, reason: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {field}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.line, self.field, self.reason))


class _Bad(Exception):
    """A field problem found while parsing one line; the reader adds file and line."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason


class _Inexact(Exception):
    """A JSON number arrived as a float; re-read the line with exact decimals."""


EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


PRICE_PLACES = len(str(PRICE_SCALE)) - 1
SIZE_PLACES = len(str(SIZE_SCALE)) - 1
_INT64_MAX = 2**63 - 1
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?")
_INTEGER = re.compile(r"[+-]?\d+")
_SIDES = {"buy": BUY, "sell": SELL}
_KINDS = ("snapshot", "delta", "trade")


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
    if abs(scaled) > _INT64_MAX:
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
        if value > _INT64_MAX:
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
            raise _Bad(field, f"expected a number, got {value!r}")
        if isinstance(value, (int, Decimal)):
            return _decimal_to_fixed(Decimal(value), places)
    except ValueError as e:
        raise _Bad(field, str(e)) from None
    if isinstance(value, float):
        raise _Inexact
    raise _Bad(field, f"expected a decimal string or number, got {type(value).__name__}")


def _price(value: object, field: str = "price") -> int:
    price = _fixed(value, PRICE_PLACES, field)
    if price <= 0:
        raise _Bad(field, f"price must be positive, got {value}")
    return price


def _size(value: object, field: str = "size", *, zero_ok: bool = False) -> int:
    size = _fixed(value, SIZE_PLACES, field)
    if size < 0 or (size == 0 and not zero_ok):
        raise _Bad(field, f"size must be {'>= 0' if zero_ok else 'positive'}, got {value}")
    return size


def _side(value: object, field: str = "side") -> Side:
    side = _SIDES.get(value) if isinstance(value, str) else None
    if side is None:
        raise _Bad(field, f"expected 'buy' or 'sell', got {value!r}")
    return side


def _ts(value: object) -> int:
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _Bad("ts", f"expected integer nanoseconds, got {value!r}")


def _book(ts: int, bids: dict[int, int], asks: dict[int, int], field: str) -> FeedEvent:
    """A snapshot event with both sides best first; refuses a crossed book."""
    bid_levels = tuple(sorted(bids.items(), reverse=True))
    ask_levels = tuple(sorted(asks.items()))
    if bid_levels and ask_levels and bid_levels[0][0] >= ask_levels[0][0]:
        raise _Bad(
            field,
            f"crossed snapshot: best bid {bid_levels[0][0]} >= best ask {ask_levels[0][0]}"
            " (fixed point)",
        )
    return (ts, FEED_SNAPSHOT, bid_levels, ask_levels)


def _add_level(book: dict[int, int], price: int, size: int, field: str) -> None:
    if price in book:
        raise _Bad(field, f"duplicate snapshot level at price {price} (fixed point)")
    book[price] = size


def _get(obj: dict[str, Any], name: str) -> Any:
    try:
        return obj[name]
    except KeyError:
        raise _Bad(name, "missing") from None


def _json_levels(obj: dict[str, Any], name: str) -> dict[int, int]:
    levels = _get(obj, name)
    if not isinstance(levels, list):
        raise _Bad(name, f"expected a list of [price, size], got {type(levels).__name__}")
    book: dict[int, int] = {}
    for i, level in enumerate(levels):
        where = f"{name}[{i}]"
        if not isinstance(level, list) or len(level) != 2:
            raise _Bad(where, f"expected [price, size], got {level!r}")
        _add_level(book, _price(level[0], where + ".price"), _size(level[1], where + ".size"),
                   where + ".price")  # fmt: skip
    return book


def _json_event(obj: object, offset: int) -> FeedEvent:
    if type(obj) is not dict:
        raise _Bad("json", f"expected an object, got {type(obj).__name__}")
    try:
        ts = obj["ts"]
        ts = (ts if type(ts) is int else _ts(ts)) + offset
        kind = obj["type"]
        if kind == "delta":
            return (ts, FEED_DELTA, _side(obj["side"]), _price(obj["price"]),
                    _size(obj["size"], zero_ok=True))  # fmt: skip
        if kind == "trade":
            return (ts, FEED_TRADE, _side(obj["side"]), _price(obj["price"]),
                    _size(obj["size"]))  # fmt: skip
        if kind == "snapshot":
            return _book(ts, _json_levels(obj, "bids"), _json_levels(obj, "asks"), "asks")
    except KeyError as e:
        raise _Bad(str(e.args[0]), "missing") from None
    raise _Bad("type", f"unknown type {kind!r} (expected one of {', '.join(_KINDS)})")


def _reject_constant(name: str) -> None:
    raise _Bad("json", f"{name} is not a number")


def _exact_json(raw: bytes) -> object:
    """Parse a line again with JSON numbers as Decimal, exactly as written."""
    return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)


def _read_jsonl(path: str, offset: int) -> Generator[FeedEvent]:
    last: int | None = None
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                try:
                    obj = orjson.loads(raw)
                except orjson.JSONDecodeError as e:
                    raise _Bad("json", f"invalid JSON ({e})") from None
                try:
                    event = _json_event(obj, offset)
                except _Inexact:
                    event = _json_event(_exact_json(raw), offset)
                if last is not None and event[0] < last:
                    raise _Bad("ts", f"{event[0] - offset} goes back in time (previous "
                                     f"{last - offset})")  # fmt: skip
            except _Bad as e:
                raise SourceError(path, number, e.field, e.reason) from None
            last = event[0]
            yield event


_CSV_HEADER = ["ts", "type", "side", "price", "size"]


def _read_csv(path: str, offset: int) -> Generator[FeedEvent]:
    """CSV rows; a run of ``snapshot`` rows sharing one ts becomes one snapshot event."""
    last: int | None = None
    snap: tuple[int, int, dict[int, int], dict[int, int]] | None = None  # ts, line, bids, asks
    number = 1
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f)
        try:
            try:
                header = next(rows, None)
            except (csv.Error, UnicodeDecodeError) as e:
                raise _Bad("header", f"unreadable ({e})") from None
            if header is None or [h.strip().lower() for h in header] != _CSV_HEADER:
                raise _Bad("header", f"expected {','.join(_CSV_HEADER)!r}, got {header!r}")
        except _Bad as e:
            raise SourceError(path, 1, e.field, e.reason) from None
        while True:
            try:
                try:
                    row = next(rows, None)
                except (csv.Error, UnicodeDecodeError) as e:
                    number = rows.line_num + 1
                    raise _Bad("row", f"unreadable ({e})") from None
                number = rows.line_num
                if row is None:
                    break
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != 5:
                    raise _Bad("row", f"expected 5 fields (ts,type,side,price,size), got "
                                      f"{len(row)}")  # fmt: skip
                ts = _ts(row[0]) + offset
                if last is not None and ts < last:
                    raise _Bad("ts", f"{ts - offset} goes back in time (previous "
                                     f"{last - offset})")  # fmt: skip
                last = ts
                kind = row[1].strip()
                if kind not in _KINDS:
                    raise _Bad("type", f"unknown type {kind!r} (expected one of "
                                       f"{', '.join(_KINDS)})")  # fmt: skip
                side = _side(row[2].strip())
                if kind == "snapshot":
                    if snap is not None and snap[0] != ts:
                        event = _book(snap[0], snap[2], snap[3], "price")
                        snap = None
                        yield event
                    if snap is None:
                        snap = (ts, number, {}, {})
                    _add_level(snap[2] if side is BUY else snap[3], _price(row[3]),
                               _size(row[4]), "price")  # fmt: skip
                    continue
                price = _price(row[3])
                size = _size(row[4], zero_ok=kind == "delta")
            except _Bad as e:
                raise SourceError(path, number, e.field, e.reason) from None
            if snap is not None:
                try:
                    event = _book(snap[0], snap[2], snap[3], "price")
                except _Bad as e:
                    raise SourceError(path, snap[1], e.field, e.reason) from None
                snap = None
                yield event
            yield (ts, FEED_DELTA if kind == "delta" else FEED_TRADE, side, price, size)
    if snap is not None:
        try:
            event = _book(snap[0], snap[2], snap[3], "price")
        except _Bad as e:
            raise SourceError(path, snap[1], e.field, e.reason) from None
        yield event


def _first_ts(events: Generator[FeedEvent]) -> int:
    """The first event's timestamp as written in the file (0 for an empty file)."""
    try:
        first = next(events, None)
    finally:
        events.close()
    return 0 if first is None else first[0]


class RecordedSource:
    """Replays a JSON-lines or CSV file, parsing one event ahead of the caller.

    Opening reads the header and first event, so a missing file or a bad first line
    fails when the scenario starts. A bad line later on is raised by the ``batch`` or
    ``peek_time`` call that reaches it, after every good event before it was returned.
    """

    __slots__ = ("symbol", "spec", "_events", "_next", "_error", "_taken")
    _events: Generator[FeedEvent]
    _next: FeedEvent | None

    def __getstate__(self) -> tuple[RecordedSpec, int]:
        # an open file cannot be pickled: a checkpoint keeps how far we read instead
        return (self.spec, self._taken)

    def __setstate__(self, state: tuple[RecordedSpec, int]) -> None:
        spec, taken = state
        self.__init__(spec)  # type: ignore[misc]
        for _ in range(taken):
            self._next = next(self._events, None)
        self._taken = taken

    def __init__(self, spec: RecordedSpec) -> None:
        self._taken = 0  # events handed out so far
        self.symbol = spec.symbol
        self.spec = spec
        reader = _read_csv if EXTENSIONS[Path(spec.path).suffix.lower()] == "csv" else _read_jsonl
        self._error: SourceError | None = None
        try:
            offset = spec.time_offset_ns
            if spec.start_at_zero:
                offset -= _first_ts(reader(spec.path, 0))
            self._events = reader(spec.path, offset)
            self._next = next(self._events, None)
        except OSError as e:
            raise SourceError(spec.path, None, "path", f"cannot open ({e.strerror or e})") from e

    @property
    def exhausted(self) -> bool:
        return self._next is None and self._error is None

    def peek_time(self) -> int | None:
        if self._next is None and self._error is not None:
            raise self._error
        return None if self._next is None else self._next[0]

    def batch(self, until: int) -> list[FeedEvent]:
        out: list[FeedEvent] = []
        event = self._next
        if event is None:
            if self._error is not None:
                raise self._error
            return out
        events = self._events
        try:
            while event is not None and event[0] < until:
                out.append(event)
                event = next(events, None)
        except SourceError as e:
            self._error = e
            event = None
        self._next = event
        self._taken += len(out)
        return out

    def close(self) -> None:
        """Release the file before the end of the data."""
        self._events.close()
        self._next = None
