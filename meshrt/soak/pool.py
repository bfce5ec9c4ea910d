"""Soak jobs on the local process pool (``meshrt.jobs.pool``): each worker loads the
soaked scenario once, then runs many schedules. Failures shrink the same way, one
failure's sequence of runs per worker."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from meshrt.jobs.pool import run_jobs as run_on_pool
from meshrt.jobs.scenarios import load
from meshrt.soak.job import Job, Outcome, run_job
from meshrt.soak.shrink import Shrunk, shrink_outcome


def warm(job: Job) -> None:
    load(job.scenario_path)


def run_jobs(jobs: Iterable[Job], workers: int) -> Iterator[Outcome]:
    """Each job's outcome, in the order they finish."""
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
