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
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import attrs

from meshrt.analysis import fmt
from meshrt.analysis.book import FeedBook
from meshrt.contract import ActionKind, Liquidity, RejectReason, Side, TimeInForce
from meshrt.log.errors import LogTorn
from meshrt.log.reader import Record, ReplayReader, unknown_types_note
from meshrt.log.schema import FEED_TYPES, REPORT_TYPES

_LIVE = ("ACCEPTED", "PARTIALLY_FILLED")  # states in which the sequencer sends a cancel


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
class Step:
    """One step of the order's life: the record it comes from and what caused it.

    ``trigger_seq`` is the seq of the causing record when there is one; ``trigger`` says
    in words what it was.
    """

    seq: int
    ts: int
    step: str
    detail: str
    trigger: str
    trigger_seq: int | None = None
    key: str | None = None
    values: dict[str, Any] = attrs.field(factory=dict, eq=False)


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


@attrs.define(slots=True)
class _Tracking:
    """Mutable state of the order being traced, built up during the pass."""

    order_id: int
    label: str
    client_id: int
    venue: str
    symbol: str
    source: str
    side: int | None = None
    kind: int | None = None
    tif: int | None = None
    price: int | None = None
    size: int | None = None
    final_price: int | None = None
    final_size: int | None = None
    status: str = "SUBMITTED"
    filled: int = 0
    fees: int = 0
    arrival: Record | None = None  # the last accepted/replaced report: where taker fills come from
    created_seq: int = 0
    steps: list[Step] = attrs.field(factory=list)
    pending: deque[tuple[str, int, str]] = attrs.field(factory=deque)  # (op, seq, what)
    awaiting: tuple[str, Record] | None = None  # a request waiting to see if it was refused


def trace_order(run: Path | str, ref: OrderRef | str) -> OrderTrace:
    """Trace one order in one pass over the log; ``TraceError`` if it is not there."""
    if isinstance(ref, str):
        ref = OrderRef.parse(ref)
    reader = ReplayReader(run, allow_unknown_types=True)
    books: dict[tuple[str, str], FeedBook] = {}
    last_book_event: dict[tuple[str, str], Record] = {}
    last_feed: dict[tuple[str, str], Record] = {}
    prev: Record | None = None
    order: _Tracking | None = None
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
                    order = _start(rec, prev, books, last_book_event)
                prev = rec
                continue
            if order.awaiting is not None:
                _settle(order, rec)
            if kind in FEED_TYPES:
                if rec.venue == order.venue and rec.instrument == order.symbol:
                    last_feed[(order.venue, order.symbol)] = rec
            elif (
                kind in REPORT_TYPES
                and rec.payload[0] == order.order_id
                and rec.venue == order.venue
            ):
                _report(order, rec, last_feed.get((order.venue, order.symbol)))
            elif kind == "intent" and rec.source == order.source:
                _intent(order, rec)
            elif (
                kind == "crash"
                and rec.payload[0] == order.label
                and order.status in (*_LIVE, "SUBMITTED")
            ):
                _crash(order, rec)
            elif (
                kind == "cancel_sent"
                and rec.payload[0] == order.order_id
                and rec.payload[2] == "crash"
            ):  # intents already show the algo's own
                _cancel_sent(order, rec)
    except LogTorn as exc:
        notes.append(f"{exc} (ignored: the trace stops at the last whole record)")
    if order is None:
        raise TraceError(f"no order {ref} in {reader.path}")
    notes.extend(unknown_types_note(reader))
    if order.awaiting is not None:
        _settle(order, None)
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


