"""Report ingress: a venue's order report moves its order, books its fill, and is
delivered to the deployment that owns the order.

The state change itself is ``OrderStateMachine.commit_report``'s (meshrt/sequencer/
orders.pyx, shared with arrival-order ingress in live mode); this adds what the timeline
needs: the seq id and log record, the delivery at ``time + feed latency``, and the
cancel of a crashed deployment's order on accept.

It also sets the horizon of a settled order's tombstone: the time the report that
settled it reaches the deployment (its commit time if nobody is there to tell). Until
then the algo may still name the order without knowing it ended (a cancel racing the
fill) and is refused with its final state, as it always was.

Compiled: a report is committed at venue-report rate, and each one's log record is
formatted here directly (its text fields escaped once per lane and symbol by orjson
itself, its ints and status names copied); a record holding anything but int64 values
is written by ``meshrt.log.records.report``, whose bytes these are
(tests/test_replaylog.py compares the two).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE, PyTuple_SET_ITEM
from cpython.type cimport PyType_GenericAlloc
from libc.stdint cimport int64_t
from libc.string cimport memcpy

from meshrt.log._jsonbuf cimport fmt_i64
from meshrt.scenario._latency cimport LatencyStream
from meshrt.sequencer.order cimport ST_ACCEPTED, ST_PARTIALLY_FILLED, Order, is_terminal
from meshrt.sequencer.orders cimport OrderStateMachine

import orjson

from meshrt.actors.protocol import FillDelivery, OrderDelivery, RejectDelivery
from meshrt.contract import ActionKind, RejectReason
from meshrt.log import records
from meshrt.log.schema import REPORT_BY_TYPE
from meshrt.sdk import Fill, OpenOrder, Reject
from meshrt.sequencer.order import InvariantViolation, OrderStatus
from meshrt.sequencer.orders import EXPIRED
from meshrt.venues.reports import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    Rejected,
    Replaced,
)

cdef type T_ACCEPTED = Accepted
cdef type T_REJECTED = Rejected
cdef type T_FILLED = Filled
cdef type T_CANCELLED = Cancelled
cdef type T_CANCEL_REJECTED = CancelRejected
cdef type T_REPLACED = Replaced
cdef type T_FILL = Fill
cdef type T_FILL_DELIVERY = FillDelivery
cdef type T_ORDER_DELIVERY = OrderDelivery
cdef type T_OPEN_ORDER = OpenOrder

# per report type: ``"name",[`` and how many of its fields after ``ts`` the record holds
cdef dict RECORDS = {
    cls: (orjson.dumps(record.name) + b",[", len(record.fields) - 2)
    for cls, record in REPORT_BY_TYPE.items()
}
# per status value: ``"NAME"``
cdef tuple STATUS_TEXT = tuple(orjson.dumps(status.name) for status in OrderStatus)
cdef Py_ssize_t MAX_HEAD = 400  # longer names are written by records.report


class RunFailed(Exception):
    """The run stopped on an invariant violation (fail closed); the message says where."""


cdef class ReportIngress:
    """ReportIngress(journal, desk, books): the sequencer's journal, intent desk (its
    ``orders`` are the state machine) and books."""

    cdef public object journal, desk, books
    # (lane, symbol index) -> (b'"source","venue","symbol",', b'"venue:'): escaped once
    cdef dict heads

    def __init__(self, journal, desk, books):
        self.journal = journal
        self.desk = desk
        self.books = books
        self.heads = {}

    def commit(self, lane, symbol, report):
        """Commit one order report of ``lane`` for its ``symbol`` (index)."""
        n = lane.reports + 1  # the report's place in the venue's stream: its key
        lane.reports = n
        kind = type(report)
        if kind not in RECORDS:
            raise TypeError(f"{kind.__name__} is not a venue report")
        # an exact report type: its fields are read by index (meshrt/venues/reports.py)
        ts = field(report, 0)
        order_id = field(report, 1)
        journal = self.journal
        seq = journal.seq + 1
        journal.seq = seq
        desk = self.desk
        cdef OrderStateMachine orders = desk.orders
        orders.ended.expire(ts)
        cdef Order order = orders.orders.get(order_id)
        if order is None and orders.issued(order_id):
            return self.after_end(lane, symbol, report)
        cdef int before = -1 if order is None else order.status_c
        cdef bint applied
        venue = lane.name
        try:
            if order is None:
                orders.apply_report(report, (venue, n))  # raises: no such order
            applied = orders.commit(order, venue, n, report)
            dep = self.books.by_label[order.deployment]
            if applied and kind is T_FILLED:
                dep.ledger.apply_fill(
                    order.symbol, order.side, field(report, 2), field(report, 3), field(report, 5)
                )
        except InvariantViolation as exc:
            raise RunFailed(f"invariant violated at seq {seq}: {exc}") from None
        self.log(lane, symbol, report, before, order.status_c, seq, n)
        if not applied:
            return  # a duplicate report: logged as received, booked and delivered once only
        # delivered at time + feed latency unless the deployment is down (then never; the
        # time the report reached it is its commit time)
        cdef bint deliver = dep.crashed is None
        at = ts
        if kind is T_FILLED:
            journal.counts["fills"] += 1
            fill = make(
                T_FILL,
                (
                    ts,
                    order.client_id,
                    order.symbol,
                    venue,
                    order.side,
                    field(report, 4),  # liquidity
                    field(report, 2),  # price
                    field(report, 3),  # size
                    field(report, 5),  # fee
                    field(report, 6),  # leaves
                ),
            )
            if deliver:
                at = (<LatencyStream?>lane.feed).deliver_at(ts, 0)
                dep.inbound.append(make(T_FILL_DELIVERY, (at, fill)))
        elif kind is T_REJECTED:
            reason = RejectReason(field(report, 2))
            dep.rejects[reason.name] += 1
            if deliver:
                at = (<LatencyStream?>lane.feed).deliver_at(ts, 0)
                reject = Reject(ts, order.client_id, reason, order.kind, "venue")
                dep.inbound.append(RejectDelivery(at, reject, False))
        elif kind is T_CANCELLED:
            if deliver:
                at = (<LatencyStream?>lane.feed).deliver_at(ts, 0)
                dep.inbound.append(make(T_ORDER_DELIVERY, (at, order.client_id, None)))
        elif kind is T_CANCEL_REJECTED:
            reason = RejectReason(field(report, 2))
            dep.rejects[reason.name] += 1
            if deliver:
                at = (<LatencyStream?>lane.feed).deliver_at(ts, 0)
                reject = Reject(ts, order.client_id, reason, ActionKind(field(report, 3)), "venue")
                dep.inbound.append(RejectDelivery(at, reject, bool(order.requests)))
        elif kind is T_ACCEPTED and order_id in desk.cancel_on_accept:
            desk.cancel_on_accept.discard(order_id)
            if order.status_c == ST_ACCEPTED or order.status_c == ST_PARTIALLY_FILLED:
                desk.send_cancel(ts, dep, order, "crash")
        elif deliver:  # accepted or replaced: the order as it now rests
            at = (<LatencyStream?>lane.feed).deliver_at(ts, 0)
            view = make(
                T_OPEN_ORDER,
                (
                    order.client_id,
                    order.symbol,
                    order.side,
                    order.price,
                    order.size,
                    order.filled,
                    True,
                    bool(order.requests),
                ),
            )
            dep.inbound.append(make(T_ORDER_DELIVERY, (at, order.client_id, view)))
        if is_terminal(order.status_c) and order.booked == order.filled and not order.requests:
            orders.retire_settled(order, at)  # settled
            desk.cancel_on_accept.discard(order_id)

    cdef after_end(self, object lane, object symbol, object report):
        """A report for a retired order: logged as received and ignored (a resend while its
        tombstone stands; late, and counted, after). Nothing live mode can be sent twice
        reaches here in virtual time: a simulated venue sends nothing after the last report."""
        try:
            final = self.desk.orders.report_after_end(report, lane.name)
        except InvariantViolation as exc:
            raise RunFailed(f"invariant violated at seq {self.journal.seq}: {exc}") from None
        state = EXPIRED if final is None else final.name
        self.journal.log.lines.append(self.fallback(lane, symbol, report, state, state))

    cdef bytes fallback(self, object lane, object symbol, object report, str before, str after):
        return records.report(
            self.journal.seq,
            lane.source,
            lane.name,
            lane.symbols[symbol],
            report,
            before,
            after,
            f"{lane.name}:{lane.reports}",
        )

    cdef int log(self, object lane, object symbol, object report, int before, int after,
                 object seq, object n) except -1:
        """The report's record: the order's state before and after, and the report's place
        in the venue's stream as its reference."""
        key = (lane, symbol)
        head = self.heads.get(key)
        if head is None:
            head = self.heads[key] = record_head(lane.source, lane.name, lane.symbols[symbol])
        line = report_line(seq, report, <tuple>head, n, before, after)
        if line is None:
            line = self.fallback(
                lane, symbol, report, STATUSES[before].name, STATUSES[after].name
            )
        self.journal.log.lines.append(line)
        return 0


