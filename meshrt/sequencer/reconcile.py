"""Reconciliation at the end of a run: nothing lost.

Every order the runtime created is terminal, or open and known identically (same
remaining size) to the sequencer and its venue; orders with an operation still
travelling to the venue are reported as in flight. And, from two independent books,
each deployment's ledger position equals the net of the fills its orders accepted.
"""

from __future__ import annotations

from typing import Any

from meshrt.actors.protocol import FeedSwitch, VenueState
from meshrt.contract import Side
from meshrt.sequencer.lanes import Deployed, VenueLane
from meshrt.sequencer.orders import OrderStateMachine


def reconcile(
    orders: OrderStateMachine,
    lanes: list[VenueLane],
    deployed: list[Deployed],
    states: list[VenueState],
) -> dict[str, Any]:
    """The reconciliation summary, from the venues' ``states`` (one per venue)."""
    resting: dict[int, int] = {}
    feed_dropped = {}
    for state in sorted(states, key=lambda reply: reply.venue):  # replies race
        assert isinstance(state, VenueState)
        resting.update(state.resting)
        feed_dropped[lanes[state.venue].name] = state.feed_dropped
    in_flight = {
        op.order_id for lane in lanes for op in lane.arrivals if not isinstance(op, FeedSwitch)
    }
    mismatches = []
    live = 0
    for order_id, order in orders.orders.items():
        if order_id in in_flight:
            continue
        if order.is_terminal:
            if order_id in resting:
                mismatches.append(
                    f"order {order_id} is {order.status.name} in the "
                    f"sequencer but rests at {order.venue}"
                )
            continue
        live += 1
        venue_remaining = resting.get(order_id)
        if venue_remaining != order.size - order.filled:
            mismatches.append(
                f"order {order_id} ({order.status.name}, remaining "
                f"{order.size - order.filled}) has remaining {venue_remaining} at "
                f"{order.venue}"
            )
    filled: dict[tuple[str, str], int] = {}
    for order in orders.orders.values():
        key = (order.deployment, order.symbol)
        signed = order.filled if order.side == Side.BUY else -order.filled
        filled[key] = filled.get(key, 0) + signed
    for dep in deployed:
        for symbol in dep.ledger.symbols:
            expected = filled.get((dep.label, symbol), 0)
            if dep.ledger.position(symbol) != expected:
                mismatches.append(
                    f"deployment {dep.label!r} holds {dep.ledger.position(symbol)} "
                    f"{symbol} but its orders filled a net {expected}"
                )
    return {
        "orders": len(orders.orders),
        "open": live,
        "in_flight": len(in_flight),
        "mismatches": mismatches,
        "feed_events_dropped": feed_dropped,
    }
