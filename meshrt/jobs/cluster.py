"""Run jobs on a Dask distributed cluster (the optional extra ``meshrt[cluster]``): the
same jobs and the same ``work`` as the local pool, the results in the same form (in the
order they finish; callers sort them by their job's index), identical point for point.

Workers do not share the caller's disk: each scenario the jobs name is shipped as
content (``meshrt.jobs.shipped``), once to every worker, and received there once per
digest before the first job runs. Dask, not a home-made engine (docs/design.md): it is
well kept, pure Python (its wheels install anywhere meshrt does) and its LocalCluster
lets the tests run a real cluster on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Protocol, TypeVar

from meshrt.jobs.scenarios import load_checked, receive
from meshrt.jobs.shipped import Shipment, ship

INSTALL = "pip install 'meshrt[cluster]'"
CONNECT_TIMEOUT_S = 10


class ClusterError(Exception):
    """Dask is not installed, or its scheduler cannot be reached: one line to print."""


class ScenarioJob(Protocol):
    """A job names its scenario by file and digest (soak's and sweep's jobs do)."""

    @property
    def scenario_path(self) -> str: ...

    @property
    def scenario_sha256(self) -> str: ...


J = TypeVar("J", bound=ScenarioJob)
R = TypeVar("R")


def run_jobs_on_cluster(jobs: Iterable[J], address: str, work: Callable[[J], R]) -> Iterator[R]:
    """``work(job)`` for each job on the Dask cluster whose scheduler is at ``address``,
    in the order they finish. ClusterError at once without Dask, and at the first result
    when the scheduler cannot be reached; ShipmentError when a scenario cannot be
    shipped. ``work`` is a module-level function, so a worker can import it."""
    try:
        import distributed
    except ImportError:
        raise ClusterError(f"--cluster needs Dask distributed: {INSTALL}") from None
    return _run(distributed, list(jobs), address, work)


def _run(
    distributed: ModuleType, jobs: list[J], address: str, work: Callable[[J], R]
) -> Iterator[R]:
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach a Dask scheduler at {address}: {exc}") from None
    with client:
        by_scenario: dict[tuple[str, str], list[J]] = {}
        for job in jobs:
            by_scenario.setdefault((job.scenario_path, job.scenario_sha256), []).append(job)
        futures = []
        for (path, digest), group in by_scenario.items():
            shipment = client.scatter(
                ship(load_checked(path, digest), digest), broadcast=True, hash=False
            )
            futures += client.map(run_shipped, group, shipment=shipment, work=work, pure=False)
        for future in distributed.as_completed(futures, loop=client.loop):
            yield future.result()


def run_shipped(job: J, shipment: Shipment, work: Callable[[J], R]) -> R:
    """On a worker: receive the job's scenario (once per digest), then run the job."""
    receive(shipment)
    return work(job)
