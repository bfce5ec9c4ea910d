"""The sequencer's live loop: windows cut by what has arrived, not by the lookahead.

In paper mode (docs/live.md, "Paper mode") time is the wall clock, read through one
``WallClock`` anchored to wall time once per run (a clock step never makes it run
backwards). Each window takes whatever the venues' sessions handed over since the last
one, in arrival order, and ends just after the clock's reading when it was cut: it
never waits for a window to fill. A window also starts when work falls due (an order
reaching its venue after the order latency, a delivery, a timer, a control). The window's
bounds are logged before its commits (``live_window``), so a replay cuts the same
windows from the log (meshrt/runtime/replay_live.py) and reproduces every transition.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

import attrs
import trio

from meshrt.actors.live_venue import LiveVenueActor
from meshrt.log import records, schema
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import VenueLane
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.verdicts import Connected, Disconnected, FrameError, Received, Resync
from meshrt.venues.outputs import LiveNote

if TYPE_CHECKING:
    from meshrt.sequencer.actor import Sequencer

POLL_S = 0.05  # how often a waiting live loop looks for a Ctrl-C


def commit_note(journal: Journal, lane: VenueLane, out: LiveNote) -> None:
    """Log a live venue's note and count it per venue (``live:VENUE:KIND``, resyncs
    also per reason: ``live:VENUE:resync:WHY``, and the reconnect delays drawn:
    ``live:VENUE:reconnect_delay_ns``)."""
    note = out.note
    journal.seq += 1
    symbol = note.symbol if type(note) is Resync or type(note) is Reference else None
    line = records.live_note(journal.seq, out.ts, lane.name, symbol, note)
    journal.log.lines.append(line)
    kind = NOTE_KINDS[type(note)]
    journal.counts[f"live:{lane.name}:{kind}"] += 1
    if type(note) is Resync:
        journal.counts[f"live:{lane.name}:{kind}:{note.why.name}"] += 1
    elif type(note) is Disconnected:
        journal.counts[f"live:{lane.name}:reconnect_delay_ns"] += note.reconnect_in_ns


NOTE_KINDS: dict[type, str] = {
    Connected: schema.CONNECTED.name,
    Disconnected: schema.DISCONNECTED.name,
    Resync: schema.RESYNC.name,
    FrameError: schema.FRAME_ERROR.name,
    Reference: schema.REFERENCE.name,
}


@attrs.frozen(slots=True)
class Window:
    """One live window: ``[start, until)`` and what each venue (by index) got for it."""

    start: int
    until: int
    items: list[list[Received]]


class Windows(Protocol):
    """Where a live run's windows come from: the wall clock, or a log being replayed."""

    wall_ns: int  # time 0 on the wall clock (epoch ns)

    async def next(self, sequencer: Sequencer) -> Window | None:
        """The next window, None when the run is over."""
        ...


class WallClock:
    """ns since the run began, from the monotonic clock, anchored to wall time once."""

    def __init__(self) -> None:
        self.wall_ns = time.time_ns()
        self._zero = time.monotonic_ns()

    def __call__(self) -> int:
        return time.monotonic_ns() - self._zero


class WallWindows:
    """Windows in wall-clock time over each venue's receive channel (None: no session)."""

    def __init__(
        self, clock: WallClock, receivers: list[trio.MemoryReceiveChannel[Received] | None]
    ) -> None:
        self.clock = clock
        self.wall_ns = clock.wall_ns
        self.receivers = receivers
        self.pending: list[list[Received]] = [[] for _ in receivers]
        self.wake = trio.Event()
        self.start = 0

    def start_forwarding(self, nursery: trio.Nursery) -> None:
        for index, receiver in enumerate(self.receivers):
            if receiver is not None:
                nursery.start_soon(self._forward, index, receiver)

    async def _forward(self, index: int, receiver: trio.MemoryReceiveChannel[Received]) -> None:
        async for item in receiver:
            self.pending[index].append(item)
            self.wake.set()

    async def next(self, sequencer: Sequencer) -> Window | None:
        clock = self.clock
        end = sequencer.clock.end_ns
        while True:
            now = clock()
            if sequencer.interrupted or (end is not None and now >= end):
                return None
            if any(self.pending):
                break
            due = _next_due(sequencer)
            if due is not None and due <= now:
                break
            wait_until = min(t for t in (due, end, now + int(POLL_S * 1e9)) if t is not None)
            with trio.move_on_after((wait_until - now) / 1e9):
                await self.wake.wait()
            self.wake = trio.Event()
        items, self.pending = self.pending, [[] for _ in self.receivers]
        until = max(clock(), self.start) + 1  # after every item's receive time
        window = Window(self.start, until, items)
        self.start = until
        return window


def _next_due(sequencer: Sequencer) -> int | None:
    """When work falls due, heartbeats included: on the wall clock a run without a
    duration still beats while it waits for the feed (``Clock.next_time`` leaves them out
    then, since in virtual time they alone would never end such a run)."""
    heartbeats = sequencer.controls.heartbeats
    due = sequencer.clock.next_time(
        sequencer.lanes, sequencer.deployed, sequencer.schedule, heartbeats
    )
    beats = [dep.next_heartbeat for dep in heartbeats if dep.crashed is None]
    if beats and (due is None or min(beats) < due):
        return min(beats)
    return due


async def run_live(sequencer: Sequencer, nursery: trio.Nursery, windows: Windows) -> None:
    """Drive live windows until ``windows`` ends them (the duration, Ctrl-C, or the end
    of a replayed log), then shut down as a virtual run does, at the last window's end."""
    sequencer.prepare(nursery)
    sequencer.bridge.start_coordinator(sequencer.spawn)
    await sequencer.probe_venues()
    journal, clock = sequencer.journal, sequencer.clock
    journal.seq += 1
    journal.log.lines.append(records.live_clock(journal.seq, windows.wall_ns))
    end = 0
    while True:
        window = await windows.next(sequencer)
        if window is None:
            break
        for lane, items in zip(sequencer.lanes, window.items, strict=True):
            if items:
                actor = lane.actor
                assert isinstance(actor, LiveVenueActor)
                actor.hand(items)
                lane.next_time = items[0].ts_ns
        clock.now = window.start
        journal.seq += 1
        journal.log.lines.append(records.live_window(journal.seq, window.start, window.until))
        control = sequencer.controls.take_due(window.until)
        if sequencer.actors_as_tasks:
            await sequencer.round_as_tasks(window.until, control)
        else:  # stepped, as in virtual time: no task switch between a frame and its algo
            sequencer.round_stepped(window.until, control)
        if clock.mark_due(window.start):
            sequencer.books.mark_all()
        clock.windows += 1
        journal.counts["live_windows"] += 1
        end = window.until
    if sequencer.interrupted:  # Ctrl-C ends a live run like its duration, with a summary
        sequencer.interrupted = False
        journal.counts["live_interrupted"] = 1
    await sequencer.shutdown(end)