def _start(
    rec: Record,
    prev: Record | None,
    books: dict[tuple[str, str], FeedBook],
    last_book_event: dict[tuple[str, str], Record],
) -> _Tracking:
    order_id, label, client_id = rec.payload[0], rec.payload[1], rec.payload[2]
    assert rec.instrument is not None
    order = _Tracking(
        order_id, label, client_id, rec.venue, rec.instrument, f"algo:{label}", created_seq=rec.seq
    )
    where = (rec.venue, rec.instrument)
    intent = (
        prev
        if (
            prev is not None
            and prev.type == "intent"
            and prev.source == order.source
            and prev.payload[3] == client_id
        )
        else None
    )
    if intent is not None:
        kind, side, tif, _, _, price, size = intent.payload
        order.kind, order.side, order.tif, order.price, order.size = kind, side, tif, price, size
        order.final_price, order.final_size = price, size
        seen = last_book_event.get(where)
        book = books.get(where)
        if seen is None or book is None:
            context = "no book event of this venue/symbol was committed before it"
        else:
            context = (
                f"last book event before it: seq {seen.seq} ({seen.type}) at "
                f"{fmt.ns(seen.event_ts)}; touch then {fmt.price(book.best_bid)} / "
                f"{fmt.price(book.best_ask)}, mid {fmt.half_price(book.mid2())}"
            )
        order.steps.append(
            Step(
                intent.seq,
                intent.event_ts,
                "intent",
                f"{label} decides: {_describe_new(kind, side, tif, price, size)} "
                f"(client id {client_id})",
                f"decision of {label}; {context}",
                seen.seq if seen is not None else None,
                values={
                    "book_seq": seen.seq if seen is not None else None,
                    "bid": book.best_bid if book else None,
                    "ask": book.best_ask if book else None,
                },
            )
        )
    trigger = f"intent seq {intent.seq}" if intent is not None else "intent not found in the log"
    trigger_seq = intent.seq if intent is not None else None
    order.steps.append(
        Step(
            rec.seq,
            rec.event_ts,
            "created",
            f"order {order_id} created for {label}:{client_id} on {rec.venue} {rec.instrument}",
            trigger,
            trigger_seq,
        )
    )
    order.steps.append(
        Step(
            rec.seq,
            rec.event_ts,
            "submitted",
            f"{rec.payload[3]} -> {rec.payload[4]}: sent to {rec.venue} (its "
            "arrival is the venue's first report)",
            trigger,
            trigger_seq,
        )
    )
    return order


def _describe_new(kind: Any, side: Any, tif: Any, price: Any, size: Any) -> str:
    kind_name = _name(ActionKind, kind)
    side_name = _name(Side, side)
    size_text = fmt.size(size) if isinstance(size, int) else repr(size)
    if kind == ActionKind.MARKET:
        return f"{kind_name} {side_name} {size_text}"
    price_text = fmt.price(price) if isinstance(price, int) else repr(price)
    return f"{kind_name} {side_name} {size_text} @ {price_text} {_name(TimeInForce, tif)}"


def _name(enum: Any, value: Any) -> str:
    try:
        return str(enum(value).name)
    except (ValueError, TypeError):
        return repr(value)


def _intent(order: _Tracking, rec: Record) -> None:
    """An intent of the order's deployment: a cancel or replace of this order, or cancel_all."""
    kind, target = rec.payload[0], rec.payload[4]
    if kind in (ActionKind.CANCEL, ActionKind.REPLACE) and target == order.client_id:
        order.awaiting = ("cancel" if kind == ActionKind.CANCEL else "replace", rec)
    elif kind == ActionKind.CANCEL_ALL and (
        rec.instrument is None or rec.instrument == order.symbol
    ):
        order.awaiting = ("cancel_all", rec)


