"""How one venue report moves one order: the order state machine's report transitions.

Venue reports (meshrt/venues/reports.py) may arrive duplicated and out of order, as
live feeds deliver them. The transitions accept every physically possible delivery order
and converge on the state in-order delivery would give; they fail closed, raising
``InvariantViolation``, on anything no venue history can explain (a fill after a
reject, an overfill, a reject after fills, conflicting terminal reports). Rules:

* a report whose idempotency key this order already applied is a no-op (the state
  machine, meshrt/sequencer/orders.py, keeps the keys);
* a fill, cancel or replace for a SUBMITTED order implies acceptance; a late ACCEPTED
  is a no-op;
* fills count by increments; ``filled`` never decreases and never exceeds ``size``;
* a terminal report may overtake fills that happened before it: the status goes
  terminal, ``terminal_cum`` records the venue's final cumulative fill, and later fills
  are accepted while ``filled <= terminal_cum``;
* terminal is terminal: no report moves a terminal order to a non-terminal status;
* a CANCEL_REJECTED answers the oldest cancel or replace request still unanswered
  (``Order.requests``): an order session is one FIFO stream, so the venue answers an
  order's requests in the order they were sent. Only the answer to a cancel takes an
  order out of CANCEL_PENDING; a refused replace leaves a pending cancel pending.
"""

from __future__ import annotations

from meshrt.contract import ActionKind
from meshrt.sequencer.order import (
    ACCEPTED,
    CANCEL_PENDING,
    CANCELLED,
    CREATED,
    FILLED,
    PARTIALLY_FILLED,
    REJECTED,
    SUBMITTED,
    TERMINAL,
    Order,
    OrderStatus,
    violation,
)
from meshrt.venues.reports import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    Rejected,
    Replaced,
    VenueReport,
)

# states in which the venue holds the order, so a fill may arrive and count toward size
_WORKING: frozenset[OrderStatus] = frozenset(
    {SUBMITTED, ACCEPTED, PARTIALLY_FILLED, CANCEL_PENDING}
)


def apply(order: Order, report: VenueReport) -> bool:
    """Move ``order`` by one new venue report; True when the report ended it (the caller
    drops it from its live orders). On ``InvariantViolation`` nothing changes."""
    if type(report) is Filled:  # the commonest first
        return _on_fill(order, report)
    if type(report) is Accepted:
        _on_accepted(order)
        return False
    if type(report) is Cancelled:
        return _on_cancelled(order, report.remaining)
    if type(report) is CancelRejected:
        _on_cancel_rejected(order)
        return False
    if type(report) is Replaced:
        return _on_replaced(order, report.price, report.size)
    if type(report) is Rejected:
        return _on_rejected(order)
    raise violation(order, f"report {type(report).__name__}", "not a venue report")


def _on_fill(order: Order, report: Filled) -> bool:
    qty = report.size
    status = order.status
    if qty <= 0:
        raise violation(order, "fill", f"fill size {qty} must be positive")
    new = order.filled + qty
    if status in _WORKING:
        if new > order.size:
            raise violation(order, "fill", f"overfill: cum {new} would exceed size {order.size}")
        order.filled = new
        order.fees += report.fee
        if new == order.size:
            return _terminate(order, FILLED, new)
        if status != CANCEL_PENDING:  # a fill racing a cancel leaves it pending
            order.status = PARTIALLY_FILLED
        return False
    elif status in (CANCELLED, FILLED):
        # a fill that happened before the terminal report but was delivered after it
        assert order.terminal_cum is not None
        if new > order.terminal_cum:
            raise violation(
                order,
                "fill",
                f"cum {new} would exceed the terminal cum {order.terminal_cum} (size {order.size})",
                status,
            )
        order.filled = new
        order.fees += report.fee
        return False
    if status == REJECTED:
        raise violation(order, "fill", "fill after reject", REJECTED)
    raise violation(order, "fill", "fill before submission")


