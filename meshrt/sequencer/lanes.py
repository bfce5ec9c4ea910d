"""The sequencer's side of each venue and each deployment: their streams, books,
counters and what is scheduled for them (plain state that the components share), and
how they are built from the topology. Their lists (arrivals, inbound, timers) are
mutated in place, never replaced: the window driver (meshrt/sequencer/_window.pyx)
holds them for the run and takes what each is due in a window."""

from __future__ import annotations

import heapq
from collections import Counter

import attrs

from meshrt.actors._commit import FeedCommit
from meshrt.actors.instance import AlgoInstance
from meshrt.actors.protocol import Arrival, Delivery
from meshrt.actors.venue import VenueActor
from meshrt.ledger import Ledger
from meshrt.scenario.latency import LatencyStream
from meshrt.scenario.restart import ON_FAILURE, RestartPolicy
from meshrt.sdk import Book
from meshrt.sequencer.restart_budget import RestartBudget
from meshrt.sequencer.risk import RiskGate
from meshrt.sequencer.topology import Topology

HEARTBEAT_NS = 1_000_000_000


@attrs.define(slots=True, eq=False)
class VenueLane:
    """One venue: its streams and the order operations travelling to it."""

    actor: VenueActor
    name: str
    region: str
    symbols: list[str]
    feed: LatencyStream
    orders: LatencyStream
    order_base_ns: int
    subscribers: list[list[Deployed]]
    consolidated: list[bool]  # per symbol: does anyone take the NBBO of it?
    arrivals: list[Arrival] = attrs.field(factory=list)  # sorted by arrival time
    next_time: int | None = None
    last_book: list[Book | None] = attrs.field(factory=list)
    last_quote: list[tuple[int, int, int, int] | None] = attrs.field(factory=list)
    reports: int = 0
    source: str = ""
    # the compiled feed commit over this lane's lists, set once the mesh bridge (its quote
    # hook) exists
    feed_commit: FeedCommit = attrs.field(init=False)


@attrs.define(slots=True, eq=False)
class Deployed:
    """One deployment: authoritative books, counters and its pending deliveries."""

    instance: AlgoInstance
    label: str
    venue: int
    risk: RiskGate
    policy: RestartPolicy
    budget: RestartBudget
    symbols: list[str]
    capabilities: frozenset[str] = frozenset()
    ledger: Ledger = attrs.field(factory=Ledger)
    lifecycle: str = "stopped"
    inbound: list[Delivery] = attrs.field(factory=list)  # sorted: one FIFO stream
    timers: list[tuple[int, int, Delivery]] = attrs.field(factory=list)  # a heap
    timer_count: int = 0  # ties in the timer heap go in push order
    orders: int = 0
    rejects: Counter[str] = attrs.field(factory=Counter)
    messages_sent: int = 0
    crashes: int = 0
    restarts: int = 0
    crashed: str | None = None
    crashed_at: int | None = None
    gave_up: str | None = None
    next_heartbeat: int = HEARTBEAT_NS
    source: str = ""

    @property
    def state(self) -> str:
        if self.gave_up is not None or (self.crashed is not None and not self.budget_left):
            return "failed"
        return "crashed" if self.crashed is not None else self.lifecycle

    @property
    def budget_left(self) -> bool:
        return self.policy.mode == ON_FAILURE and self.gave_up is None

    def timer(self, item: Delivery) -> None:
        """Deliver ``item`` at its time, before inbound items of the same time."""
        self.timer_count += 1
        heapq.heappush(self.timers, (item.ts, self.timer_count, item))


# -- built from the topology -----------------------------------------------------------


def lanes_of(topology: Topology, venues: list[VenueActor]) -> list[VenueLane]:
    """One lane per venue, in topology order; latency streams seeded from the run's seed."""
    seed = topology.seed
    return [
        VenueLane(
            actor=actor,
            name=venue.name,
            region=venue.region,
            symbols=list(venue.symbols),
            feed=LatencyStream(venue.feed_latency, f"{seed}:{venue.name}:feed"),
            orders=LatencyStream(venue.order_latency, f"{seed}:{venue.name}:orders"),
            order_base_ns=venue.order_latency.base_ns,
            subscribers=[[] for _ in venue.symbols],
            consolidated=[False for _ in venue.symbols],
            last_book=[None for _ in venue.symbols],
            last_quote=[None for _ in venue.symbols],
            source=f"venue:{venue.name}",
        )
        for actor, venue in zip(venues, topology.venues, strict=True)
    ]


def deployments_of(
    topology: Topology, instances: list[AlgoInstance], lanes: list[VenueLane]
) -> list[Deployed]:
    """One Deployed per deployment, in topology order, on its venue's lane index."""
    venue_index = {lane.name: i for i, lane in enumerate(lanes)}
    return [
        Deployed(
            instance=instance,
            label=spec.label,
            venue=venue_index[spec.venue],
            risk=RiskGate(spec.risk),
            policy=spec.restart,
            budget=RestartBudget(spec.restart),
            symbols=list(spec.symbols),
            capabilities=instance.slot.capabilities if instance.slot else frozenset(),
            source=f"algo:{spec.label}",
        )
        for instance, spec in zip(instances, topology.deployments, strict=True)
    ]