def _settle(order: _Tracking, nxt: Record | None) -> None:
    """Decide whether the awaited request went to the venue: a refusal is logged right after."""
    assert order.awaiting is not None
    op, rec = order.awaiting
    order.awaiting = None
    refused = (
        nxt is not None
        and nxt.type == "intent_rejected"
        and nxt.payload[0] == order.label
        and (op == "cancel_all" or nxt.payload[1] == order.client_id)
    )
    price, size = rec.payload[5], rec.payload[6]
    what = (
        "cancel"
        if op == "cancel"
        else "cancel_all"
        if op == "cancel_all"
        else f"replace to {_maybe_price(price)} x {_maybe_size(size)}"
    )
    if refused:
        assert nxt is not None
        order.steps.append(
            Step(
                rec.seq,
                rec.event_ts,
                f"{op}_request",
                f"{what} requested by {order.label}",
                f"intent seq {rec.seq}",
                rec.seq,
            )
        )
        order.steps.append(
            Step(
                nxt.seq,
                nxt.event_ts,
                f"{op}_refused",
                f"refused by the sequencer: {nxt.payload[2]} ({nxt.payload[3]})",
                f"intent seq {rec.seq}",
                rec.seq,
            )
        )
        return
    if op == "cancel_all" and order.status not in _LIVE:
        return  # cancel_all only sends cancels for accepted, not-pending orders
    order.pending.append(("replace" if op == "replace" else "cancel", rec.seq, what))
    if op != "replace":
        order.status = "CANCEL_PENDING"
    order.steps.append(
        Step(
            rec.seq,
            rec.event_ts,
            f"{op}_request",
            f"{what} requested by {order.label}: sent to {order.venue}"
            + (f" ({order.status})" if op != "replace" else ""),
            f"intent seq {rec.seq}",
            rec.seq,
        )
    )


def _crash(order: _Tracking, rec: Record) -> None:
    """The deployment crashed with this order open: by default the sequencer cancels it
    (at once, or as soon as the venue accepts it); the crash policy is not logged."""
    order.pending.append(("cancel", rec.seq, f"crash of {order.label}"))
    if order.status in _LIVE:
        order.status = "CANCEL_PENDING"
    order.steps.append(
        Step(
            rec.seq,
            rec.event_ts,
            "crash",
            f"{order.label} crashed ({rec.payload[1]}) with this order open; if its crash "
            "policy cancels orders, a cancel_sent step follows",
            f"crash seq {rec.seq}",
            rec.seq,
        )
    )


def _cancel_sent(order: _Tracking, rec: Record) -> None:
    """The crash policy sent a cancel for this order (the algo's own cancels show as
    their intents)."""
    _, _, cause, before, after = rec.payload
    order.steps.append(
        Step(
            rec.seq,
            rec.event_ts,
            "cancel_sent",
            f"cancel sent to {order.venue} ({cause}): {before} -> {after}",
            f"{cause} seq {rec.seq}",
            rec.seq,
        )
    )


def _maybe_price(value: Any) -> str:
    return fmt.price(value) if isinstance(value, int) else repr(value)


def _maybe_size(value: Any) -> str:
    return fmt.size(value) if isinstance(value, int) else repr(value)


def _report(order: _Tracking, rec: Record, feed: Record | None) -> None:
    kind = rec.type
    payload = rec.payload
    before, after = payload[-2], payload[-1]
    order.status = after
    key = str(rec.key)
    transition = f"{before} -> {after}"
    if kind == "accepted" or kind == "rejected":
        trigger = f"submission (order_created seq {order.created_seq})"
        detail = (
            transition
            if kind == "accepted"
            else (f"{transition}: {_name(RejectReason, payload[1])}")
        )
        order.steps.append(
            Step(rec.seq, rec.event_ts, kind, detail, trigger, order.created_seq, key)
        )
        if kind == "accepted":
            order.arrival = rec
        return
    if kind == "fill":
        _, price, size, liquidity, fee, remaining = payload[:6]
        order.filled += size
        order.fees += fee
        if liquidity == Liquidity.TAKER and order.arrival is not None:
            trigger = (
                f"the order's arrival ({order.arrival.type} seq {order.arrival.seq}) "
                "crossed the book"
            )
            trigger_seq: int | None = order.arrival.seq
        elif feed is not None and feed.event_ts == rec.event_ts:
            trigger = _describe_feed(feed)
            trigger_seq = feed.seq
        else:
            trigger, trigger_seq = "not established from the log", None
        order.steps.append(
            Step(
                rec.seq,
                rec.event_ts,
                "fill",
                f"{fmt.size(size)} @ {fmt.price(price)} {_name(Liquidity, liquidity)} fee "
                f"{fmt.price(fee)} remaining {fmt.size(remaining)} ({transition})",
                trigger,
                trigger_seq,
                key,
                {
                    "price": price,
                    "size": size,
                    "fee": fee,
                    "liquidity": liquidity,
                    "remaining": remaining,
                },
            )
        )
        return
    if kind == "replaced":
        order.final_price, order.final_size = payload[1], payload[2]
        order.arrival = rec
    request = _take_request(order, "replace" if kind == "replaced" else None)
    if (
        kind == "cancelled"
        and request is None
        and order.arrival is not None
        and (order.kind == ActionKind.MARKET or order.tif == TimeInForce.IOC)
    ):
        trigger, trigger_seq = (
            (
                f"unfilled remainder of an IOC/market order "
                f"({order.arrival.type} seq {order.arrival.seq})"
            ),
            order.arrival.seq,
        )
    elif request is not None:
        trigger, trigger_seq = f"{request[2]} (seq {request[1]})", request[1]
    else:
        trigger, trigger_seq = "not established from the log", None
    if kind == "cancelled":
        detail = f"{transition}: remaining {fmt.size(payload[1])}"
    elif kind == "cancel_rejected":
        detail = f"{transition}: {_name(RejectReason, payload[1])}"
    else:
        detail = (
            f"{transition}: now {fmt.price(payload[1])} x {fmt.size(payload[2])}, "
            f"remaining {fmt.size(payload[3])}"
        )
    order.steps.append(Step(rec.seq, rec.event_ts, kind, detail, trigger, trigger_seq, key))


