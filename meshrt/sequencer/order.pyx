"""One order: its statuses, its record, and the error a transition no venue can explain
raises.

The order state machine (meshrt/sequencer/orders.pyx) holds these records and the report
transitions (meshrt/sequencer/transitions.pyx) move them; both fail closed through
``violation``. Compiled because every venue report reads and moves one: the fields are
C integers where they are counts (order.pxd), and the status is an ``OrderStatus`` value
held as a C int, shown to Python as the enum member.
"""

import enum

from meshrt.contract import ActionKind


class OrderStatus(enum.IntEnum):
    CREATED = 0
    SUBMITTED = 1
    ACCEPTED = 2
    PARTIALLY_FILLED = 3
    FILLED = 4
    CANCEL_PENDING = 5
    CANCELLED = 6
    REJECTED = 7


CREATED = OrderStatus.CREATED
SUBMITTED = OrderStatus.SUBMITTED
ACCEPTED = OrderStatus.ACCEPTED
PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
FILLED = OrderStatus.FILLED
CANCEL_PENDING = OrderStatus.CANCEL_PENDING
CANCELLED = OrderStatus.CANCELLED
REJECTED = OrderStatus.REJECTED

TERMINAL = frozenset({FILLED, CANCELLED, REJECTED})

cdef tuple STATUSES = tuple(OrderStatus)  # by value: 0..7 in order
assert [status.value for status in STATUSES] == list(range(ST_REJECTED + 1))
assert {status.value for status in TERMINAL} == {ST_FILLED, ST_CANCELLED, ST_REJECTED}
cdef object CANCEL = ActionKind.CANCEL


cdef object status_of(int status):
    return STATUSES[status]


cdef class Order:
    """One order. Mutable on purpose: it changes on every report, and it is hot.

    ``price`` is None for market orders. The venue's reports are authoritative
    (meshrt/sequencer/transitions.pyx): ``size`` is the order's total size at the venue
    and ``filled`` its cumulative fill (the newest report's ``cum``), as of the newest
    report applied, whose execution sequence is ``exec_seq``; ``price`` comes from the
    newest replace applied (its ``exec_seq`` is ``replace_seq``, 0 for none). ``booked``
    is the fill size booked to the ledger (the sum of the fill reports applied, ``fees``
    their fees): below ``filled`` while fills are still on their way. ``requests``: the
    cancel and replace requests sent to the venue and not yet answered, oldest first.
    """

    def __init__(
        self,
        *,
        order_id,
        deployment,
        client_id,
        venue,
        symbol,
        side,
        kind,
        tif,
        price,
        int64_t size,
        int64_t filled=0,
        int64_t booked=0,
        status=ST_CREATED,
        int64_t created_ts,
        last_ts=None,
        fees=0,
        int64_t exec_seq=0,
        int64_t replace_seq=0,
        set seen_keys=None,
        list requests=None,
    ):
        self.order_id = order_id
        self.deployment = deployment
        self.client_id = client_id
        self.venue = venue
        self.symbol = symbol
        self.side = side
        self.kind = kind
        self.tif = tif
        self.price = price
        self.size = size
        self.filled = filled
        self.booked = booked
        self.status = status
        self.created_ts = created_ts
        self.last_ts = created_ts if last_ts is None else last_ts
        self.fees = fees
        self.exec_seq = exec_seq
        self.replace_seq = replace_seq
        self.seen_keys = set() if seen_keys is None else seen_keys
        self.requests = [] if requests is None else requests

    @property
    def status(self):
        return STATUSES[self.status_c]

    @status.setter
    def status(self, value):
        self.status_c = OrderStatus(value).value

    @property
    def remaining(self):
        """Size still working at the venue (the leaves; 0 once terminal)."""
        return 0 if is_terminal(self.status_c) else self.size - self.filled

    @property
    def is_terminal(self):
        return is_terminal(self.status_c)

    @property
    def settled(self):
        """Terminal with every fill booked and every request answered: no report can
        change it any more."""
        return is_terminal(self.status_c) and self.booked == self.filled and not self.requests

    @property
    def outstanding_fills(self):
        """Fill size the venue reported (``filled``) but not yet delivered and booked."""
        return self.filled - self.booked

    def label(self):
        return f"order {self.order_id} (deployment {self.deployment!r}, client id {self.client_id})"

    def __repr__(self):
        return (
            f"Order(order_id={self.order_id!r}, deployment={self.deployment!r}, "
            f"client_id={self.client_id!r}, status={self.status.name}, size={self.size}, "
            f"filled={self.filled}, booked={self.booked}, exec_seq={self.exec_seq})"
        )

    cdef int cancel_requested(self) except -1:
        cdef object request
        for request in self.requests:
            if request is CANCEL or request == CANCEL:
                return True
        return False


cpdef Order created_order(object order_id, object deployment, object client_id, object venue,
                          object symbol, object side, object kind, object tif, object price,
                          int64_t size, int64_t created_ts):
    """A new order (CREATED, nothing filled, booked or requested): ``Order(order_id=...,
    ..., size=size, created_ts=created_ts)`` built in C for the desk, without the keyword
    parsing and the status setter's enum call."""
    cdef Order order = Order.__new__(Order)  # its C fields start at 0 (ST_CREATED)
    order.order_id = order_id
    order.deployment = deployment
    order.client_id = client_id
    order.venue = venue
    order.symbol = symbol
    order.side = side
    order.kind = kind
    order.tif = tif
    order.price = price
    order.size = size
    order.created_ts = created_ts
    order.last_ts = created_ts
    order.fees = 0
    order.seen_keys = set()
    order.requests = []
    return order


class InvariantViolation(Exception):
    """A transition no venue history can explain. Fail closed: stop trading this order.

    The message names the order, the transition attempted and why; the same parts are
    kept as attributes for programmatic handling.
    """

    def __init__(self, order_id, who, transition, why):
        super().__init__(f"{who}: {transition}: {why}")
        self.order_id = order_id
        self.transition = transition
        self.why = why


def violation(Order order not None, str report, str why, target=None):
    """The error for ``report`` (a report kind or local action) moving ``order`` towards
    ``target`` (None: no state it could reach), refused because ``why``."""
    to = OrderStatus(target).name if target is not None else "?"
    return InvariantViolation(
        order.order_id, order.label(), f"{order.status.name} --{report}--> {to}", why
    )
