"""Recorded market data: a user's JSON-lines or CSV file replayed as feed events.

Streamed and parsed one event ahead of the venue, converted exactly to fixed point
(prices 1e-9, sizes 1e-8: never through a float; the rules are in
meshrt/venues/recorded_fields.py), and checked line by line; a bad line is a
``SourceError`` naming the file, line and field. Formats: docs/data.md. The spec that
names a file is ``meshrt.venues.specs.RecordedSpec``; binary recordings are read by
meshrt/venues/_recording.pyx.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Generator
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias

import orjson

from meshrt.contract import Side
from meshrt.venues import recorded_fields as fields
from meshrt.venues.events import FEED_DELTA, FEED_TRADE, FeedEvent
from meshrt.venues.recorded_fields import INT64_MAX, INT64_MIN
from meshrt.venues.specs import TEXT_FORMATS, RecordedSpec

BUY = Side.BUY
SELL = Side.SELL


class SourceError(ValueError):
    """Bad recorded data: says which file, line and field, and what is wrong.

    In a binary recording ``line`` is the record's number (from 1) and ``offset`` its
    byte offset; in a text file ``offset`` is None.
    """

    def __init__(
        self, path: str, line: int | None, field: str, reason: str, offset: int | None = None
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.reason = reason
        self.offset = offset
        if offset is not None:
            where = f"{path}: record {line} at byte {offset}"
        else:
            where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {field}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.line, self.field, self.reason, self.offset))


def _get(obj: dict[str, Any], name: str) -> Any:
    try:
        return obj[name]
    except KeyError:
        raise fields.Bad(name, "missing") from None


def _json_levels(obj: dict[str, Any], name: str) -> dict[int, int]:
    levels = _get(obj, name)
    if not isinstance(levels, list):
        raise fields.Bad(name, f"expected a list of [price, size], got {type(levels).__name__}")
    book: dict[int, int] = {}
    for i, level in enumerate(levels):
        where = f"{name}[{i}]"
        if not isinstance(level, list) or len(level) != 2:
            raise fields.Bad(where, f"expected [price, size], got {level!r}")
        price = fields.price(level[0], where + ".price")
        fields.add_level(book, price, fields.size(level[1], where + ".size"), where + ".price")
    return book


def _json_event(obj: object, offset: int) -> FeedEvent:
    if type(obj) is not dict:
        raise fields.Bad("json", f"expected an object, got {type(obj).__name__}")
    try:
        ts = obj["ts"]
        if not (type(ts) is int and INT64_MIN <= ts <= INT64_MAX):
            ts = fields.ts(ts)
        ts += offset
        kind = obj["type"]
        if kind == "delta":
            return (ts, FEED_DELTA, fields.side(obj["side"]), fields.price(obj["price"]),
                    fields.size(obj["size"], zero_ok=True))  # fmt: skip
        if kind == "trade":
            return (ts, FEED_TRADE, fields.side(obj["side"]), fields.price(obj["price"]),
                    fields.size(obj["size"]))  # fmt: skip
        if kind == "snapshot":
            return fields.book(ts, _json_levels(obj, "bids"), _json_levels(obj, "asks"), "asks")
    except KeyError as e:
        raise fields.Bad(str(e.args[0]), "missing") from None
    raise fields.Bad("type", f"unknown type {kind!r} (expected one of {', '.join(fields.KINDS)})")


def _reject_constant(name: str) -> None:
    raise fields.Bad("json", f"{name} is not a number")


def _exact_json(raw: bytes) -> object:
    """Parse a line again with JSON numbers as Decimal, exactly as written."""
    return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)


class _Mark:
    """Where a text reader restarts to yield its latest event again: the byte offset of
    the event's first line, the number of lines before it, and the time before it."""

    __slots__ = ("at",)

    def __init__(self, at: Resume) -> None:
        self.at = at


Resume: TypeAlias = tuple[int, int, int | None]  # (byte offset, lines before, last ts)
_START: Resume = (0, 0, None)


def _read_jsonl(path: str, offset: int, mark: _Mark) -> Generator[FeedEvent]:
    pos, number, last = mark.at
    with open(path, "rb") as f:
        f.seek(pos)
        while lines := f.readlines(1 << 16):
            for raw in lines:
                start = pos
                pos += len(raw)
                number += 1
                if raw.isspace():
                    continue
                try:
                    try:
                        obj = orjson.loads(raw)
                    except orjson.JSONDecodeError as e:
                        raise fields.Bad("json", f"invalid JSON ({e})") from None
                    try:
                        event = _json_event(obj, offset)
                    except fields.Inexact:
                        event = _json_event(_exact_json(raw), offset)
                    if last is not None and event[0] < last:
                        raise fields.Bad("ts", f"{event[0] - offset} goes back in time (previous "
                                         f"{last - offset})")  # fmt: skip
                except fields.Bad as e:
                    raise SourceError(path, number, e.field, e.reason) from None
                mark.at = (start, number - 1, last)
                last = event[0]
                yield event
    mark.at = (pos, number, last)


_CSV_HEADER = ["ts", "type", "side", "price", "size"]


