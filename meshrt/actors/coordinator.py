"""The central coordinator (CC): label routing, link latency and loss, NBBO.

The CC receives, once per window in commit order, the mesh messages instances sent
and the top-of-book changes of symbols someone consolidates; it replies with the
deliveries they cause. It stamps each message's sender from the sequencer's record of
who sent it, so no instance can forge ``sender``. Its routing table and NBBO are its
own state and die with it; the links (their seeded draws and statistics) belong to
the mesh and outlive any one coordinator.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import attrs

from meshrt.actors.mailbox import Mailbox
from meshrt.actors.protocol import MessageDelivery, NbboDelivery, Stop
from meshrt.scenario.faults import DropRate, LatencySpike, Partition
from meshrt.scenario.latency import LatencyStream
from meshrt.scenario.limits import MailboxConfig
from meshrt.scenario.mesh import Mesh
from meshrt.sdk import NBBO, Message, VenueQuote

CC = "cc"

# drop reasons, as they appear in link statistics
NO_SUCH_LABEL = "no_such_label"
PARTITION = "partition"
LOSS = "loss"
COORDINATOR_DOWN = "coordinator_down"
RECEIVER_DOWN = "receiver_down"
NO_ON_MESSAGE = "receiver_has_no_on_message"


class SentMessage(NamedTuple):
    """A mesh message as committed: the sender is the sequencer's record of who sent it."""

    ts: int
    sender: str  # label
    receiver: str  # label
    payload: bytes


class TopOfBook(NamedTuple):
    """A new top of book of a consolidated symbol on one venue."""

    ts: int
    venue: str
    symbol: str
    bid: int
    bid_size: int
    ask: int
    ask_size: int


class NbboTakers(NamedTuple):
    """Who takes the NBBO of ``symbol`` from now on (deployment indexes; empty: nobody)."""

    ts: int
    symbol: str
    takers: tuple[int, ...]


RouteItem = SentMessage | TopOfBook | NbboTakers


@attrs.frozen(slots=True)
class Route:
    """One window's messages, quotes and NBBO takers, in commit order."""

    items: list[RouteItem]


class RoutedDelivery(NamedTuple):
    target: int  # the receiving deployment's index
    delivery: MessageDelivery | NbboDelivery


@attrs.frozen(slots=True)
class Routed:
    deliveries: list[RoutedDelivery]


class LinkState:
    """One directed link: its FIFO latency stream, loss draws and statistics.

    Every message sent is, at the end, exactly one of: delivered, dropped (by reason), or
    in flight (due at or after the run's end): ``sent == delivered + sum(dropped) +
    in_flight``. Latencies are counted by value, not listed: their percentiles stay exact
    while memory follows the number of distinct latencies (the jitter span), not of
    messages."""

    __slots__ = ("stream", "loss", "draw", "sent", "delivered", "dropped", "in_flight", "latencies")

    def __init__(self, stream: LatencyStream, loss: float, seed: str) -> None:
        self.stream = stream
        self.loss = loss
        self.draw = random.Random(seed + ":loss").random
        self.sent = 0
        self.delivered = 0
        self.dropped: Counter[str] = Counter()
        self.in_flight = 0
        self.latencies: Counter[int] = Counter()  # delivery - send time -> messages


class _Windows:
    """Fault intervals per key, evaluated by time (deterministic, no clocks). Overlapping
    faults on one key do not compound: the link is in the worst state any of them states
    (the largest loss rate, the largest extra delay; docs/faults.md)."""

    def __init__(self) -> None:
        self._by_key: dict[Any, list[tuple[int, int, Any]]] = {}

    def add(self, key: Any, start: int, end: int, value: Any = True) -> None:
        self._by_key.setdefault(key, []).append((start, end, value))

    def values(self, key: Any, ts: int) -> list[Any]:
        return [v for start, end, v in self._by_key.get(key, ()) if start <= ts < end]


class LinkTable:
    """Every link of the mesh, created on first use, plus the timed link faults."""

    def __init__(
        self, mesh: Mesh, seed: int, regions: dict[str, str], cc_region: str, faults: Iterable[Any]
    ) -> None:
        self.mesh = mesh
        self.seed = seed
        self.regions = regions  # endpoint (label or "venue:NAME") -> region
        self.cc_region = cc_region
        self.links: dict[tuple[str, str], LinkState] = {}
        self.partitions = _Windows()
        self.drop_rates = _Windows()
        self.spikes = _Windows()
        for fault in faults:
            if isinstance(fault, Partition):
                self.partitions.add(fault.venue, fault.at_ns, fault.at_ns + fault.duration_ns)
            elif isinstance(fault, (DropRate, LatencySpike)):
                table = self.drop_rates if isinstance(fault, DropRate) else self.spikes
                value = fault.rate if isinstance(fault, DropRate) else fault.extra_ns
                end = fault.at_ns + fault.duration_ns
                table.add((fault.sender, fault.receiver), fault.at_ns, end, value)
                if fault.both_ways:
                    table.add((fault.receiver, fault.sender), fault.at_ns, end, value)

    def link(self, sender: str, receiver: str) -> LinkState:
        key = (sender, receiver)
        state = self.links.get(key)
        if state is None:
            regions = self.regions
            a = self.cc_region if sender == CC else regions[sender]
            # a label nobody has still gets a row, so its drops are counted somewhere
            b = self.cc_region if receiver == CC else regions.get(receiver, a)
            latency, loss = self.mesh.link(a, b)
            seed = f"{self.seed}:link:{sender}:{receiver}"
            state = self.links[key] = LinkState(LatencyStream(latency, seed), loss, seed)
        return state

    def partitioned(self, venue: str, ts: int) -> bool:
        return bool(self.partitions.values(venue, ts))

    def send(self, sender: str, receiver: str, ts: int) -> int | None:
        """Delivery time of one message on a link, or None if lost (counted)."""
        link = self.link(sender, receiver)
        link.sent += 1
        loss = max([link.loss, *self.drop_rates.values((sender, receiver), ts)])
        if loss and link.draw() < loss:
            link.dropped[LOSS] += 1
            return None
        at = link.stream.deliver_at(ts, max(self.spikes.values((sender, receiver), ts), default=0))
        link.delivered += 1
        link.latencies[at - ts] += 1
        return at

    def drop(self, sender: str, receiver: str, reason: str) -> None:
        link = self.link(sender, receiver)
        link.sent += 1
        link.dropped[reason] += 1


