"""The simulated venue actor: data sources feeding matching engines.

On each ``Advance(until, arrivals)`` it replays its feed up to ``until`` and the
order operations that arrive before then, interleaved by time (at equal times the
feed goes first: a market data event is already public when an order lands), and
replies with everything that happened as one ``VenueBatch``.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from meshrt.actors.mailbox import Mailbox
from meshrt.actors.protocol import (
    Advance,
    Arrival,
    FeedSwitch,
    Snapshot,
    Stop,
    VenueBatch,
    VenueState,
)
from meshrt.scenario.limits import MailboxConfig
from meshrt.sdk import Book, Features
from meshrt.venues._feed import VenueLane
from meshrt.venues.events import FEED_DELTA, FEED_TRADE
from meshrt.venues.matching import MatchingEngine
from meshrt.venues.outputs import BookUpdate, OrderReport, TradePrint, VenueOutput
from meshrt.venues.reports import VenueReport
from meshrt.venues.sources import Source

_ts = itemgetter(0)


class VenueActor:
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
            VenueLane(engine, symbol, name_of, name, Book, Features)
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

    def next_time(self) -> int | None:
        """Time of the next feed event on any symbol, None when every source is done."""
        sources = self.sources
        if len(sources) == 1:
            return sources[0].peek_time()
        times = [t for t in (source.peek_time() for source in sources) if t is not None]
        return min(times) if times else None

    def advance(self, until: int, arrivals: list[Arrival]) -> list[VenueOutput]:
        """Everything that happens before ``until``, in time order (feed first on ties)."""
        out: list[VenueOutput] = []
        if len(self.sources) == 1:
            events = self.sources[0].batch(until)
            position = 0
            if self.feed_up:  # the common case, compiled (meshrt/venues/_feed.pyx)
                handled = self.lanes[0].window(events, arrivals, out)
                if handled == len(arrivals):
                    return out
                # a FeedSwitch: the events up to its time are played
                arrivals = arrivals[handled:]
                position = bisect_right(events, arrivals[0][0], key=_ts)
            for arrival in arrivals:
                stop = bisect_right(events, arrival[0], lo=position, key=_ts)
                self._play(events, position, stop, 0, out)
                position = stop
                self._order(arrival, out)
            self._play(events, position, len(events), 0, out)
            return out
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
        self.lanes[op.symbol].order(op, out)


def _drain(reports: list[VenueReport], symbol: int, out: list[VenueOutput]) -> None:
    """Move a matching engine's reports into the venue's output, as they happened."""
    out.extend(OrderReport(report.ts, symbol, report) for report in reports)
    reports.clear()