def _csv_lines(f: BinaryIO, pos: list[int]) -> Generator[str]:
    """The file's lines as text for ``csv.reader``; ``pos[0]`` follows the byte offset."""
    first = pos[0] == 0
    for raw in f:
        pos[0] += len(raw)
        yield raw.decode("utf-8-sig" if first else "utf-8")
        first = False


def _read_csv(path: str, offset: int, mark: _Mark) -> Generator[FeedEvent]:
    """CSV rows; a run of ``snapshot`` rows sharing one ts becomes one snapshot event."""
    pos, before, last = mark.at
    snap: tuple[int, int, dict[int, int], dict[int, int], Resume] | None = None
    number = before + 1
    with open(path, "rb") as f:
        f.seek(pos)
        at = [pos]
        rows = csv.reader(_csv_lines(f, at))
        if pos == 0:
            try:
                try:
                    header = next(rows, None)
                except (csv.Error, UnicodeDecodeError) as e:
                    raise fields.Bad("header", f"unreadable ({e})") from None
                if header is None or [h.strip().lower() for h in header] != _CSV_HEADER:
                    raise fields.Bad(
                        "header", f"expected {','.join(_CSV_HEADER)!r}, got {header!r}"
                    )
            except fields.Bad as e:
                raise SourceError(path, 1, e.field, e.reason) from None
        while True:
            row_at = (at[0], before + rows.line_num, last)
            try:
                try:
                    row = next(rows, None)
                except (csv.Error, UnicodeDecodeError) as e:
                    number = before + rows.line_num + 1
                    raise fields.Bad("row", f"unreadable ({e})") from None
                number = before + rows.line_num
                if row is None:
                    break
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != 5:
                    raise fields.Bad("row", f"expected 5 fields (ts,type,side,price,size), got "
                                      f"{len(row)}")  # fmt: skip
                ts = fields.ts(row[0]) + offset
                if last is not None and ts < last:
                    raise fields.Bad("ts", f"{ts - offset} goes back in time (previous "
                                     f"{last - offset})")  # fmt: skip
                last = ts
                kind = row[1].strip()
                if kind not in fields.KINDS:
                    raise fields.Bad("type", f"unknown type {kind!r} (expected one of "
                                       f"{', '.join(fields.KINDS)})")  # fmt: skip
                side = fields.side(row[2].strip())
                if kind == "snapshot":
                    if snap is not None and snap[0] != ts:
                        event = fields.book(snap[0], snap[2], snap[3], "price")
                        mark.at, snap = snap[4], None
                        yield event
                    if snap is None:
                        snap = (ts, number, {}, {}, row_at)
                    fields.add_level(snap[2] if side is BUY else snap[3], fields.price(row[3]),
                               fields.size(row[4]), "price")  # fmt: skip
                    continue
                price = fields.price(row[3])
                size = fields.size(row[4], zero_ok=kind == "delta")
            except fields.Bad as e:
                raise SourceError(path, number, e.field, e.reason) from None
            if snap is not None:
                yield _snapshot_end(path, snap, mark)
                snap = None
            mark.at = row_at
            yield (ts, FEED_DELTA if kind == "delta" else FEED_TRADE, side, price, size)
        if snap is not None:
            yield _snapshot_end(path, snap, mark)
        mark.at = (at[0], number, last)


def _snapshot_end(
    path: str, snap: tuple[int, int, dict[int, int], dict[int, int], Resume], mark: _Mark
) -> FeedEvent:
    try:
        event = fields.book(snap[0], snap[2], snap[3], "price")
    except fields.Bad as e:
        raise SourceError(path, snap[1], e.field, e.reason) from None
    mark.at = snap[4]
    return event


_READERS = {"jsonl": _read_jsonl, "csv": _read_csv}


def _reader(path: str) -> Callable[[str, int, _Mark], Generator[FeedEvent]]:
    return _READERS[TEXT_FORMATS[Path(path).suffix.lower()]]


def text_events(path: str) -> Generator[FeedEvent]:
    """Every event of a JSON-lines or CSV file in file time, each checked (the converter's
    input)."""
    return _reader(path)(path, 0, _Mark(_START))


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
    It pickles as its spec and where the next event's first line starts, so a restored
    source seeks there instead of reading the file again.
    """

    __slots__ = ("symbol", "spec", "_events", "_next", "_error", "_mark")
    _events: Generator[FeedEvent]
    _next: FeedEvent | None

    def __getstate__(self) -> tuple[RecordedSpec, Resume]:
        # an open file cannot be pickled: a checkpoint keeps where to read on instead
        return (self.spec, self._mark.at)

    def __setstate__(self, state: tuple[RecordedSpec, Resume]) -> None:
        self.__init__(*state)  # type: ignore[misc]

    def __init__(self, spec: RecordedSpec, resume: Resume = _START) -> None:
        self.symbol = spec.symbol
        self.spec = spec
        reader = _reader(spec.path)
        self._error: SourceError | None = None
        self._mark = _Mark(resume)
        try:
            offset = spec.time_offset_ns
            if spec.start_at_zero:
                offset -= _first_ts(reader(spec.path, 0, _Mark(_START)))
            self._events = reader(spec.path, offset, self._mark)
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
        return out

    def close(self) -> None:
        """Release the file before the end of the data."""
        self._events.close()
        self._next = None
