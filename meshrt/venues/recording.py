"""The binary recording format (``.mrec``) and its converter from JSON lines or CSV.

Why a second format: parsing a text line costs microseconds of Python per event, while a
fixed binary layout of already-checked fixed-point values decodes in tens of nanoseconds
(meshrt/venues/_recording.pyx). Everything is validated once, when a text file is
converted; the reader still checks each record's invariants, so a damaged or hand-made
file fails with a ``SourceError`` instead of feeding the venue nonsense. This module is
the layout's one home (the reader imports it); docs/data.md describes it.

All integers little-endian; every record starts 8-byte aligned.

    header   magic b"MESHREC\\0", u32 version, u32 0, u64 record count        24 bytes
    delta    u8 kind=1, u8 side, u16 0, u32 0, i64 ts, i64 price, i64 size     32 bytes
    trade    u8 kind=2, u8 side, ... as delta (side: the aggressor)           32 bytes
    snapshot u8 kind=0, u8 0, u16 0, u32 bids, i64 ts, u32 asks, u32 0,
             then bids, then asks: i64 price, i64 size each, best first       24 + 16 per level
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from meshrt.venues.events import FEED_SNAPSHOT, FeedEvent
from meshrt.venues.recorded import SourceError, text_events
from meshrt.venues.specs import BINARY_EXTENSION as EXTENSION, TEXT_FORMATS

MAGIC = b"MESHREC\0"
VERSION = 1
HEADER = struct.Struct("<8sIIQ")
EVENT = struct.Struct("<BBHIqqq")  # delta and trade
SNAPSHOT = struct.Struct("<BBHIqII")  # followed by its levels
LEVEL = struct.Struct("<qq")
MAX_LEVELS = 2**32 - 1  # per side


def _snapshot(event: FeedEvent) -> bytes:
    ts, _, bids, asks = event
    if len(bids) > MAX_LEVELS or len(asks) > MAX_LEVELS:
        raise ValueError(f"a snapshot side holds more than {MAX_LEVELS} levels")
    levels = [value for level in (*bids, *asks) for value in level]
    head = SNAPSHOT.pack(FEED_SNAPSHOT, 0, 0, len(bids), ts, len(asks), 0)
    return head + struct.pack(f"<{len(levels)}q", *levels)


def encode(event: FeedEvent) -> bytes:
    """One feed event (already checked, file time) as its record."""
    if event[1] == FEED_SNAPSHOT:
        return _snapshot(event)
    ts, kind, side, price, size = event
    return EVENT.pack(kind, side, 0, 0, ts, price, size)


def convert(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> int:
    """Check every event of a JSON-lines or CSV file and write it as a ``.mrec`` recording.

    Returns the number of records. The file appears under ``target`` only when complete
    (written beside it and renamed), so a bad line leaves no partial recording behind.
    """
    source, target = os.fspath(source), os.fspath(target)
    if Path(source).suffix.lower() not in TEXT_FORMATS:
        raise SourceError(source, None, "path", "not a JSON-lines (.jsonl, .ndjson) or CSV file")
    if Path(target).suffix.lower() != EXTENSION:
        raise SourceError(target, None, "path", f"a recording's name ends in {EXTENSION}")
    partial = target + ".part"
    records = 0
    try:
        with open(partial, "wb") as out:
            out.write(HEADER.pack(MAGIC, VERSION, 0, 0))
            chunk: list[bytes] = []
            for event in text_events(source):
                chunk.append(encode(event))
                if len(chunk) == 4096:
                    out.write(b"".join(chunk))
                    records += len(chunk)
                    chunk.clear()
            out.write(b"".join(chunk))
            records += len(chunk)
            out.seek(0)
            out.write(HEADER.pack(MAGIC, VERSION, 0, records))
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return records