class Coordinator:
    """One life of the coordinator actor (a restart is a new instance of this class)."""

    def __init__(
        self,
        generation: int,
        links: LinkTable,
        labels: Sequence[str],
        venues_of: dict[str, str],
        message_receivers: set[str],
        nbbo_subscribers: dict[str, list[int]],
        venue_order: dict[str, int],
        reply_to: Mailbox[Any],
    ) -> None:
        self.generation = generation
        self.links = links
        self.labels = list(labels)
        self.index = {label: i for i, label in enumerate(labels)}
        self.venues_of = venues_of  # label -> venue name
        self.message_receivers = message_receivers
        self.nbbo_subscribers = nbbo_subscribers
        # symbol -> venue -> (bid, bid size, ask, ask size); venues kept in scenario order
        self.quotes: dict[str, dict[str, tuple[int, int, int, int]]] = {}
        self.venue_order = venue_order
        self.reply_to = reply_to
        self.mailbox: Mailbox[Route | Stop] = Mailbox(f"coordinator#{generation}", MailboxConfig())

    async def run(self) -> None:
        """Run as a Trio task: step on each batch the mailbox receives, until told to stop."""
        while not self.step(await self.mailbox.receive_batch()):
            pass

    def step(self, messages: list[Route | Stop]) -> bool:
        """Route each batch, replying to each; True once told to stop."""
        for message in messages:
            if isinstance(message, Stop):
                return True
            self.reply_to.send_nowait(Routed(self.route(message.items)))
        return False

    def route(self, items: list[RouteItem]) -> list[RoutedDelivery]:
        out: list[RoutedDelivery] = []
        for item in items:
            if type(item) is SentMessage:
                self._message(item, out)
            elif type(item) is TopOfBook:
                self._quote(item, out)
            elif type(item) is NbboTakers:
                self._takers(item)
        return out

    def _takers(self, item: NbboTakers) -> None:
        symbol, takers = item.symbol, item.takers
        if takers:
            self.nbbo_subscribers[symbol] = list(takers)
        else:  # nobody takes it: the venues stop quoting it, so its quotes would go stale
            self.nbbo_subscribers.pop(symbol, None)
            self.quotes.pop(symbol, None)

    def _message(self, item: SentMessage, out: list[RoutedDelivery]) -> None:
        ts, sender, receiver, payload = item
        links = self.links
        target = self.index.get(receiver)
        if target is None:
            links.drop(sender, receiver, NO_SUCH_LABEL)
            return
        if receiver not in self.message_receivers:
            links.drop(sender, receiver, NO_ON_MESSAGE)
            return
        if links.partitioned(self.venues_of[sender], ts) or links.partitioned(
            self.venues_of[receiver], ts
        ):
            links.drop(sender, receiver, PARTITION)
            return
        at = links.send(sender, receiver, ts)
        if at is not None:
            out.append(RoutedDelivery(target, MessageDelivery(at, Message(at, sender, payload))))

    def _quote(self, item: TopOfBook, out: list[RoutedDelivery]) -> None:
        ts, venue, symbol, bid, bid_size, ask, ask_size = item
        links = self.links
        if links.partitioned(venue, ts):
            return
        by_venue = self.quotes.setdefault(symbol, {})
        if venue not in by_venue:
            by_venue[venue] = (0, 0, 0, 0)
            ordered = sorted(by_venue, key=lambda name: self.venue_order.get(name, 0))
            self.quotes[symbol] = by_venue = {name: by_venue[name] for name in ordered}
        by_venue[venue] = (bid, bid_size, ask, ask_size)
        view = consolidate(ts, symbol, by_venue)
        arrived = links.link(f"venue:{venue}", CC).stream.deliver_at(ts)
        for target in self.nbbo_subscribers.get(symbol, ()):
            label = self.labels[target]
            if links.partitioned(self.venues_of[label], arrived):
                continue
            at = links.link(CC, label).stream.deliver_at(arrived)
            out.append(RoutedDelivery(target, NbboDelivery(at, view._replace(ts=at))))


def consolidate(ts: int, symbol: str, by_venue: dict[str, tuple[int, int, int, int]]) -> NBBO:
    """Best bid and ask across venues; sizes at the best price are summed, and the venue
    named is the first (in scenario order) quoting that price."""
    venues = tuple(VenueQuote(name, *quote) for name, quote in by_venue.items())
    bid = ask = 0
    bid_size = ask_size = 0
    bid_venue = ask_venue = ""
    for quote in venues:
        if quote.bid_price and quote.bid_price > bid:
            bid, bid_size, bid_venue = quote.bid_price, quote.bid_size, quote.venue
        elif quote.bid_price and quote.bid_price == bid:
            bid_size += quote.bid_size
        if quote.ask_price and (not ask or quote.ask_price < ask):
            ask, ask_size, ask_venue = quote.ask_price, quote.ask_size, quote.venue
        elif quote.ask_price and quote.ask_price == ask:
            ask_size += quote.ask_size
    return NBBO(ts, symbol, bid, bid_size, bid_venue, ask, ask_size, ask_venue, venues)
