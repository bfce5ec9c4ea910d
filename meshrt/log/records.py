"""The replay-log records the sequencer writes: one builder per record type.

Each builder writes the ``RecordType`` of the same name in meshrt/log/schema.py, the one
definition of the envelope and every payload, which the reader checks lines against.
``_line`` is the only Python place a record's envelope is laid out. Feed records
(snapshot, delta, trade) are built by the compiled feed commit (meshrt/actors/_commit.pyx),
their text fields escaped once per symbol by orjson in its ``feed_fragments``. The intent
desk writes its records (intent, order_created, replace_sent, cancel_sent,
intent_rejected) with the compiled twins of these builders in meshrt/log/_intents.pyx,
which hand any value they do not write themselves back to the builder here;
tests/test_log_schema.py checks every builder's lines against the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from meshrt.contract import INT64_MAX, UINT64_MAX, is_int
from meshrt.log import schema
from meshrt.log.schema import RecordType
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.verdicts import Connected, Disconnected, FrameError, Resync
from meshrt.venues.reports import VenueReport

_dumps = orjson.dumps
_CONTROLS = {record.name: record for record in schema.CONTROLS}
_SCALARS = frozenset({str, float, bool, type(None)})  # besides ints, as loggable writes them


def _line(
    record: RecordType,
    seq: int,
    ts: int,
    source: str,
    venue: str | None,
    symbol: str | None,
    payload: list[Any],
    key: str | None = None,
    default: Callable[[Any], Any] | None = None,
) -> bytes:
    """``schema.ENVELOPE`` of one record committed at its own event time."""
    return _dumps([seq, ts, ts, source, venue, symbol, record.name, payload, key], default=default)


def control(seq: int, at: int, venue: str | None, kind: str, payload: list[Any]) -> bytes:
    """A control record (``schema.CONTROLS``): lifecycle steps, faults, restarts,
    coordinator changes."""
    return _line(_CONTROLS[kind], seq, at, "control", venue, None, payload)


def crash(seq: int, ts: int, venue: str, label: str, error: str) -> bytes:
    return _line(schema.CRASH, seq, ts, "control", venue, None, [label, error])


def restart_scheduled(seq: int, ts: int, venue: str, label: str, at: int) -> bytes:
    return _line(schema.RESTART_SCHEDULED, seq, ts, "control", venue, None, [label, at])


def gave_up(seq: int, ts: int, venue: str, label: str, why: str) -> bytes:
    return _line(schema.GAVE_UP, seq, ts, "control", venue, None, [label, why])


def run_end(seq: int, end: int) -> bytes:
    return _line(schema.RUN_END, seq, end, "control", None, None, [end])


def live_clock(seq: int, wall_ns: int) -> bytes:
    """A live run's time 0 on the wall clock (epoch ns), once, before its first window."""
    return _line(schema.LIVE_CLOCK, seq, 0, "control", None, None, [wall_ns])


def live_window(seq: int, start: int, until: int) -> bytes:
    """A live window's bounds, before its commits: a replay commits what follows (up to
    the next window) as one window again."""
    return _line(schema.LIVE_WINDOW, seq, start, "control", None, None, [start, until])


def live_note(
    seq: int,
    ts: int,
    venue: str,
    symbol: str | None,
    note: Connected | Disconnected | Resync | FrameError | Reference,
) -> bytes:
    """What a live venue's session said besides feed events (``schema.LIVE_NOTES``)."""
    source = f"venue:{venue}"
    if type(note) is Resync:
        payload: list[Any] = [note.exchange_symbol, note.why.name, note.detail]
        return _line(schema.RESYNC, seq, ts, source, venue, symbol, payload)
    if type(note) is Reference:
        payload = [
            note.exchange,
            note.exchange_symbol,
            note.tick,
            note.lot,
            note.min_size,
            note.min_notional,
        ]
        return _line(schema.REFERENCE, seq, ts, source, venue, symbol, payload)
    if type(note) is Connected:
        return _line(schema.CONNECTED, seq, ts, source, venue, None, [note.venue, note.attempt])
    if type(note) is Disconnected:
        payload = [note.venue, note.why, note.reconnect_in_ns]
        return _line(schema.DISCONNECTED, seq, ts, source, venue, None, payload)
    assert type(note) is FrameError
    payload = [note.venue, note.where, note.field, note.reason]
    return _line(schema.FRAME_ERROR, seq, ts, source, venue, None, payload)


