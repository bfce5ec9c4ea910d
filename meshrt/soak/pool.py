"""Soak jobs on the local process pool (``meshrt.jobs.pool``), where each worker loads
the soaked scenario once, then runs many schedules, or on a Dask cluster
(``meshrt.jobs.cluster``). Failures shrink on the local pool, one failure's sequence of
runs per worker."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from meshrt.jobs.cluster import run_jobs_on_cluster
from meshrt.jobs.pool import run_jobs as run_on_pool
from meshrt.jobs.scenarios import load
from meshrt.soak.job import Job, Outcome, run_job
from meshrt.soak.shrink import Shrunk, shrink_outcome


def warm(job: Job) -> None:
    load(job.scenario_path)


def run_jobs(jobs: Iterable[Job], workers: int, cluster: str | None = None) -> Iterator[Outcome]:
    """Each job's outcome, in the order they finish: on ``workers`` local processes, or
    on the Dask cluster whose scheduler is at ``cluster``."""
    if cluster is not None:
        return run_jobs_on_cluster(jobs, cluster, run_job)
    return run_on_pool(jobs, workers, run_job, warm)


def shrink_all(failed: list[Outcome], runs: int, workers: int) -> list[Shrunk]:
    """Each failed outcome shrunk in at most ``runs`` runs, in ``failed``'s order (a
    shrink is a sequence of runs, each depending on the last: one per worker)."""
    shrink = partial(shrink_outcome, runs=runs)
    if workers <= 1 or len(failed) <= 1:
        return list(map(shrink, failed))
    path = failed[0].job.scenario_path
    with ProcessPoolExecutor(min(workers, len(failed)), initializer=load, initargs=(path,)) as pool:
        return list(pool.map(shrink, failed))
