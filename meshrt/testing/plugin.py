"""meshrt's pytest plugin, registered as the ``pytest11`` entry point ``meshrt``: the
fixtures ``meshrt_run`` and ``algo_harness`` (docs/testing.md).

Every pytest run in an environment with meshrt installed loads this module, so it imports
nothing heavy: the fixtures import the runtime and the loaders when a test asks for them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from meshrt.runtime.run import RunResult
    from meshrt.testing.harness import AlgoHarness


@pytest.fixture
def meshrt_run(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., RunResult]:
    """``meshrt_run(SCENARIO, seed=None, settings=None)``: run a scenario file (relative
    to the test file's folder) into a fresh folder under ``tmp_path``; the ``RunResult``
    (``summary``, ``metrics``, ``run_dir``, ``ok``, ``reports``)."""
    from meshrt.testing.runs import run_scenario

    here = request.path.parent
    numbers = itertools.count(1)

    def run(
        scenario: str | Path, *, seed: int | None = None, settings: dict[str, Any] | None = None
    ) -> RunResult:
        return run_scenario(
            here / scenario, tmp_path / f"run-{next(numbers)}", seed=seed, settings=settings
        )

    return run


@pytest.fixture
def algo_harness(request: pytest.FixtureRequest) -> Iterator[Callable[..., AlgoHarness]]:
    """``algo_harness(ALGO, params, **options)``: ``AlgoHarness.load`` with relative paths
    against the test file's folder; every harness is closed after the test."""
    from meshrt.testing.harness import AlgoHarness

    made: list[AlgoHarness] = []

    def load(algo: Any, params: dict[str, Any] | None = None, **options: Any) -> AlgoHarness:
        options.setdefault("base_dir", request.path.parent)
        harness = AlgoHarness.load(algo, params, **options)
        made.append(harness)
        return harness

    yield load
    for harness in made:
        harness.close()
