"""Everything about a scenario that can be checked before a run starts.

The scenario package checks its values and what they refer to (``validate``); whether
each deployment's algo loads needs the loaders, which sit above the scenario values, so
that check is made here, by the runtime, before every run.
"""

from __future__ import annotations

from pathlib import Path

from meshrt.loaders import AlgoLoadError, check_algo
from meshrt.scenario.definition import Scenario, ScenarioError, validate


def preflight(scenario: Scenario, path: str = "<scenario>") -> None:
    """``validate``, then load-check every algo; the first problem raises ScenarioError
    naming ``path`` and its field."""
    validate(scenario, path)
    for i, dep in enumerate(scenario.deployments):
        try:
            check_algo(dep.algo, Path(scenario.base_dir), dep.sandbox)
        except AlgoLoadError as exc:
            raise ScenarioError(path, f"deployments[{i}].algo", str(exc)) from exc
