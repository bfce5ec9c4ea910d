"""The order state machine: every order's lifecycle, owned by the sequencer.

States (docs/concepts.md, Orders)::

    Created -> Submitted -> Accepted -> PartiallyFilled -> Filled
    Accepted/PartiallyFilled -> CancelPending -> Cancelled
    Submitted/Accepted -> Rejected

The orders themselves and their statuses are meshrt/sequencer/order.pyx; how a venue
report moves one (duplicated and out of order, failing closed on anything no venue
history can explain) is meshrt/sequencer/transitions.pyx. This machine holds the orders,
records each report's idempotency key, and keeps the per-deployment live indexes.

Cancels and replaces requested by an algo are validated here too, but an impossible
request there is the algo's mistake, so it returns a ``RejectReason`` instead of raising.

A settled order (terminal, all its fills and answers in) is retired to a tombstone that
expires at a horizon the caller sets (meshrt/sequencer/ended.pyx); the ids ever used stay
known exactly, as ranges, so a reused id is refused and a report for an expired order is
told apart from one for an order that never existed.

Compiled with the order and its transitions: a venue report is applied, its order's
invariants checked and its fill booked (``commit``) without a Python call but the
ledger's.
"""

from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport int64_t

from meshrt.sequencer.order cimport (
    ST_ACCEPTED,
    ST_CANCEL_PENDING,
    ST_CREATED,
    ST_FILLED,
    ST_PARTIALLY_FILLED,
    ST_REJECTED,
    ST_SUBMITTED,
    Order,
    is_terminal,
    status_of,
)
from meshrt.sequencer.ended cimport EndedOrders
from meshrt.sequencer.id_ranges cimport IdRanges
from meshrt.sequencer.transitions cimport apply

from meshrt.contract import ActionKind, RejectReason, Side
from meshrt.log.schema import REPORT_BY_TYPE
from meshrt.sequencer.order import CREATED, SUBMITTED, InvariantViolation, violation
from meshrt.venues.reports import Cancelled, Filled, Rejected

# how the log and rejects name a retired order past its horizon (its final state is gone)
EXPIRED = "EXPIRED"

cdef object LIMIT = ActionKind.LIMIT, MARKET = ActionKind.MARKET
cdef object ILLEGAL_TRANSITION = RejectReason.ILLEGAL_TRANSITION
cdef object INVALID_SIZE = RejectReason.INVALID_SIZE
cdef object INVALID_PRICE = RejectReason.INVALID_PRICE
cdef object CANCEL = ActionKind.CANCEL
cdef object REPLACE = ActionKind.REPLACE
cdef object BUY = Side.BUY, SELL = Side.SELL
cdef type T_FILLED = Filled


cdef extern from *:
    # gcc/clang builtin: a signed add that reports int64 overflow
    bint add_overflow "__builtin_add_overflow"(int64_t a, int64_t b, int64_t *res) noexcept nogil


cdef inline object item(object report, Py_ssize_t i):
    """report[i] of a venue report (a NamedTuple: ts, order_id first)."""
    if not isinstance(report, tuple) or i >= PyTuple_GET_SIZE(report):
        raise TypeError(f"{type(report).__name__} is not a venue report")
    return <object>PyTuple_GET_ITEM(report, i)


cdef object replace_refusal(Order order, object price, object size):
    """``validate_replace`` of a held order: the reason it cannot be replaced, or None."""
    if order.status_c != ST_ACCEPTED and order.status_c != ST_PARTIALLY_FILLED:
        return ILLEGAL_TRANSITION
    if size <= order.filled:
        return INVALID_SIZE
    kind = order.kind
    if (kind is LIMIT or (kind is not MARKET and kind == LIMIT)) and (
        price is None or price <= 0
    ):
        return INVALID_PRICE
    return None


cdef int replace_requested(Order order) except -1:
    """``replace_sent`` of a held order."""
    order.requests.append(REPLACE)
    return 0


