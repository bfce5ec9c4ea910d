"""The order state machine: every order's lifecycle, owned by the sequencer.

States (docs/concepts.md, Orders)::

    Created -> Submitted -> Accepted -> PartiallyFilled -> Filled
    Accepted/PartiallyFilled -> CancelPending -> Cancelled
    Submitted/Accepted -> Rejected

Venue reports (``events.REPORT_*`` tuples) may arrive duplicated and out of order, as
live feeds deliver them. The machine accepts every physically possible delivery order
and converges on the state in-order delivery would give; it fails closed, raising
``InvariantViolation``, on anything no venue history can explain (a fill after a
reject, an overfill, a reject after fills, conflicting terminal reports). Rules:

* a report whose idempotency key this order already applied is a no-op;
* a fill, cancel or replace for a SUBMITTED order implies acceptance; a late ACCEPTED
  is a no-op;
* fills count by increments; ``filled`` never decreases and never exceeds ``size``;
* a terminal report may overtake fills that happened before it: the status goes
  terminal, ``terminal_cum`` records the venue's final cumulative fill, and later fills
  are accepted while ``filled <= terminal_cum``;
* terminal is terminal: no report moves a terminal order to a non-terminal status;
* a CANCEL_REJECTED answers the oldest cancel or replace request still unanswered
  (``Order.requests``): an order session is one FIFO stream, so the venue answers an
  order's requests in the order they were sent. Only the answer to a cancel takes an
  order out of CANCEL_PENDING; a refused replace leaves a pending cancel pending.

Cancels and replaces requested by an algo are validated here too, but an impossible
request there is the algo's mistake, so it returns a ``RejectReason`` instead of raising.

A settled order (terminal, all its fills and answers in) is retired to a tombstone that
expires at a horizon the caller sets (meshrt/sequencer/ended.py); the ids ever used stay
known exactly, as ranges, so a reused id is refused and a report for an expired order is
told apart from one for an order that never existed.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Iterator
from typing import Any

import attrs

from meshrt.contract import ActionKind, RejectReason, Side, TimeInForce
from meshrt.sequencer.ended import EndedOrders
from meshrt.sequencer.id_ranges import IdRanges
from meshrt.venues.events import (
    REPORT_ACCEPTED,
    REPORT_CANCEL_REJECTED,
    REPORT_CANCELLED,
    REPORT_FILL,
    REPORT_KIND_NAMES,
    REPORT_REJECTED,
    REPORT_REPLACED,
)


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

# how the log and rejects name a retired order past its horizon (its final state is gone)
EXPIRED = "EXPIRED"

TERMINAL: frozenset[OrderStatus] = frozenset({FILLED, CANCELLED, REJECTED})
# states in which the venue holds the order, so a fill may arrive and count toward size
_WORKING: frozenset[OrderStatus] = frozenset(
    {SUBMITTED, ACCEPTED, PARTIALLY_FILLED, CANCEL_PENDING}
)


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


def _answer(order: Order, request: ActionKind) -> None:
    """The venue answered the oldest unanswered ``request`` of this kind (if any)."""
    if request in order.requests:
        order.requests.remove(request)


def _violation(
    order: Order, report: str, why: str, target: OrderStatus | None = None
) -> InvariantViolation:
    to = target.name if target is not None else "?"
    return InvariantViolation(
        order.order_id, order.label(), f"{order.status.name} --{report}--> {to}", why
    )


class OrderStateMachine:
    """The orders of a runtime: those held in full by global order id, per-deployment live
    indexes, the tombstones of retired ones, and every order and client id ever used.

    ``orders`` holds live orders and terminal ones not yet retired: until an order is
    settled a report may still change it. ``created`` counts every order ever created
    (the sequencer's order ids are 1..created); ``late_reports`` the reports that arrived
    for an order already past its horizon.
    """

    __slots__ = (
        "orders",
        "_live",
        "_by_client",
        "ended",
        "_order_ids",
        "_client_ids",
        "created",
        "late_reports",
    )

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        # deployment -> order id -> order, non-terminal only (insertion-ordered: deterministic)
        self._live: dict[str, dict[int, Order]] = {}
        self._by_client: dict[tuple[str, int], Order] = {}
        self.ended = EndedOrders()
        self._order_ids = IdRanges()
        self._client_ids: dict[str, IdRanges] = {}  # deployment -> client ids ever used
        self.created = 0
        self.late_reports = 0

    # -- local transitions --------------------------------------------------------------

    def create(self, order: Order) -> None:
        """Register an intent that passed its checks (status CREATED).

        Raises ``InvariantViolation`` on a reused order id or (deployment, client id): the
        sequencer must refuse those as DUPLICATE_ORDER_ID before calling (see ``find``).
        """
        if order.order_id in self._order_ids:
            raise _violation(order, "create", "order id already in use", CREATED)
        if self.client_id_used(order.deployment, order.client_id):
            raise _violation(order, "create", "client id already used by this deployment", CREATED)
        if order.status != CREATED or order.filled != 0 or order.terminal_cum is not None:
            raise _violation(
                order, "create", "a new order must be CREATED with nothing filled", CREATED
            )
        if order.size <= 0:
            raise _violation(order, "create", f"size {order.size} must be positive", CREATED)
        if order.kind == ActionKind.LIMIT and (order.price is None or order.price <= 0):
            raise _violation(
                order, "create", f"limit price {order.price} must be positive", CREATED
            )
        self.orders[order.order_id] = order
        self._by_client[(order.deployment, order.client_id)] = order
        self._live.setdefault(order.deployment, {})[order.order_id] = order
        self._order_ids.add(order.order_id)
        client_ids = self._client_ids.get(order.deployment)
        if client_ids is None:
            client_ids = self._client_ids[order.deployment] = IdRanges()
        client_ids.add(order.client_id)
        self.created += 1

    def submit(self, order_id: int, ts: int) -> None:
        """CREATED -> SUBMITTED, when the order leaves for the venue."""
        order = self._get(order_id, "submit")
        if order.status != CREATED:
            raise _violation(order, "submit", "only a CREATED order can be submitted", SUBMITTED)
        order.status = SUBMITTED
        order.last_ts = ts

    def request_cancel(self, order_id: int, ts: int) -> RejectReason | None:
        """ACCEPTED/PARTIALLY_FILLED -> CANCEL_PENDING, or the reason the algo is refused."""
        order = self.orders.get(order_id)
        if order is None:
            return RejectReason.UNKNOWN_ORDER
        if order.status != ACCEPTED and order.status != PARTIALLY_FILLED:
            return RejectReason.ILLEGAL_TRANSITION
        order.status = CANCEL_PENDING
        order.last_ts = ts
        order.requests.append(ActionKind.CANCEL)
        return None

    def validate_replace(self, order_id: int, price: int | None, size: int) -> RejectReason | None:
        """Whether an algo may ask to replace this order; changes nothing.

        The order keeps its state until the venue's REPLACED report arrives. Only an
        ACCEPTED or PARTIALLY_FILLED order can be replaced, to a size above what has
        already filled (a limit order keeps a positive price).
        """
        order = self.orders.get(order_id)
        if order is None:
            return RejectReason.UNKNOWN_ORDER
        if order.status != ACCEPTED and order.status != PARTIALLY_FILLED:
            return RejectReason.ILLEGAL_TRANSITION
        if size <= order.filled:
            return RejectReason.INVALID_SIZE
        if order.kind == ActionKind.LIMIT and (price is None or price <= 0):
            return RejectReason.INVALID_PRICE
        return None

    def replace_sent(self, order_id: int) -> None:
        """A replace that passed every check leaves for the venue: it awaits an answer."""
        self._get(order_id, "replace").requests.append(ActionKind.REPLACE)

    # -- venue reports --------------------------------------------------------------------

    def apply_report(self, report: tuple[Any, ...], key: Hashable) -> bool:
        """Apply one venue report; False if ``key`` was already applied to this order.

        True means the report was new and is now recorded, whether or not it changed the
        order (a late ACCEPTED is recorded and changes nothing). On ``InvariantViolation``
        nothing changes and the key is not recorded.
        """
        order = self.orders.get(report[2])
        if order is None:
            name = REPORT_KIND_NAMES.get(report[1], str(report[1]))
            raise InvariantViolation(
                report[2], f"order {report[2]}", f"? --{name}--> ?", "no such order"
            )
        seen = order.seen_keys
        if key in seen:
            return False
        kind = report[1]
        if kind == REPORT_FILL:
            self._on_fill(order, report)
        elif kind == REPORT_ACCEPTED:
            self._on_accepted(order)
        elif kind == REPORT_CANCELLED:
            self._on_cancelled(order, report[3])
        elif kind == REPORT_CANCEL_REJECTED:
            self._on_cancel_rejected(order)
        elif kind == REPORT_REPLACED:
            self._on_replaced(order, report[3], report[4])
        elif kind == REPORT_REJECTED:
            self._on_rejected(order)
        else:
            raise _violation(order, f"report kind {kind}", "unknown report kind")
        seen.add(key)
        if report[0] > order.last_ts:
            order.last_ts = report[0]
        return True

    def _on_fill(self, order: Order, report: tuple[Any, ...]) -> None:
        qty = report[4]
        status = order.status
        if qty <= 0:
            raise _violation(order, "fill", f"fill size {qty} must be positive")
        new = order.filled + qty
        if status in _WORKING:
            if new > order.size:
                raise _violation(
                    order, "fill", f"overfill: cum {new} would exceed size {order.size}"
                )
            order.filled = new
            order.fees += report[6]
            if new == order.size:
                self._terminate(order, FILLED, new)
            elif status != CANCEL_PENDING:  # a fill racing a cancel leaves it pending
                order.status = PARTIALLY_FILLED
        elif status in (CANCELLED, FILLED):
            # a fill that happened before the terminal report but was delivered after it
            assert order.terminal_cum is not None
            if new > order.terminal_cum:
                raise _violation(
                    order,
                    "fill",
                    f"cum {new} would exceed the terminal cum {order.terminal_cum} "
                    f"(size {order.size})",
                    status,
                )
            order.filled = new
            order.fees += report[6]
        elif status == REJECTED:
            raise _violation(order, "fill", "fill after reject", REJECTED)
        else:
            raise _violation(order, "fill", "fill before submission")

    def _on_accepted(self, order: Order) -> None:
        if order.status == SUBMITTED:
            order.status = ACCEPTED
        elif order.status == CREATED:
            raise _violation(order, "accepted", "accepted before submission", ACCEPTED)
        # anything later already implies acceptance: a late ACCEPTED is a no-op

    def _on_rejected(self, order: Order) -> None:
        status = order.status
        if status == REJECTED:
            return  # the same verdict again under another key
        if status == CREATED:
            raise _violation(order, "rejected", "rejected before submission", REJECTED)
        if order.filled > 0 or status in (PARTIALLY_FILLED, FILLED):
            raise _violation(
                order, "rejected", f"rejected after fills (filled {order.filled})", REJECTED
            )
        if status == CANCELLED:
            raise _violation(order, "rejected", "conflicting terminal reports", REJECTED)
        # SUBMITTED, ACCEPTED, or CANCEL_PENDING with nothing filled: the order is dead
        self._terminate(order, REJECTED, 0)

    def _on_cancelled(self, order: Order, remaining: int) -> None:
        status = order.status
        cum = order.size - remaining
        if status == CREATED:
            raise _violation(order, "cancelled", "cancelled before submission", CANCELLED)
        if remaining < 0 or cum < 0:
            raise _violation(
                order,
                "cancelled",
                f"remaining {remaining} out of range for size {order.size}",
                CANCELLED,
            )
        if status == REJECTED:
            raise _violation(order, "cancelled", "conflicting terminal reports", CANCELLED)
        if order.filled > cum:
            raise _violation(
                order,
                "cancelled",
                f"already filled {order.filled} but venue reports final cum {cum}",
                CANCELLED,
            )
        done = status in (CANCELLED, FILLED)
        if done and cum != order.terminal_cum:
            raise _violation(
                order,
                "cancelled",
                f"final cum {cum} contradicts the earlier terminal cum {order.terminal_cum}",
                status,
            )
        _answer(order, ActionKind.CANCEL)
        if done:
            return  # the same outcome again
        # Nothing left means the order completed (cancel raced the last fill): call it
        # FILLED so the outcome does not depend on which report arrived first.
        self._terminate(order, FILLED if remaining == 0 else CANCELLED, cum)

    def _on_cancel_rejected(self, order: Order) -> None:
        status = order.status
        if status == CREATED:
            raise _violation(order, "cancel_rejected", "report before submission")
        answered = order.requests.pop(0) if order.requests else ActionKind.CANCEL
        if status == CANCEL_PENDING and answered == ActionKind.CANCEL:
            order.status = PARTIALLY_FILLED if order.filled > 0 else ACCEPTED
        # otherwise a refused replace (a pending cancel stays pending) or stale (the order
        # is terminal, or the pending cancel already resolved)

    def _on_replaced(self, order: Order, price: int | None, size: int) -> None:
        status = order.status
        if status == CREATED:
            raise _violation(order, "replaced", "replaced before submission")
        if status in TERMINAL:
            _answer(order, ActionKind.REPLACE)
            return  # a replace overtaken by the order's end changes nothing
        if size <= 0:
            raise _violation(order, "replaced", f"new size {size} must be positive", status)
        if size < order.filled:
            raise _violation(
                order, "replaced", f"new size {size} is below filled {order.filled}", status
            )
        _answer(order, ActionKind.REPLACE)
        order.price = price
        order.size = size
        if size == order.filled:
            # fills made after the replace arrived before it: the order is complete
            self._terminate(order, FILLED, size)
        elif status == SUBMITTED:
            order.status = ACCEPTED  # only a live order can be replaced

    def _terminate(self, order: Order, status: OrderStatus, cum: int) -> None:
        order.status = status
        order.terminal_cum = cum
        live = self._live.get(order.deployment)
        if live is not None:
            live.pop(order.order_id, None)

    # -- retirement ------------------------------------------------------------------------

    def retire(self, order_id: int, horizon: int) -> None:
        """A settled order leaves for a tombstone standing until ``horizon`` (ns)."""
        order = self._get(order_id, "retire")
        if not order.settled:
            raise _violation(order, "retire", "only a settled order can be retired", order.status)
        del self.orders[order_id]
        del self._by_client[(order.deployment, order.client_id)]
        self.ended.add(order, horizon)

    def expire(self, now: int) -> None:
        """The timeline is at ``now``: tombstones whose horizon has passed go."""
        self.ended.expire(now)

    def report_after_end(self, report: tuple[Any, ...], venue: str) -> OrderStatus | None:
        """A report for a retired order: its final state while its tombstone stands (the
        report is a resend and changes nothing), None past the horizon (counted as late,
        ignored). Raises ``InvariantViolation`` on a report no resend can explain.
        """
        tomb = self.ended.get(report[2])
        if tomb is None:
            self.late_reports += 1
            return None
        kind, status = report[1], tomb.status
        name = REPORT_KIND_NAMES.get(kind, str(kind))
        who = f"order {tomb.order_id} (deployment {tomb.deployment!r}, client id {tomb.client_id})"
        why = None
        if tomb.venue != venue:
            why = f"report from venue {venue!r}, but the order was on {tomb.venue!r}"
        elif kind == REPORT_FILL and status == REJECTED:
            why = "fill after reject"
        elif kind == REPORT_REJECTED and status != REJECTED:
            why = f"rejected after it ended {status.name} (final cum {tomb.cum})"
        elif kind == REPORT_CANCELLED and status == REJECTED:
            why = "conflicting terminal reports"
        if why is not None:
            raise InvariantViolation(tomb.order_id, who, f"{status.name} --{name}--> ?", why)
        return status

    # -- queries --------------------------------------------------------------------------

    def issued(self, order_id: int) -> bool:
        """Whether an order was ever created with this id (retired ones included)."""
        return order_id in self._order_ids

    def client_id_used(self, deployment: str, client_id: int) -> bool:
        """Whether the deployment ever had an order with this client id."""
        client_ids = self._client_ids.get(deployment)
        return client_ids is not None and client_id in client_ids

    def ended_state(self, deployment: str, client_id: int) -> str | None:
        """The final state's name of a deployment's retired order: ``EXPIRED`` once past its
        horizon; None if the id is held in ``orders`` or was never used."""
        if (deployment, client_id) in self._by_client:
            return None
        tomb = self.ended.find(deployment, client_id)
        if tomb is not None:
            return tomb.status.name
        return EXPIRED if self.client_id_used(deployment, client_id) else None

    def _get(self, order_id: int, action: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise InvariantViolation(
                order_id, f"order {order_id}", f"? --{action}--> ?", "no such order"
            )
        return order

    def find(self, deployment: str, client_id: int) -> Order | None:
        """The held order (live, or terminal and not yet retired) a deployment knows by its
        client order id, if any; see ``ended_state`` for retired ones."""
        return self._by_client.get((deployment, client_id))

    def open_orders(self, deployment: str) -> int:
        """Live (non-terminal) orders of a deployment, including ones not yet acknowledged."""
        live = self._live.get(deployment)
        return 0 if live is None else len(live)

    def live_orders(self, deployment: str) -> Iterator[Order]:
        """Non-terminal orders of a deployment, in creation order."""
        live = self._live.get(deployment)
        return iter(()) if live is None else iter(list(live.values()))

    def open_exposure(self, deployment: str, symbol: str) -> tuple[int, int]:
        """(buy, sell) size still working on a symbol: the inputs risk needs."""
        buy = sell = 0
        live = self._live.get(deployment)
        if live is not None:
            for order in live.values():
                if order.symbol == symbol:
                    if order.side == Side.BUY:
                        buy += order.size - order.filled
                    else:
                        sell += order.size - order.filled
        return buy, sell

    def check_invariants(self, order_id: int) -> None:
        """Assert the order is self-consistent; raises ``InvariantViolation`` if not."""
        order = self._get(order_id, "check")
        status, filled, size, cum = order.status, order.filled, order.size, order.terminal_cum

        def fail(why: str) -> InvariantViolation:
            return _violation(order, "check", why, status)

        if not 0 <= filled <= size:
            raise fail(f"filled {filled} outside 0..size {size}")
        if status in TERMINAL:
            if cum is None or not filled <= cum <= size:
                raise fail(f"terminal cum {cum} must lie between filled {filled} and size {size}")
            if status == FILLED and cum != size:
                raise fail(f"FILLED with terminal cum {cum} != size {size}")
            if status == REJECTED and cum != 0:
                raise fail("REJECTED with fills")
        else:
            if cum is not None:
                raise fail("a live order has a terminal cum")
            if filled == size:
                raise fail("fully filled but not FILLED")
            if status in (CREATED, SUBMITTED, ACCEPTED) and filled != 0:
                raise fail(f"{status.name} with filled {filled}")
            if status == PARTIALLY_FILLED and filled == 0:
                raise fail("PARTIALLY_FILLED with nothing filled")
        live = self._live.get(order.deployment, {})
        if (order.order_id in live) == (status in TERMINAL):
            raise fail("live index disagrees with status")
