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
from meshrt.sequencer._arrivals import Arrivals
from meshrt.sequencer._live import LiveStepper
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

    @property
    def wall_ns(self) -> int:
        """Time 0 on the wall clock (epoch ns)."""
        ...

    async def next(self, sequencer: Sequencer, loop: LiveLoop) -> Window | None:
        """The next window, None when the run is over (``loop``: where a window that is
        due while it waits may run at once)."""
        ...


class WallWindows(Arrivals):
    """Windows in wall-clock time over what the live venues' sinks received (``sink``;
    the cut, and the windows run in a sender's task, are compiled: _arrivals.pyx)."""

    async def next(self, sequencer: Sequencer, loop: LiveLoop) -> Window | None:
        self.bind(sequencer, loop.driver)
        clock = self.clock
        end = sequencer.clock.end_ns
        while True:
            cut = self.cut()
            if cut is not None:
                return Window(*cut)
            now = clock()
            if self.over(now):
                return None
            due = self.next_due()
            wait_until = min(t for t in (due, end, now + int(POLL_S * 1e9)) if t is not None)
            self.wait_until = wait_until
            self.lend(None if sequencer.actors_as_tasks else loop.stepper)
            try:
                with trio.move_on_after(max(0, wait_until - now) / 1e9):
                    await self.wake.wait()
            finally:
                self.lend(None)
            self.wake = trio.Event()


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