cdef class OrderStateMachine:
    """The orders of a runtime: those held in full by global order id, per-deployment live
    indexes, the tombstones of retired ones, and every order and client id ever used.

    ``orders`` holds live orders and terminal ones not yet retired: until an order is
    settled a report may still change it. ``created`` counts every order ever created
    (the sequencer's order ids are 1..created); ``late_reports`` the reports that arrived
    for an order already past its horizon.
    """

    def __init__(self):
        self.orders = {}
        # deployment -> order id -> order, non-terminal only (insertion-ordered: deterministic)
        self.live = {}
        self.by_client = {}  # deployment -> client id -> order
        self.ended = EndedOrders()
        self.order_ids = IdRanges()
        self.client_ids = {}  # deployment -> client ids ever used
        self.created = 0
        self.late_reports = 0

    # -- local transitions --------------------------------------------------------------

    cpdef create(self, Order order):
        """Register an intent that passed its checks (status CREATED).

        Raises ``InvariantViolation`` on a reused order id or (deployment, client id): the
        sequencer must refuse those as DUPLICATE_ORDER_ID before calling (see ``find``).
        """
        if order is None:
            raise TypeError("create() needs an Order, not None")
        cdef IdRanges client_ids = self.client_ids.get(order.deployment)
        if self.order_ids.holds(order.order_id):
            raise violation(order, "create", "order id already in use", CREATED)
        if client_ids is not None and client_ids.holds(order.client_id):
            raise violation(order, "create", "client id already used by this deployment", CREATED)
        if order.status_c != ST_CREATED or order.filled != 0 or order.booked != 0 or order.exec_seq:
            raise violation(
                order, "create", "a new order must be CREATED with nothing filled", CREATED
            )
        if order.size <= 0:
            raise violation(order, "create", f"size {order.size} must be positive", CREATED)
        if order.kind == LIMIT and (order.price is None or order.price <= 0):
            raise violation(order, "create", f"limit price {order.price} must be positive", CREATED)
        self.orders[order.order_id] = order
        held = self.by_client.get(order.deployment)
        if held is None:
            held = self.by_client[order.deployment] = {}
        (<dict>held)[order.client_id] = order
        live = self.live.get(order.deployment)
        if live is None:
            live = self.live[order.deployment] = {}
        live[order.order_id] = order
        self.order_ids.put(order.order_id)
        if client_ids is None:
            client_ids = self.client_ids[order.deployment] = IdRanges()
        client_ids.put(order.client_id)
        self.created += 1

    cpdef submit(self, object order_id, object ts):
        """CREATED -> SUBMITTED, when the order leaves for the venue."""
        cdef Order order = self.get(order_id, "submit")
        if order.status_c != ST_CREATED:
            raise violation(order, "submit", "only a CREATED order can be submitted", SUBMITTED)
        order.status_c = ST_SUBMITTED
        order.last_ts = ts

    cpdef object request_cancel(self, object order_id, object ts):
        """ACCEPTED/PARTIALLY_FILLED -> CANCEL_PENDING, or the reason the algo is refused."""
        cdef Order order = self.orders.get(order_id)
        if order is None:
            return RejectReason.UNKNOWN_ORDER
        if order.status_c != ST_ACCEPTED and order.status_c != ST_PARTIALLY_FILLED:
            return ILLEGAL_TRANSITION
        order.status_c = ST_CANCEL_PENDING
        order.last_ts = ts
        order.requests.append(CANCEL)
        return None

    cpdef object validate_replace(self, object order_id, object price, object size):
        """Whether an algo may ask to replace this order; changes nothing.

        The order keeps its state until the venue's REPLACED report arrives. Only an
        ACCEPTED or PARTIALLY_FILLED order can be replaced, to a size above what has
        already filled (a limit order keeps a positive price).
        """
        cdef Order order = self.orders.get(order_id)
        if order is None:
            return RejectReason.UNKNOWN_ORDER
        return replace_refusal(order, price, size)

    cpdef replace_sent(self, object order_id):
        """A replace that passed every check leaves for the venue: it awaits an answer."""
        replace_requested(self.get(order_id, "replace"))

    # -- venue reports --------------------------------------------------------------------

    cpdef bint apply_report(self, object report, object key) except -1:
        """Apply one venue report; False if ``key`` was already applied to this order.

        True means the report was new and is now recorded, whether or not it changed the
        order (a late ACCEPTED is recorded and changes nothing). On ``InvariantViolation``
        nothing changes and the key is not recorded.
        """
        order_id = item(report, 1)
        cdef Order order = self.orders.get(order_id)
        if order is None:
            raise InvariantViolation(
                order_id, f"order {order_id}", f"? --{report_name(report)}--> ?", "no such order"
            )
        cdef set seen = order.seen_keys
        if key in seen:
            return False
        if apply(order, report):
            live = self.live.get(order.deployment)
            if live is not None:
                (<dict>live).pop(order.order_id, None)
        seen.add(key)
        ts = item(report, 0)
        if ts > order.last_ts:
            order.last_ts = ts
        return True

    def commit_report(self, ledger_of, venue, venue_key, report):
        """Commit one venue report to the books: (order, status before, applied).

        What the sequencer's report ingress (meshrt/sequencer/reports.pyx) does to state,
        without its logging and delivery: the report is applied under the idempotency key
        ``(venue, venue_key)``, the order's invariants are checked, and a fill that was
        applied is booked to ``ledger_of(order)``. A duplicate (False) books nothing.
        Raises ``InvariantViolation`` on anything impossible: an unknown order, a report
        from a venue other than the order's, or any transition the machine refuses.
        """
        cdef Order order = self.orders.get(item(report, 1))
        if order is None:
            self.apply_report(report, (venue, venue_key))  # raises: no such order
            raise AssertionError("unreachable")
        before = order.status
        applied = self.commit(order, venue, venue_key, report)
        if applied and type(report) is T_FILLED:
            fill = <tuple>report
            ledger_of(order).apply_fill(order.symbol, order.side, fill[2], fill[3], fill[5])
        return order, before, bool(applied)

    cdef int commit(self, Order order, object venue, object venue_key, object report) except -1:
        """``commit_report`` for a held order, but for booking the fill: 1 when applied,
        0 for a duplicate."""
        cdef int before = order.status_c
        cdef int64_t before_filled = order.filled
        if order.venue != venue:
            raise InvariantViolation(
                order.order_id,
                order.label(),
                f"{status_of(before).name} --{report_name(report)}--> ?",
                f"report from venue {venue!r}, but the order is on {order.venue!r}",
            )
        cdef bint applied = self.apply_report(report, (venue, venue_key))
        self.check(order)
        if order.filled < before_filled or (is_terminal(before) and order.status_c != before):
            raise InvariantViolation(
                order.order_id,
                order.label(),
                f"{status_of(before).name} --{report_name(report)}--> {order.status.name}",
                f"filled {before_filled} -> {order.filled}: terminal left or fill decreased",
            )
        return applied

    # -- retirement ------------------------------------------------------------------------

    def retire(self, order_id, horizon):
        """A settled order leaves for a tombstone standing until ``horizon`` (ns)."""
        cdef Order order = self.get(order_id, "retire")
        if not order.settled:
            raise violation(order, "retire", "only a settled order can be retired", order.status)
        self.retire_settled(order, horizon)

    cdef int retire_settled(self, Order order, object horizon) except -1:
        """``retire`` of an order the caller found settled."""
        del self.orders[order.order_id]
        del self.by_client[order.deployment][order.client_id]
        self.ended.add(order, horizon)
        return 0

    cpdef expire(self, object now):
        """The timeline is at ``now``: tombstones whose horizon has passed go."""
        self.ended.expire(now)

    def report_after_end(self, report, venue):
        """A report for a retired order: its final state while its tombstone stands (the
        report is a resend and changes nothing), None past the horizon (counted as late,
        ignored). Raises ``InvariantViolation`` on a report no resend can explain.
        """
        tomb = self.ended.get(item(report, 1))
        if tomb is None:
            self.late_reports += 1
            return None
        status = tomb.status
        who = f"order {tomb.order_id} (deployment {tomb.deployment!r}, client id {tomb.client_id})"
        why = None
        if tomb.venue != venue:
            why = f"report from venue {venue!r}, but the order was on {tomb.venue!r}"
        elif type(report) is Filled and status == ST_REJECTED:
            why = "fill after reject"
        elif type(report) is Rejected and status != ST_REJECTED:
            why = f"rejected after it ended {status.name} (final cum {tomb.cum})"
        elif type(report) is Cancelled and status == ST_REJECTED:
            why = "conflicting terminal reports"
        if why is not None:
            raise InvariantViolation(
                tomb.order_id, who, f"{status.name} --{report_name(report)}--> ?", why
            )
        return status

    # -- queries --------------------------------------------------------------------------

    def issued(self, order_id):
        """Whether an order was ever created with this id (retired ones included)."""
        return self.order_ids.holds(order_id)

    cpdef bint client_id_used(self, object deployment, object client_id) except -1:
        """Whether the deployment ever had an order with this client id."""
        cdef IdRanges client_ids = self.client_ids.get(deployment)
        return client_ids is not None and client_ids.holds(client_id)

    cpdef object ended_state(self, object deployment, object client_id):
        """The final state's name of a deployment's retired order: ``EXPIRED`` once past its
        horizon; None if the id is held in ``orders`` or was never used."""
        held = self.by_client.get(deployment)
        if held is not None and client_id in <dict>held:
            return None
        tomb = self.ended.find(deployment, client_id)
        if tomb is not None:
            return tomb.status.name
        return EXPIRED if self.client_id_used(deployment, client_id) else None

    cdef Order get(self, object order_id, str action):
        cdef Order order = self.orders.get(order_id)
        if order is None:
            raise InvariantViolation(
                order_id, f"order {order_id}", f"? --{action}--> ?", "no such order"
            )
        return order

    cpdef Order find(self, object deployment, object client_id):
        """The held order (live, or terminal and not yet retired) a deployment knows by its
        client order id, if any; see ``ended_state`` for retired ones."""
        held = self.by_client.get(deployment)
        return None if held is None else (<dict>held).get(client_id)

    cpdef object open_orders(self, object deployment):
        """Live (non-terminal) orders of a deployment, including ones not yet acknowledged."""
        live = self.live.get(deployment)
        return 0 if live is None else len(live)

    def live_orders(self, deployment):
        """Non-terminal orders of a deployment, in creation order."""
        live = self.live.get(deployment)
        return iter(()) if live is None else iter(list((<dict>live).values()))

    cpdef tuple open_exposure(self, object deployment, object symbol):
        """(buy, sell) size still working on a symbol: the inputs risk needs."""
        cdef int64_t buy = 0, sell = 0
        cdef bint overflow = False
        cdef Order order
        live = self.live.get(deployment)
        if live is not None:
            for order in (<dict>live).values():
                if order.symbol is symbol or order.symbol == symbol:
                    side = order.side
                    if side is BUY or (side is not SELL and side == BUY):
                        overflow |= add_overflow(buy, order.size - order.filled, &buy)
                    else:
                        overflow |= add_overflow(sell, order.size - order.filled, &sell)
        if overflow:  # sizes are int64s, their sums need not be: Python ints then
            return exact_exposure(<dict>live, symbol)
        return buy, sell

    def check_invariants(self, order_id):
        """Assert the order is self-consistent; raises ``InvariantViolation`` if not."""
        self.check(self.get(order_id, "check"))

    cdef int check(self, Order order) except -1:
        """``check_invariants`` of a held order, in C arithmetic."""
        cdef int status = order.status_c
        cdef int64_t filled = order.filled, size = order.size, booked = order.booked
        if not 0 <= filled <= size:
            raise fail(order, f"filled {filled} outside 0..size {size}")
        if not 0 <= booked <= filled:
            raise fail(order, f"booked {booked} outside 0..filled {filled}")
        if is_terminal(status):
            if status == ST_FILLED and filled != size:
                raise fail(order, f"FILLED with filled {filled} != size {size}")
            if status == ST_REJECTED and filled != 0:
                raise fail(order, "REJECTED with fills")
        else:
            if filled == size:
                raise fail(order, "fully filled but not FILLED")
            if status <= ST_ACCEPTED and filled != 0:  # CREATED, SUBMITTED, ACCEPTED
                raise fail(order, f"{order.status.name} with filled {filled}")
            if status == ST_PARTIALLY_FILLED and filled == 0:
                raise fail(order, "PARTIALLY_FILLED with nothing filled")
        live = self.live.get(order.deployment)
        held = live is not None and order.order_id in <dict>live
        if held == is_terminal(status):
            raise fail(order, "live index disagrees with status")
        return 0


cdef tuple exact_exposure(dict live, object symbol):
    """``open_exposure`` in Python ints, for sums beyond an int64."""
    buy = sell = 0
    cdef Order order
    for order in live.values():
        if order.symbol == symbol:
            if order.side == BUY:
                buy += order.size - order.filled
            else:
                sell += order.size - order.filled
    return buy, sell


cdef object fail(Order order, str why):
    return violation(order, "check", why, order.status)


def report_name(report):
    """How errors name a report: its log record's type (``accepted``, ``fill``, ...)."""
    return REPORT_BY_TYPE[type(report)].name