cdef tuple STATUSES = tuple(OrderStatus)


cdef tuple record_head(object source, object venue, object symbol):
    """What a report record of this venue and symbol holds around its payload, escaped by
    orjson: (``"source","venue","symbol",``, the reference's ``"venue:``)."""
    return (
        orjson.dumps(source) + b"," + orjson.dumps(venue) + b"," + orjson.dumps(symbol) + b",",
        orjson.dumps(venue)[:-1] + b":",
    )


def report_record(seq, source, venue, symbol, report, before, after, n):
    """The record of ``report``, the ``n``-th of ``venue``, as report ingress writes it:
    compiled when its values are int64s, else by ``records.report`` (tests compare the
    two)."""
    before, after = OrderStatus(before), OrderStatus(after)
    line = report_line(seq, report, record_head(source, venue, symbol), n, before, after)
    if line is None:
        line = records.report(
            seq, source, venue, symbol, report, before.name, after.name, f"{venue}:{n}"
        )
    return line


cdef inline object field(object report, Py_ssize_t i):
    """report[i] of a report of an exact report type (a NamedTuple of its fields), borrowed
    and returned as a new reference."""
    return <object>PyTuple_GET_ITEM(report, i)


cdef object make(type cls, tuple items):
    """cls(*items) for a NamedTuple type, as tuple.__new__ builds it, without the Python
    frame of its generated ``__new__`` (a few per report)."""
    cdef Py_ssize_t i, n = PyTuple_GET_SIZE(items)
    if len(cls._fields) != n:
        raise TypeError(f"{cls.__name__} takes {len(cls._fields)} fields, not {n}")
    value = PyType_GenericAlloc(cls, n)
    for i in range(n):
        item = <object>PyTuple_GET_ITEM(items, i)
        Py_INCREF(item)
        PyTuple_SET_ITEM(value, i, item)
    return value


