"""The clock: virtual time, window bounds and the deterministic merge of one window.

Time advances in windows. A window ``[T, H)`` is no longer than the smallest latency in
the topology (the lookahead): nothing an algo decides inside it can reach a venue or a
sibling, and nothing a venue does inside it can reach an algo, before ``H``. What every
producer replies for a window is committed in the order ``(event time, producer
priority, producer index, producer order)``: control, then venues in topology order,
then instances in topology order; ``merge`` is the one place that order is made.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from operator import attrgetter, itemgetter
from typing import Any

import attrs

from meshrt.actors.protocol import Output
from meshrt.sequencer.lanes import Deployed, VenueLane
from meshrt.sequencer.schedule import Schedule
from meshrt.venues.outputs import VenueOutput

_first = itemgetter(0)  # the time of a control (time, control) or an instance Output
_ts = attrgetter("ts")  # the time of a venue output (BookUpdate is no tuple)
MARK_INTERVAL_NS = 100_000_000  # equity is sampled for drawdown every 100 ms and at fills

Commit = Callable[[list[Any], int, int], None]  # events, start, stop


@attrs.define(slots=True, eq=False)
class Clock:
    end_ns: int | None
    lookahead: int
    now: int = 0
    last_event_ts: int = 0  # the latest event committed: a run without duration ends there
    windows: int = 0
    next_mark: int = 0

    def next_time(
        self, lanes: list[VenueLane], deployed: list[Deployed], schedule: Schedule
    ) -> int | None:
        """When the next window starts: the earliest thing anything has to do."""
        candidates: list[int] = []
        for lane in lanes:
            if lane.next_time is not None:
                candidates.append(lane.next_time)
            if lane.arrivals:
                candidates.append(lane.arrivals[0][0])
        for dep in deployed:
            if dep.inbound:
                candidates.append(dep.inbound[0].ts)
            if dep.timers:
                candidates.append(dep.timers[0][0])
        control_at = schedule.next_at()
        if control_at is not None:
            candidates.append(control_at)
        if not candidates and self.end_ns is None:
            return None  # heartbeats alone never extend a run without a duration
        # a heartbeat due before the next event starts its own window, so it is never
        # delivered later than the events after it
        candidates.extend(
            dep.next_heartbeat
            for dep in deployed
            if "on_heartbeat" in dep.capabilities and dep.crashed is None
        )
        return min(candidates) if candidates else None

    def window_end(self, start: int, schedule: Schedule) -> int:
        until = start + self.lookahead
        if self.end_ns is not None and until > self.end_ns:
            until = self.end_ns
        # a supervised restart starts a window of its own, so the restarted instance
        # starts from the books exactly as of its restart time
        restart = schedule.restart_in(start, until)
        return until if restart is None else restart

    def mark_due(self, start: int) -> bool:
        """Is it time to sample equity (every MARK_INTERVAL_NS of virtual time)?"""
        if start < self.next_mark:
            return False
        self.next_mark = start - start % MARK_INTERVAL_NS + MARK_INTERVAL_NS
        return True

    def merge(
        self,
        control: list[tuple[Any, ...]],
        commit_control: Commit,
        outputs: list[Output],
        commit_outputs: Callable[[list[Output], int, int], None],
        venue_events: list[list[VenueOutput]],
        venue_commits: list[Commit],
    ) -> None:
        """Commit one window's sorted streams in the deterministic order."""
        streams: list[list[Any]] = []  # [events, position, commit function, time of one]
        if control:
            streams.append([control, 0, commit_control, _first])
        for venue, events in enumerate(venue_events):
            if events:
                streams.append([events, 0, venue_commits[venue], _ts])
        if outputs:
            streams.append([outputs, 0, commit_outputs, _first])
        for events, _, _, time_of in streams:
            last = time_of(events[-1])  # each list is sorted by time
            if last > self.last_event_ts:
                self.last_event_ts = last
        while streams:
            if len(streams) == 1:
                events, position, commit, _ = streams[0]
                commit(events, position, len(events))
                return
            heads = [time_of(events[position]) for events, position, _, time_of in streams]
            best = min(range(len(streams)), key=lambda k: (heads[k], k))
            limit = min(heads[k] + (1 if k > best else 0) for k in range(len(streams)) if k != best)
            events, position, commit, time_of = streams[best]
            stop = bisect_left(events, limit, lo=position, key=time_of)
            commit(events, position, stop)
            if stop == len(events):
                del streams[best]
            else:
                streams[best][1] = stop
