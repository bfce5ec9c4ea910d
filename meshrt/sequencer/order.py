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

    ``price`` is None for market orders. ``size`` is the current total (a replace
    changes it), ``filled`` the cumulative fill seen so far, ``fees`` their sum.
    ``terminal_cum`` is the venue's final cumulative fill once the order is terminal
    (None before): fills delivered after the terminal report may still raise ``filled``
    up to it, never beyond.
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
    status: OrderStatus = CREATED
    created_ts: int
    last_ts: int = attrs.field(default=attrs.Factory(lambda self: self.created_ts, takes_self=True))
    fees: int = 0
    terminal_cum: int | None = None
    seen_keys: set[Hashable] = attrs.field(factory=set, repr=False)
    # cancel and replace requests sent to the venue and not yet answered, oldest first
    requests: list[ActionKind] = attrs.field(factory=list, repr=False)

    @property
    def remaining(self) -> int:
        """Size still working at the venue (0 once terminal)."""
        return 0 if self.status in TERMINAL else self.size - self.filled

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def settled(self) -> bool:
        """Terminal with every fill applied and every request answered: no report can
        change it any more."""
        return self.status in TERMINAL and self.filled == self.terminal_cum and not self.requests

    @property
    def outstanding_fills(self) -> int:
        """Fill size the venue reported as done (``terminal_cum``) but not yet delivered."""
        return 0 if self.terminal_cum is None else self.terminal_cum - self.filled

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