def report(
    seq: int,
    source: str,
    venue: str,
    symbol: str,
    report: VenueReport,
    before: str,
    after: str,
    reference: str,
) -> bytes:
    """A venue's order report as the record ``schema.REPORT_BY_TYPE`` names for its type:
    the fields the record names after ``ts`` (order id first), then the order's status
    before and after."""
    record = schema.REPORT_BY_TYPE[type(report)]
    return _line(
        record,
        seq,
        report.ts,
        source,
        venue,
        symbol,
        [*report[1 : len(record.fields) - 1], before, after],
        reference,
    )


def set_param(seq: int, ts: int, source: str, venue: str, name: Any, value: Any) -> bytes:
    return _line(schema.SET_PARAM, seq, ts, source, venue, None, [name, value], default=repr)


def algo_log(seq: int, ts: int, source: str, venue: str, text: Any) -> bytes:
    return _line(schema.LOG, seq, ts, source, venue, None, [text], default=repr)


def message(
    seq: int, ts: int, source: str, venue: str, sender: str, receiver: str, payload: bytes
) -> bytes:
    return _line(schema.MESSAGE, seq, ts, source, venue, None, [sender, receiver, payload.hex()])


def subscription(
    seq: int, ts: int, source: str, venue: str, symbol: Any, on: bool, known: bool
) -> bytes:
    record = schema.SUBSCRIBE if on else schema.UNSUBSCRIBE
    return _line(record, seq, ts, source, venue, text(symbol), [known])


def intent(
    seq: int, ts: int, source: str, venue: str, symbol: Any, fields: tuple[Any, ...]
) -> bytes:
    """An algo's action as it gave it: a bad value is logged as its repr, then refused."""
    payload = [loggable(value) for value in fields]
    return _line(schema.INTENT, seq, ts, source, venue, text(symbol), payload, default=shown)


def order_created(
    seq: int, ts: int, venue: str, symbol: str, order_id: int, label: str, client_id: int
) -> bytes:
    payload = [order_id, label, client_id, "CREATED", "SUBMITTED"]
    return _line(schema.ORDER_CREATED, seq, ts, "sequencer", venue, symbol, payload)


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
    payload = [order_id, label, price, size]
    return _line(schema.REPLACE_SENT, seq, ts, "sequencer", venue, symbol, payload)


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
    payload = [order_id, label, cause, before, after]
    return _line(schema.CANCEL_SENT, seq, ts, "sequencer", venue, symbol, payload)


def intent_rejected(
    seq: int, ts: int, venue: str, label: str, client_id: Any, reason: str, detail: str
) -> bytes:
    payload = [label, loggable(client_id), reason, detail]
    return _line(schema.INTENT_REJECTED, seq, ts, "sequencer", venue, None, payload, default=shown)


def ingress_transition(
    seq: int,
    event_ts: int,
    ingest_ts: int,
    kind: str,
    order_id: int,
    before: str,
    after: str,
    filled: int,
    position: int,
    cash: int,
    outcome: str,
    venue: str,
    key: Any,
    payload: list[Any],
) -> bytes:
    """One input committed by the arrival-order ingress stand-in (not a replay-log
    record): ``schema.INGRESS_FIELDS``, described in meshrt/sequencer/ingress.py."""
    return _dumps(
        [
            seq,
            event_ts,
            ingest_ts,
            kind,
            order_id,
            before,
            after,
            filled,
            position,
            cash,
            outcome,
            venue,
            key,
            payload,
        ]
    )


def loggable(value: Any) -> Any:
    """A field of an algo's intent as logged, always a JSON scalar (``schema.SCALAR``): an
    integer orjson cannot write (outside i64..u64) is logged as its repr, like any other
    value that is not a JSON scalar (a list, an object)."""
    if is_int(value):
        return int(value) if -INT64_MAX - 1 <= value <= UINT64_MAX else shown(value)
    return value if type(value) in _SCALARS else shown(value)


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
