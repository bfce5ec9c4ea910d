"""Arrival-order ingress: venue reports committed in the order they arrive, as live mode will.

A simulated run orders its events by (event time, producer, ...) (docs/design.md, "How
time advances"); a live run cannot: its ingress order is arrival order, reports come
duplicated and out of order, and the log must record that order so a replay reproduces
every transition. Live order entry is not built yet (paper mode fills its own orders).
``IngressLedger`` is the smallest honest stand-in: it takes orders, local cancel requests
and venue reports in arrival order, commits each one through the same
``OrderStateMachine`` and ``Ledger`` the sequencer uses, checks the invariants after each,
and writes one transition record per input. ``replay`` feeds the records back, in logged
order, to a fresh instance; the records it writes must be byte-identical.

Record layout (one JSON array per input: ``meshrt.log.schema.INGRESS_FIELDS``, built
by ``meshrt.log.records.ingress_transition``)::

    [seq, event_ts, ingest_ts, type, order_id, before, after, filled, position, cash,
     outcome, venue, key, payload]

* ``seq``: 1, 2, 3, ... in arrival (commit) order; ``ingest_ts`` is the arrival time and
  ``event_ts`` the venue's own time for a report (both equal for local inputs);
* ``type``: ``submitted`` (an order left for the venue: CREATED -> SUBMITTED),
  ``cancel_request`` (the algo asked to cancel), ``replace_request`` (a replace left for
  the venue: only a replace outstanding lets the venue report another size),
  or a venue report type (``accepted``,
  ``rejected``, ``fill``, ``cancelled``, ``cancel_rejected``, ``replaced``);
* ``before``/``after``: the order's status names around the commit; ``filled`` its
  cumulative fill after it; ``position`` and ``cash``: the order's deployment's position
  in the order's symbol and its cash, after it;
* ``outcome``: ``applied``; ``duplicate`` (a report whose idempotency key the order had
  already applied: a no-op, recorded so a replay sees the same ingress); for a cancel
  request ``sent`` or ``refused:REASON``;
* ``venue`` and ``key``: where the input came from and, for a report, the venue's
  idempotency key (``null`` otherwise); ``payload``: a report's fields after the order
  id (as its type in meshrt/venues/reports.py declares them, the order report contract's
  ``cum``, ``leaves`` and ``exec_seq`` included: out of order, they cannot be
  re-derived), ``[deployment, client_id,
  symbol, side, kind, tif, price, size]`` for ``submitted``, ``[]`` for
  ``cancel_request`` and ``replace_request``.

This stand-in retires no order (it holds every order it was given, as its tests inspect
them); the sequencer retires settled ones (``OrderStateMachine.retire``), and live mode
will too, with a horizon of its own.

Anything no venue history can explain raises ``InvariantViolation`` naming the order;
the instance then refuses further input (fail closed) and its records stop at the last
good commit.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import orjson

from meshrt.contract import ActionKind, Side, TimeInForce
from meshrt.ledger import Ledger
from meshrt.log import records
from meshrt.log.schema import REPORT_BY_TYPE
from meshrt.sequencer.order import InvariantViolation, Order
from meshrt.sequencer.orders import OrderStateMachine, report_name
from meshrt.venues.reports import VenueReport

# a logged report type's name -> the report type, to rebuild reports in ``replay``
_REPORT_TYPES = {record.name: cls for cls, record in REPORT_BY_TYPE.items()}


class IngressLedger:
    """Orders and per-deployment ledgers fed in arrival order; see the module docstring."""

    __slots__ = ("orders", "ledgers", "records", "failed")

    def __init__(self) -> None:
        self.orders = OrderStateMachine()
        self.ledgers: dict[str, Ledger] = {}
        self.records: list[bytes] = []
        self.failed: InvariantViolation | None = None

    def _ledger(self, order: Order) -> Ledger:
        ledger = self.ledgers.get(order.deployment)
        if ledger is None:
            ledger = self.ledgers[order.deployment] = Ledger()
        return ledger

    def _record(
        self,
        event_ts: int,
        ingest_ts: int,
        kind: str,
        order: Order,
        before: str,
        outcome: str,
        venue: str,
        key: Any,
        payload: list[Any],
    ) -> None:
        ledger = self._ledger(order)
        self.records.append(
            records.ingress_transition(
                len(self.records) + 1,
                event_ts,
                ingest_ts,
                kind,
                order.order_id,
                before,
                order.status.name,
                order.filled,
                ledger.position(order.symbol),
                ledger.cash,
                outcome,
                venue,
                key,
                payload,
            )
        )

    def _guard(self) -> None:
        if self.failed is not None:
            raise RuntimeError(f"ingress stopped after an invariant violation: {self.failed}")

    def submit(self, order: Order, ingest_ts: int) -> None:
        """An order leaves for its venue (CREATED -> SUBMITTED), as ``order_created``."""
        self._guard()
        try:
            self.orders.create(order)
            self.orders.submit(order.order_id, ingest_ts)
        except InvariantViolation as exc:
            self.failed = exc
            raise
        self._record(
            ingest_ts,
            ingest_ts,
            "submitted",
            order,
            "CREATED",
            "applied",
            order.venue,
            None,
            [
                order.deployment,
                order.client_id,
                order.symbol,
                order.side,
                order.kind,
                order.tif,
                order.price,
                order.size,
            ],
        )

    def cancel(self, order_id: int, ingest_ts: int) -> bool:
        """The algo asks to cancel; True if the request goes to the venue."""
        self._guard()
        order = self.orders.orders.get(order_id)
        if order is None:
            raise KeyError(f"cancel request for unknown order {order_id}")
        before = order.status.name
        reason = self.orders.request_cancel(order_id, ingest_ts)
        self._record(
            ingest_ts,
            ingest_ts,
            "cancel_request",
            order,
            before,
            "sent" if reason is None else f"refused:{reason.name}",
            order.venue,
            None,
            [],
        )
        return reason is None

    def replace(self, order_id: int, ingest_ts: int) -> None:
        """A replace the sequencer checked and sent leaves for the venue."""
        self._guard()
        order = self.orders.orders.get(order_id)
        if order is None:
            raise KeyError(f"replace request for unknown order {order_id}")
        before = order.status.name
        self.orders.replace_sent(order_id)
        self._record(
            ingest_ts, ingest_ts, "replace_request", order, before, "sent", order.venue, None, []
        )

    def report(self, venue: str, key: Hashable, report: VenueReport, ingest_ts: int) -> bool:
        """One venue report as it arrives; False if it was a duplicate (a no-op)."""
        self._guard()
        try:
            order, before, applied = self.orders.commit_report(self._ledger, venue, key, report)
        except InvariantViolation as exc:
            self.failed = exc
            raise
        self._record(
            report.ts,
            ingest_ts,
            report_name(report),
            order,
            before.name,
            "applied" if applied else "duplicate",
            venue,
            key,
            list(report[2:]),
        )
        return applied


def replay(records: Iterable[bytes]) -> list[bytes]:
    """Re-apply recorded ingress, in logged order, to a fresh instance; its records."""
    ingress = IngressLedger()
    for line in records:
        (
            seq,
            event_ts,
            ingest_ts,
            kind,
            order_id,
            _before,
            _after,
            _filled,
            _position,
            _cash,
            _outcome,
            venue,
            key,
            payload,
        ) = orjson.loads(line)
        if kind == "submitted":
            deployment, client_id, symbol, side, action, tif, price, size = payload
            ingress.submit(
                Order(
                    order_id=order_id,
                    deployment=deployment,
                    client_id=client_id,
                    venue=venue,
                    symbol=symbol,
                    side=Side(side),
                    kind=ActionKind(action),
                    tif=TimeInForce(tif),
                    price=price,
                    size=size,
                    created_ts=ingest_ts,
                ),
                ingest_ts,
            )
        elif kind == "cancel_request":
            ingress.cancel(order_id, ingest_ts)
        elif kind == "replace_request":
            ingress.replace(order_id, ingest_ts)
        elif kind in _REPORT_TYPES:
            ingress.report(venue, key, _REPORT_TYPES[kind](event_ts, order_id, *payload), ingest_ts)
        else:
            raise ValueError(f"ingress record seq {seq}: unknown type {kind!r}")
    return ingress.records
