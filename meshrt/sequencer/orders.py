"""The order state machine: every order's lifecycle, owned by the sequencer.

States (docs/concepts.md, Orders)::

    Created -> Submitted -> Accepted -> PartiallyFilled -> Filled
    Accepted/PartiallyFilled -> CancelPending -> Cancelled
    Submitted/Accepted -> Rejected

The orders themselves and their statuses are meshrt/sequencer/order.py; how a venue
report moves one (duplicated and out of order, failing closed on anything no venue
history can explain) is meshrt/sequencer/transitions.py. This machine holds the orders,
records each report's idempotency key, and keeps the per-deployment live indexes.

Cancels and replaces requested by an algo are validated here too, but an impossible
request there is the algo's mistake, so it returns a ``RejectReason`` instead of raising.

A settled order (terminal, all its fills and answers in) is retired to a tombstone that
expires at a horizon the caller sets (meshrt/sequencer/ended.py); the ids ever used stay
known exactly, as ranges, so a reused id is refused and a report for an expired order is
told apart from one for an order that never existed.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from meshrt.contract import ActionKind, RejectReason, Side
from meshrt.log.schema import REPORT_BY_TYPE
from meshrt.sequencer.ended import EndedOrders
from meshrt.sequencer.id_ranges import IdRanges
from meshrt.sequencer.order import (
    ACCEPTED,
    CANCEL_PENDING,
    CREATED,
    FILLED,
    PARTIALLY_FILLED,
    REJECTED,
    SUBMITTED,
    TERMINAL,
    InvariantViolation,
    Order,
    OrderStatus,
    violation,
)
from meshrt.sequencer.transitions import apply
from meshrt.venues.reports import Cancelled, Filled, Rejected, VenueReport

# how the log and rejects name a retired order past its horizon (its final state is gone)
EXPIRED = "EXPIRED"


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
            raise violation(order, "create", "order id already in use", CREATED)
        if self.client_id_used(order.deployment, order.client_id):
            raise violation(order, "create", "client id already used by this deployment", CREATED)
        if order.status != CREATED or order.filled != 0 or order.booked != 0 or order.exec_seq:
            raise violation(
                order, "create", "a new order must be CREATED with nothing filled", CREATED
            )
        if order.size <= 0:
            raise violation(order, "create", f"size {order.size} must be positive", CREATED)
        if order.kind == ActionKind.LIMIT and (order.price is None or order.price <= 0):
            raise violation(order, "create", f"limit price {order.price} must be positive", CREATED)
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
            raise violation(order, "submit", "only a CREATED order can be submitted", SUBMITTED)
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

    def apply_report(self, report: VenueReport, key: Hashable) -> bool:
        """Apply one venue report; False if ``key`` was already applied to this order.

        True means the report was new and is now recorded, whether or not it changed the
        order (a late ACCEPTED is recorded and changes nothing). On ``InvariantViolation``
        nothing changes and the key is not recorded.
        """
        order = self.orders.get(report.order_id)
        if order is None:
            raise InvariantViolation(
                report.order_id,
                f"order {report.order_id}",
                f"? --{report_name(report)}--> ?",
                "no such order",
            )
        seen = order.seen_keys
        if key in seen:
            return False
        if apply(order, report):
            live = self._live.get(order.deployment)
            if live is not None:
                live.pop(order.order_id, None)
        seen.add(key)
        ts = report.ts
        if ts > order.last_ts:
            order.last_ts = ts
        return True

    # -- retirement ------------------------------------------------------------------------

    def retire(self, order_id: int, horizon: int) -> None:
        """A settled order leaves for a tombstone standing until ``horizon`` (ns)."""
        order = self._get(order_id, "retire")
        if not order.settled:
            raise violation(order, "retire", "only a settled order can be retired", order.status)
        del self.orders[order_id]
        del self._by_client[(order.deployment, order.client_id)]
        self.ended.add(order, horizon)

    def expire(self, now: int) -> None:
        """The timeline is at ``now``: tombstones whose horizon has passed go."""
        self.ended.expire(now)

    def report_after_end(self, report: VenueReport, venue: str) -> OrderStatus | None:
        """A report for a retired order: its final state while its tombstone stands (the
        report is a resend and changes nothing), None past the horizon (counted as late,
        ignored). Raises ``InvariantViolation`` on a report no resend can explain.
        """
        tomb = self.ended.get(report.order_id)
        if tomb is None:
            self.late_reports += 1
            return None
        status = tomb.status
        who = f"order {tomb.order_id} (deployment {tomb.deployment!r}, client id {tomb.client_id})"
        why = None
        if tomb.venue != venue:
            why = f"report from venue {venue!r}, but the order was on {tomb.venue!r}"
        elif type(report) is Filled and status == REJECTED:
            why = "fill after reject"
        elif type(report) is Rejected and status != REJECTED:
            why = f"rejected after it ended {status.name} (final cum {tomb.cum})"
        elif type(report) is Cancelled and status == REJECTED:
            why = "conflicting terminal reports"
        if why is not None:
            raise InvariantViolation(
                tomb.order_id, who, f"{status.name} --{report_name(report)}--> ?", why
            )
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
        status, filled, size, booked = order.status, order.filled, order.size, order.booked

        def fail(why: str) -> InvariantViolation:
            return violation(order, "check", why, status)

        if not 0 <= filled <= size:
            raise fail(f"filled {filled} outside 0..size {size}")
        if not 0 <= booked <= filled:
            raise fail(f"booked {booked} outside 0..filled {filled}")
        if status in TERMINAL:
            if status == FILLED and filled != size:
                raise fail(f"FILLED with filled {filled} != size {size}")
            if status == REJECTED and filled != 0:
                raise fail("REJECTED with fills")
        else:
            if filled == size:
                raise fail("fully filled but not FILLED")
            if status in (CREATED, SUBMITTED, ACCEPTED) and filled != 0:
                raise fail(f"{status.name} with filled {filled}")
            if status == PARTIALLY_FILLED and filled == 0:
                raise fail("PARTIALLY_FILLED with nothing filled")
        live = self._live.get(order.deployment, {})
        if (order.order_id in live) == (status in TERMINAL):
            raise fail("live index disagrees with status")


def report_name(report: VenueReport) -> str:
    """How errors name a report: its log record's type (``accepted``, ``fill``, ...)."""
    return REPORT_BY_TYPE[type(report)].name
