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
"""

from __future__ import annotations

import heapq
from collections import Counter
from typing import TYPE_CHECKING

import attrs

from meshrt.contract import Side

if TYPE_CHECKING:
    from meshrt.sequencer.order import Order, OrderStatus


@attrs.frozen(slots=True)
class Tombstone:
    """What stays of a settled order until its horizon (the strings are shared, not copies)."""

    order_id: int
    deployment: str
    client_id: int
    venue: str
    status: OrderStatus
    cum: int  # the venue's final cumulative fill


class EndedOrders:
    """Tombstones by order id and by (deployment, client id), with their horizons."""

    __slots__ = ("_by_id", "_by_client", "_horizons", "by_status", "net_filled")

    def __init__(self) -> None:
        self._by_id: dict[int, Tombstone] = {}
        self._by_client: dict[tuple[str, int], Tombstone] = {}
        self._horizons: list[tuple[int, int]] = []  # heap of (horizon ns, order id)
        # how many orders ended in each final state (by name), and the signed size they
        # filled per (deployment, symbol): what reconciliation checks against the ledgers
        self.by_status: Counter[str] = Counter()
        self.net_filled: Counter[tuple[str, str]] = Counter()

    def add(self, order: Order, horizon: int) -> None:
        """A settled order leaves; its tombstone stands while the timeline is at or
        before ``horizon``."""
        tomb = Tombstone(
            order.order_id,
            order.deployment,
            order.client_id,
            order.venue,
            order.status,
            order.filled,
        )
        self._by_id[tomb.order_id] = tomb
        self._by_client[(tomb.deployment, tomb.client_id)] = tomb
        heapq.heappush(self._horizons, (horizon, tomb.order_id))
        self.by_status[order.status.name] += 1
        self.net_filled[(order.deployment, order.symbol)] += (
            order.filled if order.side == Side.BUY else -order.filled
        )

    def expire(self, now: int) -> None:
        """Tombstones whose horizon is before ``now`` go."""
        horizons = self._horizons
        while horizons and horizons[0][0] < now:
            tomb = self._by_id.pop(heapq.heappop(horizons)[1])
            del self._by_client[(tomb.deployment, tomb.client_id)]

    def get(self, order_id: int) -> Tombstone | None:
        return self._by_id.get(order_id)

    def find(self, deployment: str, client_id: int) -> Tombstone | None:
        return self._by_client.get((deployment, client_id))

    def __len__(self) -> int:
        """Tombstones standing."""
        return len(self._by_id)
