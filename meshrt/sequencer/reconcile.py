"""Reconciliation at the end of a run: nothing lost.

Every order the runtime created is terminal, or open and known identically (same
remaining size) to the sequencer and its venue; orders with an operation still
travelling to the venue are reported as in flight. And, from two independent books,
each deployment's ledger position equals the net of the fills its orders accepted.
Retired orders take part through the state machine's counters (how many ended in each
state, the net size they filled): none may rest at a venue, and held plus retired
orders must add up to every order created.
"""

from __future__ import annotations

from typing import Any

from meshrt.actors.protocol import FeedSwitch, VenueState
from meshrt.contract import Side
from meshrt.sequencer.lanes import Deployed, VenueLane
from meshrt.sequencer.orders import EXPIRED, OrderStateMachine


def reconcile(
    orders: OrderStateMachine,
    lanes: list[VenueLane],
    deployed: list[Deployed],
    states: list[VenueState],
) -> dict[str, Any]:
    """The reconciliation summary, from the venues' ``states`` (one per venue)."""
    resting: dict[int, int] = {}
    resting_at: dict[int, str] = {}
    feed_dropped = {}
    for state in sorted(states, key=lambda reply: reply.venue):  # replies race
        assert isinstance(state, VenueState)
        resting.update(state.resting)
        resting_at.update((order_id, lanes[state.venue].name) for order_id, _ in state.resting)
        feed_dropped[lanes[state.venue].name] = state.feed_dropped
    in_flight = {
        op.order_id for lane in lanes for op in lane.arrivals if not isinstance(op, FeedSwitch)
    }
    found: list[tuple[int, str]] = []  # (order id, mismatch), reported in order id order
    live = 0
    for order_id, order in orders.orders.items():
        if order_id in in_flight:
            continue
        if order.is_terminal:
            if order_id in resting:
                found.append(
                    (
                        order_id,
                        (
                            f"order {order_id} is {order.status.name} in the "
                            f"sequencer but rests at {order.venue}"
                        ),
                    )
                )
            continue
        live += 1
        venue_remaining = resting.get(order_id)
        if venue_remaining != order.size - order.filled:
            found.append(
                (
                    order_id,
                    (
                        f"order {order_id} ({order.status.name}, remaining "
                        f"{order.size - order.filled}) has remaining {venue_remaining} at "
                        f"{order.venue}"
                    ),
                )
            )
    for order_id in resting.keys() - orders.orders.keys() - in_flight:
        if orders.issued(order_id):  # retired: it ended in the sequencer
            tomb = orders.ended.get(order_id)
            final = EXPIRED if tomb is None else tomb.status.name
            at = resting_at[order_id]
            found.append(
                (order_id, f"order {order_id} is {final} in the sequencer but rests at {at}")
            )
    mismatches = [text for _, text in sorted(found)]
    retired = sum(orders.ended.by_status.values())
    if len(orders.orders) + retired != orders.created:
        mismatches.append(
            f"{orders.created} orders created, but {len(orders.orders)} held and {retired} retired"
        )
    filled = orders.ended.net_filled.copy()
    for order in orders.orders.values():  # what the ledger holds: the fills booked
        filled[(order.deployment, order.symbol)] += (
            order.booked if order.side == Side.BUY else -order.booked
        )
    for dep in deployed:
        for symbol in dep.ledger.symbols:
            expected = filled.get((dep.label, symbol), 0)
            if dep.ledger.position(symbol) != expected:
                mismatches.append(
                    f"deployment {dep.label!r} holds {dep.ledger.position(symbol)} "
                    f"{symbol} but its orders filled a net {expected}"
                )
    return {
        "orders": orders.created,
        "open": live,
        "in_flight": len(in_flight),
        "mismatches": mismatches,
        "feed_events_dropped": feed_dropped,
    }
