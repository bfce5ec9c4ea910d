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

from typing import TYPE_CHECKING, Protocol

import attrs
import trio

from meshrt.actors.live_venue import LiveVenueActor
from meshrt.log import records
from meshrt.sequencer._live import LiveStepper, WallClock
from meshrt.venues.live.verdicts import Received

if TYPE_CHECKING:
    from meshrt.sequencer.actor import Sequencer

POLL_S = 0.05  # how often a waiting live loop looks for a Ctrl-C


@attrs.frozen(slots=True)
class Window:
    """One live window: ``[start, until)`` and what each venue (by index) got for it."""

    start: int
    until: int
    items: list[list[Received]]


class Windows(Protocol):
    """Where a live run's windows come from: the wall clock, or a log being replayed."""

    wall_ns: int  # time 0 on the wall clock (epoch ns)

    async def next(self, sequencer: Sequencer, loop: LiveLoop) -> Window | None:
        """The next window, None when the run is over (``loop``: where a window that is
        due while it waits may run at once)."""
        ...


SINK_CAPACITY = 4096  # items a venue's sessions may be ahead of the live loop


class VenueSink:
    """What one live venue's sessions send into (``ReceivedSink``): each item goes
    straight into the live loop's pending items for the venue. While the loop waits
    between stepped windows, the windows due then run at once, in the sender's task: a
    frame reaches its algo with no task switch on the way. A stepped window never
    awaits, so the sequencer's work stays serialized whichever task runs it. A venue
    more than ``SINK_CAPACITY`` items ahead blocks its sessions (never drops)."""

    def __init__(self, windows: WallWindows, index: int) -> None:
        self.windows = windows
        self.index = index

    def send_nowait(self, item: Received) -> None:
        windows = self.windows
        pending = windows.pending[self.index]
        if len(pending) >= SINK_CAPACITY:
            raise trio.WouldBlock
        pending.append(item)
        windows.arrived()

    async def send(self, item: Received) -> None:
        windows = self.windows
        while True:
            try:
                return self.send_nowait(item)
            except trio.WouldBlock:
                windows.blocked += 1
                try:
                    await windows.drained.wait()
                finally:
                    windows.blocked -= 1


class WallWindows:
    """Windows in wall-clock time over what the live venues' sinks received."""

    def __init__(self, clock: WallClock, venues: int) -> None:
        self.clock = clock
        self.wall_ns = clock.wall_ns
        self.pending: list[list[Received]] = [[] for _ in range(venues)]
        self.wake = trio.Event()
        self.drained = trio.Event()  # set (and replaced) when a cut frees a blocked sender
        self.blocked = 0  # senders waiting for room
        self.start = 0
        self.loop: LiveLoop | None = None  # set while the loop waits between stepped windows
        self.wait_until = 0  # when the waiting loop wakes by itself

    def sink(self, index: int) -> VenueSink:
        return VenueSink(self, index)

    def arrived(self) -> None:
        loop = self.loop
        if loop is None:
            self.wake.set()
            return
        self.loop = None  # the windows below must not start another inline run
        sequencer = loop.sequencer
        try:
            while (window := self._cut(sequencer)) is not None:
                loop.window(window)
            loop.write_check()
        finally:
            self.loop = loop
        due = _next_due(sequencer)
        if due is not None and due < self.wait_until:
            self.wake.set()  # work falls due before the loop would wake: it waits less

    def _cut(self, sequencer: Sequencer) -> Window | None:
        """The window to run now, if anything has arrived or fallen due (None at the end
        of the run: the loop's ``next`` ends it)."""
        now = self.clock()
        end = sequencer.clock.end_ns
        if sequencer.interrupted or (end is not None and now >= end):
            return None
        if not any(self.pending):
            due = _next_due(sequencer)
            if due is None or due > now:
                return None
        items, self.pending = self.pending, [[] for _ in self.pending]
        if self.blocked:
            self.drained.set()
            self.drained = trio.Event()
        until = max(now, self.start) + 1  # after every item's receive time
        window = Window(self.start, until, items)
        self.start = until
        return window

    async def next(self, sequencer: Sequencer, loop: LiveLoop) -> Window | None:
        clock = self.clock
        end = sequencer.clock.end_ns
        while True:
            window = self._cut(sequencer)
            if window is not None:
                return window
            now = clock()
            if sequencer.interrupted or (end is not None and now >= end):
                return None
            due = _next_due(sequencer)
            wait_until = min(t for t in (due, end, now + int(POLL_S * 1e9)) if t is not None)
            self.wait_until = wait_until
            self.loop = None if sequencer.actors_as_tasks else loop
            try:
                with trio.move_on_after(max(0, wait_until - now) / 1e9):
                    await self.wake.wait()
            finally:
                self.loop = None
            self.wake = trio.Event()


