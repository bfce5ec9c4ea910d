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
venue would refuse (``check_order``) is refused here, with the contract's closest reason,
before it reaches the matching engine. Until a symbol's first reference, its orders are
not checked. A replay re-applies the logged references, so it refuses the same orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from meshrt.actors.mailbox import Mailbox
from meshrt.actors.protocol import Arrival, Replace, Submit
from meshrt.actors.venue import VenueActor
from meshrt.scenario.limits import MailboxConfig
from meshrt.venues._matching import MatchingEngine
from meshrt.venues.events import FEED_SNAPSHOT, FeedEvent
from meshrt.venues.live.playback import Inbox
from meshrt.venues.live.refdata import Reference, check_order
from meshrt.venues.live.verdicts import Disconnected, Feed, Received, Resync
from meshrt.venues.outputs import LiveNote, OrderReport, VenueOutput


class ReceivedInput(Protocol):
    """Where a live venue's ``Received`` items come from, in arrival order."""

    def batch(self, until: int) -> list[Received]:
        """The items to handle before ``until`` (a later call continues)."""
        ...

    def peek_time(self) -> int | None:
        """The next item's time, None when there is none (yet)."""
        ...


class LiveVenueActor(VenueActor):
    """A venue whose feed is ``Received`` items, all symbols on one input."""

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
        self.up = [False for _ in self.symbols]  # up from a snapshot to a resync
        self.references: list[Reference | None] = [None for _ in self.symbols]
        self.last = 0  # the latest time handled: the venue's stream never goes back

    def next_time(self) -> int | None:
        return self.feed.peek_time()

    def hand(self, items: list[Received]) -> None:
        """Paper mode: what arrived for this venue, for the window the live loop is about
        to send it (meshrt/sequencer/live.py)."""
        feed = self.feed
        assert isinstance(feed, Inbox)
        feed.items.extend(items)

    def advance(self, until: int, arrivals: list[Arrival]) -> list[VenueOutput]:
        """The items before ``until`` in arrival order, each at its receive time (or the
        venue's latest time, if it arrived later than something handled after it was
        stamped), with the order arrivals interleaved by time (feed first on ties)."""
        out: list[VenueOutput] = []
        pending = iter(arrivals)
        arrival = next(pending, None)
        for item in self.feed.batch(until):
            ts = item.ts_ns if item.ts_ns > self.last else self.last
            while arrival is not None and arrival[0] < ts:
                self._arrive(arrival, out)
                arrival = next(pending, None)
            self.last = ts
            for output in item.outputs:
                if type(output) is Feed:
                    self._feed(ts, output, out)
                else:
                    self._note(ts, output, out)
        while arrival is not None:
            self._arrive(arrival, out)
            arrival = next(pending, None)
        return out

    def _arrive(self, arrival: Arrival, out: list[VenueOutput]) -> None:
        """An order operation reaching the venue: at its time, or at the venue's latest
        if the live loop handed the venue later items before it (a slow window)."""
        if arrival[0] > self.last:
            self.last = arrival[0]
        elif arrival[0] < self.last:
            arrival = arrival._replace(ts=self.last)
        self._order(arrival, out)

    def _order(self, op: Arrival, out: list[VenueOutput]) -> None:
        """A Submit or Replace its symbol's reference refuses never matches: the venue
        answers it (REJECTED, or CANCEL_REJECTED for a replace, the order unchanged)."""
        if isinstance(op, (Submit, Replace)):
            ref = self.references[op.symbol]
            refusal = None if ref is None else check_order(ref, op.price, op.size)
            if refusal is not None:
                engine = self.engines[op.symbol]
                if isinstance(op, Submit):
                    engine.reject(op.ts, op.order_id, int(refusal.reason))
                else:
                    engine.reject_replace(op.ts, op.order_id, int(refusal.reason))
                out.extend(OrderReport(report.ts, op.symbol, report) for report in engine.reports)
                engine.reports.clear()
                return
        super()._order(op, out)

    def _feed(self, ts: int, feed: Feed, out: list[VenueOutput]) -> None:
        symbol = self.index_of.get(feed.symbol)
        if symbol is None:
            return  # the session's adapter serves a symbol this venue does not list
        events: list[FeedEvent] = [
            event if event[0] == ts else (ts, *event[1:]) for event in feed.events
        ]
        start = 0
        if not self.up[symbol]:
            first = next((k for k, e in enumerate(events) if e[1] == FEED_SNAPSHOT), None)
            dark = len(events) if first is None else first
            self._play_dark(events, 0, dark, symbol, out)
            if first is None:
                return
            self.up[symbol] = True
            start = first
        self._play(events, start, len(events), symbol, out)

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
