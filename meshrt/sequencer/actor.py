"""The sequencer: the one actor that owns the timeline and every state transition.

Each window is one round: every venue replays its feed and order arrivals up to the
window's end and every instance runs its deliveries up to it (stepped by the window
driver, or concurrently as tasks, the replies counted), then everything is committed in
the driver's deterministic merge order. Commits assign seq ids, move orders through the
state machine, book fills, check risk and schedule what each commit causes (deliveries,
order arrivals) at ``time + latency``. Mesh messages and quotes committed in a window go
to the coordinator at its end.

This shell composes the components that own the state and drives the window driver
(_window.pyx: window bounds, the stepped rounds, the merge): the clock (clock.py), the
control schedule (schedule.py) and what each control does (controls.py), output ingress
(outputs.pyx), the intent desk (desk.pyx), report ingress (reports.pyx), the books
(books.py), supervision (supervisor.py), the mesh bridge (bridge.py) and reconciliation
(reconcile.py), all writing records through meshrt/log/records.py (or its compiled
twins) and one journal (journal.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from typing import Any, Protocol

import trio

from meshrt.actors._commit import FeedCommit, feed_fragments
from meshrt.actors.coordinator import LinkTable
from meshrt.actors.instance import AlgoInstance
from meshrt.actors.mailbox import Mailbox, MailboxFull
from meshrt.actors.protocol import (
    Advance,
    CrashOut,
    InstanceBatch,
    Output,
    ShutdownDelivery,
    Snapshot,
    Stop,
    VenueBatch,
    WindowEnd,
)
from meshrt.actors.venue import VenueActor
from meshrt.log import records
from meshrt.log.writer import ReplayLog
from meshrt.scenario.limits import MailboxConfig
from meshrt.sequencer._due import crash_overflowed, due_arrivals, due_deliveries
from meshrt.sequencer._merge import VenueMerge
from meshrt.sequencer._window import WindowDriver
from meshrt.sequencer.books import Books
from meshrt.sequencer.bridge import MeshBridge
from meshrt.sequencer.clock import Clock, lookahead
from meshrt.sequencer.controls import Controls
from meshrt.sequencer.desk import IntentDesk
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import Deployed, deployments_of, lanes_of
from meshrt.sequencer.notes import commit_note
from meshrt.sequencer.outputs import OutputIngress
from meshrt.sequencer.reconcile import reconcile
from meshrt.sequencer.reports import ReportIngress
from meshrt.sequencer.schedule import Control, LifecycleChange, Schedule
from meshrt.sequencer.supervisor import Supervisor
from meshrt.sequencer.topology import Topology
from meshrt.venues.outputs import VenueOutput

_ts = itemgetter(0)
_NEVER = (1 << 63) - 1  # no checkpoint: the window driver never stops for one


class Sequencer:
    def __init__(
        self,
        topology: Topology,
        venues: list[VenueActor],
        instances: list[AlgoInstance],
        log: ReplayLog,
        mailbox: Mailbox[Any],
        progress: Callable[[int, int, int | None], None] | None = None,
    ) -> None:
        self.mailbox = mailbox
        self.log = log
        self.progress = progress
        self.journal = Journal(log)
        seed = topology.seed
        self.lanes = lanes_of(topology, venues)
        self.deployed = deployments_of(topology, instances, self.lanes)
        by_label = {dep.label: dep for dep in self.deployed}
        mesh = topology.mesh
        region = mesh.coordinator_region or topology.venues[0].region
        regions = {dep.label: self.lanes[dep.venue].region for dep in self.deployed}
        regions.update({f"venue:{lane.name}": lane.region for lane in self.lanes})
        self.bridge = MeshBridge(
            self.journal,
            self.lanes,
            self.deployed,
            LinkTable(mesh, seed, regions, region, topology.faults),
            region,
            mailbox,
        )
        for lane in self.lanes:
            lane.feed_commit = FeedCommit(
                feed_fragments(lane.source, lane.name, lane.symbols),
                lane.last_book,
                lane.consolidated,
                lane.subscribers,
                partial(self.bridge.quote, lane),
                lane.feed,
            )
        for dep in self.deployed:
            self.bridge.subscribe_all(dep)
        for symbol in {symbol for lane in self.lanes for symbol in lane.symbols}:
            self.bridge.consolidate(symbol)
        self.schedule = Schedule()
        for index, spec in enumerate(topology.deployments):
            for step in spec.schedule:
                self.schedule.add(step.at_ns, LifecycleChange(index, step.action))
        for fault in topology.faults:
            self.schedule.add_fault(fault, self.lanes, by_label)
        self.clock = Clock(topology.duration_ns, lookahead(topology, self.deployed))
        self.books = Books(self.lanes, self.deployed, by_label)
        self.desk = IntentDesk(self.journal, self.lanes)
        self.reports = ReportIngress(self.journal, self.desk, self.books)
        self.supervisor = Supervisor(
            self.journal, self.lanes, self.desk, self.bridge, self.schedule
        )
        self.controls = Controls(
            self.journal, self.lanes, self.deployed, self.schedule, self.supervisor, self.bridge
        )
        self.outputs = OutputIngress(
            self.journal, self.lanes, self.deployed, self.desk, self.bridge, self.supervisor
        )
        self.reconciliation: dict[str, Any] = {}
        self._spawn: Callable[..., None] | None = None
        self.driver: WindowDriver | None = None  # made by run(): compiled, not pickled
        self._last_report = 0.0  # when progress was last reported (wall clock)
        self.checkpoint: Callable[[Sequencer], None] | None = None
        self.checkpoint_every = 0
        self.next_checkpoint = 0
        self.checkpoint_note: str | None = None  # why checkpoints stopped, if they did
        self.interrupted = False  # Ctrl-C: stop after this window (meshrt/runtime/interrupts.py)
        self.actors_as_tasks = False  # see run()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        # hooks into this process (progress bar, nursery, checkpoint writer) are not state
        state.update(
            progress=None,
            _spawn=None,
            driver=None,
            _last_report=0.0,
            checkpoint=None,
            interrupted=False,
            actors_as_tasks=False,
        )
        return state

    @property
    def seq(self) -> int:
        """The last seq id assigned."""
        return self.journal.seq

    def fail_at_load(self, index: int, error: str) -> None:
        """An algo that could not even be constructed is a crash at time 0."""
        self.supervisor.commit_crash(0, self.deployed[index], error)

    # -- the window loop ---------------------------------------------------------------

    async def run(self, nursery: trio.Nursery, resumed: bool = False) -> None:
        """Drive windows to the end. ``resumed``: continue a restored checkpoint, whose
        coordinator (if it was up) needs a task again; the venues were probed before.

        In virtual time the window driver (meshrt/sequencer/_window.pyx) runs windows back
        to back and steps every actor itself, right after sending it its window
        (``step``: the same mailbox, the same code a task would run), so a window costs no
        Trio task switches; it comes back here every 64th window (Ctrl-C, progress), when
        a checkpoint falls due, and at the end. With ``actors_as_tasks`` (live mode's
        way) venues, instances and the coordinator are Trio tasks woken by their
        mailboxes, one window at a time; the log is the same byte for byte
        (tests/test_determinism.py)."""
        self.prepare(nursery)
        driver = self.driver
        assert driver is not None
        if resumed:
            if self.bridge.cc is not None:
                self.spawn(self.bridge.cc.run)
        else:
            self.bridge.start_coordinator(self.spawn)
            await self.probe_venues()
        self._last_report = time.monotonic()
        while True:
            if self.actors_as_tasks:
                window = driver.open_window()
                if window is None:
                    break
                start, until, control = window
                await self.round_as_tasks(until, control)
                driver.close_window(start)
            else:
                stop = self.next_checkpoint if self.checkpoint is not None else _NEVER
                window_start = driver.run_windows(stop)
                if window_start is None:
                    break
                start = window_start
            if await self._between_windows(start):
                return  # no shutdown: a resume goes on from the checkpoint just written
        await self.shutdown()

    async def _between_windows(self, start: int) -> bool:
        """After a window: every 64th, Trio's turn and the progress report; a checkpoint
        when due; True when Ctrl-C asked to stop."""
        clock = self.clock
        if not clock.windows & 63:
            if not self.actors_as_tasks:
                await trio.lowlevel.checkpoint()  # let a Ctrl-C reach its watcher
            if self.progress is not None:
                wall = time.monotonic()
                if wall - self._last_report >= 0.25:
                    self._last_report = wall
                    self.progress(start, self.journal.seq, clock.end_ns)
        if self.checkpoint is not None and self.journal.seq >= self.next_checkpoint:
            # every actor is idle between windows: the whole state is plain values
            self.next_checkpoint = self.journal.seq + self.checkpoint_every
            self.checkpoint(self)
        return self.interrupted

    def prepare(self, nursery: trio.Nursery) -> None:
        """What a run (virtual or live) needs of this process before its first window."""
        self._spawn = nursery.start_soon if self.actors_as_tasks else _stepped_by_sequencer
        venues = VenueMerge(
            [lane.feed_commit for lane in self.lanes],
            self.lanes,
            self.reports.commit,
            partial(commit_note, self.journal),
            self.journal,
        )
        self.driver = WindowDriver(self, venues, partial(self.controls.commit, self._spawn))

    def spawn(self, function: Callable[..., Any], *args: Any) -> None:
        """Start an actor's task (virtual time: none, the sequencer steps it)."""
        assert self._spawn is not None
        self._spawn(function, *args)

    async def probe_venues(self) -> None:
        """Ask every venue when its feed starts."""
        for lane in self.lanes:
            lane.actor.mailbox.send_nowait(Advance(0, []))
            self._step(lane.actor)
        await self._replies(len(self.lanes))

    async def round_as_tasks(self, until: int, control: list[tuple[int, Control]]) -> None:
        """One window with actors as Trio tasks: send every actor its part, await every
        reply, commit, then route through the coordinator's task."""
        driver = self.driver
        assert driver is not None
        owed = 0
        for lane in self.lanes:
            arrivals = due_arrivals(lane, until)
            if arrivals is not None:
                lane.actor.mailbox.send_nowait(Advance(until, arrivals))
                owed += 1
        overflowed: list[tuple[Deployed, str]] = []
        for dep in self.deployed:
            items = due_deliveries(dep, until)
            if items:
                box = dep.instance.mailbox
                try:
                    await box.send_many(items)
                except MailboxFull as exc:
                    overflowed.append((dep, str(exc)))
                    dep.instance.crashed = f"MailboxFull: {exc}"
                box.send_nowait(WindowEnd(self.clock.windows))
                owed += 1
        venue_events, outputs, _ = await self._replies(owed)
        if overflowed:
            crash_overflowed(outputs, overflowed, self.clock.now)
        driver.commit(control, venue_events, outputs)
        await self.bridge.route(self._replies)
        driver.end_window()

    async def _replies(self, owed: int) -> tuple[list[list[VenueOutput]], list[Output], list[Any]]:
        """Wait for every reply this round is owed; order them by producer index."""
        venue_events: list[list[VenueOutput]] = [[] for _ in self.lanes]
        outputs: list[Output] = []
        batches: list[InstanceBatch] = []
        others: list[Any] = []
        while owed:
            if self.actors_as_tasks:
                received = await self.mailbox.receive_batch()
            else:
                received = self.mailbox.take_all()  # every stepped actor has replied
                if not received:
                    raise RuntimeError(f"sequencer: {owed} replies owed, none sent")
            for reply in received:
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
                outputs.extend(Output(out.ts, index, out) for out in batch.outputs)
            outputs.sort(key=_ts)  # stable: instance order, then callback order
        return venue_events, outputs, others

    def _step(self, actor: Stepped) -> None:
        """Virtual time: the actor handles what it was just sent, now (see run())."""
        if not self.actors_as_tasks:
            actor.step(actor.mailbox.take_all())

    # -- the end -----------------------------------------------------------------------

    async def shutdown(self, end: int | None = None) -> None:
        """Final marks, on_shutdown for every live instance, reconciliation with the
        venues, then stop every actor; ``end``: when (a live run: its last window's end)."""
        clock = self.clock
        self.books.mark_all()
        self.bridge.in_flight_at_end()
        # every record is at or before the end: without a duration, the last event's time
        if end is None:
            end = clock.end_ns if clock.end_ns is not None else max(clock.now, clock.last_event_ts)
        owed = 0
        for dep in self.deployed:
            if dep.crashed is None:
                box = dep.instance.mailbox
                box.send_nowait(ShutdownDelivery(end))  # never dropped: no market data
                box.send_nowait(WindowEnd(clock.windows))
                self._step(dep.instance)
                owed += 1
        _, outputs, _ = await self._replies(owed)
        for ts, index, out in outputs:
            if type(out) is CrashOut:
                self.supervisor.commit_crash(ts, self.deployed[index], out.error)
        clock.now = end
        for lane in self.lanes:
            lane.actor.mailbox.send_nowait(Snapshot())
            self._step(lane.actor)
        _, _, states = await self._replies(len(self.lanes))
        self.reconciliation = reconcile(self.desk.orders, self.lanes, self.deployed, states)
        journal = self.journal
        journal.seq += 1
        journal.log.lines.append(records.run_end(journal.seq, end))
        self.log.flush()
        for lane in self.lanes:
            lane.actor.mailbox.send_nowait(Stop())
            self._step(lane.actor)
        for dep in self.deployed:
            dep.instance.mailbox.send_nowait(Stop())
            self._step(dep.instance)
        self.bridge.stop(self._step)


class Stepped(Protocol):
    """An actor the sequencer can step: its mailbox and what it does with a batch."""

    @property
    def mailbox(self) -> Mailbox[Any]: ...

    def step(self, batch: list[Any]) -> bool: ...


def _stepped_by_sequencer(function: Callable[..., Any], *args: Any) -> None:
    """Virtual time's nursery ``start_soon``: a stepped actor needs no task."""


def sequencer_mailbox() -> Mailbox[Any]:
    """Replies to the sequencer are never dropped: every one is owed work."""
    return Mailbox("sequencer", MailboxConfig(capacity=1 << 20))