def _next_due(sequencer: Sequencer) -> int | None:
    """When work falls due, heartbeats included: on the wall clock a run without a
    duration still beats while it waits for the feed (the window driver's ``next_time``
    leaves them out then, since in virtual time they alone would never end such a run)."""
    heartbeats = sequencer.controls.heartbeats
    assert sequencer.driver is not None
    due = sequencer.driver.next_time()
    beats = [dep.next_heartbeat for dep in heartbeats if dep.crashed is None]
    if beats and (due is None or min(beats) < due):
        return min(beats)
    return due


class LiveLoop:
    """The sequencer's live loop: each window committed as a virtual one (its bounds
    logged first; meshrt/sequencer/_live.pyx), until ``windows`` ends the run."""

    def __init__(self, sequencer: Sequencer) -> None:
        self.sequencer = sequencer
        assert sequencer.driver is not None
        self.driver = sequencer.driver
        self.driver.writes_deferred = True  # written after a reaction, never inside it
        live = [  # by lane: items come only to live venues
            lane.actor if isinstance(lane.actor, LiveVenueActor) else None
            for lane in sequencer.lanes
        ]
        self.stepper = LiveStepper(sequencer, live)

    @property
    def end(self) -> int:
        """The last window's end."""
        return self.stepper.end

    def window(self, window: Window) -> None:
        """One stepped window (no await: a session's task may run it, see VenueSink)."""
        self.stepper.window(window.start, window.until, window.items)

    def write_check(self) -> None:
        """The windows run for what arrived are committed: the log writes what has
        waited long enough (the window driver's rule), off the path to the venue."""
        self.driver.write_check()

    async def run(self, windows: Windows) -> None:
        sequencer = self.sequencer
        stepper = self.stepper
        while (window := await windows.next(sequencer, self)) is not None:
            if not sequencer.actors_as_tasks:
                stepper.window(window.start, window.until, window.items)
            else:
                until = window.until
                stepper.hand(window.start, until, window.items)
                await sequencer.round_as_tasks(until, sequencer.controls.take_due(until))
                while self.driver.due_before(until):
                    await sequencer.round_as_tasks(until, sequencer.controls.take_due(until))
                stepper.close(window.start, until)
            self.write_check()


async def run_live(sequencer: Sequencer, nursery: trio.Nursery, windows: Windows) -> None:
    """Drive live windows until ``windows`` ends them (the duration, Ctrl-C, or the end
    of a replayed log), then shut down as a virtual run does, at the last window's end."""
    sequencer.prepare(nursery)
    sequencer.bridge.start_coordinator(sequencer.spawn)
    await sequencer.probe_venues()
    journal = sequencer.journal
    journal.seq += 1
    journal.log.lines.append(records.live_clock(journal.seq, windows.wall_ns))
    loop = LiveLoop(sequencer)
    await loop.run(windows)
    if sequencer.interrupted:  # Ctrl-C ends a live run like its duration, with a summary
        sequencer.interrupted = False
        journal.counts["live_interrupted"] = 1
    await sequencer.shutdown(loop.end)
