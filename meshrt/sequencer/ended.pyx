"""Orders that have ended: a small tombstone each until its horizon, then counters only.

An order is *settled* once it is terminal, every fill up to the venue's final cumulative
fill has been booked and every cancel or replace it sent has been answered: no report
can then change it, so the state machine lets it go (``OrderStateMachine.retire``). It
leaves a ``Tombstone`` (id, final state, final cumulative fill) that stands until its
horizon: a report for it meanwhile is a resend (a no-op, checked against the final state
as far as a tombstone can), and a cancel or replace naming it is refused with its final
state. Past the horizon the order is gone: a report for it is counted as late and
ignored. What reconciliation needs of ended orders (how many ended in each state, the
net size they filled) is kept as counters, so memory and checkpoints follow the open
orders, not the length of the run (docs/concepts.md, "Ended orders").

Compiled with the state machine: most orders retire, and every report first expires
the tombstones whose horizon has passed (a C comparison when none has).
"""

from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.tuple cimport PyTuple_GET_ITEM

import heapq
from collections import Counter

from meshrt.contract import Side
from meshrt.sequencer.order import OrderStatus

cdef object BUY = Side.BUY
cdef tuple STATUS_NAMES = tuple(status.name for status in OrderStatus)  # by value
cdef object heappush = heapq.heappush
cdef object heappop = heapq.heappop


cdef class Tombstone:
    """What stays of a settled order until its horizon (the strings are shared, not copies):
    Tombstone(order_id, deployment, client_id, venue, status, cum), ``cum`` the venue's
    final cumulative fill."""

    def __init__(self, order_id, deployment, client_id, venue, status, int64_t cum):
        self.order_id = order_id
        self.deployment = deployment
        self.client_id = client_id
        self.venue = venue
        self.status = status
        self.cum = cum


cdef class EndedOrders:
    """Tombstones by order id and by (deployment, client id), with their horizons."""

    def __init__(self):
        self.by_id = {}
        self.by_client = {}
        self.horizons = []  # heap of (horizon ns, order id)
        # how many orders ended in each final state (by name), and the signed size they
        # filled per (deployment, symbol): what reconciliation checks against the ledgers
        self.by_status = Counter()
        self.net_filled = Counter()

    cpdef add(self, Order order, object horizon):
        """A settled order leaves; its tombstone stands while the timeline is at or
        before ``horizon``."""
        cdef Tombstone tomb = Tombstone.__new__(Tombstone)
        tomb.order_id = order.order_id
        tomb.deployment = order.deployment
        tomb.client_id = order.client_id
        tomb.venue = order.venue
        tomb.status = order.status
        tomb.cum = order.filled
        self.by_id[tomb.order_id] = tomb
        self.by_client[(tomb.deployment, tomb.client_id)] = tomb
        heappush(self.horizons, (horizon, tomb.order_id))
        self.by_status[STATUS_NAMES[order.status_c]] += 1
        self.net_filled[(order.deployment, order.symbol)] += (
            order.filled if order.side == BUY else -order.filled
        )

    cpdef expire(self, object now):
        """Tombstones whose horizon is before ``now`` go."""
        cdef list horizons = self.horizons
        cdef Tombstone tomb
        while PyList_GET_SIZE(horizons) and (
            <object>PyTuple_GET_ITEM(<object>PyList_GET_ITEM(horizons, 0), 0) < now
        ):
            tomb = self.by_id.pop(heappop(horizons)[1])
            del self.by_client[(tomb.deployment, tomb.client_id)]

    def get(self, order_id):
        return self.by_id.get(order_id)

    def find(self, deployment, client_id):
        return self.by_client.get((deployment, client_id))

    def __len__(self):
        """Tombstones standing."""
        return len(self.by_id)