cdef inline bint put_int(char *buf, Py_ssize_t *n, object value):
    """value (an int of 64 bits, bool excluded) in decimal at buf + n[0], as orjson writes
    it; False when it is something else (records.report writes the line then)."""
    cdef int overflow = 0
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    cdef long long x = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow:
        return False
    n[0] += fmt_i64(buf + n[0], x)
    return True


cdef inline void put(char *buf, Py_ssize_t *n, bytes text) noexcept:
    cdef Py_ssize_t size = PyBytes_GET_SIZE(text)
    memcpy(buf + n[0], PyBytes_AS_STRING(text), <size_t>size)
    n[0] += size


cdef object report_line(object seq, object report, tuple head, object reference, int before,
                        int after):
    """``records.report``'s bytes, formatted directly: ``[seq,ts,ts,<head[0]>"name",
    [fields...,"BEFORE","AFTER"],<head[1]>reference"]``; None when a field is not an int
    of 64 bits."""
    cdef char buf[1024]
    cdef Py_ssize_t n = 0, i
    text = RECORDS.get(type(report))
    if text is None:
        return None
    head0, head1 = <bytes>head[0], <bytes>head[1]
    if PyBytes_GET_SIZE(head0) + PyBytes_GET_SIZE(head1) > MAX_HEAD:
        return None
    cdef Py_ssize_t count = (<tuple>text)[1]
    if count + 1 > PyTuple_GET_SIZE(report) or count > 12:
        return None
    ts = <object>PyTuple_GET_ITEM(report, 0)
    buf[0] = b'['
    n = 1
    if not put_int(buf, &n, seq):
        return None
    buf[n] = b','
    n += 1
    if not put_int(buf, &n, ts):
        return None
    buf[n] = b','
    n += 1
    put_int(buf, &n, ts)
    buf[n] = b','
    n += 1
    put(buf, &n, head0)
    put(buf, &n, <bytes>(<tuple>text)[0])
    for i in range(1, count + 1):
        if not put_int(buf, &n, <object>PyTuple_GET_ITEM(report, i)):
            return None
        buf[n] = b','
        n += 1
    put(buf, &n, <bytes>STATUS_TEXT[before])
    buf[n] = b','
    n += 1
    put(buf, &n, <bytes>STATUS_TEXT[after])
    buf[n] = b']'
    buf[n + 1] = b','
    n += 2
    put(buf, &n, head1)
    if not put_int(buf, &n, reference):
        return None
    buf[n] = b'"'
    buf[n + 1] = b']'
    return PyBytes_FromStringAndSize(buf, n + 2)
