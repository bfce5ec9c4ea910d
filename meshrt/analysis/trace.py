"""One order's life, step by step, from the replay log alone.

``meshrt trace RUN_DIR ORDER`` answers "what happened to this order and why": every
transition with its seq id and nanosecond time, and for each the record that caused it.
The log has no explicit cause field, so causes are established from what it does show:

* the intent is the record just before ``order_created`` (the sequencer logs both in one
  commit); what the algo was reacting to is not logged, so the trace shows the last book
  event of the order's venue and symbol committed before the intent, and the touch then;
* a venue's accept/reject answers the submission; a taker fill answers the order's
  arrival (its ``accepted`` or ``replaced`` report), a maker fill the feed record just
  before it (a trade print, or a book update that moved through the order's price);
* cancels and replaces answer the algo's requests (intents targeting the order's client
  id, a ``cancel_all``, or a crash of its deployment), oldest first as the venue
  processes them; a request the sequencer refused is followed by ``intent_rejected``.

Cancels the sequencer sends on its own (``cancel_all``, a crash) are not logged as
records; the trace infers them from the state the order was in.

This module is the pass over the log (which records concern the order); each step and
its cause is built in trace_steps.py, the printed table in trace_text.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from meshrt.analysis import trace_steps as timeline
from meshrt.analysis.book import FeedBook
from meshrt.analysis.trace_steps import LIVE, Step
from meshrt.log.errors import LogTorn
from meshrt.log.reader import Record, ReplayReader, unknown_types_note
from meshrt.log.schema import FEED_TYPES, REPORT_TYPES


class TraceError(ValueError):
    """The order reference is malformed or names no order in this log."""


@attrs.frozen(slots=True)
class OrderRef:
    """A global order id, or a deployment label and its client order id."""

    order_id: int | None = None
    label: str | None = None
    client_id: int | None = None

    @classmethod
    def parse(cls, text: str) -> OrderRef:
        label, sep, client = text.rpartition(":")
        try:
            if sep:
                if not label:
                    raise ValueError
                return cls(label=label, client_id=int(client))
            return cls(order_id=int(text))
        except ValueError:
            raise TraceError(
                f"bad order reference {text!r}: use a global order id (e.g. 7) "
                "or LABEL:CLIENT_ID (e.g. mm-1:7)"
            ) from None

    def matches(self, payload: list[Any]) -> bool:
        """Whether an ``order_created`` payload [order_id, label, client_id, ...] is this."""
        order_id: int = payload[0]
        if self.order_id is not None:
            return order_id == self.order_id
        label: str = payload[1]
        client_id: int = payload[2]
        return label == self.label and client_id == self.client_id

    def __str__(self) -> str:
        return str(self.order_id) if self.order_id is not None else f"{self.label}:{self.client_id}"


@attrs.frozen(slots=True)
class OrderTrace:
    order_id: int
    label: str
    client_id: int
    venue: str
    symbol: str
    side: int | None
    kind: int | None
    tif: int | None
    price: int | None
    size: int | None
    status: str
    filled: int
    fees: int
    steps: tuple[Step, ...]
    final_price: int | None = None
    final_size: int | None = None
    notes: tuple[str, ...] = ()


def trace_order(run: Path | str, ref: OrderRef | str) -> OrderTrace:
    """Trace one order in one pass over the log; ``TraceError`` if it is not there."""
    if isinstance(ref, str):
        ref = OrderRef.parse(ref)
    reader = ReplayReader(run, allow_unknown_types=True)
    books: dict[tuple[str, str], FeedBook] = {}
    last_book_event: dict[tuple[str, str], Record] = {}
    last_feed: dict[tuple[str, str], Record] = {}
    prev: Record | None = None
    order: timeline.Tracking | None = None
    notes: list[str] = []
    try:
        for rec in reader:
            kind = rec.type
            if order is None:
                if kind == "delta" or kind == "snapshot":
                    where = (rec.venue, rec.instrument)
                    book = books.get(where)  # type: ignore[arg-type]
                    if book is None:
                        book = books[where] = FeedBook()  # type: ignore[index]
                    book.apply(kind, rec.payload)
                    last_book_event[where] = last_feed[where] = rec  # type: ignore[index]
                elif kind == "trade":
                    last_feed[(rec.venue, rec.instrument)] = rec  # type: ignore[index]
                elif kind == "order_created" and ref.matches(rec.payload):
                    order = timeline.start(rec, prev, books, last_book_event)
                prev = rec
                continue
            if order.awaiting is not None:
                timeline.settle(order, rec)
            if kind in FEED_TYPES:
                if rec.venue == order.venue and rec.instrument == order.symbol:
                    last_feed[(order.venue, order.symbol)] = rec
            elif (
                kind in REPORT_TYPES
                and rec.payload[0] == order.order_id
                and rec.venue == order.venue
            ):
                timeline.report(order, rec, last_feed.get((order.venue, order.symbol)))
            elif kind == "intent" and rec.source == order.source:
                timeline.intent(order, rec)
            elif (
                kind == "crash"
                and rec.payload[0] == order.label
                and order.status in (*LIVE, "SUBMITTED")
            ):
                timeline.crash(order, rec)
            elif (
                kind == "cancel_sent"
                and rec.payload[0] == order.order_id
                and rec.payload[2] == "crash"
            ):  # intents already show the algo's own
                timeline.cancel_sent(order, rec)
    except LogTorn as exc:
        notes.append(f"{exc} (ignored: the trace stops at the last whole record)")
    if order is None:
        raise TraceError(f"no order {ref} in {reader.path}")
    notes.extend(unknown_types_note(reader))
    if order.awaiting is not None:
        timeline.settle(order, None)
    return OrderTrace(
        order.order_id,
        order.label,
        order.client_id,
        order.venue,
        order.symbol,
        order.side,
        order.kind,
        order.tif,
        order.price,
        order.size,
        order.status,
        order.filled,
        order.fees,
        tuple(order.steps),
        order.final_price,
        order.final_size,
        tuple(notes),
    )
