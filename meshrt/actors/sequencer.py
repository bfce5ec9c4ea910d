"""The sequencer: the one actor that owns the timeline and every state transition.

Time advances in windows. A window ``[T, H)`` is no longer than the smallest latency
in the topology (the lookahead): nothing an algo decides inside it can reach a venue
or a sibling, and nothing a venue does inside it can reach an algo, before ``H``. So
each window is one round: every venue replays its feed and order arrivals up to ``H``
and every instance runs its deliveries up to ``H``, concurrently; the sequencer counts
the replies it is owed, then commits everything in the deterministic order
``(event time, producer priority, producer index, producer order)`` — control, then
venues in scenario order, then instances in scenario order. Commits assign seq ids,
move orders through the state machine, book fills, check risk and schedule what each
commit causes (deliveries, order arrivals) at ``time + latency``. Mesh messages and
quotes committed in a window go to the coordinator at its end, and its deliveries are
scheduled like everything else.

The sequencer is also the supervisor: it records crashes, applies each deployment's
restart policy, starts and stops the coordinator, and runs the fault schedule.
"""

from __future__ import annotations

import copy
import heapq
import time
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from typing import Any

import attrs
import orjson
import trio

from meshrt.actors._commit import commit_feed
from meshrt.actors.coordinator import (
    COORDINATOR_DOWN,
    RECEIVER_DOWN,
    Coordinator,
    LinkTable,
    Route,
)
from meshrt.actors.instance import AlgoInstance
from meshrt.actors.mailbox import Mailbox, MailboxConfig, MailboxFull
from meshrt.actors.protocol import (
    D_FILL,
    D_HEARTBEAT,
    D_KILL,
    D_LIFECYCLE,
    D_MESSAGE,
    D_ORDER,
    D_REJECT,
    D_RESTART,
    D_SHUTDOWN,
    D_SUBSCRIBED,
    O_ACTION,
    O_CRASH,
    O_MESSAGE,
    O_UNDELIVERED,
    O_SET_PARAM,
    O_SUBSCRIBE,
    OP_CANCEL,
    OP_FEED_DOWN,
    OP_FEED_UP,
    OP_REPLACE,
    OP_SUBMIT,
    Advance,
    InstanceBatch,
    RestartState,
    Snapshot,
    Stop,
    VenueBatch,
    VenueState,
    WindowEnd,
)
from meshrt.actors.venue import VenueActor
from meshrt.contract import (
    INT64_MAX,
    UINT64_MAX,
    ActionKind,
    RejectReason,
    Side,
    TimeInForce,
    is_int,
)
from meshrt.events import (
    FEED_KIND_NAMES,
    REPORT_ACCEPTED,
    REPORT_CANCEL_REJECTED,
    REPORT_CANCELLED,
    REPORT_FILL,
    REPORT_KIND_NAMES,
    REPORT_REJECTED,
    REPORT_REPLACED,
)
from meshrt.faults import (
    DropRate,
    KillCoordinator,
    KillFeed,
    KillInstance,
    LatencySpike,
    Partition,
    RestartCoordinator,
)
from meshrt.ingress import commit_report
from meshrt.latency import LatencyStream
from meshrt.ledger import Ledger
from meshrt.orders import (
    ACCEPTED,
    CANCEL_PENDING,
    CREATED,
    SUBMITTED,
    PARTIALLY_FILLED,
    InvariantViolation,
    Order,
    OrderStateMachine,
)
from meshrt.replaylog import ReplayLog
from meshrt.risk import RiskGate
from meshrt.scenario import Scenario
from meshrt.sdk import Book, Fill, OpenOrder, Reject
from meshrt.supervision import LEAVE, ON_FAILURE, RestartBudget, RestartPolicy

_ts = itemgetter(0)
# control kinds that take or release a counted hold: kind -> (what is held, taking?)
_HOLD_EDGES = {"feed_down": ("feed", True), "feed_up": ("feed", False),
               "partition": ("partition", True), "partition_healed": ("partition", False)}
MARK_INTERVAL_NS = 100_000_000  # equity is sampled for drawdown every 100 ms and at fills
HEARTBEAT_NS = 1_000_000_000
_LIFECYCLE_STATE = {"start": "running", "resume": "running", "stop": "stopped",
                    "pause": "paused"}


class RunFailed(Exception):
    """The run stopped on an invariant violation (fail closed); the message says where."""


@attrs.define(slots=True, eq=False)
class VenueLane:
    """The sequencer's side of one venue: its streams and what is scheduled for it."""

    actor: VenueActor
    name: str
    region: str
    symbols: list[str]
    feed: LatencyStream
    orders: LatencyStream
    order_base_ns: int
    subscribers: list[list[Deployed]]
    consolidated: list[bool]  # per symbol: does anyone take the NBBO of it?
    arrivals: list[tuple[Any, ...]] = attrs.field(factory=list)  # sorted by arrival time
    next_time: int | None = None
    last_book: list[Book | None] = attrs.field(factory=list)
    last_quote: list[tuple[int, int, int, int] | None] = attrs.field(factory=list)
    reports: int = 0
    source: str = ""
    # per symbol, what commit_feed writes between a feed record's times and its payload:
    # '"source","venue","symbol","kind",' per feed kind (by number), then for a trade
    log_fragments: list[tuple[bytes, ...]] = attrs.field(factory=list)


@attrs.define(slots=True, eq=False)
class Deployed:
    """The sequencer's side of one deployment: authoritative books and counters."""

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
    inbound: list[tuple[Any, ...]] = attrs.field(factory=list)  # sorted: one FIFO stream
    timers: list[tuple[int, int, tuple[Any, ...]]] = attrs.field(factory=list)
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


