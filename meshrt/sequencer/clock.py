"""The clock: virtual time, the lookahead and the equity-mark times.

Time advances in windows. A window ``[T, H)`` is no longer than the smallest latency in
the topology (the lookahead): nothing an algo decides inside it can reach a venue or a
sibling, and nothing a venue does inside it can reach an algo, before ``H``. When
windows start and end and the order a window is committed in (``(event time, producer
priority, producer index, producer order)``: control, then venues in topology order,
then instances in topology order) are the window driver's (meshrt/sequencer/_window.pyx),
which reads and advances this clock.
"""

from __future__ import annotations

import attrs

from meshrt.sequencer.lanes import Deployed
from meshrt.sequencer.topology import Topology

MARK_INTERVAL_NS = 100_000_000  # equity is sampled for drawdown every 100 ms and at fills
MESH_RECEIVERS = frozenset({"on_message", "on_nbbo"})  # the callbacks the mesh can reach


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

    def mark_due(self, start: int) -> bool:
        """Is it time to sample equity (every MARK_INTERVAL_NS of virtual time)?"""
        if start < self.next_mark:
            return False
        self.next_mark = start - start % MARK_INTERVAL_NS + MARK_INTERVAL_NS
        return True
