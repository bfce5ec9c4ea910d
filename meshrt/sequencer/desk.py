"""The intent desk: what an algo asks for becomes an order operation, or a reject.

It owns the order state machine and the range and risk checks on intents: a new order,
a replace or a cancel is checked (contract ranges, lifecycle, risk limits), moved
through the state machine, logged, and sent to its venue at ``time + order latency``;
a refused intent is counted, logged and delivered back as ``on_reject``.
"""

from __future__ import annotations

from typing import Any

import attrs

from meshrt.actors.protocol import Cancel, RejectDelivery, Replace, Submit
from meshrt.contract import (
    INT64_MAX,
    ActionKind,
    RejectReason,
    Side,
    TimeInForce,
    is_int,
    is_order_id,
)
from meshrt.log import records
from meshrt.log.records import shown
from meshrt.sdk import Reject
from meshrt.sequencer.books import mid
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import Deployed, VenueLane
from meshrt.sequencer.order import ACCEPTED, PARTIALLY_FILLED, Order
from meshrt.sequencer.orders import OrderStateMachine


def is_quantity(value: Any) -> bool:
    """A price or size as the contract holds it: a positive integer that fits an i64."""
    return is_int(value) and 0 < value <= INT64_MAX


@attrs.define(slots=True, eq=False)
class IntentDesk:
    journal: Journal
    lanes: list[VenueLane]
    orders: OrderStateMachine = attrs.field(factory=OrderStateMachine)
    # orders of crashed deployments, cancelled as soon as their venue accepts them
    cancel_on_accept: set[int] = attrs.field(factory=set)

    def commit_action(self, ts: int, dep: Deployed, action: tuple[Any, ...]) -> None:
        kind, _side, _tif, client_id, target, price, size, symbol = action
        self.orders.expire(ts)
        lane = self.lanes[dep.venue]
        journal = self.journal
        journal.seq += 1
        journal.log.lines.append(
            records.intent(journal.seq, ts, dep.source, lane.name, symbol, action[:7])
        )
        if dep.lifecycle != "running" and kind not in (ActionKind.CANCEL, ActionKind.CANCEL_ALL):
            # a stopped or paused deployment may still take its orders down, never add
            return self.reject(
                ts, dep, client_id, kind, RejectReason.NOT_RUNNING, f"deployment is {dep.lifecycle}"
            )
        if kind == ActionKind.LIMIT or kind == ActionKind.MARKET:
            self._new_order(ts, dep, lane, action)
        elif kind == ActionKind.CANCEL:
            self._cancel(ts, dep, target)
        elif kind == ActionKind.REPLACE:
            self._replace(ts, dep, lane, target, price, size)
        elif kind == ActionKind.CANCEL_ALL:
            for order in self.orders.live_orders(dep.label):
                if symbol and order.symbol != symbol:
                    continue
                if order.status in (ACCEPTED, PARTIALLY_FILLED):
                    self.send_cancel(ts, dep, order, "cancel_all")
        else:
            self.reject(
                ts, dep, client_id, kind, RejectReason.INVALID_ACTION, f"unknown action kind {kind}"
            )

    def _new_order(self, ts: int, dep: Deployed, lane: VenueLane, action: tuple[Any, ...]) -> None:
        kind, side, tif, client_id, _, price, size, symbol = action
        reason: RejectReason | None = None
        detail = ""
        if symbol not in lane.symbols:
            reason = RejectReason.UNKNOWN_SYMBOL
            detail = f"no symbol {shown(symbol)} on {lane.name!r}"
        elif not (
            is_int(side) and side in (Side.BUY, Side.SELL) and is_int(tif) and tif in (0, 1, 2)
        ):
            reason, detail = RejectReason.INVALID_ACTION, f"side {shown(side)} / tif {shown(tif)}"
        elif not is_order_id(client_id):
            reason, detail = RejectReason.INVALID_ACTION, f"client id {shown(client_id)}"
        elif not is_quantity(size):
            reason, detail = RejectReason.INVALID_SIZE, f"size {shown(size)}"
        elif kind == ActionKind.LIMIT and not is_quantity(price):
            reason, detail = RejectReason.INVALID_PRICE, f"price {shown(price)}"
        elif self.orders.client_id_used(dep.label, client_id):
            reason, detail = RejectReason.DUPLICATE_ORDER_ID, f"client id {client_id}"
        if reason is None:
            symbol_index = lane.symbols.index(symbol)
            open_buy, open_sell = self.orders.open_exposure(dep.label, symbol)
            reason = dep.risk.check_new(
                ts,
                side,
                price if kind == ActionKind.LIMIT else None,
                size,
                dep.ledger.position(symbol),
                open_buy,
                open_sell,
                self.orders.open_orders(dep.label),
                mid(lane.last_book[symbol_index]),
            )
            detail = "risk limit"
        if reason is not None:
            return self.reject(ts, dep, client_id, kind, reason, detail)
        order_id = self.orders.created + 1
        limit_price = price if kind == ActionKind.LIMIT else None
        self.orders.create(
            Order(
                order_id=order_id,
                deployment=dep.label,
                client_id=client_id,
                venue=lane.name,
                symbol=symbol,
                side=Side(side),
                kind=ActionKind(kind),
                tif=TimeInForce(tif),
                price=limit_price,
                size=size,
                created_ts=ts,
            )
        )
        self.orders.submit(order_id, ts)
        journal = self.journal
        journal.seq += 1
        journal.log.lines.append(
            records.order_created(
                journal.seq, ts, lane.name, symbol, order_id, dep.label, client_id
            )
        )
        dep.risk.record_order(ts)
        dep.orders += 1
        journal.counts["orders"] += 1
        lane.arrivals.append(
            Submit(
                lane.orders.deliver_at(ts),
                order_id,
                symbol_index,
                side,
                limit_price,
                size,
                tif,
            )
        )

    def _target(self, ts: int, dep: Deployed, target: Any, kind: ActionKind) -> Order | str | None:
        """The deployment's order a cancel or replace names, the final state's name of a
        retired one (see ``OrderStateMachine.ended_state``), or None after refusing it."""
        if not is_order_id(target):
            self.reject(
                ts, dep, target, kind, RejectReason.INVALID_ACTION, f"order id {shown(target)}"
            )
            return None
        order = self.orders.find(dep.label, target)
        if order is not None:
            return order
        ended = self.orders.ended_state(dep.label, target)
        if ended is None:
            self.reject(ts, dep, target, kind, RejectReason.UNKNOWN_ORDER, f"no order {target}")
        return ended

    def _ended(self, ts: int, dep: Deployed, target: int, kind: ActionKind, state: str) -> None:
        """Refuse a cancel or replace of a retired order, as a terminal one is refused."""
        self.reject(
            ts, dep, target, kind, RejectReason.ILLEGAL_TRANSITION, f"order {target} is {state}"
        )

    def _cancel(self, ts: int, dep: Deployed, target: Any) -> None:
        kind = ActionKind.CANCEL
        order = self._target(ts, dep, target, kind)
        if order is None:
            return None
        if isinstance(order, str):
            return self._ended(ts, dep, target, kind, order)
        before = order.status.name
        reason = self.orders.request_cancel(order.order_id, ts)
        if reason is not None:
            return self.reject(
                ts, dep, target, kind, reason, f"order {target} is {order.status.name}"
            )
        self.send_cancel(ts, dep, order, "intent", already_pending=before)

    def _replace(
        self, ts: int, dep: Deployed, lane: VenueLane, target: Any, price: Any, size: Any
    ) -> None:
        kind = ActionKind.REPLACE
        order = self._target(ts, dep, target, kind)
        if order is None:
            return None
        if not is_int(size) or (price is not None and not is_int(price)):
            return self.reject(
                ts,
                dep,
                target,
                kind,
                RejectReason.INVALID_ACTION,
                "price and size must be integers",
            )
        if isinstance(order, str):
            return self._ended(ts, dep, target, kind, order)
        reason = self.orders.validate_replace(order.order_id, price, size)
        if reason is None and size > INT64_MAX:
            reason = RejectReason.INVALID_SIZE
        elif reason is None and price is not None and price > INT64_MAX:
            reason = RejectReason.INVALID_PRICE
        if reason is None:
            open_buy, open_sell = self.orders.open_exposure(dep.label, order.symbol)
            symbol_index = lane.symbols.index(order.symbol)
            reason = dep.risk.check_replace(
                ts,
                order.side,
                price,
                size,
                order.size,
                order.filled,
                dep.ledger.position(order.symbol),
                open_buy,
                open_sell,
                mid(lane.last_book[symbol_index]),
            )
        if reason is not None:
            return self.reject(
                ts, dep, target, kind, reason, f"order {target} is {order.status.name}"
            )
        dep.risk.record_order(ts)
        journal = self.journal
        journal.seq += 1
        journal.log.lines.append(
            records.replace_sent(
                journal.seq, ts, lane.name, order.symbol, order.order_id, dep.label, price, size
            )
        )
        self.orders.replace_sent(order.order_id)
        lane.arrivals.append(
            Replace(
                lane.orders.deliver_at(ts),
                order.order_id,
                lane.symbols.index(order.symbol),
                price,
                size,
            )
        )

    def send_cancel(
        self, ts: int, dep: Deployed, order: Order, cause: str, already_pending: str | None = None
    ) -> None:
        """Send a cancel; ``already_pending`` is the status the order had when the caller
        already moved it to CANCEL_PENDING."""
        before = already_pending or order.status.name
        if already_pending is None and self.orders.request_cancel(order.order_id, ts) is not None:
            return
        lane = self.lanes[dep.venue]
        journal = self.journal
        journal.seq += 1
        journal.log.lines.append(
            records.cancel_sent(
                journal.seq,
                ts,
                lane.name,
                order.symbol,
                order.order_id,
                dep.label,
                cause,
                before,
                order.status.name,
            )
        )
        lane.arrivals.append(
            Cancel(
                lane.orders.deliver_at(ts),
                order.order_id,
                lane.symbols.index(order.symbol),
            )
        )

    def reject(
        self, ts: int, dep: Deployed, client_id: Any, kind: int, reason: RejectReason, detail: str
    ) -> None:
        """Refuse an intent: counted, logged, and delivered as on_reject after the order latency.

        A refused cancel or replace tells the algo whether the order still has a request
        outstanding (its ``OpenOrder.pending``): refusing one request answers no other."""
        dep.rejects[reason.name] += 1
        lane = self.lanes[dep.venue]
        journal = self.journal
        journal.seq += 1
        journal.log.lines.append(
            records.intent_rejected(
                journal.seq, ts, lane.name, dep.label, client_id, reason.name, detail
            )
        )
        if dep.crashed is None:
            order = (
                self.orders.find(dep.label, client_id)
                if kind in (ActionKind.CANCEL, ActionKind.REPLACE) and is_order_id(client_id)
                else None
            )
            dep.timer(
                RejectDelivery(
                    ts + lane.order_base_ns,
                    Reject(ts, client_id, reason, int(kind), detail),
                    order is not None and bool(order.requests),
                )
            )
