"""What every live adapter returns for a frame, one shape for all exchanges (docs/live.md,
"Outputs"): the websocket session consumes Kraken, Coinbase and Binance the same way.

``on_frame(text, ts_ns)`` returns a list of these, in the order the session must act on
them: ``Feed`` goes to the venue actor, ``Resync`` takes the symbol down until a fresh
snapshot (resubscribe it), ``NeedSnapshot`` asks for a REST snapshot (Binance),
``Reference`` is an instrument's order rules as learned (Kraken's ``instrument``
channel; the session adds the REST ones), and ``FrameError`` is logged and counted,
never raised.
"""

from __future__ import annotations

import enum
from typing import Protocol, TypeAlias

from attrs import frozen

from meshrt.venues.events import FeedEvent
from meshrt.venues.live.refdata import Reference


class Why(enum.Enum):
    """Why a symbol's book can no longer be trusted."""

    CHECKSUM = "checksum mismatch"
    GAP = "sequence gap"
    CROSSED = "crossed book"
    REFUSED = "value the contract cannot hold"
    MALFORMED = "malformed message"


@frozen
class Feed:
    """One frame's feed events for one scenario symbol, in wire order (records of
    meshrt/venues/events.py stamped with the frame's receive time)."""

    symbol: str
    events: tuple[FeedEvent, ...]


@frozen
class Resync:
    """The symbol's book is dropped: nothing of it goes out until its next snapshot."""

    symbol: str  # scenario symbol
    exchange_symbol: str
    why: Why
    detail: str


@frozen
class NeedSnapshot:
    """Fetch the exchange symbol's REST depth snapshot and hand its body to the adapter."""

    exchange_symbol: str


@frozen
class FrameError:
    """A frame, or a part of it, that could not be used; one line naming the venue, the
    frame and the field."""

    venue: str
    where: str  # "frame 12" (the adapter's frame count), "snapshot BTCUSDT"
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.venue} {self.where}: {self.field}: {self.reason}"


Output: TypeAlias = Feed | Resync | NeedSnapshot | FrameError | Reference


@frozen
class Connected:
    """A (re)connection is open and subscribed; its symbols come up with their next
    snapshot, never before."""

    venue: str
    attempt: int  # 1 for the first connection, then one more per reconnect


@frozen
class Disconnected:
    """The connection ended (closed by the peer, failed, or stale): every symbol on it is
    down until its next snapshot after a reconnect."""

    venue: str
    why: str  # one line: "stale: no message in 10.0 s", "closed by peer: 1006 ..."
    reconnect_in_ns: int  # the backoff delay drawn for the next attempt


@frozen
class Received:
    """What a websocket session hands its venue, in arrival order: one frame's adapter
    outputs (``NeedSnapshot`` is the session's own business and never handed on), one
    connection event, or the references a REST answer gave, stamped with the receive time
    from the run's clock (ns)."""

    ts_ns: int
    outputs: tuple[Feed | Resync | FrameError | Reference | Connected | Disconnected, ...]


class ReceivedSink(Protocol):
    """Where a session hands its ``Received`` items, in arrival order: a trio memory
    send channel, or a paper run's live venue (meshrt/sequencer/live.py ``VenueSink``).
    ``send_nowait`` raises ``trio.WouldBlock`` when the receiver is too far behind;
    ``send`` then waits, so nothing is ever dropped."""

    def send_nowait(self, item: Received) -> None: ...

    async def send(self, item: Received) -> None: ...
