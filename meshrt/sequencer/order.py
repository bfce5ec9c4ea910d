"""One order: its statuses, its record, and the error a transition no venue can explain
raises.

The order state machine (meshrt/sequencer/orders.py) holds these records and the report
transitions (meshrt/sequencer/transitions.py) move them; both fail closed through
``violation``.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable

import attrs

from meshrt.contract import ActionKind, Side, TimeInForce


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

TERMINAL: frozenset[OrderStatus] = frozenset({FILLED, CANCELLED, REJECTED})


@attrs.define(slots=True, eq=False, kw_only=True)
class Order:
    """One order. Mutable on purpose: it changes on every report, and it is hot.

    ``price`` is None for market orders. The venue's reports are authoritative
    (meshrt/sequencer/transitions.py): ``size`` is the order's total size at the venue
    and ``filled`` its cumulative fill (the newest report's ``cum``), as of the newest
    report applied, whose execution sequence is ``exec_seq``; ``price`` comes from the
    newest replace applied (its ``exec_seq`` is ``replace_seq``, 0 for none). ``booked``
    is the fill size booked to the ledger (the sum of the fill reports applied, ``fees``
    their fees): below ``filled`` while fills are still on their way.
    """

    order_id: int
    deployment: str
    client_id: int
    venue: str
    symbol: str
    side: Side
    kind: ActionKind
    tif: TimeInForce
    price: int | None
    size: int
    filled: int = 0
    booked: int = 0
    status: OrderStatus = CREATED
    created_ts: int
    last_ts: int = attrs.field(default=attrs.Factory(lambda self: self.created_ts, takes_self=True))
    fees: int = 0
    exec_seq: int = 0
    replace_seq: int = 0
    seen_keys: set[Hashable] = attrs.field(factory=set, repr=False)
    # cancel and replace requests sent to the venue and not yet answered, oldest first
    requests: list[ActionKind] = attrs.field(factory=list, repr=False)

    @property
    def remaining(self) -> int:
        """Size still working at the venue (the leaves; 0 once terminal)."""
        return 0 if self.status in TERMINAL else self.size - self.filled

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def settled(self) -> bool:
        """Terminal with every fill booked and every request answered: no report can
        change it any more."""
        return self.status in TERMINAL and self.booked == self.filled and not self.requests

    @property
    def outstanding_fills(self) -> int:
        """Fill size the venue reported (``filled``) but not yet delivered and booked."""
        return self.filled - self.booked

    def label(self) -> str:
        return f"order {self.order_id} (deployment {self.deployment!r}, client id {self.client_id})"


class InvariantViolation(Exception):
    """A transition no venue history can explain. Fail closed: stop trading this order.

    The message names the order, the transition attempted and why; the same parts are
    kept as attributes for programmatic handling.
    """

    def __init__(self, order_id: int, who: str, transition: str, why: str) -> None:
        super().__init__(f"{who}: {transition}: {why}")
        self.order_id = order_id
        self.transition = transition
        self.why = why


def violation(
    order: Order, report: str, why: str, target: OrderStatus | None = None
) -> InvariantViolation:
    """The error for ``report`` (a report kind or local action) moving ``order`` towards
    ``target`` (None: no state it could reach), refused because ``why``."""
    to = target.name if target is not None else "?"
    return InvariantViolation(
        order.order_id, order.label(), f"{order.status.name} --{report}--> {to}", why
    )
