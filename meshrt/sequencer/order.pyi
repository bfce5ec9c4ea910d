"""Types of the Cython module meshrt/sequencer/order.pyx."""

import enum
from collections.abc import Hashable
from typing import Final, final

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

CREATED: Final = OrderStatus.CREATED
SUBMITTED: Final = OrderStatus.SUBMITTED
ACCEPTED: Final = OrderStatus.ACCEPTED
PARTIALLY_FILLED: Final = OrderStatus.PARTIALLY_FILLED
FILLED: Final = OrderStatus.FILLED
CANCEL_PENDING: Final = OrderStatus.CANCEL_PENDING
CANCELLED: Final = OrderStatus.CANCELLED
REJECTED: Final = OrderStatus.REJECTED

TERMINAL: frozenset[OrderStatus]

@final
class Order:
    """One order. Mutable on purpose: it changes on every report, and it is hot."""

    def __init__(
        self,
        *,
        order_id: int,
        deployment: str,
        client_id: int,
        venue: str,
        symbol: str,
        side: Side,
        kind: ActionKind,
        tif: TimeInForce,
        price: int | None,
        size: int,
        filled: int = 0,
        booked: int = 0,
        status: OrderStatus = ...,
        created_ts: int,
        last_ts: int | None = None,
        fees: int = 0,
        exec_seq: int = 0,
        replace_seq: int = 0,
        seen_keys: set[Hashable] | None = None,
        requests: list[ActionKind] | None = None,
    ) -> None: ...
    @property
    def order_id(self) -> int: ...
    @property
    def deployment(self) -> str: ...
    @property
    def client_id(self) -> int: ...
    @property
    def venue(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side: ...
    @property
    def kind(self) -> ActionKind: ...
    @property
    def tif(self) -> TimeInForce: ...
    price: int | None
    size: int
    filled: int
    booked: int
    status: OrderStatus
    created_ts: int
    last_ts: int
    fees: int
    exec_seq: int
    replace_seq: int
    seen_keys: set[Hashable]
    # cancel and replace requests sent to the venue and not yet answered, oldest first
    requests: list[ActionKind]
    @property
    def remaining(self) -> int:
        """Size still working at the venue (the leaves; 0 once terminal)."""
    @property
    def is_terminal(self) -> bool: ...
    @property
    def settled(self) -> bool:
        """Terminal with every fill booked and every request answered: no report can
        change it any more."""
    @property
    def outstanding_fills(self) -> int:
        """Fill size the venue reported (``filled``) but not yet delivered and booked."""
    def label(self) -> str: ...

def created_order(
    order_id: int,
    deployment: str,
    client_id: int,
    venue: str,
    symbol: str,
    side: Side,
    kind: ActionKind,
    tif: TimeInForce,
    price: int | None,
    size: int,
    created_ts: int,
) -> Order:
    """A new order (CREATED, nothing filled, booked or requested), as ``Order(...)`` with
    these fields makes it, built in C for the desk."""

class InvariantViolation(Exception):
    """A transition no venue history can explain. Fail closed: stop trading this order."""

    order_id: int
    transition: str
    why: str
    def __init__(self, order_id: int, who: str, transition: str, why: str) -> None: ...

def violation(
    order: Order, report: str, why: str, target: OrderStatus | None = None
) -> InvariantViolation:
    """The error for ``report`` (a report kind or local action) moving ``order`` towards
    ``target`` (None: no state it could reach), refused because ``why``."""