def _on_accepted(order: Order) -> None:
    if order.status == SUBMITTED:
        order.status = ACCEPTED
    elif order.status == CREATED:
        raise violation(order, "accepted", "accepted before submission", ACCEPTED)
    # anything later already implies acceptance: a late ACCEPTED is a no-op


def _on_rejected(order: Order) -> bool:
    status = order.status
    if status == REJECTED:
        return False  # the same verdict again under another key
    if status == CREATED:
        raise violation(order, "rejected", "rejected before submission", REJECTED)
    if order.filled > 0 or status in (PARTIALLY_FILLED, FILLED):
        raise violation(
            order, "rejected", f"rejected after fills (filled {order.filled})", REJECTED
        )
    if status == CANCELLED:
        raise violation(order, "rejected", "conflicting terminal reports", REJECTED)
    # SUBMITTED, ACCEPTED, or CANCEL_PENDING with nothing filled: the order is dead
    return _terminate(order, REJECTED, 0)


def _on_cancelled(order: Order, remaining: int) -> bool:
    status = order.status
    cum = order.size - remaining
    if status == CREATED:
        raise violation(order, "cancelled", "cancelled before submission", CANCELLED)
    if remaining < 0 or cum < 0:
        raise violation(
            order,
            "cancelled",
            f"remaining {remaining} out of range for size {order.size}",
            CANCELLED,
        )
    if status == REJECTED:
        raise violation(order, "cancelled", "conflicting terminal reports", CANCELLED)
    if order.filled > cum:
        raise violation(
            order,
            "cancelled",
            f"already filled {order.filled} but venue reports final cum {cum}",
            CANCELLED,
        )
    done = status in (CANCELLED, FILLED)
    if done and cum != order.terminal_cum:
        raise violation(
            order,
            "cancelled",
            f"final cum {cum} contradicts the earlier terminal cum {order.terminal_cum}",
            status,
        )
    _answer(order, ActionKind.CANCEL)
    if done:
        return False  # the same outcome again
    # Nothing left means the order completed (cancel raced the last fill): call it
    # FILLED so the outcome does not depend on which report arrived first.
    return _terminate(order, FILLED if remaining == 0 else CANCELLED, cum)


def _on_cancel_rejected(order: Order) -> None:
    status = order.status
    if status == CREATED:
        raise violation(order, "cancel_rejected", "report before submission")
    answered = order.requests.pop(0) if order.requests else ActionKind.CANCEL
    if status == CANCEL_PENDING and answered == ActionKind.CANCEL:
        order.status = PARTIALLY_FILLED if order.filled > 0 else ACCEPTED
    # otherwise a refused replace (a pending cancel stays pending) or stale (the order
    # is terminal, or the pending cancel already resolved)


def _on_replaced(order: Order, price: int, size: int) -> bool:
    status = order.status
    if status == CREATED:
        raise violation(order, "replaced", "replaced before submission")
    if status in TERMINAL:
        _answer(order, ActionKind.REPLACE)
        return False  # a replace overtaken by the order's end changes nothing
    if size <= 0:
        raise violation(order, "replaced", f"new size {size} must be positive", status)
    if size < order.filled:
        raise violation(
            order, "replaced", f"new size {size} is below filled {order.filled}", status
        )
    _answer(order, ActionKind.REPLACE)
    order.price = price
    order.size = size
    if size == order.filled:
        # fills made after the replace arrived before it: the order is complete
        return _terminate(order, FILLED, size)
    if status == SUBMITTED:
        order.status = ACCEPTED  # only a live order can be replaced
    return False


def _terminate(order: Order, status: OrderStatus, cum: int) -> bool:
    """The order ends in ``status`` with the venue's final cumulative fill ``cum``."""
    order.status = status
    order.terminal_cum = cum
    return True


def _answer(order: Order, request: ActionKind) -> None:
    """The venue answered the oldest unanswered ``request`` of this kind (if any)."""
    if request in order.requests:
        order.requests.remove(request)
