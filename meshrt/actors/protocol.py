"""What actors say to each other.

Per-event items are tuples that start with (time ns, kind); per-window control
messages are small frozen attrs values. The sequencer drives time in windows: it
sends every venue an ``Advance`` and every instance its deliveries followed by a
``WindowEnd``, then waits for one reply from each (work in flight is counted, never
inferred from the scheduler).
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

import attrs

# Venue output events, in ``VenueBatch.events``
OUT_BOOK: Final = 0  # (ts, OUT_BOOK, symbol index, feed event, Book, Features)
OUT_TRADE: Final = 1  # (ts, OUT_TRADE, symbol index, feed event)
OUT_REPORT: Final = 2  # (ts, OUT_REPORT, symbol index, report tuple from meshrt.venues.events)

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

# Deliveries to an algo instance
D_BOOK: Final = 0  # (ts, D_BOOK, Book, Features)
D_FILL: Final = 1  # (ts, D_FILL, Fill)
D_REJECT: Final = 2  # (ts, D_REJECT, Reject, pending: a cancel or replace still outstanding)
D_ORDER: Final = 3  # (ts, D_ORDER, client id, OpenOrder | None)  None: the order is done
D_LIFECYCLE: Final = 4  # (ts, D_LIFECYCLE, transition name)
D_SUBSCRIBED: Final = 5  # (ts, D_SUBSCRIBED, symbol, subscribed: bool)
D_SHUTDOWN: Final = 6  # (ts, D_SHUTDOWN)
D_MESSAGE: Final = 7  # (ts, D_MESSAGE, Message)
D_NBBO: Final = 8  # (ts, D_NBBO, NBBO)
D_HEARTBEAT: Final = 9  # (ts, D_HEARTBEAT)
D_KILL: Final = 10  # (ts, D_KILL, reason): fault injection crashes the instance now
D_RESTART: Final = 11  # (ts, D_RESTART, RestartState): the supervisor starts a new slot

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
    events: list[tuple[Any, ...]]
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
