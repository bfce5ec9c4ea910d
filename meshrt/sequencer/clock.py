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
from operator import itemgetter
from typing import Any

import attrs

from meshrt.actors.protocol import Output
from meshrt.sequencer._merge import VenueMerge
from meshrt.sequencer.lanes import Deployed, VenueLane
from meshrt.sequencer.schedule import Schedule
from meshrt.sequencer.topology import Topology

_first = itemgetter(0)  # the time of a control (time, control) or an instance Output
MARK_INTERVAL_NS = 100_000_000  # equity is sampled for drawdown every 100 ms and at fills
MESH_RECEIVERS = frozenset({"on_message", "on_nbbo"})  # the callbacks the mesh can reach

Commit = Callable[[list[Any], int, int], None]  # events, start, stop


def lookahead(topology: Topology, deployed: list[Deployed]) -> int:
    """The smallest latency of a path that can carry an effect (at least 1 ns): feed and
    order latencies always; the mesh's only when some algo can hear it, since without
    on_message or on_nbbo the coordinator delivers nothing to anyone."""
    latencies = [v.feed_latency.base_ns for v in topology.venues]
    latencies += [v.order_latency.base_ns for v in topology.venues]
    if any(dep.capabilities & MESH_RECEIVERS for dep in deployed):
        mesh = topology.mesh
        latencies += [mesh.same_region.base_ns, mesh.cross_region.base_ns]
        latencies += [link.latency.base_ns for link in mesh.links]
    return max(1, min(latencies))


@attrs.define(slots=True, eq=False)
class Clock:
    end_ns: int | None
    lookahead: int
    now: int = 0
    last_event_ts: int = 0  # the latest event committed: a run without duration ends there
    windows: int = 0
    next_mark: int = 0

    def next_time(
        self,
        lanes: list[VenueLane],
        deployed: list[Deployed],
        schedule: Schedule,
        heartbeats: list[Deployed],
    ) -> int | None:
        """When the next window starts: the earliest thing anything has to do
        (``heartbeats``: the deployments whose algo has on_heartbeat)."""
        best = schedule.next_at()
        for lane in lanes:
            at = lane.next_time
            if at is not None and (best is None or at < best):
                best = at
            if lane.arrivals:
                at = lane.arrivals[0][0]
                if best is None or at < best:
                    best = at
        for dep in deployed:
            if dep.inbound:
                at = dep.inbound[0].ts
                if best is None or at < best:
                    best = at
            if dep.timers:
                at = dep.timers[0][0]
                if best is None or at < best:
                    best = at
        if best is None and self.end_ns is None:
            return None  # heartbeats alone never extend a run without a duration
        # a heartbeat due before the next event starts its own window, so it is never
        # delivered later than the events after it
        for dep in heartbeats:
            if dep.crashed is None and (best is None or dep.next_heartbeat < best):
                best = dep.next_heartbeat
        return best

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
        venues: VenueMerge,
        outputs: list[Output],
        commit_outputs: Callable[[list[Output], int, int], None],
    ) -> None:
        """Commit one window's sorted streams in the deterministic order: ``venues`` holds
        the venues' streams (loaded), merged among themselves by (time, venue index)."""
        if not control and not outputs:  # most windows: only the venues' streams
            if venues.last is not None:
                if venues.last > self.last_event_ts:
                    self.last_event_ts = venues.last
                venues.commit_until(None)
            return
        streams: list[_ListStream | VenueMerge] = []  # in priority order
        last = self.last_event_ts
        if control:
            streams.append(_ListStream(control, commit_control))
            last = max(last, control[-1][0])  # each stream is sorted by time
        if venues.last is not None:
            streams.append(venues)
            last = max(last, venues.last)
        if outputs:
            streams.append(_ListStream(outputs, commit_outputs))
            last = max(last, outputs[-1][0])
        self.last_event_ts = last
        while streams:
            if len(streams) == 1:
                streams[0].commit_until(None)
                return
            heads: list[int] = []
            for stream in streams:
                head = stream.head()
                assert head is not None  # a stream is dropped once it is done
                heads.append(head)
            best = min(range(len(streams)), key=lambda k: (heads[k], k))
            limit = min(heads[k] + (1 if k > best else 0) for k in range(len(streams)) if k != best)
            streams[best].commit_until(limit)
            if streams[best].head() is None:
                del streams[best]


@attrs.define(slots=True, eq=False)
class _ListStream:
    """A control or output stream of one window: (time, ...) items, sorted by time."""

    events: list[Any]
    commit: Callable[[list[Any], int, int], None]
    position: int = 0

    def head(self) -> int | None:
        events = self.events
        return events[self.position][0] if self.position < len(events) else None

    def commit_until(self, limit: int | None) -> None:
        events, start = self.events, self.position
        stop = len(events) if limit is None else bisect_left(events, limit, lo=start, key=_first)
        self.commit(events, start, stop)
        self.position = stop
