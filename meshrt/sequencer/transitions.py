"""How one venue report moves one order: the order state machine's report transitions.

Venue reports (meshrt/venues/reports.py) may arrive duplicated and out of order, as live
venues deliver them. Each carries the order report contract: the order's cumulative fill
``cum`` and open size ``leaves`` after it, and its execution sequence ``exec_seq`` at the
venue. The transitions use them so that every arrival order of one order's reports ends
in the state in-order delivery gives, and fail closed, raising ``InvariantViolation``,
on anything no venue history can explain (docs/concepts.md, "Order reports"):

* a report whose idempotency key this order already applied is a no-op (the state
  machine, meshrt/sequencer/orders.py, keeps the keys);
* cumulative values are authoritative: the newest report (the highest ``exec_seq`` so
  far) sets ``filled`` (its ``cum``) and ``size`` (its ``cum + leaves``; a cancel's
  ``cum + remaining``); an older one sets neither, and ``cum`` never decreases as
  ``exec_seq`` grows;
* each fill books its own size and fee once, whenever it arrives: ``booked`` never
  exceeds ``filled`` (more is an overfill), and the order is settled once they are equal;
* a replace sets the price if it is newer than the replace that set it, so two replaces
  out of order end with the newer; a newest report whose size differs from the order's
  while no replace is outstanding is an overfill;
* terminal is terminal: the first terminal report (a fill leaving nothing, a cancel, a
  reject) fixes the status, and nothing newer may follow it but the same outcome again;
  older reports arriving after it still count (their fills are booked, a replace's
  price applies) but never reopen it. A cancel with nothing remaining raced the last
  fill and ends Filled;
* a live order's status follows from its facts: CancelPending while a cancel is
  unanswered, else PartiallyFilled once something filled, else Accepted once the venue
  reported on it (a report for a Submitted order implies acceptance);
* a CANCEL_REJECTED answers the oldest unanswered request of the kind it names; it
  carries the order's state as of the execution it names (none: the venue no longer
  knew the order).
"""

from __future__ import annotations

from meshrt.contract import ActionKind
from meshrt.log.schema import REPORT_BY_TYPE
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
    Cancelled,
    CancelRejected,
    Filled,
    Rejected,
    Replaced,
    VenueReport,
)

_NAME = {cls: record.name for cls, record in REPORT_BY_TYPE.items()}
_CANCEL = ActionKind.CANCEL
_REPLACE = ActionKind.REPLACE


# states in which the venue holds the order, so a fill may arrive and count toward size
_WORKING: frozenset[OrderStatus] = frozenset(
    {SUBMITTED, ACCEPTED, PARTIALLY_FILLED, CANCEL_PENDING}
)


def apply(order: Order, report: VenueReport) -> bool:
    """Move ``order`` by one new venue report; True when the report ended it (the caller
    drops it from its live orders). On ``InvariantViolation`` nothing changes."""
    if type(report) is Filled:  # the commonest: the next fill of a working order, in order
        _, _, _, qty, _, fee, leaves, cum, seq = report
        booked = order.booked + qty
        if (
            seq > order.exec_seq
            and order.status in _WORKING
            and 0 < qty <= cum
            and order.filled <= cum
            and booked <= cum
            and leaves >= 0
            and cum + leaves == order.size
        ):  # what ``_apply`` does with such a fill, without its other cases
            order.exec_seq = seq
            order.filled = cum
            order.booked = booked
            order.fees += fee
            if leaves == 0:
                order.status = FILLED
                return True
            order.status = CANCEL_PENDING if _CANCEL in order.requests else PARTIALLY_FILLED
            return False
    return _apply(order, report)


