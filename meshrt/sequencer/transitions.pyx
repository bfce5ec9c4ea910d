"""How one venue report moves one order: the order state machine's report transitions.

Venue reports (meshrt/venues/reports.py) may arrive duplicated and out of order, as live
venues deliver them. Each carries the order report contract: the order's cumulative fill
``cum`` and open size ``leaves`` after it, and its execution sequence ``exec_seq`` at the
venue. The transitions use them so that every arrival order of one order's reports ends
in the state in-order delivery gives, and fail closed, raising ``InvariantViolation``,
on anything no venue history can explain (docs/concepts.md, "Order reports"):

* a report whose idempotency key this order already applied is a no-op (the state
  machine, meshrt/sequencer/orders.pyx, keeps the keys);
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

Compiled: C arithmetic on the order's counts (a report's ints must fit 64 bits; one that
does not is a violation like any other impossible value).
"""

from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport int64_t

from meshrt.sequencer.order cimport (
    ST_ACCEPTED,
    ST_CANCEL_PENDING,
    ST_CANCELLED,
    ST_CREATED,
    ST_FILLED,
    ST_PARTIALLY_FILLED,
    ST_REJECTED,
    ST_SUBMITTED,
    Order,
    is_terminal,
)

from meshrt.contract import ActionKind
from meshrt.log.schema import REPORT_BY_TYPE
from meshrt.sequencer.order import CANCELLED, FILLED, REJECTED, OrderStatus, violation
from meshrt.venues.reports import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    Rejected,
    Replaced,
)

cdef extern from *:
    # gcc/clang builtin: a signed add that reports int64 overflow
    bint add_overflow "__builtin_add_overflow"(int64_t a, int64_t b, int64_t *res) noexcept nogil

cdef dict NAME = {cls: record.name for cls, record in REPORT_BY_TYPE.items()}
cdef type T_ACCEPTED = Accepted
cdef type T_REJECTED = Rejected
cdef type T_FILLED = Filled
cdef type T_CANCELLED = Cancelled
cdef type T_CANCEL_REJECTED = CancelRejected
cdef type T_REPLACED = Replaced
cdef object CANCEL = ActionKind.CANCEL
cdef object REPLACE = ActionKind.REPLACE
# where each report type holds (cum, leaves, exec_seq): reports.py's field order
cdef dict CONTRACT = {
    cls: (cls._fields.index("cum"), cls._fields.index("leaves"), cls._fields.index("exec_seq"))
    for cls in NAME
}


cdef inline bint working(int status) noexcept:
    """The venue holds the order: a fill may arrive and count toward size."""
    return (
        status == ST_SUBMITTED or status == ST_ACCEPTED or status == ST_PARTIALLY_FILLED
        or status == ST_CANCEL_PENDING
    )


cdef int64_t field(Order order, object report, Py_ssize_t i) except? -1:
    """report[i] (a venue report, a NamedTuple) as a C int; an int beyond 64 bits is no
    venue's."""
    cdef int overflow = 0
    if i >= PyTuple_GET_SIZE(report):
        raise IndexError("tuple index out of range")  # a NamedTuple built by hand
    value = <object>PyTuple_GET_ITEM(report, i)
    cdef int64_t x = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow:
        raise violation(order, NAME[type(report)], f"{value} does not fit 64 bits")
    return x


cdef int apply(Order order, object report) except -1:
    """Move ``order`` by one new venue report; 1 when the report ended it (the caller
    drops it from its live orders). On ``InvariantViolation`` nothing changes."""
    cdef int64_t qty, leaves, cum, seq
    if type(report) is T_FILLED:  # the commonest: the next fill of a working order, in order
        qty = field(order, report, 3)
        leaves = field(order, report, 6)
        cum = field(order, report, 7)
        seq = field(order, report, 8)
        if (
            seq > order.exec_seq
            and working(order.status_c)
            and 0 < qty <= cum
            and order.filled <= cum
            and order.booked <= cum - qty
            and leaves >= 0
            and leaves == order.size - cum
        ):  # what ``apply_any`` does with such a fill, without its other cases
            order.fees = order.fees + <object>PyTuple_GET_ITEM(report, 5)
            order.exec_seq = seq
            order.filled = cum
            order.booked += qty
            if leaves == 0:
                order.status_c = ST_FILLED
                return 1
            order.status_c = (
                ST_CANCEL_PENDING if order.cancel_requested() else ST_PARTIALLY_FILLED
            )
            return 0
    return apply_any(order, report)


