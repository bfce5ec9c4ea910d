"""Checks of one replay-log record against its definition in meshrt/log/schema.py.

Each check returns the problem as text (None when there is none) for the reader to
raise with the file, line and seq; ``record_problem`` judges one record on its own
(everything but seq continuity, which needs the records before it).
"""

from __future__ import annotations

from typing import Any

from meshrt.contract import Side
from meshrt.log.schema import (
    DELTA,
    ENVELOPE,
    INT,
    OPT_STR,
    ORDER_STATUSES,
    REPORT_TYPES,
    SNAPSHOT,
    STR,
    TRADE,
    TYPES,
    RecordType,
)

_SIDES = frozenset(int(side) for side in Side)


def envelope_ok(rec: list[Any]) -> bool:
    """The envelope's times, source, venue and instrument have their types (a 9-field
    list with an int seq is the caller's check)."""
    return not (
        type(rec[1]) is not int
        or type(rec[2]) is not int
        or rec[1] < 0
        or type(rec[3]) is not str
        or (rec[4] is not None and type(rec[4]) is not str)
        or (rec[5] is not None and type(rec[5]) is not str)
    )


def envelope_problem(rec: list[Any]) -> str:
    """What ``envelope_ok`` refused."""
    for index, allowed in ((1, INT), (2, INT), (3, STR), (4, OPT_STR), (5, OPT_STR)):
        if type(rec[index]) not in allowed:
            return f"{ENVELOPE[index]} has the wrong type: {short(rec[index])}"
    return f"event_ts must not be negative, got {rec[1]}"


def payload_problem(record: RecordType, rec: list[Any]) -> str | None:
    """The payload's arity and field types, the key's type, and the few value checks a
    reader needs to rebuild books and orders safely."""
    kind = record.name
    payload = rec[7]
    fields = record.fields
    if type(payload) is not list or len(payload) != len(fields):
        return (
            f"{kind} payload must be a list of {len(fields)} {record.field_names}, "
            f"got {short(payload)}"
        )
    for value, (field, allowed) in zip(payload, fields, strict=True):
        if type(value) not in allowed:
            return f"{kind} field {field!r} has the wrong type: {short(value)}"
    if type(rec[8]) not in record.key:
        return f"{kind} key has the wrong type: {rec[8]!r}"
    if record is DELTA or record is TRADE:
        if payload[0] not in _SIDES:
            return f"{kind} side must be 1 (buy) or 2 (sell), got {payload[0]!r}"
        if rec[8] != rec[0]:
            return f"{kind} key must equal its seq, got {rec[8]!r}"
    elif kind in REPORT_TYPES:
        if payload[-2] not in ORDER_STATUSES or payload[-1] not in ORDER_STATUSES:
            return f"{kind} status {payload[-2]!r} -> {payload[-1]!r} is not an order status"
    elif record is SNAPSHOT:
        if rec[8] != rec[0]:
            return f"snapshot key must equal its seq, got {rec[8]!r}"
        for name, side in zip(("bids", "asks"), payload, strict=True):
            for level in side:
                if (
                    type(level) is not list
                    or len(level) != 2
                    or type(level[0]) is not int
                    or type(level[1]) is not int
                ):
                    return (
                        f"snapshot {name} level must be [price, size] integers, got {short(level)}"
                    )
    if record.located and (rec[4] is None or rec[5] is None):
        return f"{kind} must name its venue and instrument"
    return None


def record_problem(rec: Any) -> str | None:
    """One record judged alone against the schema: envelope, type, payload, key."""
    if type(rec) is not list or len(rec) != len(ENVELOPE):
        return f"a record is a JSON array of {len(ENVELOPE)} fields {list(ENVELOPE)}"
    if type(rec[0]) is not int:
        return f"seq must be an integer, got {rec[0]!r}"
    if not envelope_ok(rec):
        return envelope_problem(rec)
    record = TYPES.get(rec[6])
    if record is None:
        return f"unknown record type {rec[6]!r}"
    return payload_problem(record, rec)


def short(value: Any, limit: int = 80) -> str:
    """A value's repr cut to ``limit`` characters, for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
