"""A venue fed by a live session's ``Received`` items (meshrt/venues/live/verdicts.py).

The same matching engines, book and feed loop as a simulated venue; only the feed's
source differs: an ``Inbox`` the live loop fills with what arrived (paper mode), or a
capture read through the adapter in virtual time (``CaptureInput``). Each symbol is down
until its first snapshot, and again from a ``Resync`` of it (or a ``Disconnected``, for
every symbol) until its next one, exactly as a killed feed: its events are applied and
logged, no book reaches an algo. While a symbol is down its paper book is empty too, so
no paper order matches a book nobody can vouch for. Connection events, resyncs and frame
errors go to the sequencer as ``LiveNote`` values, in order with the feed, to be logged.

Each symbol's latest ``Reference`` (the venue's tick, lot, minimum size and notional) is
kept, and logged as a note when it is new or changed: a paper Submit or Replace the
venue would refuse (``check_order``) is refused, with the contract's closest reason,
before it reaches the matching engine. Until a symbol's first reference, its orders are
not checked. A replay re-applies the logged references, so it refuses the same orders.

The window step runs every window and is compiled (meshrt/actors/_live_venue.pyx: a frame's
feed for a symbol that is up, order arrivals); the rare paths are the Python methods here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeAlias

from meshrt.actors._live_venue import LiveVenueCore
from meshrt.actors.mailbox import Mailbox
from meshrt.actors.protocol import Replace, Submit
from meshrt.actors.venue import VenueActor
from meshrt.scenario.limits import MailboxConfig
from meshrt.venues._matching import MatchingEngine
from meshrt.venues.events import FEED_SNAPSHOT, FeedEvent
from meshrt.venues.live.playback import Inbox
from meshrt.venues.live.refdata import Reference, Refusal
from meshrt.venues.live.verdicts import Disconnected, Received, Resync
from meshrt.venues.outputs import LiveNote, OrderReport, VenueOutput


class ReceivedSource(Protocol):
    """Where a live venue's ``Received`` items come from in virtual time, in arrival order
    (``CaptureInput``)."""

    def batch(self, until: int) -> list[Received]:
        """The items to handle before ``until`` (a later call continues)."""
        ...

    def peek_time(self) -> int | None:
        """The next item's time, None when there is none (yet)."""
        ...


# A live venue's input: what the live loop hands it (paper mode), or a source.
ReceivedInput: TypeAlias = Inbox | ReceivedSource


class LiveVenueActor(LiveVenueCore, VenueActor):
    """A venue whose feed is ``Received`` items, all symbols on one input. Its window step
    is compiled (``LiveVenueCore``); the rare paths are here."""

    def __init__(
        self,
        index: int,
        name: str,
        symbols: Sequence[str],
        feed: ReceivedInput,
        engines: Sequence[MatchingEngine],
        reply_to: Mailbox[Any],
        mailbox: MailboxConfig = MailboxConfig(),
    ) -> None:
        super().__init__(index, name, symbols, [], engines, reply_to, mailbox)
        self.feed = feed
        self.index_of = {symbol: i for i, symbol in enumerate(self.symbols)}
        self.up = [False for _ in self.symbols]
        self.references = [None for _ in self.symbols]
        self.last = 0

    def _rise(self, ts: int, symbol: int, events: list[FeedEvent], out: list[VenueOutput]) -> None:
        """A feed of a symbol that is down: its events before its first snapshot are
        played dark; from that snapshot on the symbol is up."""
        first = next((k for k, e in enumerate(events) if e[1] == FEED_SNAPSHOT), None)
        dark = len(events) if first is None else first
        self._play_dark(events, 0, dark, symbol, out)
        if first is None:
            return
        self.up[symbol] = True
        self._play(events, first, len(events), symbol, out)

    def _refuse(self, op: Submit | Replace, refusal: Refusal, out: list[VenueOutput]) -> None:
        """A Submit or Replace its symbol's reference refuses never matches: the venue
        answers it (REJECTED, or CANCEL_REJECTED for a replace, the order unchanged)."""
        engine = self.engines[op.symbol]
        if isinstance(op, Submit):
            engine.reject(op.ts, op.order_id, int(refusal.reason))
        else:
            engine.reject_replace(op.ts, op.order_id, int(refusal.reason))
        out.extend(OrderReport(report.ts, op.symbol, report) for report in engine.reports)
        engine.reports.clear()

    def _note(self, ts: int, note: Any, out: list[VenueOutput]) -> None:
        if type(note) is Reference:
            symbol = self.index_of.get(note.symbol)
            if symbol is not None and note != self.references[symbol]:
                self.references[symbol] = note
                out.append(LiveNote(ts, symbol, note))
            return
        if type(note) is Resync:
            symbol = self.index_of.get(note.symbol, -1)
            if symbol >= 0:
                self._down(ts, symbol, out)
            out.append(LiveNote(ts, symbol, note))
            return
        out.append(LiveNote(ts, -1, note))
        if type(note) is Disconnected:
            for symbol in range(len(self.symbols)):
                self._down(ts, symbol, out)

    def _down(self, ts: int, symbol: int, out: list[VenueOutput]) -> None:
        """The symbol's book is unknown until its next snapshot: none is delivered, and
        the paper book is emptied (resting orders keep their price)."""
        if not self.up[symbol]:
            return
        self.up[symbol] = False
        engine = self.engines[symbol]
        engine.apply_snapshot(ts, (), ())
        out.extend(OrderReport(report.ts, symbol, report) for report in engine.reports)
        engine.reports.clear()
