"""The scenario files a process runs jobs of, each loaded and checked once.

A job names its scenario by file and by the digest of what it is made of
(``scenario_sha256``): a worker that finds the file changed since the caller planned
the jobs refuses them rather than run something else.
"""

from __future__ import annotations

from meshrt.runtime.digest import scenario_sha256
from meshrt.runtime.preflight import preflight
from meshrt.scenario.definition import Scenario, load_scenario

_scenarios: dict[str, tuple[Scenario, str]] = {}


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
    """The scenario at ``path``, refused (RuntimeError) unless its digest is ``digest``."""
    scenario, found = load(path)
    if found != digest:
        raise RuntimeError(f"{path}: the scenario changed since the jobs were planned")
    return scenario
