"""The scenarios a process runs jobs of, each loaded and checked once.

A job names its scenario by file and by the digest of what it is made of
(``scenario_sha256``): a worker that finds the file changed since the caller planned
the jobs refuses them rather than run something else. A worker that does not share the
caller's disk (a cluster's) receives the scenario as content instead (``receive``), and
then knows it by its digest alone.
"""

from __future__ import annotations

import attrs

from meshrt.jobs.shipped import Shipment, unpack
from meshrt.runtime.digest import scenario_sha256
from meshrt.runtime.preflight import preflight
from meshrt.scenario.definition import Scenario, load_scenario

_scenarios: dict[str, tuple[Scenario, str]] = {}
_received: dict[str, Scenario] = {}  # digest -> the scenario shipped with it


def load(path: str) -> tuple[Scenario, str]:
    """The scenario file at ``path`` and its digest, loaded and checked once per process
    (ScenarioError, SourceError or AlgoLoadError when it cannot run)."""
    known = _scenarios.get(path)
    if known is None:
        scenario = load_scenario(path)
        preflight(scenario, path)
        known = _scenarios[path] = (scenario, scenario_sha256(scenario)[0])
    return known


def load_checked(path: str, digest: str) -> Scenario:
    """The scenario of digest ``digest``: the one received with it, or else the file at
    ``path``, refused (RuntimeError) unless its digest is ``digest``."""
    received = _received.get(digest)
    if received is not None:
        return received
    scenario, found = load(path)
    if found != digest:
        raise RuntimeError(f"{path}: the scenario changed since the jobs were planned")
    return scenario


def job_scenario(path: str, digest: str, duration_ns: int | None) -> Scenario:
    """A job's scenario (``load_checked``), run for ``duration_ns`` (None: its own)."""
    scenario = load_checked(path, digest)
    return scenario if duration_ns is None else attrs.evolve(scenario, duration_ns=duration_ns)


def receive(shipment: Shipment) -> Scenario:
    """The shipped scenario, written out (each file checked against its sha256: a
    ShipmentError otherwise), loaded and checked once per digest per process."""
    received = _received.get(shipment.scenario_sha256)
    if received is None:
        path = unpack(shipment)
        received = load_scenario(path)
        preflight(received, str(path))
        _received[shipment.scenario_sha256] = received
    return received
