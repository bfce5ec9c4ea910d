"""Soak jobs on the local process pool (``meshrt.jobs.pool``): each worker loads the
soaked scenario once, then runs many schedules."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from meshrt.jobs.pool import run_jobs as run_on_pool
from meshrt.jobs.scenarios import load
from meshrt.soak.job import Job, Outcome, run_job


def warm(job: Job) -> None:
    load(job.scenario_path)


def run_jobs(jobs: Iterable[Job], workers: int) -> Iterator[Outcome]:
    """Each job's outcome, in the order they finish."""
    return run_on_pool(jobs, workers, run_job, warm)