def _apply(order: Order, report: VenueReport) -> bool:
    """``apply`` for any report, in any arrival order."""
    kind = type(report)
    name = _NAME.get(kind)
    if name is None:
        raise violation(order, f"report {kind.__name__}", "not a venue report")
    status = order.status
    if status == CREATED:
        raise violation(order, name, f"{name} before submission")
    seq, cum, leaves = report.exec_seq, report.cum, report.leaves
    if type(report) is CancelRejected:
        if report.request != _CANCEL and report.request != _REPLACE:
            raise violation(order, name, f"answers request kind {report.request}: no such request")
        if seq == 0:  # the venue no longer knew the order
            _answer(order, report.request)
            if status not in TERMINAL:
                order.status = _live_status(order)
            return False
    if seq < 1 or cum < 0 or leaves < 0:
        raise violation(order, name, f"exec_seq {seq}, cum {cum}, leaves {leaves} out of range")
    # the order's total size at the venue as this report saw it (None: it says nothing)
    size: int | None = cum + leaves
    end: OrderStatus | None = None
    if type(report) is Filled:
        qty = report.size
        if qty <= 0 or qty > cum:
            raise violation(order, name, f"fill size {qty} must be positive and within cum {cum}")
        if status == REJECTED:
            raise violation(order, name, "fill after reject", REJECTED)
        if leaves == 0:
            if status == CANCELLED:
                raise violation(order, name, "conflicting terminal reports", FILLED)
            end = FILLED
    elif type(report) is Cancelled:
        size = cum + report.remaining
        if leaves != 0:
            raise violation(order, name, f"cancelled with leaves {leaves}", CANCELLED)
        if status == REJECTED or (status == FILLED and report.remaining):
            raise violation(order, name, "conflicting terminal reports", CANCELLED)
        # Nothing remaining means the order completed (the cancel raced the last fill):
        # call it FILLED so the outcome does not depend on which report arrived first.
        end = FILLED if report.remaining == 0 else CANCELLED
    elif type(report) is Rejected:
        size = None
        if cum or order.filled or order.booked:
            raise violation(order, name, f"rejected after fills (filled {order.filled})", REJECTED)
        if status in (CANCELLED, FILLED):
            raise violation(order, name, "conflicting terminal reports", REJECTED)
        end = REJECTED
    elif type(report) is Replaced and (report.size != size or leaves == 0):
        raise violation(
            order, name, f"new size {report.size} with cum {cum} and leaves {leaves}", status
        )
    newer = seq > order.exec_seq
    if newer:
        if status in TERMINAL and (end != status or cum != order.filled):
            raise violation(
                order, name, f"exec_seq {seq} after the order ended at exec_seq {order.exec_seq}"
            )
        if cum < order.filled:
            raise violation(
                order,
                name,
                f"cum {cum} at exec_seq {seq} is below cum {order.filled} at exec_seq "
                f"{order.exec_seq}",
            )
    elif cum > order.filled:
        raise violation(
            order,
            name,
            f"cum {cum} at exec_seq {seq} is above cum {order.filled} at the later exec_seq "
            f"{order.exec_seq}",
        )
    if type(report) is Filled and order.booked + report.size > max(cum, order.filled):
        raise violation(
            order,
            name,
            f"overfill: fills of {order.booked + report.size} booked, but the venue's cum is "
            f"{max(cum, order.filled)} (size {order.size})",
        )
    if (
        newer
        and size is not None
        and size != order.size
        and kind is not Replaced
        and _REPLACE not in order.requests
    ):
        raise violation(
            order,
            name,
            f"overfill: size {size} at exec_seq {seq} (cum {cum}), but the order's size is "
            f"{order.size} and no replace is outstanding",
        )
    # checked: now move the order
    if newer:
        order.exec_seq = seq
        order.filled = cum
        if size is not None:
            order.size = size
    if type(report) is Filled:
        order.booked += report.size
        order.fees += report.fee
    elif type(report) is Replaced:
        _answer(order, _REPLACE)
        if seq > order.replace_seq:
            order.price = report.price
            order.replace_seq = seq
    elif type(report) is Cancelled:
        _answer(order, _CANCEL)
    elif type(report) is CancelRejected:
        _answer(order, report.request)
    if status in TERMINAL:
        return False  # an older report delivered after the end: counted, never reopens it
    if end is not None:
        order.status = end
        return True
    order.status = _live_status(order)
    return False


def _live_status(order: Order) -> OrderStatus:
    """A live order's status from its facts: a cancel outstanding, something filled,
    the venue heard of it."""
    if _CANCEL in order.requests:
        return CANCEL_PENDING
    if order.filled:
        return PARTIALLY_FILLED
    if order.exec_seq or order.status != SUBMITTED:
        return ACCEPTED
    return SUBMITTED


def _answer(order: Order, request: int) -> None:
    """The venue answered the oldest unanswered ``request`` of this kind (if any)."""
    if request in order.requests:
        order.requests.remove(ActionKind(request))
