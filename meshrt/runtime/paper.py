"""Paper mode's connections: one task per live connection running a session, each
venue's sessions sending into its sink (meshrt/sequencer/live.py) in arrival order.

A session is ``run_session(specs, send, clock)`` (meshrt/venues/live/session.py, the
sessions' entry point): it connects, hands over ``Received`` items stamped with
``clock()`` until cancelled, and never drops one (a full channel blocks its reader).
``RunOptions.session`` replaces it (tests pass a session that replays a capture through
the adapter at wall pace, with no network).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from meshrt.runtime.replay_live import LoggedWindows
from meshrt.scenario.definition import Scenario
from meshrt.sequencer._live import WallClock
from meshrt.sequencer.live import WallWindows, Windows
from meshrt.venues.live.stats import SessionState
from meshrt.venues.live.verdicts import ReceivedSink
from meshrt.venues.specs import LiveSpec

Session = Callable[[Sequence[LiveSpec], ReceivedSink, Callable[[], int]], Awaitable[None]]


def default_session(seed: int, states: list[tuple[str, SessionState]]) -> Session:
    """The live sessions' ``run_session``, each connection's reconnect jitter drawn from
    its own stream of the run's seed (the jitter is not logged and need not replay), its
    statistics appended to ``states`` as (venue name, state)."""
    # imported here, not at the top: the session's websocket and HTTP clients cost a
    # simulated run's start 0.15 s it never uses
    from meshrt.venues.live.session import run_session

    streams = random.Random(seed)

    async def session(
        specs: Sequence[LiveSpec], send: ReceivedSink, clock: Callable[[], int]
    ) -> None:
        state = SessionState()
        states.append((f"{specs[0].exchange} {specs[0].url or 'public'}", state))
        rng = random.Random(streams.getrandbits(64))
        await run_session(specs, send, clock, rng=rng, state=state)

    return session


def connections(specs: Sequence[LiveSpec]) -> list[list[LiveSpec]]:
    """A venue's live specs as connections: one per (exchange, url), in order."""
    groups: dict[tuple[str, str | None], list[LiveSpec]] = {}
    for spec in specs:
        groups.setdefault((spec.exchange, spec.url), []).append(spec)
    return list(groups.values())


def start_sessions(
    nursery: trio.Nursery, scenario: Scenario, session: Session, windows: WallWindows
) -> None:
    """One task per connection of each live venue, sending into the venue's sink."""
    for index, venue in enumerate(scenario.venues):
        specs = [spec for spec in venue.sources if isinstance(spec, LiveSpec)]
        for group in connections(specs):
            nursery.start_soon(session, group, windows.sink(index), windows.clock)


@attrs.frozen
class LiveRun:
    """How a paper run gets its windows (``open``, in the run's nursery), and what its
    connections counted, for metrics.json (``sessions``: empty for a replay, and for a
    session given in ``RunOptions.session``)."""

    open: Callable[[trio.Nursery], Windows]
    sessions: list[tuple[str, SessionState]] = attrs.field(factory=list)

    def statistics(self) -> list[dict[str, Any]]:
        """Each connection's ``SessionStatistics``, resyncs by why's name."""
        out = []
        for name, state in self.sessions:
            figures = attrs.asdict(state.statistics())
            figures["resyncs"] = {why.name: n for why, n in figures["resyncs"].items()}
            out.append({"connection": name, **figures})
        return out


def live_windows(
    scenario: Scenario, session: Session | None, paper_log: Path | None
) -> LiveRun | None:
    """How a paper run's windows come: from the wall clock and ``session`` (None: the
    live sessions'), or from the log a replay reads (``paper_log``); None for a run in
    virtual time."""
    if not any(isinstance(venue.sources[0], LiveSpec) for venue in scenario.venues):
        return None
    if paper_log is not None:
        names = [venue.name for venue in scenario.venues]
        return LiveRun(lambda nursery: LoggedWindows(paper_log, names))
    states: list[tuple[str, SessionState]] = []
    connect = session or default_session(scenario.seed, states)

    def wall(nursery: trio.Nursery) -> Windows:
        windows = WallWindows(WallClock(), len(scenario.venues))
        start_sessions(nursery, scenario, connect, windows)
        return windows

    return LiveRun(wall, states)
