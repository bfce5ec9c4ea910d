"""What actors say to each other.

Per-event items are typed values with their time in ns as ``ts``, one type per kind of
event, told apart by type: NamedTuples (an attrs value costs more than twice as much to
build), and for the one built per book update, ``BookDelivery``, a compiled value from a
free list (meshrt/actors/_deliveries.pyx); per-window control messages are small frozen
attrs values. The
sequencer drives time in windows: it sends every venue an ``Advance`` and every instance
its deliveries followed by a ``WindowEnd``, then waits for one reply from each (work in
flight is counted, never inferred from the scheduler).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import attrs

from meshrt.actors._deliveries import BookDelivery as BookDelivery
from meshrt.sdk import NBBO, Fill, Message, OpenOrder, Reject
from meshrt.venues.outputs import VenueOutput

# What a venue emits, in ``VenueBatch.events``, is its own: meshrt/venues/outputs.py.

# What arrives at a venue, in ``Advance.arrivals``, each at its arrival time ``ts``:
# order operations, and fault injection switching the feed.


class Submit(NamedTuple):
    ts: int
    order_id: int
    symbol: int  # index into the venue's symbols
    side: int
    price: int | None  # None: a market order
    size: int
    tif: int


class Cancel(NamedTuple):
    ts: int
    order_id: int
    symbol: int


class Replace(NamedTuple):
    ts: int
    order_id: int
    symbol: int
    price: int
    size: int


class FeedSwitch(NamedTuple):
    """Fault injection: the venue's feed stops reaching algos (``up`` False) or comes back."""

    ts: int
    up: bool


OrderOp = Submit | Cancel | Replace
Arrival = Submit | Cancel | Replace | FeedSwitch

# Deliveries to an algo instance, each at its delivery time ``ts``. ``BookDelivery``, built
# per book update by the compiled commit loop (_commit.pyx), is a compiled value
# (_deliveries.pyx) for speed.


class FillDelivery(NamedTuple):
    ts: int
    fill: Fill


class RejectDelivery(NamedTuple):
    ts: int
    reject: Reject
    pending: bool  # a cancel or replace of the order is still outstanding


class OrderDelivery(NamedTuple):
    """The order's new state as the sequencer knows it; ``order`` None: it is done."""

    ts: int
    client_id: int
    order: OpenOrder | None


class LifecycleDelivery(NamedTuple):
    ts: int
    transition: str  # "start", "stop", "pause" or "resume"


class SubscribedDelivery(NamedTuple):
    ts: int
    symbol: str
    on: bool  # False: unsubscribed


class ShutdownDelivery(NamedTuple):
    ts: int


class MessageDelivery(NamedTuple):
    ts: int
    message: Message


class NbboDelivery(NamedTuple):
    ts: int
    nbbo: NBBO


class HeartbeatDelivery(NamedTuple):
    ts: int


class KillDelivery(NamedTuple):
    """Fault injection crashes the instance now."""

    ts: int
    reason: str


class RestartDelivery(NamedTuple):
    """The supervisor starts a new slot from this state."""

    ts: int
    state: RestartState


Delivery = (
    BookDelivery
    | FillDelivery
    | RejectDelivery
    | OrderDelivery
    | LifecycleDelivery
    | SubscribedDelivery
    | ShutdownDelivery
    | MessageDelivery
    | NbboDelivery
    | HeartbeatDelivery
    | KillDelivery
    | RestartDelivery
)

# Instance outputs, in ``InstanceBatch.outputs``: one typed value per thing an algo did,
# each starting with its time (NamedTuples: built per action, they must stay cheap).


class ActionOut(NamedTuple):
    """An action the algo placed (the action tuple of meshrt.sdk.Actions)."""

    ts: int
    action: tuple[Any, ...]


class SubscribeOut(NamedTuple):
    ts: int
    symbol: str
    on: bool  # False: unsubscribe


class SetParamOut(NamedTuple):
    ts: int
    name: str
    value: Any


class LogOut(NamedTuple):
    ts: int
    message: str


class MessageOut(NamedTuple):
    ts: int
    label: str
    payload: bytes


class CrashOut(NamedTuple):
    """The callback that crashed: ``error`` is "ExceptionType: message"."""

    ts: int
    error: str


class UndeliveredOut(NamedTuple):
    """A message from ``sender`` arrived after this instance crashed (a counted drop)."""

    ts: int
    sender: str


InstanceOutput = (
    ActionOut | SubscribeOut | SetParamOut | LogOut | MessageOut | CrashOut | UndeliveredOut
)


class Output(NamedTuple):
    """An instance output as the sequencer merges it: by time, then producer index."""

    ts: int
    instance: int
    output: InstanceOutput


@attrs.frozen(slots=True)
class Advance:
    """Venue: process your feed up to ``until`` (exclusive), with these order arrivals."""

    until: int
    arrivals: list[Arrival]


@attrs.frozen(slots=True)
class VenueBatch:
    venue: int
    events: list[VenueOutput]
    next_time: int | None


@attrs.frozen(slots=True)
class WindowEnd:
    """Instance: reply with everything you produced since the last WindowEnd."""

    window: int


@attrs.frozen(slots=True)
class InstanceBatch:
    instance: int
    outputs: list[InstanceOutput]


@attrs.frozen(slots=True)
class RestartState:
    """What a restarted instance starts from: the sequencer's books at restart time."""

    lifecycle: str
    ledger: Any  # a copy of the deployment's Ledger
    open_orders: dict[int, Any]  # client id -> OpenOrder


@attrs.frozen(slots=True)
class Snapshot:
    """Venue: reply with a ``VenueState`` (your resting orders), for reconciliation."""


@attrs.frozen(slots=True)
class VenueState:
    venue: int
    resting: list[tuple[int, int]]  # (order id, remaining), all symbols
    feed_dropped: int


@attrs.frozen(slots=True)
class Stop:
    """Any actor: finish and return."""