def _take_request(order: _Tracking, op: str | None) -> tuple[str, int, str] | None:
    """The oldest pending request (of ``op`` if given): the venue answers them in order."""
    for index, request in enumerate(order.pending):
        if op is None or request[0] == op:
            del order.pending[index]
            return request
    return None


def _describe_feed(feed: Record) -> str:
    if feed.type == "trade":
        aggressor, price, size = feed.payload
        return (
            f"trade print seq {feed.seq} ({_name(Side, aggressor)} aggressor, "
            f"{fmt.size(size)} @ {fmt.price(price)}) reached the resting order"
        )
    if feed.type == "delta":
        side, price, size = feed.payload
        book_side = "bid" if side == Side.BUY else "ask"
        return (
            f"book update seq {feed.seq} ({book_side} {fmt.price(price)} -> "
            f"{fmt.size(size)}) moved through the order's price"
        )
    return f"book snapshot seq {feed.seq} moved through the order's price"


def format_trace(trace: OrderTrace) -> str:
    """The trace as a table: one line per step, times in seconds with all nine decimals."""
    head = (
        f"order {trace.order_id} ({trace.label}:{trace.client_id}) on {trace.venue} "
        f"{trace.symbol}: "
    )
    if trace.kind is not None:
        head += _describe_new(trace.kind, trace.side, trace.tif, trace.price, trace.size)
    size_text = fmt.size(trace.final_size) if isinstance(trace.final_size, int) else "?"
    final = f"final {trace.status}"
    if trace.final_price != trace.price:
        final += f" at {fmt.price(trace.final_price)}"
    lines = [
        head,
        (f"{final}, filled {fmt.size(trace.filled)} of {size_text}, fees {fmt.price(trace.fees)}"),
        "",
    ]
    rows = [("seq", "time (s)", "step", "key", "what", "because of")]
    for step in trace.steps:
        rows.append(
            (str(step.seq), fmt.ns(step.ts), step.step, step.key or "", step.detail, step.trigger)
        )
    widths = [max(len(row[k]) for row in rows) for k in range(4)]
    for row in rows:
        lines.append(
            "  ".join(
                [
                    row[0].rjust(widths[0]),
                    row[1].rjust(widths[1]),
                    row[2].ljust(widths[2]),
                    row[3].ljust(widths[3]),
                    f"{row[4]}  <- {row[5]}",
                ]
            )
        )
    lines.append("")
    lines.append(
        "note: the book the algo saw when it decided is not logged; it is at least "
        "the feed latency older than the intent"
    )
    lines.extend(f"note: {note}" for note in trace.notes)
    return "\n".join(lines)
