"""The simulated venue actor: data sources feeding matching engines.

On each ``Advance(until, arrivals)`` it replays its feed up to ``until`` and the
order operations that arrive before then, interleaved by time (at equal times the
feed goes first: a market data event is already public when an order lands), and
replies with everything that happened as one ``VenueBatch``.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from meshrt.actors._venue import VenueCore
from meshrt.actors.mailbox import Mailbox
from meshrt.actors.protocol import (
    Advance,
    Arrival,
    Cancel,
    FeedSwitch,
    Snapshot,
    Stop,
    Submit,
    VenueBatch,
    VenueState,
)
from meshrt.scenario.limits import MailboxConfig
from meshrt.sdk import Book, Features
from meshrt.venues._feed import VenueSymbol
from meshrt.venues._matching import MatchingEngine
from meshrt.venues.events import FEED_DELTA, FEED_TRADE
from meshrt.venues.outputs import BookUpdate, OrderReport, TradePrint, VenueOutput
from meshrt.venues.reports import VenueReport
from meshrt.venues.sources import Source


class VenueActor(VenueCore):
    """One venue edge: one data source and one matching engine per symbol."""

    def __init__(
        self,
        index: int,
        name: str,
        symbols: Sequence[str],
        sources: Sequence[Source],
        engines: Sequence[MatchingEngine],
        reply_to: Mailbox[Any],
        mailbox: MailboxConfig = MailboxConfig(),
    ) -> None:
        self.index = index
        self.name = name
        self.symbols = list(symbols)
        self.sources = list(sources)
        self.engines = list(engines)
        self.lanes = [
            VenueSymbol(engine, symbol, name_of, name, Book, Features)
            for symbol, (engine, name_of) in enumerate(zip(self.engines, self.symbols, strict=True))
        ]
        self.reply_to = reply_to
        self.mailbox: Mailbox[Advance | Snapshot | Stop] = Mailbox(f"venue:{name}", mailbox)
        self.feed_up = True
        self.feed_dropped = 0  # feed events not delivered while the feed was down (faults)

    async def run(self) -> None:
        """Run as a Trio task: step on each batch the mailbox receives, until told to stop."""
        while not self.step(await self.mailbox.receive_batch()):
            pass

    def step(self, messages: list[Advance | Snapshot | Stop]) -> bool:
        """Handle ``messages`` in order, replying to each; True once told to stop. The
        sequencer calls this directly in virtual time (meshrt/sequencer/actor.py)."""
        for message in messages:
            if isinstance(message, Stop):
                return True
            if isinstance(message, Snapshot):
                resting = [
                    (order.order_id, order.remaining)
                    for engine in self.engines
                    for order in engine.resting()
                ]
                self.reply_to.send_nowait(VenueState(self.index, resting, self.feed_dropped))
                continue
            events = self.advance(message.until, message.arrivals)
            self.reply_to.send_nowait(VenueBatch(self.index, events, self.next_time()))
        return False

    def _merged(self, until: int, arrivals: list[Arrival]) -> list[VenueOutput]:
        """``advance`` for a venue of several sources (meshrt/actors/_venue.pyx runs one of
        a single source): their events merged by time, the arrivals interleaved."""
        out: list[VenueOutput] = []
        merged = heapq.merge(
            *(
                [(event, symbol) for event in source.batch(until)]
                for symbol, source in enumerate(self.sources)
            ),
            key=lambda pair: pair[0][0],
        )
        pending = iter(arrivals)
        next_arrival = next(pending, None)
        for event, symbol in merged:
            while next_arrival is not None and next_arrival[0] < event[0]:
                self._order(next_arrival, out)
                next_arrival = next(pending, None)
            self._play([event], 0, 1, symbol, out)
        while next_arrival is not None:
            self._order(next_arrival, out)
            next_arrival = next(pending, None)
        return out

    def _play(
        self,
        events: list[tuple[Any, ...]],
        start: int,
        stop: int,
        symbol: int,
        out: list[VenueOutput],
    ) -> None:
        """Apply feed events[start:stop] of one symbol: the hot loop of the venue, compiled
        (meshrt/venues/_feed.pyx), calling the matching engine only where an event can
        reach a resting order."""
        if start >= stop:
            return
        if not self.feed_up:
            self._play_dark(events, start, stop, symbol, out)
            return
        self.lanes[symbol].play(events, start, stop, out)

    def _play_dark(
        self,
        events: list[tuple[Any, ...]],
        start: int,
        stop: int,
        symbol: int,
        out: list[VenueOutput],
    ) -> None:
        """The feed is down (fault injection): the venue's book still moves and resting
        orders still fill, but no book reaches an algo. Each event is still committed
        (and logged) with no book, so a replay sees what the venue saw."""
        engine = self.engines[symbol]
        reports = engine.reports
        for k in range(start, stop):
            event = events[k]
            ts, kind = event[0], event[1]
            if kind == FEED_DELTA:
                engine.apply_delta(ts, event[2], event[3], event[4])
                out.append(BookUpdate(ts, symbol, event, None, None))
            elif kind == FEED_TRADE:
                engine.apply_trade(ts, event[2], event[3], event[4])
                out.append(TradePrint(ts, symbol, event))
            else:
                engine.apply_snapshot(ts, event[2], event[3])
                out.append(BookUpdate(ts, symbol, event, None, None))
            self.feed_dropped += 1
            if reports:
                _drain(reports, symbol, out)

    def _order(self, op: Arrival, out: list[VenueOutput]) -> None:
        """An order operation (or a feed switch) reaching the venue, by its type."""
        if isinstance(op, FeedSwitch):
            self.feed_up = op.up
            return
        engine = self.engines[op.symbol]
        if isinstance(op, Submit):
            engine.submit(op.ts, op.order_id, op.side, op.price, op.size, op.tif)
        elif isinstance(op, Cancel):
            engine.cancel(op.ts, op.order_id)
        else:
            engine.replace(op.ts, op.order_id, op.price, op.size)
        if engine.reports:
            _drain(engine.reports, op.symbol, out)


def _drain(reports: list[VenueReport], symbol: int, out: list[VenueOutput]) -> None:
    """Move a matching engine's reports into the venue's output, as they happened."""
    out.extend(OrderReport(report.ts, symbol, report) for report in reports)
    reports.clear()