class Sequencer:
    def __init__(
        self,
        scenario: Scenario,
        venues: list[VenueActor],
        instances: list[AlgoInstance],
        log: ReplayLog,
        mailbox: Mailbox[Any],
        progress: Callable[[int, int, int | None], None] | None = None,
    ) -> None:
        self.mailbox = mailbox
        self.log = log
        self.end_ns = scenario.duration_ns
        self.progress = progress
        self.seq = 0
        self.now = 0
        self.last_event_ts = 0  # the latest event committed: a run without duration ends there
        self.windows = 0
        self.counts: Counter[str] = Counter()
        self.orders = OrderStateMachine()
        self._cancel_on_accept: set[int] = set()
        self._timer_counter = 0
        seed = scenario.seed
        self.lanes: list[VenueLane] = []
        for actor, venue in zip(venues, scenario.venues, strict=True):
            source = f"venue:{venue.name}"
            self.lanes.append(VenueLane(
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
                source=source,
                log_fragments=_log_fragments(source, venue.name, venue.symbols),
            ))
        venue_index = {lane.name: i for i, lane in enumerate(self.lanes)}
        self.deployed: list[Deployed] = []
        for instance, spec in zip(instances, scenario.deployments, strict=True):
            dep = Deployed(
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
            self.deployed.append(dep)
            self._subscribe_all(dep)
        for symbol in {symbol for lane in self.lanes for symbol in lane.symbols}:
            self._consolidate(symbol)
        self._by_label = {dep.label: dep for dep in self.deployed}
        self._controls: list[tuple[int, int, str, Any]] = []
        self._control_counter = 0
        # counted holds: a feed or an edge is down while any fault holds it (faults.md)
        self._holds: Counter[tuple[str, str]] = Counter()
        for index, spec in enumerate(scenario.deployments):
            for step in spec.schedule:
                self._schedule(step.at_ns, "lifecycle", (index, step.action))
        for fault in scenario.faults:
            self._schedule_fault(fault)
        # the mesh
        cc_region = scenario.mesh.coordinator_region or scenario.venues[0].region
        regions = {dep.label: self.lanes[dep.venue].region for dep in self.deployed}
        regions.update({f"venue:{lane.name}": lane.region for lane in self.lanes})
        self.links = LinkTable(scenario.mesh, seed, regions, cc_region, scenario.faults)
        self.cc_region = cc_region
        self.cc_generation = 0
        self.cc: Coordinator | None = None
        self._cc_segments: list[tuple[Coordinator | None, list[tuple[Any, ...]]]] = []
        self._spawn: Callable[..., None] | None = None
        venue_lat = [v.feed_latency.base_ns for v in scenario.venues] + [
            v.order_latency.base_ns for v in scenario.venues]
        mesh = scenario.mesh
        mesh_lat = [mesh.same_region.base_ns, mesh.cross_region.base_ns] + [
            link.latency.base_ns for link in mesh.links]
        self.lookahead = max(1, min(venue_lat + mesh_lat))
        self.reconciliation: dict[str, Any] = {}
        self._next_mark = 0
        self.checkpoint: Callable[[Sequencer], None] | None = None
        self.checkpoint_every = 0
        self.next_checkpoint = 0
        self.checkpoint_note: str | None = None  # why checkpoints stopped, if they did

    # -- setup helpers -----------------------------------------------------------------

    def _schedule(self, at: int, kind: str, args: Any) -> None:
        self._control_counter += 1
        insort(self._controls, (at, self._control_counter, kind, args))

    def _schedule_fault(self, fault: Any) -> None:
        if isinstance(fault, KillInstance):
            self._schedule(fault.at_ns, "kill_instance", self._by_label[fault.label])
        elif isinstance(fault, KillFeed):
            lane = next(lane for lane in self.lanes if lane.name == fault.venue)
            self._schedule(fault.at_ns, "feed_down", lane)
            if fault.duration_ns is not None:
                self._schedule(fault.at_ns + fault.duration_ns, "feed_up", lane)
        elif isinstance(fault, KillCoordinator):
            self._schedule(fault.at_ns, "coordinator_killed", None)
        elif isinstance(fault, RestartCoordinator):
            self._schedule(fault.at_ns, "coordinator_restarted", None)
        elif isinstance(fault, Partition):
            self._schedule(fault.at_ns, "partition", [fault.venue, fault.duration_ns])
            self._schedule(fault.at_ns + fault.duration_ns, "partition_healed", [fault.venue])
        elif isinstance(fault, DropRate):
            self._schedule(fault.at_ns, "drop_rate",
                           [fault.sender, fault.receiver, fault.rate, fault.duration_ns])
        elif isinstance(fault, LatencySpike):
            self._schedule(fault.at_ns, "latency_spike",
                           [fault.sender, fault.receiver, fault.extra_ns, fault.duration_ns])

    def _subscribe_all(self, dep: Deployed) -> None:
        lane = self.lanes[dep.venue]
        for symbol in dep.symbols:
            index = lane.symbols.index(symbol)
            subs = lane.subscribers[index]
            if dep not in subs:
                subs.append(dep)
                subs.sort(key=lambda subscriber: subscriber.instance.index)

    def _nbbo_takers(self, symbol: str) -> tuple[int, ...]:
        """The deployments (by index) that take the NBBO of ``symbol``."""
        return tuple(index for index, dep in enumerate(self.deployed)
                     if "on_nbbo" in dep.capabilities and symbol in dep.symbols)

    def _consolidate(self, symbol: str) -> None:
        """Every venue quoting ``symbol`` sends its top of book to the coordinator while
        anyone takes the NBBO of it, and only then (otherwise it costs nothing)."""
        on = bool(self._nbbo_takers(symbol))
        for lane in self.lanes:
            if symbol in lane.symbols:
                index = lane.symbols.index(symbol)
                lane.consolidated[index] = on
                if not on:
                    lane.last_quote[index] = None  # a later taker gets a fresh quote

    def _new_coordinator(self) -> Coordinator:
        self.cc_generation += 1
        nbbo: dict[str, list[int]] = {}
        for symbol in {symbol for dep in self.deployed for symbol in dep.symbols}:
            takers = self._nbbo_takers(symbol)
            if takers:
                nbbo[symbol] = list(takers)
        return Coordinator(
            generation=self.cc_generation,
            links=self.links,
            labels=[dep.label for dep in self.deployed],
            venues_of={dep.label: self.lanes[dep.venue].name for dep in self.deployed},
            message_receivers={dep.label for dep in self.deployed
                               if "on_message" in dep.capabilities},
            nbbo_subscribers=nbbo,
            venue_order={lane.name: i for i, lane in enumerate(self.lanes)},
            reply_to=self.mailbox,
        )

    def _start_coordinator(self) -> None:
        assert self._spawn is not None
        self.cc = self._new_coordinator()
        self._spawn(self.cc.run)
        self._cc_segments.append((self.cc, []))

    # -- the window loop ---------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        # hooks into this process (progress bar, nursery, checkpoint writer) are not state
        state.update(progress=None, _spawn=None, checkpoint=None)
        return state

    async def run(self, nursery: trio.Nursery, resumed: bool = False) -> None:
        """Drive windows to the end. ``resumed``: continue a restored checkpoint, whose
        coordinator (if it was up) needs a task again; the venues were probed before."""
        self._spawn = nursery.start_soon
        if resumed:
            if self.cc is not None:
                self._spawn(self.cc.run)
        else:
            self._start_coordinator()
            await self._probe_venues()
        last_report = time.monotonic()
        while True:
            start = self._next_time()
            if start is None or (self.end_ns is not None and start >= self.end_ns):
                break
            until = start + self.lookahead
            if self.end_ns is not None and until > self.end_ns:
                until = self.end_ns
            # a supervised restart starts a window of its own, so the restarted instance
            # starts from the books exactly as of its restart time
            for at, _, kind, _ in self._controls:
                if at >= until:
                    break
                if kind == "restart" and at > start:
                    until = at
                    break
            self.now = start
            control = self._due_controls(until)
            await self._round(until, control)
            if start >= self._next_mark:
                self._mark_all()
                self._next_mark = start - start % MARK_INTERVAL_NS + MARK_INTERVAL_NS
            self.windows += 1
            if self.progress is not None and not self.windows & 63:
                wall = time.monotonic()
                if wall - last_report >= 0.25:
                    last_report = wall
                    self.progress(start, self.seq, self.end_ns)
            if self.checkpoint is not None and self.seq >= self.next_checkpoint:
                # every actor is idle between windows: the whole state is plain values
                self.next_checkpoint = self.seq + self.checkpoint_every
                self.checkpoint(self)
        await self._shutdown()

    async def _probe_venues(self) -> None:
        """Ask every venue when its feed starts."""
        for lane in self.lanes:
            lane.actor.mailbox.send_nowait(Advance(0, []))
        await self._replies(len(self.lanes))

    def _next_time(self) -> int | None:
        candidates: list[int] = []
        for lane in self.lanes:
            if lane.next_time is not None:
                candidates.append(lane.next_time)
            if lane.arrivals:
                candidates.append(lane.arrivals[0][0])
        for dep in self.deployed:
            if dep.inbound:
                candidates.append(dep.inbound[0][0])
            if dep.timers:
                candidates.append(dep.timers[0][0])
        if self._controls:
            candidates.append(self._controls[0][0])
        if not candidates and self.end_ns is None:
            return None  # heartbeats alone never extend a run without a duration
        # a heartbeat due before the next event starts its own window, so it is never
        # delivered later than the events after it
        candidates.extend(dep.next_heartbeat for dep in self.deployed
                          if "on_heartbeat" in dep.capabilities and dep.crashed is None)
        return min(candidates) if candidates else None

    def _due_controls(self, until: int) -> list[tuple[Any, ...]]:
        """Controls inside the window: what instances and venues must see is scheduled
        now (at its exact time); the rest happens when the control is committed."""
        due: list[tuple[Any, ...]] = []
        controls = self._controls
        while controls and controls[0][0] < until:
            at, _, kind, args = controls.pop(0)
            if kind in _HOLD_EDGES and not self._hold(kind, args):
                continue  # another fault still holds it down (or already did): no change
            due.append((at, kind, args))
            if kind == "lifecycle":
                dep = self.deployed[args[0]]
                if dep.crashed is None:
                    self._timer(dep, (at, D_LIFECYCLE, args[1]))
            elif kind == "kill_instance":
                if args.crashed is None:
                    self._timer(args, (at, D_KILL, "killed by fault injection"))
            elif kind in ("feed_down", "feed_up"):
                insort(args.arrivals, (at, OP_FEED_DOWN if kind == "feed_down" else OP_FEED_UP,
                                       0, 0), key=_ts)
            elif kind == "restart":
                self._restart(at, args)
        for dep in self.deployed:
            if "on_heartbeat" in dep.capabilities:
                while dep.next_heartbeat < until:
                    if dep.crashed is None:
                        self._timer(dep, (dep.next_heartbeat, D_HEARTBEAT))
                    dep.next_heartbeat += HEARTBEAT_NS
        return due

    def _hold(self, kind: str, args: Any) -> bool:
        """Count one fault taking hold of (or letting go of) a feed or an edge; True if
        that changes its state: the first hold takes it down, the last release brings it
        back."""
        what, taking = _HOLD_EDGES[kind]
        key = (what, args.name if what == "feed" else args[0])
        self._holds[key] += 1 if taking else -1
        return self._holds[key] == (1 if taking else 0)

    async def _round(self, until: int, control: list[tuple[Any, ...]]) -> None:
        owed = 0
        for lane in self.lanes:
            queue = lane.arrivals
            due = bisect_left(queue, until, key=_ts)
            arrivals = queue[:due]
            del queue[:due]
            if arrivals or (lane.next_time is not None and lane.next_time < until):
                lane.actor.mailbox.send_nowait(Advance(until, arrivals))
                owed += 1
        overflowed: list[tuple[Deployed, str]] = []
        for dep in self.deployed:
            items = self._due_deliveries(dep, until)
            if items:
                try:
                    await dep.instance.mailbox.send_many(items)
                except MailboxFull as exc:
                    # the policy says fail: this instance could not keep up, it crashes
                    overflowed.append((dep, str(exc)))
                    dep.instance.crashed = f"MailboxFull: {exc}"
                await dep.instance.mailbox.send(WindowEnd(self.windows))
                owed += 1
        venue_events, outputs, _ = await self._replies(owed)
        for dep, error in overflowed:
            outputs.insert(bisect_left(outputs, self.now, key=_ts),
                           (self.now, dep.instance.index, O_CRASH, f"MailboxFull: {error}"))
        self._commit_window(control, venue_events, outputs)
        await self._route()
        self.log.flush()

    def _due_deliveries(self, dep: Deployed, until: int) -> list[tuple[Any, ...]]:
        inbound = dep.inbound
        due = bisect_left(inbound, until, key=_ts)
        items = inbound[:due]
        del inbound[:due]
        timers = dep.timers
        if timers and timers[0][0] < until:
            fired = []
            while timers and timers[0][0] < until:
                fired.append(heapq.heappop(timers)[2])
            # timers go before inbound items of the same time (lifecycle before data)
            items = list(heapq.merge(fired, items, key=_ts))
        return items

    async def _replies(self, owed: int) -> tuple[
            list[list[tuple[Any, ...]]], list[tuple[Any, ...]], list[Any]]:
        """Wait for every reply this round is owed; order them by producer index."""
        venue_events: list[list[tuple[Any, ...]]] = [[] for _ in self.lanes]
        outputs: list[tuple[Any, ...]] = []
        batches: list[InstanceBatch] = []
        others: list[Any] = []
        while owed:
            for reply in await self.mailbox.receive_batch():
                owed -= 1
                if isinstance(reply, VenueBatch):
                    venue_events[reply.venue] = reply.events
                    self.lanes[reply.venue].next_time = reply.next_time
                elif isinstance(reply, InstanceBatch):
                    batches.append(reply)
                else:
                    others.append(reply)
        if batches:
            batches.sort(key=lambda batch: batch.instance)
            for batch in batches:
                index = batch.instance
                outputs.extend((out[0], index, out[1], out[2]) for out in batch.outputs)
            outputs.sort(key=_ts)  # stable: instance order, then callback order
        return venue_events, outputs, others

    async def _route(self) -> None:
        """Hand this window's messages and quotes to the coordinator(s) that were up when
        they were committed; schedule what they deliver; stop coordinators that died."""
        segments = self._cc_segments
        self._cc_segments = [(self.cc, [])] if self.cc is not None else []
        for actor, items in segments:
            if actor is None:
                continue
            if items:
                actor.mailbox.send_nowait(Route(items))
                _, _, routed = await self._replies(1)
                for at, target, kind, value in routed[0].deliveries:
                    receiver = self.deployed[target]
                    if receiver.crashed is not None:
                        if kind == D_MESSAGE:
                            self._receiver_down(value.sender, receiver.label)
                        continue
                    self._timer(receiver, (at, kind, value))
            if actor is not self.cc:
                actor.mailbox.send_nowait(Stop())

    def _in_flight_at_end(self) -> None:
        """Messages due at or after the end never arrive: in flight, not delivered."""
        for dep in self.deployed:
            for _, _, item in dep.timers:
                if item[1] == D_MESSAGE:
                    link = self.links.link(item[2].sender, dep.label)
                    link.delivered -= 1
                    link.in_flight += 1

    def _receiver_down(self, sender: str, receiver: str) -> None:
        """A message the link delivered never reaches its crashed receiver: a drop."""
        link = self.links.link(sender, receiver)
        link.delivered -= 1
        link.dropped[RECEIVER_DOWN] += 1

    # -- commit ------------------------------------------------------------------------

    def _commit_window(
        self,
        control: list[tuple[Any, ...]],
        venue_events: list[list[tuple[Any, ...]]],
        outputs: list[tuple[Any, ...]],
    ) -> None:
        streams: list[list[Any]] = []  # [events, position, commit function]
        for events in (control, outputs, *venue_events):
            if events and events[-1][0] > self.last_event_ts:  # each list is sorted by time
                self.last_event_ts = events[-1][0]
        if control:
            streams.append([control, 0, self._commit_control])
        for venue, events in enumerate(venue_events):
            if events:
                streams.append([events, 0, partial(self._commit_venue, self.lanes[venue])])
        if outputs:
            streams.append([outputs, 0, self._commit_outputs])
        while streams:
            if len(streams) == 1:
                events, position, commit = streams[0]
                commit(events, position, len(events))
                return
            best = min(range(len(streams)), key=lambda k: (streams[k][0][streams[k][1]][0], k))
            limit = min(
                streams[k][0][streams[k][1]][0] + (1 if k > best else 0)
                for k in range(len(streams))
                if k != best
            )
            events, position, commit = streams[best]
            stop = bisect_left(events, limit, lo=position, key=_ts)
            commit(events, position, stop)
            if stop == len(events):
                del streams[best]
            else:
                streams[best][1] = stop

    def _commit_control(self, events: list[tuple[Any, ...]], start: int, stop: int) -> None:
        for k in range(start, stop):
            at, kind, args = events[k]
            self.seq += 1
            venue: str | None = None
            if kind == "lifecycle":
                dep = self.deployed[args[0]]
                dep.lifecycle = _LIFECYCLE_STATE[args[1]]
                payload: Any = [dep.label, args[1]]
                venue = self.lanes[dep.venue].name
            elif kind == "kill_instance":
                payload = [args.label]
            elif kind == "restart":
                payload = [args.label, args.restarts]
            elif kind in ("feed_down", "feed_up"):
                payload, venue = [args.name], args.name
            elif kind == "coordinator_killed":
                payload = [self.cc_generation]
                if self.cc is not None:
                    self.cc = None
                    self.counts["coordinator_kills"] += 1
            elif kind == "coordinator_restarted":
                if self.cc is None:
                    self._start_coordinator()
                    self.counts["coordinator_restarts"] += 1
                payload = [self.cc_generation]
            else:  # partition, partition_healed, drop_rate, latency_spike: timed in LinkTable
                payload = args
            self.log.lines.append(orjson.dumps(
                [self.seq, at, at, "control", venue, None, kind, payload, None]))

    def _commit_venue(self, lane: VenueLane, events: list[tuple[Any, ...]], start: int,
                      stop: int) -> None:
        """One venue's events[start:stop]. The hot loop of the whole runtime, one iteration
        per venue event, is commit_feed (meshrt/actors/_commit.c); it stops at each order
        report, which is committed here."""
        feed = lane.feed
        lines = self.log.lines if self.log.path is not None else None  # no run folder
        quote = partial(self._quote, lane)
        k = start
        while True:
            k, self.seq, feed.last = commit_feed(
                events, k, stop, self.seq, feed.last, lines, lane.log_fragments, orjson.dumps,
                lane.last_book, lane.consolidated, quote, lane.subscribers, feed.base,
                feed.span, feed.draw)
            if k == stop:
                break
            event = events[k]  # OUT_REPORT
            self._commit_report(lane, event[2], event[3])
            k += 1
        self.counts["venue_events"] += stop - start

    def _quote(self, lane: VenueLane, symbol: int, ts: int, book: Book) -> None:
        """A top-of-book change of a consolidated symbol goes to the coordinator."""
        quote = (book.bid_prices[0] if book.bid_prices else 0,
                 book.bid_sizes[0] if book.bid_sizes else 0,
                 book.ask_prices[0] if book.ask_prices else 0,
                 book.ask_sizes[0] if book.ask_sizes else 0)
        if quote == lane.last_quote[symbol]:
            return
        lane.last_quote[symbol] = quote
        if self.cc is not None:
            self._cc_segments[-1][1].append(("q", ts, lane.name, lane.symbols[symbol], *quote))

    def _commit_report(self, lane: VenueLane, symbol: int, report: tuple[Any, ...]) -> None:
        lane.reports += 1
        ts, kind, order_id = report[0], report[1], report[2]
        self.seq += 1
        answers = ActionKind.CANCEL
        if kind == REPORT_CANCEL_REJECTED:  # it answers the oldest unanswered request
            known = self.orders.orders.get(order_id)
            if known is not None and known.requests:
                answers = known.requests[0]
        try:
            # the state change itself is shared with arrival-order ingress (live mode)
            order, before, applied = commit_report(
                self.orders, self._ledger_of, lane.name, lane.reports, report)
        except InvariantViolation as exc:
            raise RunFailed(f"invariant violated at seq {self.seq}: {exc}") from None
        self.log.lines.append(orjson.dumps(
            [self.seq, ts, ts, lane.source, lane.name, lane.symbols[symbol],
             REPORT_KIND_NAMES[kind], [order_id, *report[3:], before.name, order.status.name],
             f"{lane.name}:{lane.reports}"]
        ))
        if not applied:
            return  # a duplicate report: logged as received, booked and delivered once only
        dep = self._deployment_of(order)
        item: tuple[Any, ...] | None = None
        if kind == REPORT_FILL:
            price, size, liquidity, fee, remaining = report[3:8]
            self.counts["fills"] += 1
            item = (ts, D_FILL, Fill(ts, order.client_id, order.symbol, lane.name, order.side,
                                     liquidity, price, size, fee, remaining))
        elif kind == REPORT_REJECTED:
            reason = RejectReason(report[3])
            dep.rejects[reason.name] += 1
            item = (ts, D_REJECT, Reject(ts, order.client_id, reason, order.kind, "venue"), False)
        elif kind == REPORT_CANCELLED:
            item = (ts, D_ORDER, order.client_id, None)
        elif kind == REPORT_CANCEL_REJECTED:
            reason = RejectReason(report[3])
            dep.rejects[reason.name] += 1
            item = (ts, D_REJECT, Reject(ts, order.client_id, reason, answers, "venue"),
                    bool(order.requests))
        elif kind == REPORT_ACCEPTED and order_id in self._cancel_on_accept:
            self._cancel_on_accept.discard(order_id)
            if order.status in (ACCEPTED, PARTIALLY_FILLED):
                self._send_cancel(ts, dep, order, "crash")
        elif kind == REPORT_REPLACED or kind == REPORT_ACCEPTED:
            item = (ts, D_ORDER, order.client_id,
                    OpenOrder(order.client_id, order.symbol, order.side, order.price,
                              order.size, order.filled, True, bool(order.requests)))
        if item is not None and dep.crashed is None:
            at = lane.feed.deliver_at(ts)
            dep.inbound.append((at, *item[1:]))

    def _deployment_of(self, order: Order) -> Deployed:
        return self._by_label[order.deployment]

    def _ledger_of(self, order: Order) -> Ledger:
        return self._by_label[order.deployment].ledger

    def _commit_outputs(self, events: list[tuple[Any, ...]], start: int, stop: int) -> None:
        for k in range(start, stop):
            ts, index, kind, payload = events[k]
            dep = self.deployed[index]
            if kind == O_UNDELIVERED:
                self._receiver_down(payload, dep.label)
                continue
            if dep.crashed is not None and kind != O_CRASH:
                continue
            if kind == O_ACTION:
                self._commit_action(ts, dep, payload)
            elif kind == O_CRASH:
                self._commit_crash(ts, dep, payload)
            elif kind == O_SUBSCRIBE:
                self._commit_subscription(ts, dep, payload[0], payload[1])
            elif kind == O_MESSAGE:
                self._commit_message(ts, dep, payload[0], payload[1])
            else:
                self.seq += 1
                lane = self.lanes[dep.venue]
                record = (["set_param", [payload[0], payload[1]]] if kind == O_SET_PARAM
                          else ["log", [payload]])
                self.log.lines.append(orjson.dumps(
                    [self.seq, ts, ts, dep.source, lane.name, None, record[0], record[1], None],
                    default=repr,
                ))

    def _commit_message(self, ts: int, dep: Deployed, receiver: str, payload: bytes) -> None:
        """Log the message and hand it to the coordinator that is up now (or count it)."""
        self.seq += 1
        dep.messages_sent += 1
        self.log.lines.append(orjson.dumps(
            [self.seq, ts, ts, dep.source, self.lanes[dep.venue].name, None, "message",
             [dep.label, receiver, payload.hex()], None]))
        if self.cc is None:
            self.links.drop(dep.label, receiver, COORDINATOR_DOWN)
        else:
            self._cc_segments[-1][1].append(("m", ts, dep.label, receiver, payload))

    def fail_at_load(self, index: int, error: str) -> None:
        """An algo that could not even be constructed is a crash at time 0."""
        self._commit_crash(0, self.deployed[index], error)

    def _commit_crash(self, ts: int, dep: Deployed, error: str) -> None:
        """Record the crash, apply the crash policy to its orders and the restart policy."""
        dep.crashed = error
        dep.crashed_at = ts
        dep.crashes += 1
        dep.inbound.clear()
        for _, _, item in dep.timers:
            if item[1] == D_MESSAGE:  # in flight to a receiver that is gone: counted, dropped
                self._receiver_down(item[2].sender, dep.label)
        dep.timers.clear()
        lane = self.lanes[dep.venue]
        self.seq += 1
        self.log.lines.append(orjson.dumps(
            [self.seq, ts, ts, "control", lane.name, None, "crash", [dep.label, error], None]))
        for symbol_subs in lane.subscribers:
            if dep in symbol_subs:
                symbol_subs.remove(dep)
        if dep.policy.on_crash_orders != LEAVE:
            # nobody is left to manage the crashed instance's resting orders; those not
            # yet accepted are cancelled as soon as the venue accepts them
            for order in self.orders.live_orders(dep.label):
                if order.status in (ACCEPTED, PARTIALLY_FILLED):
                    self._send_cancel(ts, dep, order, "crash")
                elif order.status in (CREATED, SUBMITTED):
                    self._cancel_on_accept.add(order.order_id)
        if dep.policy.mode != ON_FAILURE:
            return
        self.seq += 1
        if dep.budget.allow(ts):
            at = ts + max(dep.policy.delay_ns, 1)
            self._schedule(at, "restart", dep)
            record = ["restart_scheduled", [dep.label, at]]
        else:
            dep.gave_up = (f"{dep.policy.max_restarts} restarts within "
                           f"{dep.policy.period_ns / 1e9:g} s used up; last crash: {error}")
            record = ["gave_up", [dep.label, dep.gave_up]]
        self.log.lines.append(orjson.dumps(
            [self.seq, ts, ts, "control", lane.name, None, record[0], record[1], None]))

    def _restart(self, at: int, dep: Deployed) -> None:
        """Start a new slot at ``at`` on the books as they are now (a window starts here)."""
        if dep.crashed is None:
            return
        dep.crashed = None
        dep.restarts += 1
        self._subscribe_all(dep)
        ledger = copy.deepcopy(dep.ledger)
        orders = {
            order.client_id: OpenOrder(
                order.client_id, order.symbol, order.side, order.price, order.size,
                order.filled, order.status in (ACCEPTED, PARTIALLY_FILLED, CANCEL_PENDING),
                bool(order.requests))
            for order in self.orders.live_orders(dep.label)
        }
        self._timer(dep, (at, D_RESTART, RestartState(dep.lifecycle, ledger, orders)))

    def _commit_subscription(self, ts: int, dep: Deployed, symbol: str, on: bool) -> None:
        lane = self.lanes[dep.venue]
        self.seq += 1
        known = symbol in lane.symbols
        self.log.lines.append(orjson.dumps(
            [self.seq, ts, ts, dep.source, lane.name, _text(symbol),
             "subscribe" if on else "unsubscribe", [known], None]
        ))
        if not known:
            dep.rejects[RejectReason.UNKNOWN_SYMBOL.name] += 1
            self._timer(dep, (ts + lane.order_base_ns, D_REJECT,
                              Reject(ts, 0, RejectReason.UNKNOWN_SYMBOL, 0,
                                     f"no symbol {_shown(symbol)} on venue {lane.name!r}"), False))
            return
        if on and symbol not in dep.symbols:
            dep.symbols.append(symbol)
            self._subscribe_all(dep)
        elif not on and symbol in dep.symbols:
            dep.symbols.remove(symbol)
            subs = lane.subscribers[lane.symbols.index(symbol)]
            if dep in subs:
                subs.remove(dep)
        if "on_nbbo" in dep.capabilities:
            self._consolidate(symbol)
            if self.cc is not None:  # in commit order, with the quotes and messages
                self._cc_segments[-1][1].append(("n", ts, symbol, self._nbbo_takers(symbol)))
        self._timer(dep, (lane.feed.deliver_at(ts), D_SUBSCRIBED, symbol, on))

    def _commit_action(self, ts: int, dep: Deployed, action: tuple[Any, ...]) -> None:
        kind, side, tif, client_id, target, price, size, symbol = action
        lane = self.lanes[dep.venue]
        self.seq += 1
        self.log.lines.append(orjson.dumps(
            [self.seq, ts, ts, dep.source, lane.name, _text(symbol), "intent",
             [_loggable(value) for value in (kind, side, tif, client_id, target, price, size)],
             None],
            default=_shown,  # a bad value an algo gave is logged as its repr, then refused
        ))
        if dep.lifecycle != "running" and kind not in (ActionKind.CANCEL, ActionKind.CANCEL_ALL):
            # a stopped or paused deployment may still take its orders down, never add
            return self._reject(ts, dep, client_id, kind, RejectReason.NOT_RUNNING,
                                f"deployment is {dep.lifecycle}")
        if kind == ActionKind.LIMIT or kind == ActionKind.MARKET:
            self._new_order(ts, dep, lane, action)
        elif kind == ActionKind.CANCEL:
            if not _is_order_id(target):
                return self._reject(ts, dep, target, kind, RejectReason.INVALID_ACTION,
                                    f"order id {_shown(target)}")
            order = self.orders.find(dep.label, target)
            if order is None:
                return self._reject(ts, dep, target, kind, RejectReason.UNKNOWN_ORDER,
                                    f"no order {target}")
            before = order.status.name
            reason = self.orders.request_cancel(order.order_id, ts)
            if reason is not None:
                return self._reject(ts, dep, target, kind, reason,
                                    f"order {target} is {order.status.name}")
            self._send_cancel(ts, dep, order, "intent", already_pending=before)
        elif kind == ActionKind.REPLACE:
            self._replace(ts, dep, lane, target, price, size)
        elif kind == ActionKind.CANCEL_ALL:
            for order in self.orders.live_orders(dep.label):
                if symbol and order.symbol != symbol:
                    continue
                if order.status in (ACCEPTED, PARTIALLY_FILLED):
                    self._send_cancel(ts, dep, order, "cancel_all")
        else:
            self._reject(ts, dep, client_id, kind, RejectReason.INVALID_ACTION,
                         f"unknown action kind {kind}")

    def _new_order(self, ts: int, dep: Deployed, lane: VenueLane, action: tuple[Any, ...]) -> None:
        kind, side, tif, client_id, _, price, size, symbol = action
        reason: RejectReason | None = None
        detail = ""
        if symbol not in lane.symbols:
            reason = RejectReason.UNKNOWN_SYMBOL
            detail = f"no symbol {_shown(symbol)} on {lane.name!r}"
        elif not (is_int(side) and side in (Side.BUY, Side.SELL)
                  and is_int(tif) and tif in (0, 1, 2)):
            reason, detail = RejectReason.INVALID_ACTION, f"side {_shown(side)} / tif {_shown(tif)}"
        elif not _is_order_id(client_id):
            reason, detail = RejectReason.INVALID_ACTION, f"client id {_shown(client_id)}"
        elif not _is_quantity(size):
            reason, detail = RejectReason.INVALID_SIZE, f"size {_shown(size)}"
        elif kind == ActionKind.LIMIT and not _is_quantity(price):
            reason, detail = RejectReason.INVALID_PRICE, f"price {_shown(price)}"
        elif self.orders.find(dep.label, client_id) is not None:
            reason, detail = RejectReason.DUPLICATE_ORDER_ID, f"client id {client_id}"
        if reason is None:
            symbol_index = lane.symbols.index(symbol)
            book = lane.last_book[symbol_index]
            reference = _mid(book)
            open_buy, open_sell = self.orders.open_exposure(dep.label, symbol)
            reason = dep.risk.check_new(
                ts, side, price if kind == ActionKind.LIMIT else None, size,
                dep.ledger.position(symbol), open_buy, open_sell,
                self.orders.open_orders(dep.label), reference,
            )
            detail = "risk limit"
        if reason is not None:
            return self._reject(ts, dep, client_id, kind, reason, detail)
        order_id = len(self.orders.orders) + 1
        limit_price = price if kind == ActionKind.LIMIT else None
        self.orders.create(Order(
            order_id=order_id, deployment=dep.label, client_id=client_id, venue=lane.name,
            symbol=symbol, side=Side(side), kind=ActionKind(kind), tif=TimeInForce(tif),
            price=limit_price, size=size, created_ts=ts,
        ))
        self.orders.submit(order_id, ts)
        self.seq += 1
        self.log.lines.append(orjson.dumps(
            [self.seq, ts, ts, "sequencer", lane.name, symbol, "order_created",
             [order_id, dep.label, client_id, "CREATED", "SUBMITTED"], None]
        ))
        dep.risk.record_order(ts)
        dep.orders += 1
        self.counts["orders"] += 1
        lane.arrivals.append((lane.orders.deliver_at(ts), OP_SUBMIT, order_id, symbol_index,
                              side, limit_price, size, tif))

    def _replace(self, ts: int, dep: Deployed, lane: VenueLane, target: int, price: Any,
                 size: Any) -> None:
        if not _is_order_id(target):
            return self._reject(ts, dep, target, ActionKind.REPLACE, RejectReason.INVALID_ACTION,
                                f"order id {_shown(target)}")
        order = self.orders.find(dep.label, target)
        if order is None:
            return self._reject(ts, dep, target, ActionKind.REPLACE, RejectReason.UNKNOWN_ORDER,
                                f"no order {target}")
        if not is_int(size) or (price is not None and not is_int(price)):
            return self._reject(ts, dep, target, ActionKind.REPLACE, RejectReason.INVALID_ACTION,
                                "price and size must be integers")
        reason = self.orders.validate_replace(order.order_id, price, size)
        if reason is None and size > INT64_MAX:
            reason = RejectReason.INVALID_SIZE
        elif reason is None and price is not None and price > INT64_MAX:
            reason = RejectReason.INVALID_PRICE
        if reason is None:
            open_buy, open_sell = self.orders.open_exposure(dep.label, order.symbol)
            symbol_index = lane.symbols.index(order.symbol)
            reason = dep.risk.check_replace(
                ts, order.side, price, size, order.size, order.filled,
                dep.ledger.position(order.symbol), open_buy, open_sell,
                _mid(lane.last_book[symbol_index]),
            )
        if reason is not None:
            return self._reject(ts, dep, target, ActionKind.REPLACE, reason,
                                f"order {target} is {order.status.name}")
        dep.risk.record_order(ts)
        self.seq += 1
        self.log.lines.append(orjson.dumps(
            [self.seq, ts, ts, "sequencer", lane.name, order.symbol, "replace_sent",
             [order.order_id, dep.label, price, size], None]))
        self.orders.replace_sent(order.order_id)
        lane.arrivals.append((lane.orders.deliver_at(ts), OP_REPLACE, order.order_id,
                              lane.symbols.index(order.symbol), price, size))

    def _send_cancel(self, ts: int, dep: Deployed, order: Order, cause: str,
                     already_pending: str | None = None) -> None:
        """Send a cancel; ``already_pending`` is the status the order had when the caller
        already moved it to CANCEL_PENDING."""
        before = already_pending or order.status.name
        if already_pending is None and self.orders.request_cancel(order.order_id, ts) is not None:
            return
        lane = self.lanes[dep.venue]
        self.seq += 1
        self.log.lines.append(orjson.dumps(
            [self.seq, ts, ts, "sequencer", lane.name, order.symbol, "cancel_sent",
             [order.order_id, dep.label, cause, before, order.status.name], None]))
        lane.arrivals.append((lane.orders.deliver_at(ts), OP_CANCEL, order.order_id,
                              lane.symbols.index(order.symbol)))

    def _reject(self, ts: int, dep: Deployed, client_id: int, kind: int, reason: RejectReason,
                detail: str) -> None:
        """Refuse an intent: counted, logged, and delivered as on_reject after the order latency.

        A refused cancel or replace tells the algo whether the order still has a request
        outstanding (its ``OpenOrder.pending``): refusing one request answers no other."""
        dep.rejects[reason.name] += 1
        lane = self.lanes[dep.venue]
        self.seq += 1
        self.log.lines.append(orjson.dumps(
            [self.seq, ts, ts, "sequencer", lane.name, None, "intent_rejected",
             [dep.label, _loggable(client_id), reason.name, detail], None],
            default=_shown,
        ))
        if dep.crashed is None:
            order = (self.orders.find(dep.label, client_id)
                     if kind in (ActionKind.CANCEL, ActionKind.REPLACE) else None)
            self._timer(dep, (ts + lane.order_base_ns, D_REJECT,
                              Reject(ts, client_id, reason, int(kind), detail),
                              order is not None and bool(order.requests)))

    def _timer(self, dep: Deployed, item: tuple[Any, ...]) -> None:
        self._timer_counter += 1
        heapq.heappush(dep.timers, (item[0], self._timer_counter, item))

    def _mark_all(self) -> None:
        for dep in self.deployed:
            lane = self.lanes[dep.venue]
            for symbol in dep.ledger.symbols:
                if symbol in lane.symbols:
                    mid = _mid(lane.last_book[lane.symbols.index(symbol)])
                    if mid is not None:
                        dep.ledger.mark(symbol, mid)

    async def _shutdown(self) -> None:
        """Final marks, on_shutdown for every live instance, reconciliation with the
        venues, then stop every actor."""
        self._mark_all()
        self._in_flight_at_end()
        # every record is at or before the end: without a duration, the last event's time
        end = self.end_ns if self.end_ns is not None else max(self.now, self.last_event_ts)
        owed = 0
        for dep in self.deployed:
            if dep.crashed is None:
                box = dep.instance.mailbox
                await box.send((end, D_SHUTDOWN))
                await box.send(WindowEnd(self.windows))
                owed += 1
        _, outputs, _ = await self._replies(owed)
        for output in outputs:
            if output[2] == O_CRASH:
                self._commit_crash(output[0], self.deployed[output[1]], output[3])
        self.now = end
        await self._reconcile()
        self.seq += 1
        self.log.lines.append(orjson.dumps(
            [self.seq, end, end, "control", None, None, "run_end", [end], None]))
        self.log.flush()
        for lane in self.lanes:
            lane.actor.mailbox.send_nowait(Stop())
        for dep in self.deployed:
            await dep.instance.mailbox.send(Stop())
        if self.cc is not None:
            self.cc.mailbox.send_nowait(Stop())
            self.cc = None

    async def _reconcile(self) -> None:
        """Nothing lost: every order the runtime created is terminal, or open and known
        identically (same remaining size) to the sequencer and its venue. Orders with an
        operation still travelling to the venue are reported as in flight."""
        for lane in self.lanes:
            lane.actor.mailbox.send_nowait(Snapshot())
        _, _, replies = await self._replies(len(self.lanes))
        resting: dict[int, int] = {}
        feed_dropped = {}
        for state in sorted(replies, key=lambda reply: reply.venue):  # replies race
            assert isinstance(state, VenueState)
            resting.update(state.resting)
            feed_dropped[self.lanes[state.venue].name] = state.feed_dropped
        in_flight = {op[2] for lane in self.lanes for op in lane.arrivals if op[1] <= OP_REPLACE}
        mismatches = []
        live = 0
        for order_id, order in self.orders.orders.items():
            if order_id in in_flight:
                continue
            if order.is_terminal:
                if order_id in resting:
                    mismatches.append(f"order {order_id} is {order.status.name} in the "
                                      f"sequencer but rests at {order.venue}")
                continue
            live += 1
            venue_remaining = resting.get(order_id)
            if venue_remaining != order.size - order.filled:
                mismatches.append(
                    f"order {order_id} ({order.status.name}, remaining "
                    f"{order.size - order.filled}) has remaining {venue_remaining} at "
                    f"{order.venue}")
        # conservation, from two independent books: the ledger's position against the
        # fills the order state machine accepted, per deployment and symbol
        filled: dict[tuple[str, str], int] = {}
        for order in self.orders.orders.values():
            key = (order.deployment, order.symbol)
            signed = order.filled if order.side == Side.BUY else -order.filled
            filled[key] = filled.get(key, 0) + signed
        for dep in self.deployed:
            for symbol in dep.ledger.symbols:
                expected = filled.get((dep.label, symbol), 0)
                if dep.ledger.position(symbol) != expected:
                    mismatches.append(
                        f"deployment {dep.label!r} holds {dep.ledger.position(symbol)} "
                        f"{symbol} but its orders filled a net {expected}")
        self.reconciliation = {
            "orders": len(self.orders.orders), "open": live, "in_flight": len(in_flight),
            "mismatches": mismatches, "feed_events_dropped": feed_dropped,
        }


def _log_fragments(source: str, venue: str, symbols: list[str]) -> list[tuple[bytes, ...]]:
    """VenueLane.log_fragments, escaped by orjson itself."""
    head = orjson.dumps(source) + b"," + orjson.dumps(venue) + b","
    kinds = [FEED_KIND_NAMES[kind] for kind in range(len(FEED_KIND_NAMES))] + ["trade"]
    return [tuple(head + orjson.dumps(symbol) + b"," + orjson.dumps(kind) + b","
                  for kind in kinds) for symbol in symbols]


def _is_order_id(value: Any) -> bool:
    """A client order id as the contract holds it: an integer that fits a u64."""
    return is_int(value) and 0 <= value <= UINT64_MAX


def _is_quantity(value: Any) -> bool:
    """A price or size as the contract holds it: a positive integer that fits an i64."""
    return is_int(value) and 0 < value <= INT64_MAX


def _loggable(value: Any) -> Any:
    """A field of an algo's intent as logged: an integer orjson cannot write (outside
    i64..u64) is logged as its repr, like any other value that is not JSON; it is
    refused after."""
    if is_int(value):
        return int(value) if -INT64_MAX - 1 <= value <= UINT64_MAX else _shown(value)
    return value


def _shown(value: Any) -> str:
    """An algo's value as text for the log and a reject's detail, whatever it is: an
    integer too long for ``repr`` or an object whose ``repr`` raises must not stop a run."""
    if is_int(value) and value.bit_length() > 64:
        return f"<int of {value.bit_length()} bits>"
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _text(value: Any) -> str | None:
    """An instrument name as logged: whatever an algo passed becomes a string (or null)."""
    return None if not value else value if isinstance(value, str) else _shown(value)


def _mid(book: Book | None) -> int | None:
    if book is None or not book.bid_prices or not book.ask_prices:
        return None
    return (book.bid_prices[0] + book.ask_prices[0]) // 2


def sequencer_mailbox() -> Mailbox[Any]:
    """Replies to the sequencer are never dropped: every one is owed work."""
    return Mailbox("sequencer", MailboxConfig(capacity=1 << 20))