cdef int apply_any(Order order, object report) except -1:
    """``apply`` for any report, in any arrival order."""
    kind = type(report)
    name = NAME.get(kind)
    if name is None:
        raise violation(order, f"report {kind.__name__}", "not a venue report")
    cdef int status = order.status_c
    if status == ST_CREATED:
        raise violation(order, name, f"{name} before submission")
    fields = report
    cdef tuple where = CONTRACT[kind]
    cdef int64_t seq = field(order, fields, where[2])
    cdef int64_t cum = field(order, fields, where[0])
    cdef int64_t leaves = field(order, fields, where[1])
    cdef int64_t qty = 0, size = 0, remaining, maxcum
    if kind is T_CANCEL_REJECTED:
        request = <object>PyTuple_GET_ITEM(fields, 3)
        if request != CANCEL and request != REPLACE:
            raise violation(order, name, f"answers request kind {request}: no such request")
        if seq == 0:  # the venue no longer knew the order
            answer(order, request)
            if not is_terminal(status):
                order.status_c = live_status(order)
            return 0
    if seq < 1 or cum < 0 or leaves < 0:
        raise violation(order, name, f"exec_seq {seq}, cum {cum}, leaves {leaves} out of range")
    # the order's total size at the venue as this report saw it (none: it says nothing)
    cdef bint has_size = True
    cdef int end = -1
    if add_overflow(cum, leaves, &size):
        raise violation(order, name, f"cum {cum} and leaves {leaves} beyond 64 bits")
    if kind is T_FILLED:
        qty = field(order, fields, 3)
        if qty <= 0 or qty > cum:
            raise violation(order, name, f"fill size {qty} must be positive and within cum {cum}")
        if status == ST_REJECTED:
            raise violation(order, name, "fill after reject", REJECTED)
        if leaves == 0:
            if status == ST_CANCELLED:
                raise violation(order, name, "conflicting terminal reports", FILLED)
            end = ST_FILLED
    elif kind is T_CANCELLED:
        remaining = field(order, fields, 2)
        if add_overflow(cum, remaining, &size):
            raise violation(order, name, f"cum {cum} and remaining {remaining} beyond 64 bits")
        if leaves != 0:
            raise violation(order, name, f"cancelled with leaves {leaves}", CANCELLED)
        if status == ST_REJECTED or (status == ST_FILLED and remaining):
            raise violation(order, name, "conflicting terminal reports", CANCELLED)
        # Nothing remaining means the order completed (the cancel raced the last fill):
        # call it FILLED so the outcome does not depend on which report arrived first.
        end = ST_FILLED if remaining == 0 else ST_CANCELLED
    elif kind is T_REJECTED:
        has_size = False
        if cum or order.filled or order.booked:
            raise violation(order, name, f"rejected after fills (filled {order.filled})", REJECTED)
        if status == ST_CANCELLED or status == ST_FILLED:
            raise violation(order, name, "conflicting terminal reports", REJECTED)
        end = ST_REJECTED
    elif kind is T_REPLACED and (field(order, fields, 3) != size or leaves == 0):
        raise violation(
            order,
            name,
            f"new size {<object>PyTuple_GET_ITEM(fields, 3)} with cum {cum} and leaves {leaves}",
            OrderStatus(status),
        )
    cdef bint newer = seq > order.exec_seq
    if newer:
        if is_terminal(status) and (end != status or cum != order.filled):
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
    maxcum = cum if cum > order.filled else order.filled
    if kind is T_FILLED and order.booked > maxcum - qty:
        raise violation(
            order,
            name,
            f"overfill: fills of {order.booked + qty} booked, but the venue's cum is "
            f"{maxcum} (size {order.size})",
        )
    if (
        newer
        and has_size
        and size != order.size
        and kind is not T_REPLACED
        and REPLACE not in order.requests
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
        if has_size:
            order.size = size
    if kind is T_FILLED:
        order.fees = order.fees + <object>PyTuple_GET_ITEM(fields, 5)
        order.booked += qty
    elif kind is T_REPLACED:
        answer(order, REPLACE)
        if seq > order.replace_seq:
            order.price = <object>PyTuple_GET_ITEM(fields, 2)
            order.replace_seq = seq
    elif kind is T_CANCELLED:
        answer(order, CANCEL)
    elif kind is T_CANCEL_REJECTED:
        answer(order, <object>PyTuple_GET_ITEM(fields, 3))
    if is_terminal(status):
        return 0  # an older report delivered after the end: counted, never reopens it
    if end >= 0:
        order.status_c = end
        return 1
    order.status_c = live_status(order)
    return 0


cdef int live_status(Order order) except -1:
    """A live order's status from its facts: a cancel outstanding, something filled,
    the venue heard of it."""
    if order.cancel_requested():
        return ST_CANCEL_PENDING
    if order.filled:
        return ST_PARTIALLY_FILLED
    if order.exec_seq or order.status_c != ST_SUBMITTED:
        return ST_ACCEPTED
    return ST_SUBMITTED


cdef int answer(Order order, object request) except -1:
    """The venue answered the oldest unanswered ``request`` of this kind (if any)."""
    cdef list requests = order.requests
    cdef Py_ssize_t i
    for i in range(len(requests)):
        if requests[i] == request:
            del requests[i]
            return 0
    return 0
