"""The replay-log records the sequencer writes: one builder per record type.

This is the only place the line format lives. Every record is one JSON array
``[seq, event ts, commit ts, source, venue, symbol, kind, payload, reference]``; the
compiled feed commit (meshrt/actors/_commit.pyx) is the one builder of feed records
(their text fields escaped once per symbol by orjson, in its ``feed_fragments``).
"""

from __future__ import annotations

from typing import Any

import orjson

from meshrt.contract import INT64_MAX, UINT64_MAX, is_int

_dumps = orjson.dumps


def control(seq: int, at: int, venue: str | None, kind: str, payload: Any) -> bytes:
    """A control record: lifecycle steps, faults, restarts, coordinator changes."""
    return _dumps([seq, at, at, "control", venue, None, kind, payload, None])


def crash(seq: int, ts: int, venue: str, label: str, error: str) -> bytes:
    return _dumps([seq, ts, ts, "control", venue, None, "crash", [label, error], None])


def restart_scheduled(seq: int, ts: int, venue: str, label: str, at: int) -> bytes:
    return _dumps([seq, ts, ts, "control", venue, None, "restart_scheduled", [label, at], None])


def gave_up(seq: int, ts: int, venue: str, label: str, why: str) -> bytes:
    return _dumps([seq, ts, ts, "control", venue, None, "gave_up", [label, why], None])


def run_end(seq: int, end: int) -> bytes:
    return _dumps([seq, end, end, "control", None, None, "run_end", [end], None])


def report(
    seq: int,
    ts: int,
    source: str,
    venue: str,
    symbol: str,
    kind: str,
    fields: list[Any],
    reference: str,
) -> bytes:
    """A venue's order report: ``fields`` are the order id, the report's own fields, and
    the order's status before and after."""
    return _dumps([seq, ts, ts, source, venue, symbol, kind, fields, reference])


def set_param(seq: int, ts: int, source: str, venue: str, name: Any, value: Any) -> bytes:
    return _dumps(
        [seq, ts, ts, source, venue, None, "set_param", [name, value], None], default=repr
    )


def algo_log(seq: int, ts: int, source: str, venue: str, text: Any) -> bytes:
    return _dumps([seq, ts, ts, source, venue, None, "log", [text], None], default=repr)


def message(
    seq: int, ts: int, source: str, venue: str, sender: str, receiver: str, payload: bytes
) -> bytes:
    return _dumps(
        [seq, ts, ts, source, venue, None, "message", [sender, receiver, payload.hex()], None]
    )


def subscription(
    seq: int, ts: int, source: str, venue: str, symbol: Any, on: bool, known: bool
) -> bytes:
    return _dumps(
        [
            seq,
            ts,
            ts,
            source,
            venue,
            text(symbol),
            "subscribe" if on else "unsubscribe",
            [known],
            None,
        ]
    )


def intent(
    seq: int, ts: int, source: str, venue: str, symbol: Any, fields: tuple[Any, ...]
) -> bytes:
    """An algo's action as it gave it: a bad value is logged as its repr, then refused."""
    return _dumps(
        [
            seq,
            ts,
            ts,
            source,
            venue,
            text(symbol),
            "intent",
            [loggable(value) for value in fields],
            None,
        ],
        default=shown,
    )


def order_created(
    seq: int, ts: int, venue: str, symbol: str, order_id: int, label: str, client_id: int
) -> bytes:
    return _dumps(
        [
            seq,
            ts,
            ts,
            "sequencer",
            venue,
            symbol,
            "order_created",
            [order_id, label, client_id, "CREATED", "SUBMITTED"],
            None,
        ]
    )


def replace_sent(
    seq: int,
    ts: int,
    venue: str,
    symbol: str,
    order_id: int,
    label: str,
    price: int | None,
    size: int,
) -> bytes:
    return _dumps(
        [
            seq,
            ts,
            ts,
            "sequencer",
            venue,
            symbol,
            "replace_sent",
            [order_id, label, price, size],
            None,
        ]
    )


def cancel_sent(
    seq: int,
    ts: int,
    venue: str,
    symbol: str,
    order_id: int,
    label: str,
    cause: str,
    before: str,
    after: str,
) -> bytes:
    return _dumps(
        [
            seq,
            ts,
            ts,
            "sequencer",
            venue,
            symbol,
            "cancel_sent",
            [order_id, label, cause, before, after],
            None,
        ]
    )


def intent_rejected(
    seq: int, ts: int, venue: str, label: str, client_id: Any, reason: str, detail: str
) -> bytes:
    return _dumps(
        [
            seq,
            ts,
            ts,
            "sequencer",
            venue,
            None,
            "intent_rejected",
            [label, loggable(client_id), reason, detail],
            None,
        ],
        default=shown,
    )


def loggable(value: Any) -> Any:
    """A field of an algo's intent as logged: an integer orjson cannot write (outside
    i64..u64) is logged as its repr, like any other value that is not JSON."""
    if is_int(value):
        return int(value) if -INT64_MAX - 1 <= value <= UINT64_MAX else shown(value)
    return value


def shown(value: Any) -> str:
    """An algo's value as text for the log and a reject's detail, whatever it is: an
    integer too long for ``repr`` or an object whose ``repr`` raises must not stop a run."""
    if is_int(value) and value.bit_length() > 64:
        return f"<int of {value.bit_length()} bits>"
    try:
        return repr(value)
    except Exception:  # noqa: BLE001 - an algo's __repr__ may raise anything
        return f"<{type(value).__name__}>"


def text(value: Any) -> str | None:
    """An instrument name as logged: whatever an algo passed becomes a string (or null)."""
    return None if not value else value if isinstance(value, str) else shown(value)
