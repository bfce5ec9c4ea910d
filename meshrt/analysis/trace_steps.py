"""One order's timeline: its state while the log is read, and the step each record it
hears makes, with that step's cause (meshrt/analysis/trace.py's rules, in its docstring).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import attrs

from meshrt.analysis import fmt
from meshrt.analysis.book import FeedBook
from meshrt.contract import ActionKind, Liquidity, RejectReason, Side, TimeInForce
from meshrt.log.reader import Record

LIVE = ("ACCEPTED", "PARTIALLY_FILLED")  # states in which the sequencer sends a cancel


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


@attrs.define(slots=True)
class Tracking:
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


def start(
    rec: Record,
    prev: Record | None,
    books: dict[tuple[str, str], FeedBook],
    last_book_event: dict[tuple[str, str], Record],
) -> Tracking:
    order_id, label, client_id = rec.payload[0], rec.payload[1], rec.payload[2]
    assert rec.instrument is not None
    order = Tracking(
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
                f"{label} decides: {fmt.new_order(kind, side, tif, price, size)} "
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


def intent(order: Tracking, rec: Record) -> None:
    """An intent of the order's deployment: a cancel or replace of this order, or cancel_all."""
    kind, target = rec.payload[0], rec.payload[4]
    if kind in (ActionKind.CANCEL, ActionKind.REPLACE) and target == order.client_id:
        order.awaiting = ("cancel" if kind == ActionKind.CANCEL else "replace", rec)
    elif kind == ActionKind.CANCEL_ALL and (
        rec.instrument is None or rec.instrument == order.symbol
    ):
        order.awaiting = ("cancel_all", rec)


def settle(order: Tracking, nxt: Record | None) -> None:
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
        else f"replace to {fmt.maybe_price(price)} x {fmt.maybe_size(size)}"
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
    if op == "cancel_all" and order.status not in LIVE:
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


def crash(order: Tracking, rec: Record) -> None:
    """The deployment crashed with this order open: by default the sequencer cancels it
    (at once, or as soon as the venue accepts it); the crash policy is not logged."""
    order.pending.append(("cancel", rec.seq, f"crash of {order.label}"))
    if order.status in LIVE:
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


def cancel_sent(order: Tracking, rec: Record) -> None:
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


def report(order: Tracking, rec: Record, feed: Record | None) -> None:
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
            else (f"{transition}: {fmt.enum_name(RejectReason, payload[1])}")
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
                f"{fmt.size(size)} @ {fmt.price(price)} {fmt.enum_name(Liquidity, liquidity)} fee "
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
        detail = f"{transition}: {fmt.enum_name(RejectReason, payload[1])}"
    else:
        detail = (
            f"{transition}: now {fmt.price(payload[1])} x {fmt.size(payload[2])}, "
            f"remaining {fmt.size(payload[3])}"
        )
    order.steps.append(Step(rec.seq, rec.event_ts, kind, detail, trigger, trigger_seq, key))


def _take_request(order: Tracking, op: str | None) -> tuple[str, int, str] | None:
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
            f"trade print seq {feed.seq} ({fmt.enum_name(Side, aggressor)} aggressor, "
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
