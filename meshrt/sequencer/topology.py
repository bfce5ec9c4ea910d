"""The topology the sequencer runs: plain values the runtime builds from a scenario.

The sequencer needs only where things are and how they are wired (venues with their
latencies, regions and symbols; deployments with their venue, symbols, risk limits,
restart policy and lifecycle steps; the mesh, the faults, the seed, the duration), not
how a scenario is written or loaded: so it takes this value and never imports
meshrt.scenario.definition, which sits above it.
"""

from __future__ import annotations

import attrs

from meshrt.scenario.faults import Fault
from meshrt.scenario.latency import Latency
from meshrt.scenario.limits import RiskLimits
from meshrt.scenario.mesh import Mesh
from meshrt.scenario.restart import RestartPolicy


@attrs.frozen(slots=True)
class VenueSite:
    name: str
    region: str
    symbols: tuple[str, ...]
    feed_latency: Latency
    order_latency: Latency


@attrs.frozen(slots=True)
class LifecycleAt:
    """A scheduled lifecycle step of one deployment: ``action`` at ``at_ns``."""

    at_ns: int
    action: str


@attrs.frozen(slots=True)
class DeploymentSite:
    label: str
    venue: str
    symbols: tuple[str, ...]
    risk: RiskLimits
    restart: RestartPolicy
    schedule: tuple[LifecycleAt, ...]


@attrs.frozen(slots=True)
class Topology:
    venues: tuple[VenueSite, ...]
    deployments: tuple[DeploymentSite, ...]
    mesh: Mesh
    faults: tuple[Fault, ...]
    seed: int
    duration_ns: int | None
