"""The mesh bridge: who takes what, and the coordinator that carries it.

It owns the venue subscriptions of each deployment, NBBO consolidation (a venue sends
its top of book only while someone takes the NBBO of the symbol), the coordinator's
generations, and the segments of mesh messages and quotes committed in a window: each
goes, at the window's end, to the coordinator that was up when it was committed, and
what that coordinator delivers is scheduled like everything else. Links count what
they deliver, drop and hold in flight (meshrt/actors/coordinator.py's LinkTable).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from meshrt.actors.coordinator import (
    COORDINATOR_DOWN,
    RECEIVER_DOWN,
    Coordinator,
    LinkTable,
    NbboTakers,
    Route,
    RoutedDelivery,
    RouteItem,
    SentMessage,
    TopOfBook,
)
from meshrt.actors.mailbox import Mailbox
from meshrt.actors.protocol import MessageDelivery, RejectDelivery, Stop, SubscribedDelivery
from meshrt.contract import RejectReason
from meshrt.log import records
from meshrt.log.records import shown
from meshrt.sdk import Book, Reject
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import Deployed, VenueLane

Spawn = Callable[..., None]  # a nursery's start_soon
Replies = Callable[[int], Awaitable[tuple[Any, Any, list[Any]]]]
Step = Callable[[Coordinator], None]  # the sequencer's: a stepped actor handles its mail now


@attrs.define(slots=True, eq=False)
class MeshBridge:
    journal: Journal
    lanes: list[VenueLane]
    deployed: list[Deployed]
    links: LinkTable
    region: str  # the coordinator's
    reply_to: Mailbox[Any]
    generation: int = 0
    cc: Coordinator | None = None
    segments: list[tuple[Coordinator | None, list[RouteItem]]] = attrs.field(factory=list)

    # -- subscriptions and consolidation ----------------------------------------------

    def subscribe_all(self, dep: Deployed) -> None:
        lane = self.lanes[dep.venue]
        for symbol in dep.symbols:
            subs = lane.subscribers[lane.symbols.index(symbol)]
            if dep not in subs:
                subs.append(dep)
                subs.sort(key=lambda subscriber: subscriber.instance.index)

    def unsubscribe_all(self, dep: Deployed) -> None:
        for symbol_subs in self.lanes[dep.venue].subscribers:
            if dep in symbol_subs:
                symbol_subs.remove(dep)

    def nbbo_takers(self, symbol: str) -> tuple[int, ...]:
        """The deployments (by index) that take the NBBO of ``symbol``."""
        return tuple(
            index
            for index, dep in enumerate(self.deployed)
            if "on_nbbo" in dep.capabilities and symbol in dep.symbols
        )

    def consolidate(self, symbol: str) -> None:
        """Every venue quoting ``symbol`` sends its top of book to the coordinator while
        anyone takes the NBBO of it, and only then (otherwise it costs nothing)."""
        on = bool(self.nbbo_takers(symbol))
        for lane in self.lanes:
            if symbol in lane.symbols:
                index = lane.symbols.index(symbol)
                lane.consolidated[index] = on
                if not on:
                    lane.last_quote[index] = None  # a later taker gets a fresh quote

    def commit_subscription(self, ts: int, dep: Deployed, symbol: Any, on: bool) -> None:
        lane = self.lanes[dep.venue]
        journal = self.journal
        journal.seq += 1
        known = symbol in lane.symbols
        journal.log.lines.append(
            records.subscription(journal.seq, ts, dep.source, lane.name, symbol, on, known)
        )
        if not known:
            dep.rejects[RejectReason.UNKNOWN_SYMBOL.name] += 1
            dep.timer(
                RejectDelivery(
                    ts + lane.order_base_ns,
                    Reject(
                        ts,
                        0,
                        RejectReason.UNKNOWN_SYMBOL,
                        0,
                        f"no symbol {shown(symbol)} on venue {lane.name!r}",
                    ),
                    False,
                )
            )
            return
        if on and symbol not in dep.symbols:
            dep.symbols.append(symbol)
            self.subscribe_all(dep)
        elif not on and symbol in dep.symbols:
            dep.symbols.remove(symbol)
            subs = lane.subscribers[lane.symbols.index(symbol)]
            if dep in subs:
                subs.remove(dep)
        if "on_nbbo" in dep.capabilities:
            self.consolidate(symbol)
            if self.cc is not None:  # in commit order, with the quotes and messages
                self.segments[-1][1].append(NbboTakers(ts, symbol, self.nbbo_takers(symbol)))
        dep.timer(SubscribedDelivery(lane.feed.deliver_at(ts), symbol, on))

    # -- the coordinator --------------------------------------------------------------

    def _new_coordinator(self) -> Coordinator:
        self.generation += 1
        nbbo: dict[str, list[int]] = {}
        for symbol in {symbol for dep in self.deployed for symbol in dep.symbols}:
            takers = self.nbbo_takers(symbol)
            if takers:
                nbbo[symbol] = list(takers)
        return Coordinator(
            generation=self.generation,
            links=self.links,
            labels=[dep.label for dep in self.deployed],
            venues_of={dep.label: self.lanes[dep.venue].name for dep in self.deployed},
            message_receivers={
                dep.label for dep in self.deployed if "on_message" in dep.capabilities
            },
            nbbo_subscribers=nbbo,
            venue_order={lane.name: i for i, lane in enumerate(self.lanes)},
            reply_to=self.reply_to,
        )

    def start_coordinator(self, spawn: Spawn) -> None:
        self.cc = self._new_coordinator()
        spawn(self.cc.run)
        self.segments.append((self.cc, []))

    def kill_coordinator(self) -> None:
        if self.cc is not None:
            self.cc = None
            self.journal.counts["coordinator_kills"] += 1

    def restart_coordinator(self, spawn: Spawn) -> None:
        if self.cc is None:
            self.start_coordinator(spawn)
            self.journal.counts["coordinator_restarts"] += 1

    def stop(self, step: Step) -> None:
        if self.cc is not None:
            self.cc.mailbox.send_nowait(Stop())
            step(self.cc)
            self.cc = None

    # -- what goes through it ---------------------------------------------------------

    def quote(self, lane: VenueLane, symbol: int, ts: int, book: Book) -> None:
        """A top-of-book change of a consolidated symbol goes to the coordinator."""
        quote = (
            book.bid_prices[0] if book.bid_prices else 0,
            book.bid_sizes[0] if book.bid_sizes else 0,
            book.ask_prices[0] if book.ask_prices else 0,
            book.ask_sizes[0] if book.ask_sizes else 0,
        )
        if quote == lane.last_quote[symbol]:
            return
        lane.last_quote[symbol] = quote
        if self.cc is not None:
            self.segments[-1][1].append(TopOfBook(ts, lane.name, lane.symbols[symbol], *quote))

    def commit_message(self, ts: int, dep: Deployed, receiver: str, payload: bytes) -> None:
        """Log the message and hand it to the coordinator that is up now (or count it)."""
        journal = self.journal
        journal.seq += 1
        dep.messages_sent += 1
        journal.log.lines.append(
            records.message(
                journal.seq,
                ts,
                dep.source,
                self.lanes[dep.venue].name,
                dep.label,
                receiver,
                payload,
            )
        )
        if self.cc is None:
            self.links.drop(dep.label, receiver, COORDINATOR_DOWN)
        else:
            self.segments[-1][1].append(SentMessage(ts, dep.label, receiver, payload))

    def route_stepped(self) -> None:
        """Virtual time: this window's messages and quotes go through the route of the
        coordinator that was up when they were committed (its step, called here); what
        it delivers is scheduled. A coordinator that died has no task to stop."""
        for actor, items in self._take_segments():
            if actor is not None and items:
                self._schedule(actor.route(items))

    async def route(self, replies: Replies) -> None:
        """Actors as tasks: hand this window's messages and quotes to the coordinator(s)
        that were up when they were committed; schedule what they deliver; stop
        coordinators that died."""
        for actor, items in self._take_segments():
            if actor is None:
                continue
            if items:
                actor.mailbox.send_nowait(Route(items))
                _, _, routed = await replies(1)
                self._schedule(routed[0].deliveries)
            if actor is not self.cc:
                actor.mailbox.send_nowait(Stop())

    def _take_segments(self) -> list[tuple[Coordinator | None, list[RouteItem]]]:
        segments = self.segments
        self.segments = [(self.cc, [])] if self.cc is not None else []
        return segments

    def _schedule(self, deliveries: list[RoutedDelivery]) -> None:
        for target, delivery in deliveries:
            receiver = self.deployed[target]
            if receiver.crashed is not None:
                if type(delivery) is MessageDelivery:
                    self.receiver_down(delivery.message.sender, receiver.label)
                continue
            receiver.timer(delivery)

    def receiver_down(self, sender: str, receiver: str) -> None:
        """A message the link delivered never reaches its crashed receiver: a drop."""
        link = self.links.link(sender, receiver)
        link.delivered -= 1
        link.dropped[RECEIVER_DOWN] += 1

    def in_flight_at_end(self) -> None:
        """Messages due at or after the end never arrive: in flight, not delivered."""
        for dep in self.deployed:
            for _, _, item in dep.timers:
                if type(item) is MessageDelivery:
                    link = self.links.link(item.message.sender, dep.label)
                    link.delivered -= 1
                    link.in_flight += 1
